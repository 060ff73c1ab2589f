"""The evaluation report shows the worst misses and the worst overkills as pictures: a real
`inspector eval --report` on textured tiles made here, judged by `texture` (a heat map overlaid)
and by `reference` (its deviation map and the verdict's boxes), read back from the PDF (its
images with pypdf, its captions with pdftotext where poppler is installed, else pypdf) and from
the HTML."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from inspector.config import Settings
from inspector.evaluation import metrics
from inspector.store import Store
from tests.support import textures
from tests.support.command_line import inspector

pypdf = pytest.importorskip("pypdf")

_RANK_MISS = {"PASS": 0, "UNSURE": 1, "FAIL": 2}
_RANK_OVERKILL = {"FAIL": 0, "UNSURE": 1, "PASS": 2}


def _tiles(folder: Path, engine: dict) -> tuple[Path, Path]:
    """Six good and six defective woven tiles (a folder per class, masks beside), twelve good
    tiles of other seeds to learn from or compare with, and a recipe."""
    textures.tiles(folder / "images", good=6, defective=6, kind="woven")
    references = textures.references(folder / "references", 12, kind="woven")
    recipe = folder / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": f"tiles-{engine['engine']}", "version": 1, "prompt": "Tiles.",
        "defects": [{"name": "texture"}, {"name": "deviation"}],
        "references": [str(p) for p in references],
        "engines": [engine],
    }))  # fmt: skip
    return folder / "images", recipe


def _expected(data: Path, run_id: str) -> tuple[list, list]:
    """The worst misses and overkills, worked out here from the run as the store holds it."""
    with Store.open(Settings.from_env(data_dir=data)) as store:
        results = store.run_results(store.find_run(run_id).id)
    defect = [r for r in results if r.expected == "defect"]
    good = [r for r in results if r.expected == "good"]
    misses = sorted(defect, key=lambda r: (_RANK_MISS[r.outcome], r.score))[:4]
    overkills = sorted(good, key=lambda r: (_RANK_OVERKILL[r.outcome], -r.score))[:4]
    return misses, overkills


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def _pictures(path: Path) -> list[list[np.ndarray]]:
    """Each page's pictures, in the order they were placed, as RGB arrays."""
    return [
        [np.asarray(image.image.convert("RGB")).astype(int) for image in page.images]
        for page in pypdf.PdfReader(path).pages
    ]


def _captioned(text: str, result) -> bool:
    words = {"PASS": r"(MISS \(judged PASS\)|passed \(PASS\))",
             "FAIL": r"(caught \(FAIL\)|OVERKILL \(judged FAIL\))",
             "UNSURE": r"UNSURE: to a person"}[result.outcome]  # fmt: skip
    line = rf"{re.escape(result.label)} · score {result.score:.3g} · {words}"
    return result.image in text and re.search(line, text) is not None


def _hot(picture: np.ndarray) -> np.ndarray:
    """Where the heat map is red (the grey tiles have R close to B everywhere)."""
    return (picture[..., 0] - picture[..., 2]) > 60


def _mask(data_set: Path, name: str) -> np.ndarray:
    return cv2.imread(str((data_set / name).with_suffix(".png")), cv2.IMREAD_GRAYSCALE) > 0


def _centre(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return round(float(np.median(ys))), round(float(np.median(xs)))


def test_the_pdf_shows_texture_heat_maps_of_the_worst_misses_and_overkills(tmp_path):
    data = tmp_path / "data"
    images, recipe = _tiles(tmp_path / "tiles", {"engine": "texture"})
    assert inspector("learn", str(recipe), data_dir=data).returncode == 0
    report = tmp_path / "report.pdf"
    done = inspector("eval", str(images), "--recipe", str(recipe), "--report", str(report),
                     "--json", data_dir=data)  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]["id"]
    misses, overkills = _expected(data, run_id)
    assert len(misses) == len(overkills) == 4

    pages = _pictures(report)
    # The figures, the threshold curve, then a page of four misses and one of four overkills.
    assert [len(p) for p in pages] == [0, 0, 4, 4]
    text = _pdf_text(report)
    assert "worst misses" in text and "worst overkills" in text
    for result in misses + overkills:
        assert _captioned(text, result), (result.image, result.score, result.outcome)
    # In the order worked out here: the worst first.
    at = [text.index(r.image) for r in misses] + [text.index(r.image) for r in overkills]
    assert at == sorted(at)

    # Each defect's picture carries the heat map, hot where the labelled defect lies and not
    # everywhere; the pictures of the overkills are of good tiles: no defect stands out.
    for result, picture in zip(misses, pages[2], strict=True):
        hot = _hot(picture)
        assert 0.01 < hot.mean() < 0.6, (result.image, hot.mean())
        mask = _mask(images, result.image)  # the pictures are at the tiles' size
        y, x = _centre(mask)
        near = np.zeros_like(mask)
        near[max(0, y - 15) : y + 16, max(0, x - 15) : x + 16] = True
        # The texture around the defect (the defect itself is dark or bright, and outlined).
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        around = hot[near & ~grown]
        assert around.mean() > 0.5, (result.image, around.mean())
    passed_good = [p for r, p in zip(overkills, pages[3], strict=True) if r.outcome == "PASS"]
    assert all(_hot(p).mean() < 0.01 for p in passed_good)


