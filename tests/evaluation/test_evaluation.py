"""`inspector eval`: data set readers, the figures against a hand-computed case, runs recorded,
interrupted and resumed, on real images (DeepPCB, magnetic-tile) and both databases."""

from __future__ import annotations

import csv
import json
import signal
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from inspector.errors import InputError
from inspector.evaluation import metrics
from inspector.evaluation.datasets import read_dataset
from inspector.evaluation.evaluate import Interrupted, evaluate
from inspector.store import Store
from inspector.store.evaluations.runs import EvaluationResult
from tests.support import command_line, textures
from tests.support.command_line import inspector as _inspector
from tests.support.pcb_frames import pairs, recaptured


def _result(label, expected, outcome, latency, score=None, cost=None, engines=("reference",)):
    return EvaluationResult(
        image=f"{label}-{latency}.png",
        label=label,
        expected=expected,
        outcome=outcome,
        latency_ms=latency,
        score=score,
        cost=cost,
        engines=engines,
    )


def test_figures_match_a_hand_computed_case():
    both = ("reference", "scripted")
    results = [
        _result("good", "good", "PASS", 10, 0.5),
        _result("good", "good", "PASS", 20, 1.0),
        _result("good", "good", "FAIL", 30, 4.0),
        _result("good", "good", "UNSURE", 40, None),  # not scored: never passed by a screen
        _result("scratch", "defect", "FAIL", 50, 5.0, 0.002, both),
        _result("scratch", "defect", "PASS", 60, 1.0, None, both),  # a miss
        _result("dent", "defect", "FAIL", 70, 3.0, 0.003, both),
        _result("dent", "defect", "FAIL", 80, 6.0, None, both),
    ]
    f = metrics.compute(results)
    assert (f["images"], f["good"], f["defect"]) == (8, 4, 4)
    assert f["accuracy"] == 5 / 8  # 2 good PASSed + 3 defective FAILed
    assert f["miss_rate"] == 1 / 4
    assert f["overkill"] == 1 / 4
    assert f["unsure_rate"] == 1 / 8
    assert f["latency_ms"]["p50"] == 40  # nearest rank: the 4th of 8
    assert f["latency_ms"]["p95"] == 80  # the 8th of 8 (ceil 7.6)
    assert f["cost"] == {"total": 0.005, "per_image": 0.0025, "priced_images": 2}
    assert f["engine_calls"] == {"reference": 8, "scripted": 4}
    assert f["confusion"] == {
        "good": {"PASS": 2, "FAIL": 1, "UNSURE": 1},
        "defect": {"PASS": 1, "FAIL": 3, "UNSURE": 0},
    }
    assert [(c["label"], c["count"], c["recall"]) for c in f["classes"]] == [
        ("good", 4, 0.5),
        ("dent", 2, 1.0),
        ("scratch", 2, 0.5),
    ]
    screen = f["screen"]
    # 16 (defect, good) pairs: 5.0 beats 3, 1.0 beats 1 and ties 1, 3.0 beats 2, 6.0 beats 3.
    assert screen["auroc"] == 9.5 / 16
    at_one = metrics.sweep(results, [1.0])[0]
    assert at_one == {"threshold": 1.0, "miss_rate": 1 / 4, "overkill": 2 / 4, "handed_on": 5 / 8}
    assert screen["zero_miss_threshold"] == 0.5
    assert screen["zero_miss_handed_on"] == 7 / 8
    assert metrics.percentile(list(range(1, 21)), 95) == 19
    assert metrics.compute([])["accuracy"] is None


def _png(path: Path, value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8), value, np.uint8))
    return path


def test_the_three_data_set_layouts(tmp_path):
    mvtec = tmp_path / "mvtec"
    _png(mvtec / "test" / "good" / "000.png")
    _png(mvtec / "test" / "scratch" / "000.png")
    _png(mvtec / "ground_truth" / "scratch" / "000_mask.png", 255)
    data = read_dataset(mvtec)
    assert data.kind == "mvtec"
    assert [(s.name, s.label, s.good, s.mask is not None) for s in data.samples] == [
        ("test/good/000.png", "good", True, False),
        ("test/scratch/000.png", "scratch", False, True),
    ]
    folders = tmp_path / "folders"
    _png(folders / "ok" / "a.jpg")
    _png(folders / "crack" / "b.jpg")
    _png(folders / "crack" / "b.png", 255)  # the mask of b.jpg
    data = read_dataset(folders, good_label="ok")
    assert data.kind == "folders"
    # The PNG beside b.jpg is its mask, not an image of its own.
    assert [(s.name, s.label, s.good, s.mask is not None) for s in data.samples] == [
        ("crack/b.jpg", "crack", False, True),
        ("ok/a.jpg", "ok", True, False),
    ]
    table = tmp_path / "set.csv"
    table.write_text("file,class\nfolders/ok/a.jpg,ok\n")
    with pytest.raises(InputError, match="no column 'image'"):
        read_dataset(table)
    data = read_dataset(table, good_label="ok", image_column="file", label_column="class")
    assert data.samples[0].path == folders / "ok" / "a.jpg"
    assert data.samples[0].name == "folders/ok/a.jpg" and data.samples[0].good
    table.write_text("image,label\nmissing.png,good\n")
    with pytest.raises(InputError, match="line 2: no image"):
        read_dataset(table)
    with pytest.raises(InputError, match="not found"):
        read_dataset(tmp_path / "nowhere")


