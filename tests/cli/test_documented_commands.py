"""What the README documents, run as a user runs it: the real `inspector` command in a process of
its own, on a real SQLite file, with the model-free demo recipe (assets/demo/recipe-reference.yaml)
and the demo camera, so no model is needed.

Expected values are worked out by hand from the inputs (the demo camera alternates a tested,
defective board and its good template, so the reference judge FAILs the odd images and PASSes
the even ones; records are made with known lots, dates and outcomes), never computed by the code
under test. `parts --max-parts` and Ctrl-C in `parts` are in test_parts_cli.py.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from inspector.config import Settings
from inspector.recipes import parse_recipe
from inspector.store import Store
from tests.support.command_line import environment, inspector, start
from tests.support.migrations import migration_heads
from tests.support.paths import ROOT
from tests.support.peers import need
from tests.support.records_data import RECIPE, record

DEMO = ROOT / "assets" / "demo"
CAMERA = DEMO / "camera"
REFERENCE = DEMO / "recipe-reference.yaml"
DEMO_RECIPE_NAME = "demo-pcb-reference"  # `name:` in assets/demo/recipe-reference.yaml
IMAGES = sorted(CAMERA.glob("*.jpg"))[:4]  # 01 tested, 02 good, 03 tested, 04 good
PASSWORDS = {
    "ada": "Analytical Engine 1843",
    "erin": "bench tests daily",
    "olly": "line shift seven",
}
NAMES = {"ada": "Ada Lovelace", "erin": "Erin Engineer", "olly": "Olly Operator"}


def cli(data: Path, *args: str, user: str | None = None, stdin: str | None = None, **options):
    """`inspector --data-dir DATA ARGS`, acting as `user` (INSPECTOR_USER / _PASSWORD) if given."""
    env = {}
    if user is not None:
        env = {"INSPECTOR_USER": user, "INSPECTOR_PASSWORD": PASSWORDS[user]}
    return inspector("--data-dir", str(data), *args, env=env, input=stdin, **options)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Refused with one line naming why, and an exit code that says so."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("inspector: "), result.stderr
    for fragment in fragments:
        assert fragment in last, last


def rows(database: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture
def station(tmp_path) -> Path:
    """A data directory where four demo images were judged (inspections 1 FAIL, 2 PASS, 3 FAIL,
    4 PASS) and three people have accounts: ada (admin, the bootstrap), erin (engineer) and
    olly (operator)."""
    data = tmp_path / "data"
    ok(cli(data, "judge", *map(str, IMAGES), "--recipe", str(REFERENCE)))
    added = cli(
        data,
        "user",
        "add",
        "ada",
        "--role",
        "admin",
        "--full-name",
        NAMES["ada"],
        "--password-stdin",
        stdin=PASSWORDS["ada"] + "\n",
    )
    assert ok(added).strip() == "user ada added as admin (first administrator)"
    for name, role in (("erin", "engineer"), ("olly", "operator")):
        added = cli(
            data,
            "user",
            "add",
            name,
            "--role",
            role,
            "--full-name",
            NAMES[name],
            "--password-stdin",
            user="ada",
            stdin=PASSWORDS[name] + "\n",
        )
        assert ok(added).strip() == f"user {name} added as {role}"
    return data


def exported(data: Path, tmp_path: Path, *filters: str) -> list[dict]:
    out = tmp_path / f"export-{len(list(tmp_path.glob('export-*')))}.csv"
    printed = ok(cli(data, "export", "csv", str(out), *filters, user="ada"))
    found = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert printed.startswith(f"exported {len(found)} records to {out} (sha256 ")
    assert hashlib.sha256(out.read_bytes()).hexdigest() in printed  # the file as announced
    return found


def test_the_demo_images_are_judged_as_the_fixture_says(station):
    outcomes = rows(station / "inspector.db", "SELECT id, outcome, part_id FROM inspections")
    assert outcomes == [
        (1, "FAIL", "01_00041000_test"),
        (2, "PASS", "02_00041000_good"),
        (3, "FAIL", "03_00041001_test"),
        (4, "PASS", "04_00041001_good"),
    ]


def test_override_is_signed_keeps_the_verdict_and_audit_log_filters_by_entity(station, tmp_path):
    done = cli(
        station,
        "override",
        "1",
        "--outcome",
        "PASS",
        "--reason",
        "dust on the lens",
        "--meaning",
        "reviewed",
        user="olly",
    )
    line = ok(done).strip()
    match = re.fullmatch(
        r"inspection 1: FAIL -> PASS, signed \(reviewed\) by Olly Operator \(olly\); "
        r"audit entry #(\d+)",
        line,
    )
    assert match, line
    seq = int(match.group(1))
    # The model's verdict stays as recorded; the final outcome is the override's.
    assert rows(station / "inspector.db", "SELECT outcome FROM inspections WHERE id = 1") == [
        ("FAIL",)
    ]
    by_id = {r["inspection_id"]: r for r in exported(station, tmp_path)}
    assert (by_id["1"]["outcome"], by_id["1"]["final_outcome"]) == ("FAIL", "PASS")
    assert (by_id["3"]["outcome"], by_id["3"]["final_outcome"]) == ("FAIL", "FAIL")
    assert "Olly Operator" in by_id["1"]["signatures"] and "reviewed" in by_id["1"]["signatures"]

    # An inspection's entries include the override decided on it (issue 13).
    entries = json.loads(ok(cli(station, "audit", "log", "--entity", "inspection:1", "--json")))
    assert [(e["action"], e["entity_type"], e["entity_id"]) for e in entries] == [
        ("verdict.overridden", "override", "1"),
        ("inspection.recorded", "inspection", "1"),
    ]
    assert entries[1]["user_name"] == "station" and entries[1]["new"]["outcome"] == "FAIL"
    entries = json.loads(ok(cli(station, "audit", "log", "--entity", "override:1", "--json")))
    assert [(e["seq"], e["action"], e["user_name"], e["reason"]) for e in entries] == [
        (seq, "verdict.overridden", "olly", "dust on the lens")
    ]
    assert entries[0]["signature_id"] is not None
    # The text form: one line per entry, newest first, the reason in brackets.
    text = ok(cli(station, "audit", "log", "--entity", "user:olly")).splitlines()
    assert [line.split()[4] for line in text] == ["user.login", "user.added"]
    assert text[-1].endswith("user olly")

    # A signature needs the signer's own password: a wrong one changes nothing.
    wrong = inspector(
        "--data-dir",
        str(station),
        "override",
        "3",
        "--outcome",
        "PASS",
        "--reason",
        "x",
        "--meaning",
        "reviewed",
        env={"INSPECTOR_USER": "olly", "INSPECTOR_PASSWORD": "not her password"},
    )
    refused(wrong, "olly")
    assert {r["inspection_id"]: r["final_outcome"] for r in exported(station, tmp_path)} == {
        "1": "PASS",
        "2": "PASS",
        "3": "FAIL",
        "4": "PASS",
    }


def test_recipe_approve_signs_a_version_and_recipe_list_shows_it(station):
    listed = ok(cli(station, "recipe", "list")).splitlines()
    assert len(listed) == 1
    assert re.fullmatch(rf"{DEMO_RECIPE_NAME} v1  not approved  sha256 [0-9a-f]{{16}}", listed[0])
    # Approving is an engineer's (or admin's) act, not an operator's.
    refused(cli(station, "recipe", "approve", DEMO_RECIPE_NAME, "1", user="olly"))
    done = cli(station, "recipe", "approve", DEMO_RECIPE_NAME, "1", user="erin")
    assert ok(done).strip() == f"recipe {DEMO_RECIPE_NAME} v1 approved by Erin Engineer (erin)"
    listed = ok(cli(station, "recipe", "list")).splitlines()
    assert listed[0].startswith(f"{DEMO_RECIPE_NAME} v1  approved  sha256 ")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert listed[1].strip().startswith(f"Erin Engineer (erin), approved, {today}")
    assert listed[1].strip().endswith(" UTC") and len(listed) == 2
    refused(cli(station, "recipe", "approve", "no-such-recipe", "1", user="erin"), "no-such-recipe")


def test_a_disabled_user_can_do_nothing_more_and_stays_on_record(station, tmp_path):
    refused(cli(station, "user", "disable", "olly", "--reason", "left", user="erin"))
    assert ok(cli(station, "user", "disable", "olly", "--reason", "left", user="ada")).strip() == (
        "user olly disabled"
    )
    listed = json.loads(ok(cli(station, "user", "list", "--json")))
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("ada", "admin", False),
        ("erin", "engineer", False),
        ("olly", "operator", True),
        ("station", "service", False),
    ]
    text = ok(cli(station, "user", "list")).splitlines()
    assert text[2].split() == ["olly", "operator", "Olly", "Operator", "(disabled)"]
    blocked = cli(
        station,
        "override",
        "1",
        "--outcome",
        "PASS",
        "--reason",
        "x",
        "--meaning",
        "reviewed",
        user="olly",
    )
    refused(blocked, "olly", "disabled")
    assert {
        r["final_outcome"] for r in exported(station, tmp_path) if r["inspection_id"] == "1"
    } == {"FAIL"}
    entries = json.loads(ok(cli(station, "audit", "log", "--entity", "user:olly", "--json")))
    assert [(e["action"], e["user_name"], e["reason"]) for e in entries][:2] == [
        ("user.login_failed", "olly", "user disabled"),
        ("user.disabled", "ada", "left"),
    ]


def test_setting_list_shows_the_defaults_and_a_change(station):
    assert ok(cli(station, "setting", "list")).splitlines() == [
        "retention_days = None",
        "station_saves_recipes = True",
        "lockout_attempts = 5",
        "lockout_minutes = 15",
        "yield_target = None",
    ]
    refused(cli(station, "setting", "set", "retention_days", "30", user="olly"))
    changed = cli(station, "setting", "set", "retention_days", "30", user="ada")
    assert ok(changed).strip() == "retention_days: None -> 30"
    changed = cli(station, "setting", "set", "yield_target", "98.5", user="ada")
    assert ok(changed).strip() == "yield_target: None -> 98.5"
    refused(cli(station, "setting", "set", "yield_target", "0", user="ada"), "greater than 0")
    assert ok(cli(station, "setting", "list")).splitlines() == [
        "retention_days = 30",
        "station_saves_recipes = True",
        "lockout_attempts = 5",
        "lockout_minutes = 15",
        "yield_target = 98.5",
    ]


def test_db_upgrade_makes_a_new_database_and_is_idempotent(tmp_path):
    data = tmp_path / "data"
    first = ok(cli(data, "db", "upgrade")).strip()
    heads = ", ".join(sorted(migration_heads()))  # "0002, 0003, 0004": three branches off 0001
    assert first == f"database schema up to date (revision {heads})"
    assert ok(cli(data, "db", "upgrade")).strip() == first
    tables = {r[0] for r in rows(data / "inspector.db", "SELECT name FROM sqlite_master")}
    assert {"inspections", "judge_attempts", "users", "alembic_version"} <= tables
    assert ok(cli(data, "history")).strip() == "no inspections recorded yet"


@pytest.fixture
def dated(station) -> Path:
    """The station's four demo records (today, recipe demo-pcb-reference, no lot), and six
    records of recipe `bracket`, as a station writes them: P-0001..3 in lot LOT-A captured 10
    days ago, P-0004..6 in lot LOT-B captured 2 days ago; outcomes by number: 1 PASS, 2 UNSURE,
    3 FAIL, 4 PASS, 5 UNSURE, 6 FAIL (tests/support/records_data.verdict)."""
    settings = Settings(data_dir=station, database_url=f"sqlite:///{station / 'inspector.db'}")
    with Store.open(settings) as store:
        version = store.recipe_version_id(parse_recipe(RECIPE, "test"), [])
        for number in (1, 2, 3):
            record(store, version, number, days_ago=10, lot="LOT-A")
        for number in (4, 5, 6):
            record(store, version, number, days_ago=2, lot="LOT-B")
    return station


DEMO_PARTS = ["01_00041000_test", "02_00041000_good", "03_00041001_test", "04_00041001_good"]


def test_export_csv_filters_by_time_recipe_lot_and_outcome(dated, tmp_path):
    def parts(*filters: str) -> list[str]:
        return sorted(r["part_id"] for r in exported(dated, tmp_path, *filters))

    bracket = [f"P-000{n}" for n in range(1, 7)]
    five_days_ago = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert parts() == sorted(DEMO_PARTS + bracket)
    assert parts("--recipe", "bracket") == bracket
    assert parts("--recipe", DEMO_RECIPE_NAME) == DEMO_PARTS
    assert parts("--lot", "LOT-A") == bracket[:3]
    assert parts("--lot", "LOT-B") == bracket[3:]
    assert parts("--since", five_days_ago) == sorted(DEMO_PARTS + bracket[3:])
    assert parts("--until", five_days_ago) == bracket[:3]
    assert parts("--since", five_days_ago, "--until", yesterday) == bracket[3:]
    assert (
        parts("--since", f"{five_days_ago}T00:00:00+00:00", "--until", yesterday) == (bracket[3:])
    )
    assert parts("--recipe", "bracket", "--lot", "LOT-B", "--outcome", "FAIL") == ["P-0006"]
    assert parts("--recipe", DEMO_RECIPE_NAME, "--outcome", "fail") == DEMO_PARTS[0::2]
    assert parts("--lot", "LOT-C") == []
    refused(
        cli(dated, "export", "csv", str(tmp_path / "x.csv"), "--since", "last tuesday", user="ada"),
        "--since",
        "last tuesday",
    )


def test_purge_older_than_deletes_old_records_and_the_chain_stays_whole(dated, tmp_path):
    refused(cli(dated, "purge", "--older-than", "7", user="erin"))  # admins only
    before = rows(dated / "inspector.db", "SELECT evidence_sha256 FROM inspections ORDER BY id")
    line = ok(cli(dated, "purge", "--older-than", "7", "--reason", "policy", user="ada")).strip()
    match = re.fullmatch(
        r"purged 3 inspections captured before (\S+), 0 overrides, 3 evidence files; "
        r"audit entries #\d+",
        line,
    )
    assert match, line
    cutoff = datetime.fromisoformat(match.group(1))
    assert abs(cutoff - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=5)
    left = rows(dated / "inspector.db", "SELECT part_id FROM inspections ORDER BY id")
    assert [r[0] for r in left] == [*DEMO_PARTS, "P-0004", "P-0005", "P-0006"]
    gone = {sha for (sha,) in before[4:7]}  # the LOT-A records, written after the four demos
    kept = {sha for (sha,) in before[:4] + before[7:]}
    evidence = {p.stem for p in (dated / "evidence").rglob("*.*")}
    assert len(gone) == 3 and not gone & evidence
    assert kept <= evidence  # every record left still has its image
    verified = ok(cli(dated, "audit", "verify"))
    assert verified.startswith("audit chain intact: ")
    # Nothing older than 7 days is left: a second purge finds nothing.
    again = ok(cli(dated, "purge", "--older-than", "7", user="ada")).strip()
    assert again.startswith("purged 0 inspections captured before ")


def _run_max_parts(data: Path, *extra: str) -> list[dict]:
    args = ["run", "--source", f"folder:{CAMERA}", "--recipe", str(REFERENCE), "--json"]
    return [
        json.loads(line) for line in ok(cli(data, *args, "--max-parts", "2", *extra)).splitlines()
    ]


def test_run_with_max_parts_stops_early_and_records_what_it_prints(tmp_path):
    data = tmp_path / "data"
    printed = _run_max_parts(data)
    assert [(p["part_id"], p["outcome"]) for p in printed[:2]] == [
        ("01_00041000_test", "FAIL"),
        ("02_00041000_good", "PASS"),
    ]
    # Stopped before the folder's end; the frames already captured when it stopped are recorded
    # too (not inspected: UNJUDGED), so every part seen has a record (README, "Trigger policy").
    assert len(printed) < len(list(CAMERA.glob("*.jpg")))
    stored = rows(data / "inspector.db", "SELECT id, part_id FROM inspections ORDER BY id")
    assert stored == [(p["inspection_id"], p["part_id"]) for p in printed]


def test_evidence_format_png_keeps_the_frame_pixel_for_pixel(tmp_path):
    data = tmp_path / "data"
    printed = _run_max_parts(data, "--evidence-format", "png")
    assert [p["outcome"] for p in printed[:2]] == ["FAIL", "PASS"]
    stored = rows(
        data / "inspector.db",
        "SELECT part_id, evidence_sha256, evidence_format FROM inspections ORDER BY id",
    )
    assert len(stored) == len(printed)
    for part, sha, fmt in stored:
        assert fmt == "png"
        path = data / "evidence" / sha[:2] / f"{sha}.png"
        assert path.read_bytes().startswith(b"\x89PNG")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        # PNG keeps every pixel: the evidence is the frame the camera (the folder) gave.
        source = cv2.imread(str(CAMERA / f"{part}.jpg"))
        assert np.array_equal(cv2.imread(str(path)), source), part
    # JPEG, the default, does not: the same frame comes back close, not equal.
    jpeg = tmp_path / "jpeg"
    _run_max_parts(jpeg)
    part, sha = rows(jpeg / "inspector.db", "SELECT part_id, evidence_sha256 FROM inspections")[0]
    stored_jpeg = cv2.imread(str(jpeg / "evidence" / sha[:2] / f"{sha}.jpg"))
    assert not np.array_equal(stored_jpeg, cv2.imread(str(CAMERA / f"{part}.jpg")))


def test_database_url_puts_the_records_elsewhere(tmp_path):
    data = tmp_path / "data"
    plant, elsewhere = tmp_path / "plant.db", tmp_path / "elsewhere.db"
    at = ["--data-dir", str(data)]
    judge = ["judge", "--recipe", str(REFERENCE)]
    ok(inspector(*at, "--database-url", f"sqlite:///{plant}", *judge, str(IMAGES[0])))
    assert rows(plant, "SELECT id, outcome FROM inspections") == [(1, "FAIL")]
    assert not (data / "inspector.db").exists()
    # INSPECTOR_DATABASE_URL does the same ...
    ok(inspector(*at, *judge, str(IMAGES[1]), database_url=f"sqlite:///{elsewhere}"))
    assert rows(elsewhere, "SELECT id, outcome FROM inspections") == [(1, "PASS")]
    # ... and the option wins over it.
    shown = inspector(
        *at, "--database-url", f"sqlite:///{plant}", "history", "--json",
        database_url=f"sqlite:///{elsewhere}",
    )  # fmt: skip
    history = json.loads(ok(shown))
    assert [(r["inspection_id"], r["part_id"]) for r in history] == [(1, "01_00041000_test")]
    assert not (data / "inspector.db").exists()


def test_cameras_asks_a_producer_given_by_path(tmp_path):
    try:
        import genicam
    except ImportError:
        need(False, "no Harvesters/genicam: pip install '.[cameras]'")
    producer = Path(genicam.__file__).parent / "viky.cti"
    need(producer.is_file(), f"no viky.cti in {producer.parent}")
    env = {"GENICAM_GENTL64_PATH": None, "GENICAM_GENTL32_PATH": None}
    without = inspector("--data-dir", str(tmp_path), "cameras", "--json", env=env, timeout=120)
    assert not [c for c in json.loads(ok(without))["cameras"] if c["family"] == "gentl"]
    found = inspector(
        "--data-dir",
        str(tmp_path),
        "cameras",
        "--producer",
        str(producer),
        "--json",
        env=env,
        timeout=120,
    )
    gentl = [c for c in json.loads(ok(found))["cameras"] if c["family"] == "gentl"]
    assert [c["uri"] for c in gentl] == [  # the URI to use names the producer
        f"gentl:VikyTL_DEV_red?producer={producer}",
        f"gentl:VikyTL_DEV_green?producer={producer}",
        f"gentl:VikyTL_DEV_blue?producer={producer}",
    ]
    missing = tmp_path / "nowhere.cti"
    text = ok(
        inspector(
            "--data-dir", str(tmp_path), "cameras", "--producer", str(missing), env=env, timeout=120
        )
    )
    assert f"(gentl: producer {missing}: no such file)" in text.splitlines()


def test_inspector_without_a_screen_runs_the_demo_headless(tmp_path):
    """`inspector` with no command and no display falls back to `inspector run` on the demo;
    with an empty model cache and no network, the demo's model is not installed, so the demo
    judges with the model-free reference recipe at once, and a notice names the model."""
    data = tmp_path / "data"
    env = {
        "DISPLAY": None,
        "WAYLAND_DISPLAY": None,
        "QT_QPA_PLATFORM": None,
        "HF_HOME": str(tmp_path / "empty-cache"),
        "HF_HUB_CACHE": None,
        "TRANSFORMERS_CACHE": None,
    }
    station = start("--data-dir", str(data), env=env)
    try:
        first = station.stdout.readline()
    finally:
        station.send_signal(signal.SIGINT)
        _, stderr = station.communicate(timeout=60)
    assert station.returncode == 0, stderr
    assert "running the demo headless" in stderr
    model = yaml.safe_load((DEMO / "recipe.yaml").read_text())["engines"][0]["model"]
    assert f"the demo's model {model} is not installed on this station" in stderr
    assert re.search(r"  #1 +(PASS|FAIL) ", first), first
    recorded = rows(
        data / "inspector.db",
        "SELECT DISTINCT recipe_versions.name FROM inspections "
        "JOIN recipe_versions ON recipe_versions.id = inspections.recipe_version_id",
    )
    assert recorded == [(DEMO_RECIPE_NAME,)]


def _slow_recipe(folder: Path, delay_s: float) -> Path:
    data = {
        "name": "slow",
        "version": 1,
        "prompt": "Look for scratches.",
        "defects": [{"name": "scratch", "severity": "major"}],
        "engines": [{"engine": "scripted", "delay_s": delay_s}],
    }
    path = folder / "slow.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _main_with_scripted_engine(*args: str, data: Path) -> subprocess.Popen:
    """The real CLI (`inspector.cli.main`) in a process of its own, with the tests' scripted
    engine registered: a judge whose every call takes as long as the recipe says, and says on
    stderr when a call begins."""
    code = (
        "import sys\n"
        "import tests.support.scripted_judge as scripted\n"
        "generate = scripted.ScriptedJudge._generate\n"
        "def announced(self, prompt, convention):\n"
        "    print('test: judging', file=sys.stderr, flush=True)\n"
        "    return generate(self, prompt, convention)\n"
        "scripted.ScriptedJudge._generate = announced\n"
        "from inspector.cli import main\n"
        f"raise SystemExit(main({list(args)!r}))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(data),
        cwd=ROOT,
    )


def _read_until(process: subprocess.Popen, fragment: str, seconds: float = 60) -> list[str]:
    """stderr lines up to the one holding `fragment`; the process is killed if it takes longer
    than `seconds` (the read then ends and the test fails, instead of hanging)."""
    timer = threading.Timer(seconds, process.kill)
    timer.start()
    seen = []
    try:
        while line := process.stderr.readline():
            seen.append(line)
            if fragment in line:
                return seen
    finally:
        timer.cancel()
    raise AssertionError(f"no {fragment!r} within {seconds} s: {seen}")


def test_a_second_ctrl_c_quits_run_at_once(tmp_path):
    """The first Ctrl-C waits for the part in progress (here a judge call of 60 s); the second
    quits without waiting for it: the command ends long before the call would have."""
    data = tmp_path / "data"
    recipe = _slow_recipe(tmp_path, delay_s=60)
    station = _main_with_scripted_engine(
        "run", "--source", f"folder:{CAMERA}", "--recipe", str(recipe), data=data
    )
    try:
        _read_until(station, "test: judging")  # the first part is in the judge's hands
        station.send_signal(signal.SIGINT)
        _read_until(station, "stopping after the part in progress")
        station.send_signal(signal.SIGINT)
        out, err = station.communicate(timeout=30)
    finally:
        if station.poll() is None:
            station.kill()
    assert "stopping now" in err
    assert station.returncode == 130, err
    assert "Traceback" not in err
    assert out == ""  # the part in progress was never judged
    assert rows(data / "inspector.db", "SELECT count(*) FROM inspections") == [(0,)]
