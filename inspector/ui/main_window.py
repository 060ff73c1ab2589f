"""The main window: one tab per job, all observing one station and one store."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.config import Settings, StationProfile
from inspector.station.runner import StationRunner
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission
from inspector.ui import audit_view, users_view
from inspector.ui.account_menu import AccountMenu, PersonGate
from inspector.ui.bridge import StationBridge
from inspector.ui.doctor_view import DoctorView
from inspector.ui.evaluation_view import EvaluationView
from inspector.ui.header import Header, RunState
from inspector.ui.history_view import HistoryView
from inspector.ui.models_view import ModelsView
from inspector.ui.recipe_editor import RecipeEditor
from inspector.ui.review_view import ReviewView
from inspector.ui.settings_view import SettingsView
from inspector.ui.station_view import StationView
from inspector.ui.stats_view import StatsView

HEADER_MS = 1000  # the header's review count and run state are refreshed once a second


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
        # The line may switch the recipe (MQTT, OPC UA SelectRecipe): the window follows it.
        self.runner = StationRunner(store, profile.recipes_dir or None, line_selects_recipes=True)
        self.bridge = StationBridge(self)
        self.station = StationView(self.runner, self.bridge, source, recipe, profile.trigger)
        self.station.outputs = profile.outputs
        self.history = HistoryView(store, lambda: self.identity)
        self.review = ReviewView(store, lambda: self.identity)
        self.review.logged_in = self.log_in
        self.recipes = RecipeEditor(
            store,
            settings.data_dir / "recipes",
            self._live_frame,
            lambda: self.identity,
            runner=self.runner,
        )
        self.stats = StatsView(store)
        self.settings_view = SettingsView(
            dataclasses.replace(profile, source=source, recipe=recipe),
            settings,
            store,
            lambda: self.identity,
        )
        # The yield target is the site's (the database), read by Statistics and the Station.
        self.settings_view.site.yield_target_changed.connect(lambda _: self.show_yield_target())
        self.show_yield_target()
        self.settings_view.set_access(identity, store.has_people())
        self.tabs = QTabWidget()
        self.tabs.addTab(self.station, "Station")
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.review, "Review")
        self.tabs.addTab(self.recipes, "Recipe")
        self.tabs.addTab(self.stats, "Statistics")
        self.evaluation = EvaluationView(store, settings.data_dir, lambda: self.identity, recipe)
        self.tabs.addTab(self.evaluation, "Evaluation")
        # Settings scroll: the window fits a 1024 x 768 panel PC.
        self.settings_tab = QScrollArea()
        self.settings_tab.setWidgetResizable(True)
        self.settings_tab.setWidget(self.settings_view)
        self.tabs.addTab(self.settings_tab, "Settings")
        self.models_view = ModelsView(settings, profile)  # the model store: import, verify
        self.tabs.addTab(self.models_view, "Models")
        self.doctor_view = DoctorView(settings, profile)  # `inspector doctor`, in the window
        self.tabs.addTab(self.doctor_view, "Doctor")
        # The header above every tab: run state, recipe, user, review count.
        self.header = Header()
        self.header.set_user(identity)
        self.header.review_requested.connect(lambda: self.tabs.setCurrentWidget(self.review))
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 4, 4, 0)
        column.setSpacing(4)
        column.addWidget(self.header)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._running = False
        self._review_stale = True
        self.station.running_changed.connect(self._running_changed)
        self.station.state_changed.connect(self.update_header)
        self.bridge.faulted.connect(lambda _: self.update_header())
        self.bridge.recorded.connect(lambda _: self._review_changed(now=False))
        self.review.changed.connect(lambda: self._review_changed(now=True))
        self._header_timer = QTimer(self)  # the review count follows the records, at most 1/s
        self._header_timer.timeout.connect(self.update_header)
        self._header_timer.start(HEADER_MS)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.station.settings_requested.connect(
            lambda: self.tabs.setCurrentWidget(self.settings_tab)
        )
        self.station.models_requested.connect(lambda: self.tabs.setCurrentWidget(self.models_view))
        self.settings_view.saved.connect(self._settings_saved)
        self.station.failed_strip.opened.connect(self.open_inspection)
        # The last failed parts on record, not only this session's: live ones push in after.
        self.station.failed_strip.load_recorded(store)
        self.recipes.saved.connect(self._recipe_saved)
        # A version tuned in the Evaluation tab is offered on the Station tab like a saved one.
        self.evaluation.version_written.connect(self._recipe_saved)
        self.bridge.recipe_swapped.connect(self._recipe_swapped)
        self.bridge.recorded.connect(lambda _: self._mark_stale())
        self._stale = True
        self.settings = settings
        self.user_label = QLabel(self._user_text())
        self.statusBar().addPermanentWidget(self.user_label)
        # The Account menu (log in, out, switch, password), the admin pages, who may do what.
        self.account = AccountMenu(self, store, lambda: self.identity, self.log_in)
        self.change_password = self.account.change_password
        self.header.set_account_menu(self.account.menu)
        self.users_view = users_view.UsersView(store, lambda: self.identity)
        self.audit_view = audit_view.AuditView(store, lambda: self.identity)
        self.tabs.addTab(self.users_view, "Users")
        self.tabs.addTab(self.audit_view, "Audit trail")
        self.users_view.accounts_changed.connect(self.account.account_changed)
        self.gate = PersonGate(store, lambda: self.identity)
        self.gate.require(self.history.export_button, Permission.EXPORT)
        self.gate.require(self.recipes.save_button, Permission.SAVE_RECIPE, store.actor)
        for page, module in ((self.users_view, users_view), (self.audit_view, audit_view)):
            self.gate.tab(self.tabs, page, module.allowed, page.refresh)
        try:
            self.recipes.open(recipe)
        except Exception as exc:  # a broken recipe must not keep the window from opening
            self.recipes.result.setText(str(exc))
        self.update_header()
        self.resize(1400, 860)

    def log_in(self, identity: Identity | None) -> None:
        """A person logged in (Account menu, Review's Log in…), or nobody (logged out): every
        tab acts as them from now on."""
        self.identity = identity
        self.header.set_user(identity)
        self.settings_view.set_access(identity, self.store.has_people())
        self.user_label.setText(self._user_text())
        self.account.update()
        self.gate.update()
        self.review.refresh()
        self._tab_changed(self.tabs.currentIndex())

    def _user_text(self) -> str:
        who = self.identity
        name = f"{who.full_name or who.name} ({who.role})" if who else "no login"
        return f"User: {name}   Data: {self.settings.data_dir}   DB: {self.store.url}"

    # -- the header ------------------------------------------------------------------------
    def _running_changed(self, running: bool) -> None:
        self._running = running
        self.update_header()

    def _review_changed(self, now: bool) -> None:
        self._review_stale = True
        if now:
            self.update_header()

    def run_state(self) -> RunState:
        if self.station.fault is not None:
            return RunState.FAULT
        if self.station.starting:
            return RunState.STARTING
        if self._running and self.runner.station is not None:
            return RunState.RUN
        return RunState.STOPPED

    def update_header(self) -> None:
        state = self.run_state()
        self.header.set_state(state, self.station.fault or "")
        station = self.runner.station
        if station is not None and state is not RunState.STOPPED:
            views = station.views
            if len(views) == 1:
                recipe = f"{views[0].recipe.name} v{views[0].recipe.version}"
            else:
                recipe = ", ".join(f"{v.name}: {v.recipe.name} v{v.recipe.version}" for v in views)
        else:
            path = self.station.recipe_path
            recipe = f"{Path(path).name} (not running)" if path else "none chosen"
        self.header.set_recipe(recipe)
        if self._review_stale:
            self._review_stale = False
            waiting = self.store.review_count()
            self.header.set_review_count(waiting)
            self.tabs.setTabText(
                self.tabs.indexOf(self.review), f"Review ({waiting:,})" if waiting else "Review"
            )

    def _live_frame(self):
        return self.station.shown_frame

    def _mark_stale(self) -> None:
        self._stale = True
        shown = self.tabs.currentWidget()
        if shown in (self.history, self.review):  # held still while a person works on it
            shown.records_arrived()
        elif shown is self.stats:
            self.stats.refresh()

    def _tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget in (self.stats, self.station):
            self.show_yield_target()
        if widget is self.history and self._stale:
            self.history.apply_filters()
        elif widget is self.stats:
            self.stats.refresh()
        elif widget is self.review:
            self.review.refresh()
        elif widget in (self.users_view, self.audit_view):
            widget.refresh()

    def open_inspection(self, inspection_id: int) -> None:
        """A failed part's thumbnail on the Station tab: that inspection, selected in History
        (shown in its detail pane even where History's filters leave it out)."""
        self.tabs.setCurrentWidget(self.history)
        model, table = self.history.model, self.history.table
        while model.rows and model.canFetchMore() and model.rows[-1].id > inspection_id:
            model.fetchMore()  # pages are newest first: load down to it
        ids = [row.id for row in model.rows]
        if inspection_id in ids:
            table.selectRow(ids.index(inspection_id))
            table.scrollTo(model.index(ids.index(inspection_id), 0))
        else:
            table.clearSelection()
            self.history.detail.show_inspection(inspection_id)

    def show_yield_target(self) -> None:
        """The site's yield target (else an older station.yaml's) on Statistics and the Station;
        read again when either tab is shown, as an admin at another station may change it."""
        target, _source = self.settings_view.site.target()
        if target != self.stats.yield_target:
            self.stats.set_yield_target(target)
        if target != self.station.yield_target:
            self.station.set_yield_target(target)

    def _settings_saved(self, profile: StationProfile) -> None:
        self.show_yield_target()
        if self.runner.station is None:
            self.station.source_edit.setText(profile.source)
            self.station.recipe_box.setEditText(profile.recipe)
            self.station.trigger_policy = profile.trigger
            self.station.outputs = profile.outputs

    def _recipe_saved(self, path: str) -> None:
        self.station.recipe_box.addItem(path)
        if self.runner.station is None:
            self.station.recipe_box.setEditText(path)

    def _recipe_swapped(self, event) -> None:
        self.station.follow_recipe(event)
        self.update_header()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.statusBar().showMessage("Stopping the station…")
        self.runner.stop(wait=True)
        self.account.window_closed()
        super().closeEvent(event)
