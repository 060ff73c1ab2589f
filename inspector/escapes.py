"""Text from outside (a model's class or reason, a part id, a file name, a camera's message) as
a terminal or a text box may show it: every character that moves the cursor, erases, recolours
or reorders the line is shown as a visible escape instead of being obeyed.

Without this a model's reason such as `ESC[2K CR PASS` blanks a FAIL line and draws a green
PASS over it. Made visible: the C0 controls (ESC, CR, LF, backspace, tab, NUL ...), DEL, the C1
controls (0x80-0x9F; 0x9B is a one-byte CSI), the bidirectional embeddings, overrides and
isolates (U+202A-U+202E, U+2066-U+2069) and marks (U+200E, U+200F, U+061C), the line and
paragraph separators (U+2028, U+2029), and lone surrogates (which a terminal cannot print at
all). Each becomes `\\t`, `\\n`, `\\r`, `\\xHH` or `\\uHHHH`, as Python writes it; everything
else is left alone. Imports nothing but `sys`, so the error path of the command line stays
light.

`show` prints a line made visible; `json_visible` is JSON for the console that keeps every
script readable (no `ensure_ascii`) while writing each character `visible` escapes as a JSON
`\\uXXXX` escape, so the text still parses back to exactly what was stored.
"""

from __future__ import annotations

import sys

_CODES = [
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0xD800, 0xE000),
]
_TABLE = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _CODES}
_TABLE |= {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_TABLE_KEEPING_LINES = {code: escape for code, escape in _TABLE.items() if code != 0x0A}
_TABLE_KEEPING_LAYOUT = {code: e for code, e in _TABLE.items() if code not in (0x09, 0x0A)}


def visible(text: object, keep_line_breaks: bool = False, keep_tabs: bool = False) -> str:
    """`text` (or its str) with every control, escape and reordering character made visible.

    `keep_line_breaks`: LF stays a line break, for our own messages of several lines (a line
    break cannot erase or redraw what was printed before it); a verdict line keeps none.
    `keep_tabs` (with it): tabs stay too, for a text box (the window's raw answer)."""
    if keep_line_breaks and keep_tabs:
        return str(text).translate(_TABLE_KEEPING_LAYOUT)
    return str(text).translate(_TABLE_KEEPING_LINES if keep_line_breaks else _TABLE)


def show(text: object, *, err: bool = False, keep_line_breaks: bool = False) -> None:
    """Print a line that carries text from outside, made visible (stdout; stderr with `err`)."""
    print(visible(text, keep_line_breaks), file=sys.stderr if err else sys.stdout, flush=True)


# In JSON: the C0 controls are escaped by json.dumps itself; the rest as \uXXXX (valid JSON).
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _CODES if code >= 0x7F}


def json_visible(data: object, **dumps) -> str:
    """`json.dumps(data, ensure_ascii=False, **dumps)` with every control, escape, reordering
    character and lone surrogate written as a JSON escape: readable, exact, harmless."""
    import json

    return json.dumps(data, ensure_ascii=False, **dumps).translate(_JSON_TABLE)
