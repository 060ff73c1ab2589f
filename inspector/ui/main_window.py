"""The main window: one tab per job, all observing one station and one store."""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget

from inspector.config import Settings, StationProfile
from inspector.station.runner import StationRunner
from inspector.store import Store
from inspector.store.audit.users import Identity
from inspector.ui.bridge import StationBridge
from inspector.ui.history_view import HistoryView
from inspector.ui.password_dialog import add_account_menu
from inspector.ui.recipe_editor import RecipeEditor
from inspector.ui.review_view import ReviewView
from inspector.ui.settings_view import SettingsView
from inspector.ui.station_view import StationView
from inspector.ui.stats_view import StatsView


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: Settings,
        profile: StationProfile,
        store: Store,
        source: str,
        recipe: str,
        identity: Identity | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Inspector")
        self.store = store
        self.identity = identity  # the person logged in; None while the site has no accounts
        self.runner = StationRunner(store)
        self.bridge = StationBridge(self)
        self.station = StationView(self.runner, self.bridge, source, recipe, profile.trigger)
        self.station.outputs = profile.outputs
        self.history = HistoryView(store, lambda: self.identity)
        self.review = ReviewView(store, lambda: self.identity)
        self.recipes = RecipeEditor(
            store, settings.data_dir / "recipes", self._live_frame, lambda: self.identity
        )
        self.stats = StatsView(store)
        self.settings_view = SettingsView(
            dataclasses.replace(profile, source=source, recipe=recipe)
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.station, "Station")
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.review, "Review")
        self.tabs.addTab(self.recipes, "Recipe")
        self.tabs.addTab(self.stats, "Statistics")
        self.tabs.addTab(self.settings_view, "Settings")
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.station.settings_requested.connect(
            lambda: self.tabs.setCurrentWidget(self.settings_view)
        )
        self.settings_view.saved.connect(self._settings_saved)
        self.recipes.saved.connect(self._recipe_saved)
        self.bridge.recorded.connect(lambda _: self._mark_stale())
        self._stale = True
        url = store.url
        who = f"{identity.full_name or identity.name} ({identity.role})" if identity else "no login"
        self.statusBar().addPermanentWidget(
            QLabel(f"User: {who}   Data: {settings.data_dir}   DB: {url}")
        )
        self.change_password = add_account_menu(self, store, lambda: self.identity)
        try:
            self.recipes.open(recipe)
        except Exception as exc:  # a broken recipe must not keep the window from opening
            self.recipes.result.setText(str(exc))
        self.resize(1400, 860)

    def _live_frame(self):
        return self.station.shown_frame

    def _mark_stale(self) -> None:
        self._stale = True
        if self.tabs.currentWidget() in (self.history, self.stats, self.review):
            self._tab_changed(self.tabs.currentIndex())

    def _tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.history and self._stale:
            self.history.apply_filters()
        elif widget is self.stats:
            self.stats.refresh()
        elif widget is self.review:
            self.review.refresh()

    def _settings_saved(self, profile: StationProfile) -> None:
        if self.runner.station is None:
            self.station.source_edit.setText(profile.source)
            self.station.recipe_box.setEditText(profile.recipe)
            self.station.trigger_policy = profile.trigger
            self.station.outputs = profile.outputs

    def _recipe_saved(self, path: str) -> None:
        self.station.recipe_box.addItem(path)
        if self.runner.station is None:
            self.station.recipe_box.setEditText(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.statusBar().showMessage("Stopping the station…")
        self.runner.stop(wait=True)
        super().closeEvent(event)
