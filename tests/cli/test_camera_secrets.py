"""A camera's password in its address reaches no record, export, log or screen: a real run on an
HTTP MJPEG camera whose address carries `user:pass@` and `?password=...&token=...`."""

from __future__ import annotations

import sqlite3
import zipfile

from inspector.addresses import shown_address
from inspector.config import Settings
from inspector.store import Store
from tests.support.mjpeg_camera import MjpegServer, pcb_jpegs
from tests.support.recipes import recipe_file
from tests.support.records_data import inspector, make_users
from tests.support.scripted_judge import FAIL_ANSWER, PASS_ANSWER, run_scripted

SECRETS = (b"s3cret", b"token=abc", b"hunter2")


def _leaks(data: bytes) -> list[bytes]:
    return [secret for secret in SECRETS if secret in data]


def test_a_run_on_a_camera_with_secrets_in_its_address_keeps_them_out_of_everything(
    test_data, tmp_path
):
    server = MjpegServer(pcb_jpegs(test_data, 3))
    server.start()
    try:
        address = server.url.replace("://", "://cam:hunter2@") + "?password=s3cret&token=abc"
        recipe = recipe_file(
            tmp_path, [{"engine": "scripted", "answers": [FAIL_ANSWER, PASS_ANSWER]}]
        )
        data = tmp_path / "data"
        run = run_scripted(
            "-v",
            "run",
            "--source",
            address,
            "--recipe",
            str(recipe),
            "--max-parts",
            "3",
            data_dir=data,
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.strip().splitlines()) == 3
    assert not _leaks((run.stdout + run.stderr).encode()), run.stdout + run.stderr

    shown = shown_address(address)
    assert shown.endswith("?password=***&token=***") and "cam:***@" in shown
    with sqlite3.connect(data / "inspector.db") as connection:
        cameras = {row[0] for row in connection.execute("SELECT camera_id FROM inspections")}
    assert cameras == {shown}  # recorded, and recorded masked

    settings = Settings.from_env(data_dir=data, database_url=None)
    with Store.open(settings) as store:
        make_users(store)
    history = inspector(settings, "history", "--json")
    assert history.returncode == 0, history.stderr
    assert shown in history.stdout and not _leaks(history.stdout.encode())
    exports = {}
    for kind, name in (("csv", "out.csv"), ("jsonl", "out.jsonl"), ("bundle", "out.zip")):
        out = tmp_path / name
        result = inspector(settings, "export", kind, str(out), user="olly")
        assert result.returncode == 0, result.stderr
        assert not _leaks((result.stdout + result.stderr).encode())
        exports[kind] = out
    assert shown in exports["csv"].read_text(encoding="utf-8")
    assert shown in exports["jsonl"].read_text(encoding="utf-8")
    with zipfile.ZipFile(exports["bundle"]) as bundle:  # compressed: read every member
        members = {name: bundle.read(name) for name in bundle.namelist()}
    assert any(shown.encode() in content for content in members.values())

    files = {path: path.read_bytes() for path in data.rglob("*") if path.is_file()}
    files |= {path: path.read_bytes() for path in exports.values()}
    assert any(path.name == "inspector.log" for path in files)
    assert any(path.name == "inspector.db" for path in files)
    leaked = {str(path): _leaks(content) for path, content in files.items() if _leaks(content)}
    leaked |= {name: _leaks(content) for name, content in members.items() if _leaks(content)}
    assert not leaked
