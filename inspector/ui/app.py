"""Starting the window: the application, its look, the store, and the station on its defaults."""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from inspector.config import Settings, StationProfile
from inspector.errors import InspectorError
from inspector.store import Store
from inspector.ui.gui_thread_gc import collect_on_gui_thread
from inspector.ui.login_dialog import LoginDialog


def dark_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#23262b",
        QPalette.ColorRole.WindowText: "#e2e4e8",
        QPalette.ColorRole.Base: "#1b1d21",
        QPalette.ColorRole.AlternateBase: "#262a30",
        QPalette.ColorRole.Text: "#e2e4e8",
        QPalette.ColorRole.Button: "#2f343b",
        QPalette.ColorRole.ButtonText: "#e2e4e8",
        QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2f343b",
        QPalette.ColorRole.ToolTipText: "#e2e4e8",
        QPalette.ColorRole.PlaceholderText: "#7d838c",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    # A control that cannot be used must look it, from across the room: dim text on a flat,
    # darker face (the same pixels as an enabled one made people press dead buttons).
    disabled = {
        QPalette.ColorRole.WindowText: "#6b7079",
        QPalette.ColorRole.Text: "#6b7079",
        QPalette.ColorRole.ButtonText: "#5d626a",
        QPalette.ColorRole.Button: "#24272c",
        QPalette.ColorRole.Base: "#202226",
        QPalette.ColorRole.Light: "#24272c",
        QPalette.ColorRole.Midlight: "#24272c",
    }
    for role, colour in disabled.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_on_gui_thread(app)
    app.setApplicationName("Inspector")
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    return app


def run_window(
    settings: Settings,
    profile: StationProfile,
    source: str,
    recipe: str,
    autostart: bool = True,
    views: list | None = None,  # ViewPlans: several cameras per part (`--view`)
    notice: str | None = None,  # said on the Station tab at start (e.g. the demo is model-free)
) -> int:
    from inspector.ui.main_window import MainWindow

    app = application()
    try:
        store = Store.open(settings)
    except InspectorError as exc:
        QMessageBox.critical(None, "Inspector", f"{exc}\n\nCheck the database in the settings.")
        return exc.exit_code
    with store:
        identity = None
        if store.has_people():  # a site with accounts: every session is someone's
            login = LoginDialog(store)
            if login.exec() != LoginDialog.DialogCode.Accepted:
                return 0
            identity = login.identity
        window = MainWindow(settings, profile, store, source, recipe, identity)
        window.station.set_views(views or [])
        if notice:
            window.station.show_notice(notice)
        window.show()
        if autostart:
            window.station.start()
        return app.exec()
