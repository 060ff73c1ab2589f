"""The README's and docs/operator.md's screenshots: the window on the demo (reference judge, no
model), at a panel PC's 1024 x 768 and a 1920 x 1080 screen, Station, Review and History; then,
at 1024 x 768, the engineer's, admin's and IT's pages: Statistics (against the site's yield
target), Settings (with the site settings), Evaluation (a run on textured tiles made by
tests/support/textures.py, its figures shown), Users, Audit trail, Models and Doctor; last, a
two-camera part (the Views table open) at both sizes.

    xvfb-run -a -s "-screen 0 1920x1080x24" python docs/screenshots/take_screenshots.py [--pages]

Writes docs/screenshots/{station,review,history,views}-{1024x768,1920x1080}.png and
{statistics,settings,evaluation,users,audit,models,doctor}-1024x768.png; with --pages, only the
1024 x 768 pages and the views.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.pop("INSPECTOR_DATABASE_URL", None)

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from inspector.config import Settings, StationProfile  # noqa: E402
from inspector.station.runner import ViewPlan  # noqa: E402
from inspector.store import Store  # noqa: E402
from inspector.ui.app import application  # noqa: E402
from inspector.ui.main_window import MainWindow  # noqa: E402
from tests.support import textures  # noqa: E402

OUT = Path(__file__).resolve().parent
DEMO = ROOT / "assets" / "demo"
SIZES = ((1024, 768), (1920, 1080))


def wait(app, ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def until(app, condition, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        wait(app, 100)
    raise TimeoutError("the window did not get there")


def tiles_recipe(folder: Path) -> tuple[Path, Path]:
    """A labelled folder of woven tiles and a `reference` recipe with twelve other good ones."""
    textures.tiles(folder / "images", good=16, defective=16, kind="woven")
    references = textures.references(folder / "references", 12, kind="woven")
    recipe = folder / "woven-tile.yaml"
    lines = [
        "name: woven-tile",
        "version: 1",
        "product: woven tile, grey",
        "prompt: A woven grey tile; look for scratches, holes, stains.",
        "defects:",
        "  - {name: deviation, severity: major}",
        "references:",
        *(f"  - {p}" for p in references),
        "engines:",
        "  - {engine: reference, align: none, highpass_sigma: 16}",
    ]
    recipe.write_text("\n".join(lines) + "\n")
    return folder / "images", recipe


def pages(app, window, folder: Path) -> None:
    """Evaluation (with a run's results), Users, Audit trail, Models, Doctor at 1024 x 768."""
    store = window.store
    ada = window.identity
    store.add_user(ada, "erin", "engineer", "Engineer-Password-7", "Erin Engineer")
    store.add_user(ada, "olly", "operator", "Operator-Password-7", "Olly Operator")
    window.resize(1024, 768)
    site = window.settings_view.site
    site.yield_target.setText("98.5")
    site.reason.setText("the line's goal")
    site.save()
    for name, tab in (("statistics", window.stats), ("settings", window.settings_tab)):
        window.tabs.setCurrentWidget(tab)
        wait(app, 400)
        path = OUT / f"{name}-1024x768.png"
        window.grab().save(str(path))
        print(path)
    images, recipe = tiles_recipe(folder / "tiles")
    view = window.evaluation
    window.tabs.setCurrentWidget(view)
    view.dataset_edit.setText(str(images))
    view.recipe_edit.setText(str(recipe))
    view.target_check.setChecked(True)
    view.target_spin.setValue(5.0)
    view.run()
    until(app, lambda: view.last is not None and not view.busy, 300)
    shots = (
        ("evaluation", view),
        ("users", window.users_view),
        ("audit", window.audit_view),
        ("models", window.models_view),
        ("doctor", window.doctor_view),
    )
    for name, tab in shots:
        window.tabs.setCurrentWidget(tab)
        if tab is window.doctor_view:
            until(app, lambda: not window.doctor_view.busy, 120)
        wait(app, 400)
        path = OUT / f"{name}-1024x768.png"
        window.grab().save(str(path))
        print(path)


def views(app, window, camera: Path) -> None:
    """A part seen by two cameras (top and side, the demo's boards twice): the Views table open
    on the Station tab, at both sizes, ending on a failing part."""
    station = window.station
    window.tabs.setCurrentWidget(station)
    recipe = DEMO / "recipe-reference.yaml"
    station.set_views(
        [
            ViewPlan("top", f"folder:{camera}", str(recipe)),
            ViewPlan("side", f"folder:{camera}", str(recipe)),
        ]
    )
    seen = []
    window.bridge.part.connect(seen.append)
    station.start()
    until(app, lambda: len(seen) == len(list(camera.glob("*.jpg"))) and not window._running)
    for width, height in SIZES:
        window.resize(width, height)
        wait(app, 400)
        path = OUT / f"views-{width}x{height}.png"
        window.grab().save(str(path))
        print(path)


def main() -> int:
    only_pages = "--pages" in sys.argv[1:]
    app = application()
    folder = Path(tempfile.mkdtemp(prefix="inspector-shots-"))
    os.environ["INSPECTOR_CONFIG"] = str(folder / "station.yaml")
    settings = Settings.from_env(data_dir=folder / "data")
    # The demo's boards but the last good one: the Station tab ends on a failing board.
    camera = folder / "camera"
    camera.mkdir()
    boards = sorted((DEMO / "camera").glob("*.jpg"))[:-1]
    for board in boards:
        shutil.copy(board, camera / board.name)
    with Store.open(settings) as store:
        ada = store.add_user(None, "ada", "admin", "Correct-Horse-Battery-9", "Ada Admin")
        window = MainWindow(
            settings,
            StationProfile(),
            store,
            f"folder:{camera}",
            str(DEMO / "recipe-reference.yaml"),
            ada,
        )
        window.show()
        window.station.start()
        until(app, lambda: window.station.counters.total == len(boards) and not window._running)
        # The last part shown on the Station tab: a failing board, its defects drawn.
        for width, height in () if only_pages else SIZES:
            window.resize(width, height)
            wait(app, 400)
            for name, tab in (
                ("station", window.station),
                ("review", window.review),
                ("history", window.history),
            ):
                window.tabs.setCurrentWidget(tab)
                if tab is window.history:
                    window.history.apply_filters()
                    window.history.table.selectRow(0)
                wait(app, 400)
                path = OUT / f"{name}-{width}x{height}.png"
                window.grab().save(str(path))
                print(path)
        pages(app, window, folder)
        views(app, window, camera)
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
