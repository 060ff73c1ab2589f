"""The README's screenshots: the window on the demo (reference judge, no model), at a panel PC's
1024 x 768 and a 1920 x 1080 screen, Station, Review and History.

    xvfb-run -a -s "-screen 0 1920x1080x24" python docs/screenshots/take_screenshots.py

Writes docs/screenshots/{station,review,history}-{1024x768,1920x1080}.png.
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
from inspector.store import Store  # noqa: E402
from inspector.ui.app import application  # noqa: E402
from inspector.ui.main_window import MainWindow  # noqa: E402

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


def main() -> int:
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
        for width, height in SIZES:
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
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
