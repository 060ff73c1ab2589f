"""A model hub on 127.0.0.1: the part of the Hugging Face Hub's HTTP API that
`huggingface_hub` uses to download a model (`HF_ENDPOINT` points the client at it).

- `GET /api/models/{id}[/revision/{rev}]`: the model's info (`sha`: the commit, `siblings`);
- `GET /api/models/{id}/tree/{rev}`: its files (path, size, blob id), as `snapshot_download`
  lists them;
- `HEAD|GET /{id}/resolve/{rev}/{file}`: a file, with the headers the client reads
  (`X-Repo-Commit`, `ETag`, `Content-Length`) and `Range` requests (a download cut short is
  resumed from where it stopped).

`cut = (file, n)` makes the next GET of that file stop after n bytes (the connection dropped),
as a flaky plant uplink would; every request is kept in `requests` for the test to check.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


class HubPeer:
    def __init__(self, model_id: str, folder: Path, commit: str = "a" * 40) -> None:
        self.model_id = model_id
        self.commit = commit
        self.files = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Range
        self.cut: tuple[str, int] | None = None
        peer = self

        class Handler(_Handler):
            hub = peer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def tree(self) -> list[dict]:
        folders = sorted({name.rsplit("/", 1)[0] for name in self.files if "/" in name})
        entries = [{"type": "directory", "path": f, "oid": "0" * 40, "size": 0} for f in folders]
        for name, data in self.files.items():
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's blob id
            entries.append({"type": "file", "path": name, "size": len(data), "oid": blob})
        return entries

    def info(self) -> dict:
        return {
            "id": self.model_id,
            "modelId": self.model_id,
            "sha": self.commit,
            "private": False,
            "siblings": [{"rfilename": name} for name in self.files],
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: HubPeer

    def log_message(self, format, *args) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        hub = self.hub
        path = unquote(self.path.split("?")[0])
        hub.requests.append((self.command, path, self.headers.get("Range")))
        api = f"/api/models/{hub.model_id}"
        if path.startswith(api + "/tree/"):
            return self._send(200, json.dumps(hub.tree()).encode(), "application/json", body)
        if path == api or path.startswith(api + "/revision/"):
            return self._send(200, json.dumps(hub.info()).encode(), "application/json", body)
        prefix = f"/{hub.model_id}/resolve/"
        if not path.startswith(prefix):
            return self._send(404, b'{"error": "Repository not found"}', "application/json", body)
        revision, _, name = path[len(prefix) :].partition("/")
        data = hub.files.get(name)
        if data is None or revision not in ("main", hub.commit):
            return self._send(404, b'{"error": "Entry not found"}', "application/json", body)
        start = 0
        wanted = self.headers.get("Range")
        if wanted and wanted.startswith("bytes="):
            start = int(wanted[len("bytes=") :].split("-")[0] or 0)
        headers = {
            "X-Repo-Commit": hub.commit,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Accept-Ranges": "bytes",
        }
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        payload = data[start:]
        if body and hub.cut is not None and hub.cut[0] == name:  # drop the connection part-way
            cut, hub.cut = hub.cut[1], None
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        return self._send(status, payload, "application/octet-stream", body, headers)

    def _send(self, status, payload, kind, body, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(payload)
