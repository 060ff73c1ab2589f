"""Camera sources: one protocol (`Source`), one registry of URI schemes, one way to open them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

from inspector.addresses import shown_address
from inspector.cameras.base import EventSink, Source, SourceEvent, SourceState, ignore_event
from inspector.errors import InputError

__all__ = ["SCHEMES", "Source", "SourceEvent", "SourceState", "open_source"]

USAGE = (
    "use usb:N, a video file, folder:DIR, rtsp://HOST/PATH, http(s)://HOST/PATH, gentl:DEVICE "
    "or gige:ADDRESS (`inspector cameras` lists the cameras here)"
)


def _open_usb(uri: str, rest: str, on_event: EventSink) -> Source:
    from inspector.cameras.capture import CaptureSource

    if not rest.isdigit():
        raise InputError(f"source {uri}: expected a device number, as in usb:0")
    hint = f": no camera at device {rest}, or it is in use (`inspector cameras` lists them)"
    return CaptureSource(uri, int(rest), on_event, live=True, hint=hint)


def _open_stream(uri: str, rest: str, on_event: EventSink) -> Source:
    from inspector.cameras.capture import CaptureSource, rtsp_settings

    hint = "; check the address, the credentials and that the camera is on"
    # `uri` is the address as shown; the camera is reached at its scheme and `rest`, the one
    # copy that still holds its secrets.
    scheme = uri.partition(":")[0]
    address = f"{scheme}:{rest}"
    if not scheme.lower().startswith("rtsp"):
        return CaptureSource(uri, address, on_event, live=True, hint=hint)
    url, options, timeout_ms = rtsp_settings(address, uri)
    return CaptureSource(
        uri,
        url,
        on_event,
        live=True,
        hint=hint,
        ffmpeg_options=options,
        open_timeout_ms=timeout_ms,
    )


def _open_file(uri: str, rest: str, on_event: EventSink) -> Source:
    from inspector.cameras.capture import CaptureSource

    path, options = _path_and_options(uri, rest)
    if not path.is_file():
        raise InputError(f"source {uri}: no file at {path}")
    hint = ": not a video file OpenCV can read"
    return CaptureSource(uri, str(path), on_event, live=False, hint=hint, **options)


def _open_folder(uri: str, rest: str, on_event: EventSink) -> Source:
    from inspector.cameras.folder import FolderSource

    path, options = _path_and_options(uri, rest)
    return FolderSource(uri, path, on_event, **options)


def _open_gentl(uri: str, rest: str, on_event: EventSink) -> Source:
    from inspector.cameras.gentl import open_gentl

    return open_gentl(uri, rest, on_event)


def _open_aravis(uri: str, rest: str, on_event: EventSink) -> Source:
    from inspector.cameras.aravis import open_aravis

    return open_aravis(uri, rest, on_event)


# Each opener takes the address as shown (secrets masked: what the source calls itself and
# what its messages name), the rest of the address after the scheme as given (what it
# connects to), and where to report.
SCHEMES: dict[str, Callable[[str, str, EventSink], Source]] = {
    "usb": _open_usb,
    "file": _open_file,
    "folder": _open_folder,
    "rtsp": _open_stream,
    "rtsps": _open_stream,
    "http": _open_stream,
    "https": _open_stream,
    "gentl": _open_gentl,
    "gige": _open_aravis,
    "aravis": _open_aravis,
}


def open_source(uri: str, on_event: EventSink = ignore_event) -> Source:
    """Open a camera or file by its URI; a bare path is a video file or a folder of images.

    The source, its frames and every message name it by `shown_address(uri)`: a password in
    the address never reaches the record, an export, a log or a screen."""
    shown = shown_address(uri)
    scheme, sep, rest = uri.partition(":")
    if sep and len(scheme) > 1 and scheme.lower() in SCHEMES:
        return SCHEMES[scheme.lower()](shown, rest, on_event)
    path = Path(uri.partition("?")[0])
    if path.is_dir():
        return _open_folder(shown, uri, on_event)
    if path.is_file():
        return _open_file(shown, uri, on_event)
    raise InputError(f"source {shown}: unknown kind of source, and no such file or folder; {USAGE}")


def _path_and_options(uri: str, rest: str) -> tuple[Path, dict]:
    path_text, _, query = rest.partition("?")
    options: dict = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        value = values[-1]
        if key == "loop":
            options["loop"] = value.lower() in ("", "1", "true", "yes")
        elif key == "fps":
            try:
                options["fps"] = float(value)
            except ValueError:
                raise InputError(f"source {uri}: fps={value} is not a number") from None
        else:
            raise InputError(f"source {uri}: unknown option {key!r}; use loop=1 or fps=N")
    return Path(path_text).expanduser(), options
