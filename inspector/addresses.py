"""An address (a camera's, a line output's) as it may be shown and recorded: secrets masked.

`shown_address` is the one masker. `open_source` applies it before a source exists, so a
source's `uri` and `camera_id` (and with them every frame, record, export, log line, console
line and window label) carry only the masked form; the real address stays in the opener that
connects. Line outputs (MQTT brokers, webhooks, PLC servers) are named by it likewise.
Masked, as `***`:
- the password of the userinfo (`rtsp://user:pass@host` -> `rtsp://user:***@host`);
- the value of every query parameter whose name holds pass, pwd, token, key, secret, auth,
  credential or signature, in any case and however percent-encoded (`?password=`, `?pwd=`,
  `?access_token=`, `?api_key=`, `?X-Auth=` ...).
Everything else stays byte for byte, so the shown address still names the camera. The address
is parsed by hand, not by `urllib`: a malformed URL (`http://[::1`) must be masked too, not
raise and leave its caller to print it whole.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "***"
SECRET_NAME = re.compile(r"pass|pwd|token|key|secret|auth|credential|signature", re.IGNORECASE)


def shown_address(uri: str) -> str:
    """The address with its secrets masked (see the module's docstring)."""
    head, question, tail = uri.partition("?")
    if question:
        query, hash_mark, fragment = tail.partition("#")
        return f"{_userinfo_masked(head)}?{_query_masked(query)}{hash_mark}{fragment}"
    head, hash_mark, fragment = uri.partition("#")
    return f"{_userinfo_masked(head)}{hash_mark}{fragment}"


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter of this name holds a secret."""
    return SECRET_NAME.search(unquote_plus(name)) is not None


def _userinfo_masked(head: str) -> str:
    """`scheme://user:pass@host/path` -> `scheme://user:***@host/path`."""
    scheme, slashes, rest = head.partition("://")
    if not slashes:
        return head
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return head
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:{MASK}@{host}{slash}{path}"


def _query_masked(query: str) -> str:
    """Each `name=value` field (split at `&`, and at `;` as older cameras write them)."""
    pieces = []
    for piece in re.split(r"([&;])", query):
        name, equals, value = piece.partition("=")
        if equals and value and is_secret_parameter(name):
            value = MASK
        pieces.append(f"{name}{equals}{value}")
    return "".join(pieces)