def _pcb_set(test_data: Path, folder: Path) -> tuple[Path, Path]:
    """DeepPCB: templates as references; tested boards (defective) and re-captured templates
    (good) to judge. Returns the CSV and the recipe."""
    chosen = pairs(test_data, every=5)
    (folder / "good").mkdir(parents=True)
    rows = [["image", "label"]]
    for i, pair in enumerate(chosen):
        good = folder / "good" / f"{pair.id}.jpg"
        cv2.imwrite(str(good), recaptured(cv2.imread(str(pair.template)), seed=i))
        rows += [[str(good), "good"], [str(pair.tested), "pcb-defect"]]
    table = folder / "pcb.csv"
    with table.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    recipe = {
        "name": "pcb-golden",
        "version": 1,
        "prompt": "Compare with the golden board.",
        "defects": [{"name": "deviation", "severity": "major"}],
        "references": [str(p.template) for p in chosen],
        "engines": [{"engine": "reference"}],
    }
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return table, path


def test_eval_on_deeppcb_prints_and_records_the_figures(test_data, tmp_path):
    table, recipe = _pcb_set(test_data, tmp_path / "pcb")
    data = tmp_path / "data"
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    done = _inspector(
        "eval", str(table), "--recipe", str(recipe), "--json", "--report", str(html),
        data_dir=data,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "judged 28/28" in done.stderr and "Traceback" not in done.stderr
    output = json.loads(done.stdout)
    figures, run = output["figures"], output["run"]
    print(
        f"\nDeepPCB eval (reference engine, 14 tested boards, 14 re-captured good boards): "
        f"accuracy {figures['accuracy']:.3f}, miss rate {figures['miss_rate']:.3f}, overkill "
        f"{figures['overkill']:.3f}, latency p50 {figures['latency_ms']['p50']:.1f} ms, "
        f"screen AUROC {figures['screen']['auroc']:.3f}"
    )
    # The run is in the store, each image once, and the printed figures are the stored ones.
    with sqlite3.connect(data / "inspector.db") as db:
        status, count = db.execute(
            "SELECT status, image_count FROM evaluation_runs WHERE uid = ?", (run["uid"],)
        ).fetchone()
        rows = db.execute(
            "SELECT image, label, expected, outcome, latency_ms, score FROM evaluation_results"
        ).fetchall()
    assert (status, count) == ("complete", 28)
    assert len(rows) == len({r[0] for r in rows}) == 28
    stored = [
        EvaluationResult(image=r[0], label=r[1], expected=r[2], outcome=r[3], latency_ms=r[4],
                         score=r[5], engines=("reference",))
        for r in rows
    ]  # fmt: skip
    again = metrics.compute(stored)
    for key in ("accuracy", "miss_rate", "overkill", "unsure_rate", "confusion", "classes"):
        assert figures[key] == again[key], key
    assert figures["good"] == figures["defect"] == 14
    assert sum(sum(row.values()) for row in figures["confusion"].values()) == 28
    assert figures["engine_calls"] == {"reference": 28}
    assert figures["cost"] is None  # a local engine costs nothing per call
    # Sense, not tuning: the defects DeepPCB's authors drew stand out from the golden board.
    assert figures["screen"]["auroc"] > 0.8
    assert "<svg" in html.read_text() and "miss rate" in html.read_text()
    again = _inspector("eval", "--list", data_dir=data)
    assert run["id"] in again.stdout and "complete" in again.stdout
    shown = _inspector("eval", str(table), "--recipe", str(recipe), "--report", str(pdf),
                       data_dir=data)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "miss rate" in shown.stdout and "confusion" in shown.stdout


def _tile_subset(folder: Path) -> tuple[Path, Path]:
    """Textured tiles made here (magnetic-tile cannot ship): 10 good and 10 with a drawn defect
    (scratch, hole, stain), in a CSV with a `class` column; good tiles of other seeds as the
    references. Returns the CSV and the recipe."""
    tested = textures.tiles(folder / "images", good=10, defective=10, kind="noise")
    references = textures.references(folder / "references", 10, kind="noise")
    table = textures.table(folder / "tiles.csv", tested, label_column="class")
    recipe = {
        "name": "tiles",
        "version": 1,
        "prompt": "Inspect the magnetic tile.",
        "defects": [{"name": "deviation", "severity": "major"}],
        "references": [str(p) for p in references],
        "engines": [{"engine": "reference", "align": "none", "highpass_sigma": 16}],
    }
    path = folder / "tiles.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return table, path


def test_a_run_interrupted_resumes_where_it_stopped(tmp_path, settings):
    table, recipe = _tile_subset(tmp_path / "tiles")
    dataset = read_dataset(table, good_label="good", label_column="class")
    assert len(dataset.samples) == 20
    store = Store.open(settings)
    try:

        def stop_after_seven(step) -> None:
            if step.done == 7:
                raise KeyboardInterrupt

        with pytest.raises(Interrupted) as stopped:
            evaluate(store, dataset, recipe, progress=stop_after_seven)
        first = stopped.value.run
        assert (first.status, first.judged, first.image_count) == ("interrupted", 7, 20)
        judged_before = store.judged_images(first.id)
        seen = []
        run = evaluate(store, dataset, recipe, resume=first.short,
                       progress=lambda step: seen.append(step.sample.name))  # fmt: skip
        assert (run.id, run.status, run.judged) == (first.id, "complete", 20)
        assert not judged_before & set(seen) and len(seen) == 13  # only what was left
        results = store.run_results(run.id)
        assert sorted(r.image for r in results) == sorted(s.name for s in dataset.samples)
        figures = metrics.compute(results)
        print(
            f"\ntextured tiles (20 images): accuracy {figures['accuracy']:.2f}, miss rate "
            f"{figures['miss_rate']:.2f}, overkill {figures['overkill']:.2f}, screen AUROC "
            f"{figures['screen']['auroc']:.2f}"
        )
        assert figures["good"] == 10 and figures["defect"] == 10
        assert {c["label"] for c in figures["classes"]} == {s.label for s in dataset.samples}
        with pytest.raises(InputError, match="already complete"):
            evaluate(store, dataset, recipe, resume=first.short)
        changed = yaml.safe_load(recipe.read_text()) | {"version": 2}
        other = recipe.with_name("other.yaml")
        other.write_text(yaml.safe_dump(changed))
        with pytest.raises(InputError, match="same recipe"):
            evaluate(store, dataset, other, resume=str(first.id))
        with pytest.raises(InputError, match="not in the store"):
            store.find_run("ffffffff")
    finally:
        store.close()


def test_ctrl_c_resume_and_compare_from_the_command_line(tmp_path):
    # A folder per class with a good class, as magnetic-tile ships (the PNG masks beside the
    # images are skipped), of textured tiles made here: enough that the run is still going when
    # Ctrl-C arrives after the first image.
    tiles = tmp_path / "tiles"
    textures.tiles(tiles, good=60, defective=60, kind="woven")
    total = sum(1 for _ in tiles.glob("*/*.jpg"))
    references = textures.references(tmp_path / "references", 10, kind="woven")
    recipe = {
        "name": "tiles",
        "version": 1,
        "prompt": "Inspect the magnetic tile.",
        "defects": [{"name": "deviation", "severity": "major"}],
        "references": [str(p) for p in references],
        "engines": [{"engine": "reference", "align": "none", "highpass_sigma": 16}],
    }
    recipe_path = tmp_path / "tiles.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe))
    data = tmp_path / "data"
    args = ["eval", str(tiles), "--recipe", str(recipe_path), "--good-label", "good"]
    process = command_line.start(*args, data_dir=data)
    line = ""
    while "judged 1/" not in line:  # the first image is judged: stop it there
        line = process.stderr.readline()
        assert line, "the evaluation ended before it judged an image"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    hint = next(line for line in err.splitlines() if "resume with" in line)
    run_id = hint.rsplit("--resume ", 1)[1].strip()
    with sqlite3.connect(data / "inspector.db") as db:
        status, total = db.execute("SELECT status, image_count FROM evaluation_runs").fetchone()
        judged = db.execute("SELECT count(*) FROM evaluation_results").fetchone()[0]
    assert status == "interrupted" and 1 <= judged < total
    assert total == sum(1 for _ in tiles.glob("*/*.jpg"))
    resumed = _inspector(*args, "--resume", run_id, data_dir=data)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{judged} done" in resumed.stderr
    with sqlite3.connect(data / "inspector.db") as db:
        rows = db.execute("SELECT image FROM evaluation_results").fetchall()
        assert db.execute("SELECT status FROM evaluation_runs").fetchone()[0] == "complete"
    assert len(rows) == len(set(rows)) == total
    print(f"\nCLI: interrupted after {judged} of {total} images, then resumed and completed")
    # A second recipe version, compared image by image with the first.
    recipe_path.write_text(
        yaml.safe_dump(
            recipe
            | {
                "version": 2,
                "engines": [
                    {"engine": "reference", "align": "none", "highpass_sigma": 16, "threshold": 6.0}
                ],
            }
        )
    )
    second = _inspector(*args, "--json", data_dir=data)
    assert second.returncode == 0, second.stderr
    compared = _inspector("eval", "--compare", run_id, json.loads(second.stdout)["run"]["id"],
                          "--json", data_dir=data)  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    result = json.loads(compared.stdout)
    assert result["common_images"] == total
    a, b = result["a"]["figures"], result["b"]["figures"]
    # A higher threshold fails fewer frames: never more overkill, never fewer misses.
    assert b["overkill"] <= a["overkill"] and b["miss_rate"] >= a["miss_rate"]
    text = _inspector("eval", "--compare", run_id, json.loads(second.stdout)["run"]["id"],
                      data_dir=data)  # fmt: skip
    assert "miss rate" in text.stdout and "judged differently" in text.stdout