def test_reference_pictures_carry_the_verdicts_boxes_in_pdf_and_html(tmp_path):
    data = tmp_path / "data"
    engine = {"engine": "reference", "align": "none", "highpass_sigma": 16}
    images, recipe = _tiles(tmp_path / "tiles", engine)
    pdf, page = tmp_path / "report.pdf", tmp_path / "report.html"
    done = inspector("eval", str(images), "--recipe", str(recipe), "--report", str(pdf),
                     "--json", data_dir=data)  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run"]["id"]
    misses, overkills = _expected(data, run_id)
    if shutil.which("pdfimages"):  # poppler's count, where it is installed
        listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True,
                                text=True, check=True).stdout.splitlines()[2:]  # fmt: skip
        assert len(listed) == 8 and all(" jpeg " in line for line in listed)
    pages = _pictures(pdf)
    assert [len(p) for p in pages] == [0, 0, 4, 4]
    text = _pdf_text(pdf)
    for result in misses + overkills:
        assert _captioned(text, result), (result.image, result.score, result.outcome)
    # `reference` draws its deviation from the golden images as a heat map: hot on the labelled
    # defect and not everywhere; each FAILed defect's picture also has its magenta box drawn
    # around the defect.
    for result, picture in zip(misses, pages[2], strict=True):
        hot, mask = _hot(picture), _mask(images, result.image)
        assert 0.0005 < hot.mean() < 0.3, (result.image, hot.mean())
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
        assert hot[grown].mean() > 5 * hot[~grown].mean(), result.image
        if result.outcome != "FAIL":
            continue
        magenta = (picture[..., 0] > 160) & (picture[..., 2] > 160) & (picture[..., 1] < 110)
        assert magenta.sum() > 20, result.image
        (x0, y0, x1, y1) = result.boxes[0][1:5]
        y, x = _centre(_mask(images, result.image))
        assert x0 <= x < x1 and y0 <= y < y1

    html = inspector("eval", str(images), "--recipe", str(recipe), "--report", str(page),
                     data_dir=data)  # fmt: skip
    assert html.returncode == 0, html.stderr
    body = page.read_text()
    assert "Worst misses" in body and "Worst overkills" in body
    shown = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', body)
    assert len(shown) == 8
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(shown[0]), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[:2] == (192, 192)


def test_the_worst_come_first_and_a_lost_image_is_said_not_drawn(tmp_path):
    from inspector.evaluation import report, worst
    from inspector.evaluation.datasets import read_dataset
    from inspector.store.evaluations.runs import EvaluationResult, EvaluationRun

    made = textures.tiles(tmp_path / "set", good=3, defective=3, kind="noise")
    dataset = read_dataset(tmp_path / "set")
    names = {tile.path.name: f"{tile.path.parent.name}/{tile.path.name}" for tile in made}

    def result(name, outcome, score):
        label = names[name].split("/")[0]
        expected = "good" if label == "good" else "defect"
        return EvaluationResult(names[name], label, expected, outcome, 1.0, score=score,
                                boxes=[["deviation", 10, 10, 40, 40]])  # fmt: skip

    results = [
        result("0000.jpg", "PASS", 0.5), result("0001.jpg", "FAIL", 4.0),
        result("0002.jpg", "FAIL", 2.0), result("0003.jpg", "FAIL", 9.0),
        result("0004.jpg", "PASS", 1.5), result("0005.jpg", "UNSURE", None),
    ]  # fmt: skip
    # Misses: the PASSed defect, then the one for a person, then the caught one.
    assert [r.image.split("/")[1] for r in worst.worst_misses(results)] == [
        "0004.jpg", "0005.jpg", "0003.jpg"]  # fmt: skip
    # Overkills: the FAILed good tiles, highest score first, then the PASSed one.
    assert [r.image.split("/")[1] for r in worst.worst_overkills(results)] == [
        "0001.jpg", "0002.jpg", "0000.jpg"]  # fmt: skip
    (tmp_path / "set" / names["0004.jpg"]).unlink()  # lost since the run
    examples = worst.pick(dataset, results)
    lost = next(e for e in examples if e.result.image == names["0004.jpg"])
    assert lost.picture is None and "no such file" in lost.note
    drawn = next(e for e in examples if e.result.image == names["0003.jpg"])
    assert drawn.picture.shape == (192, 192, 3) and not drawn.heat
    assert (drawn.picture[10:40, 10] == (255, 0, 255)).all()  # the box, in magenta
    run = EvaluationRun(1, "0" * 32, None, None, "complete", str(tmp_path), "folders", {}, 6, 1,
                        "tiles", 1, "reference:golden")  # fmt: skip
    pdf = tmp_path / "report.pdf"
    report.pdf_report(pdf, run, metrics.compute(results), examples)
    text = _pdf_text(pdf)
    assert "no picture: cannot read the image: no such file" in text
    assert "MISS (judged PASS)" in text and "UNSURE: to a person" in text
    assert sum(len(p) for p in _pictures(pdf)) == 5
