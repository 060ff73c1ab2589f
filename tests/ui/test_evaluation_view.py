"""The Evaluation tab runs `evaluate()` from the window (issue 13): on textured tiles made here
and the model-free `reference` recipe, on the real store (SQLite), offscreen. The figures shown
are those `evaluate()` gives on the same set; the GUI thread keeps ticking while the worker
judges; Cancel leaves a resumable run; the report and the recipe's next version are written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from inspector.config import Settings, StationProfile
from inspector.evaluation import metrics, report, target
from inspector.evaluation.datasets import read_dataset
from inspector.evaluation.evaluate import evaluate
from inspector.recipes import load_recipe
from inspector.store import Store
from tests.support import textures
from tests.support.records_data import make_users

pytest.importorskip("PySide6")

ENGINE = {"engine": "reference", "align": "none", "highpass_sigma": 16}


def _tiles(folder: Path, good: int, defective: int) -> tuple[Path, Path]:
    """A folder per class of woven tiles, and a `reference` recipe with 12 other good tiles."""
    textures.tiles(folder / "images", good=good, defective=defective, kind="woven")
    references = textures.references(folder / "references", 12, kind="woven")
    recipe = folder / "tiles.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "tiles", "version": 1, "prompt": "Tiles.",
        "defects": [{"name": "deviation", "severity": "major"}],
        "references": [str(p) for p in references],
        "engines": [ENGINE],
    }))  # fmt: skip
    return folder / "images", recipe


@pytest.fixture
def store(tmp_path):
    with Store.open(Settings.from_env(data_dir=tmp_path / "data")) as opened:
        yield opened


@pytest.fixture
def people(store):
    return make_users(store)


@pytest.fixture
def view(qtbot, tmp_path, store, people):
    from inspector.ui.app import application
    from inspector.ui.evaluation_view import EvaluationView

    application()
    person = {"now": people["erin"]}  # an engineer
    shown = EvaluationView(store, tmp_path / "data", lambda: person["now"])
    shown.person = person
    qtbot.addWidget(shown)
    shown.show()
    return shown


def test_a_run_from_the_tab_shows_what_evaluate_gives_and_the_window_keeps_ticking(
    view, qtbot, tmp_path, store
):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QLabel

    images, recipe = _tiles(tmp_path / "tiles", good=6, defective=6)
    view.dataset_edit.setText(str(images))
    view.recipe_edit.setText(str(recipe))
    view.target_check.setChecked(True)
    view.target_spin.setValue(1.0)
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()

    ticks = {"running": 0}
    timer = QTimer()  # the GUI thread's own work: it must go on while the worker judges
    timer.timeout.connect(lambda: view.busy and ticks.__setitem__("running", ticks["running"] + 1))
    timer.start(10)
    steps: list[tuple[int, int]] = []
    job = view.run(start=False)
    job.stepped.connect(lambda done, total, _: steps.append((done, total)))
    assert view.cancel_button.isEnabled() and not view.run_button.isEnabled()
    with qtbot.waitSignal(view.finished, timeout=180_000) as finished:
        job.start()
    timer.stop()
    shown = finished.args[0]

    assert ticks["running"] >= 1  # the window's timer fired while the run was going on
    judged = [done for done, total in steps if total == 12 and done > 0]
    assert judged == list(range(1, 13))  # n of N, image by image, in order
    assert (view.progress.value(), view.progress.maximum(), view.progress.text()) == (
        12,
        12,
        "12/12",
    )
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()

    # The same set and recipe through evaluate() itself, outside the window.
    dataset = read_dataset(images)
    again = evaluate(store, dataset, recipe)
    results = store.run_results(again.id)
    expected = metrics.compute(results)
    for key in ("accuracy", "miss_rate", "overkill", "unsure_rate", "confusion", "classes"):
        assert shown.figures[key] == expected[key], key
    for key in ("accuracy", "miss_rate", "overkill", "unsure_rate"):
        assert view.figure_labels[key].text() == report.pct(expected[key])
    rows, columns = view.confusion.verticalHeaderItem, view.confusion.horizontalHeaderItem
    table = {
        (rows(r).text(), columns(c).text()): int(view.confusion.item(r, c).text())
        for r in range(2) for c in range(3)
    }  # fmt: skip
    assert table == {(e, o): expected["confusion"][e][o] for e in ("good", "defect")
                     for o in ("PASS", "FAIL", "UNSURE")}  # fmt: skip
    assert sum(table.values()) == 12
    point = target.target_threshold(results, 0.01)
    assert shown.point["threshold"] == pytest.approx(point["threshold"])
    assert f"threshold {point['threshold']:.4g}" in view.target_label.text()
    assert store.get_run(shown.run.id).status == "complete"
    pictures = [
        label for label in view.pictures.findChildren(QLabel) if not label.pixmap().isNull()
    ]
    assert len(pictures) == 8  # four worst misses, four worst overkills
    assert view.open_button.isEnabled() and view.version_button.isEnabled()

    pdf = tmp_path / "report.pdf"
    with qtbot.waitSignal(view.report_written, timeout=60_000):
        view.save_report(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    pypdf = pytest.importorskip("pypdf")
    assert sum(len(page.images) for page in pypdf.PdfReader(pdf).pages) == 8
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert f"target miss rate 1.00%: threshold {point['threshold']:.4g}" in text

    with qtbot.waitSignal(view.version_written, timeout=60_000) as written:
        view.save_version()
    new = load_recipe(Path(written.args[0]))
    assert new.version == 2
    assert new.engines[0]["threshold"] == pytest.approx(point["threshold"], rel=1e-5)
    [entry] = store.audit_entries(limit=1, entity_type="recipe_version")
    assert entry.user_name == "erin"
    assert f"evaluation run {shown.run.short}" in entry.reason


def test_cancel_leaves_a_run_that_can_be_resumed(view, qtbot, tmp_path, store):
    from PySide6.QtCore import Qt

    images, recipe = _tiles(tmp_path / "tiles", good=4, defective=4)
    view.dataset_edit.setText(str(images))
    view.recipe_edit.setText(str(recipe))
    clicked = threading.Event()

    def hold_after_the_first(done: int, total: int, _: str) -> None:
        # On the worker's thread: the first image judged, wait until Cancel has been pressed,
        # so the cancel lands between images 1 and 2 however loaded the machine is.
        if done == 1:
            clicked.wait(60)

    def press_cancel(done: int, total: int, _: str) -> None:
        if done == 1:
            qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
            clicked.set()

    job = view.run(start=False)
    # Queued first: Qt calls the connections in order, and the held one blocks the emitter.
    job.stepped.connect(press_cancel, Qt.ConnectionType.QueuedConnection)
    job.stepped.connect(hold_after_the_first, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(view.finished, timeout=120_000) as finished:
        job.start()
    stopped = finished.args[0]
    assert stopped.figures is None
    run = store.get_run(stopped.run.id)
    assert (run.status, run.judged, run.image_count) == ("interrupted", 1, 8)
    assert "Cancelled" in view.status.text() and f"--resume {run.short}" in view.status.text()
    assert view.run_button.isEnabled() and not view.save_report_button.isEnabled()
    resumed = evaluate(store, read_dataset(images), recipe, resume=run.short)
    assert (resumed.status, resumed.judged) == ("complete", 8)


def test_an_operator_may_not_run_an_evaluation(view, people):
    view.person["now"] = people["olly"]
    view.hide()
    view.show()  # the tab is shown again after a login: it asks who is there
    assert not view.run_button.isEnabled()
    assert "engineers and administrators" in view.run_button.toolTip()
    view.dataset_edit.setText("anything")
    view.recipe_edit.setText("anything.yaml")
    assert view.run() is None and "engineers" in view.status.text()


def test_the_window_has_the_evaluation_tab(qtbot, tmp_path, store, people):
    from inspector.ui.app import application
    from inspector.ui.evaluation_view import EvaluationView
    from inspector.ui.main_window import MainWindow

    application()
    images, recipe = _tiles(tmp_path / "tiles", good=1, defective=1)
    settings = Settings.from_env(data_dir=tmp_path / "data")
    window = MainWindow(
        settings, StationProfile(), store, f"folder:{images / 'good'}", str(recipe), people["olly"]
    )
    qtbot.addWidget(window)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    tab = window.tabs.widget(titles.index("Evaluation"))
    assert isinstance(tab, EvaluationView) and tab.recipe_edit.text() == str(recipe)
    window.show()
    window.tabs.setCurrentWidget(tab)
    assert not tab.run_button.isEnabled()  # an operator is logged in
    window.log_in(people["erin"])
    window.tabs.setCurrentIndex(0)
    window.tabs.setCurrentWidget(tab)
    assert tab.run_button.isEnabled()
    # A version tuned here is offered on the Station tab, as one saved in the Recipe tab is.
    tuned = str(tmp_path / "tiles" / "tiles-v2.yaml")
    tab.version_written.emit(tuned)
    boxed = [
        window.station.recipe_box.itemText(i) for i in range(window.station.recipe_box.count())
    ]
    assert tuned in boxed and window.station.recipe_box.currentText() == tuned


def test_a_wrong_folder_is_said_plainly(view, qtbot, tmp_path):
    view.dataset_edit.setText(str(tmp_path / "nowhere"))
    view.recipe_edit.setText(str(tmp_path / "none.yaml"))
    assert view.run() is not None
    qtbot.waitUntil(lambda: "did not run" in view.status.text(), timeout=60_000)
    assert f"{tmp_path / 'nowhere'}: not found" in view.status.text()
    assert view.run_button.isEnabled() and not view.save_report_button.isEnabled()
