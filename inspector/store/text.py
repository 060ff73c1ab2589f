"""Text the databases can hold: one function, applied by every Store writer at the boundary.

PostgreSQL refuses a NUL character in text, and neither database (nor UTF-8) can hold a lone
surrogate such as the `\\udcff` that `os.fsdecode` makes of a file name's undecodable byte, or
a model's answer that ends inside a surrogate pair. Such a string must not cost the part its
record, nor be silently changed: each offending character is written out visibly as its Python
escape, six characters for a surrogate (`\\ud800`) and four for NUL (`\\x00`), so a reader
sees exactly where the original held it. Everything else is kept as it is.

Columns with a length limit (a part id, a camera id, a defect class) take a value that does not
fit shortened visibly: its head, then `…#` and the first 12 hex digits of the whole value's
SHA-256, so two long ids stay apart and nothing is cut without a mark.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    return "\\x00" if character == "\x00" else f"\\u{ord(character):04x}"


def storable(text: str | None) -> str | None:
    """`text` with NUL and lone surrogates escaped visibly; None stays None."""
    if text is None or type(text) is not str:
        return text
    if "\x00" not in text:  # the common case, at C speed: a 1 MB answer in well under 1 ms
        if text.isascii():
            return text
        try:
            text.encode("utf-8")  # fails exactly on a surrogate
            return text
        except UnicodeEncodeError:
            pass
    return _UNSTORABLE.sub(_escape, text)


def fitted(text: str | None, limit: int) -> str | None:
    """`storable(text)`, shortened visibly to at most `limit` characters where it is longer."""
    text = storable(text)
    if text is None or len(text) <= limit:
        return text
    mark = "…#" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return text[: max(0, limit - len(mark))] + mark


def storable_row(row: Mapping[str, Any], limits: Mapping[str, int] | None = None) -> dict:
    """A row with every text value storable, and each limited column fitted to its length."""
    limits = limits or {}
    return {
        key: fitted(value, limits[key]) if key in limits else storable(value)
        for key, value in row.items()
    }


def column_limits(table) -> dict[str, int]:
    """The length limit of each limited text column of a table (String(n)), by name."""
    return {
        column.name: column.type.length
        for column in table.__table__.columns
        if getattr(column.type, "length", None)
    }
