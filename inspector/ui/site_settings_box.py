"""The site settings on the Settings page: the yield target, kept in the database so that every
station (and every report) measures against the same one, and changed as the command line does
(`inspector setting set yield_target 98.5`): by an admin, with a reason, audited
(`setting.changed`). Everyone else sees it read-only, with the reason.

A station.yaml from before the target moved here may still hold one: it is shown as what is used
while the site has none, and an admin's save moves it to the site (and out of the file), so it is
never lost silently.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QLineEdit, QPushButton

from inspector.config import StationProfile
from inspector.errors import InspectorError
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission
from inspector.ui.stats_view import yield_target_in_use


def site_settings_access(identity: Identity | None, site_has_accounts: bool) -> str | None:
    """Why this person may not change the site's settings; None: they may (Qt-free). Unlike the
    station's file, a site setting is changed by a person on record: a site without accounts
    has no one to change it yet."""
    if identity is not None and identity.can(Permission.CHANGE_SETTINGS):
        return None
    if identity is not None:
        return (
            f"Read-only: only an admin may change the site's settings; you are logged in as "
            f"{identity.name} ({identity.role.value})."
        )
    if site_has_accounts:
        return "Read-only: log in as an admin to change the site's settings."
    return (
        "Read-only: an admin changes the site's settings, and this site has no accounts yet "
        "(`inspector user add NAME --role admin`, then log in)."
    )


class SiteSettingsBox(QGroupBox):
    yield_target_changed = Signal(object)  # float | None: the target now in use

    def __init__(
        self, store: Store, profile: StationProfile, identity: Callable[[], Identity | None]
    ) -> None:
        super().__init__("Site settings: every station, changes audited")
        self.store = store
        self.profile = profile  # for an older station.yaml's yield target
        self.identity = identity
        self.yield_target = QLineEdit()
        self.yield_target.setPlaceholderText("none; for example 98.5")
        self.yield_target.setToolTip(
            "The share of parts that should PASS, in percent: a line on the Statistics page, "
            "and the Station's Yield counter turns red below it"
        )
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (kept in the audit trail)")
        self.source = QLabel("")
        self.source.setWordWrap(True)
        self.source.setStyleSheet("color:#8a8f98;")
        self.access_note = QLabel("")
        self.access_note.setWordWrap(True)
        self.access_note.setStyleSheet("color:#e0a800;")
        self.save_button = QPushButton("Save site settings")
        self.save_button.clicked.connect(self.save)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.access_note)
        form.addRow("Yield target (%)", self.yield_target)
        form.addRow("", self.source)
        form.addRow("Reason", self.reason)
        form.addRow("", self.save_button)
        form.addRow(self.message)
        self.denied: str | None = None
        self.refresh()

    def target(self) -> tuple[float | None, str]:
        """The target in use and where it comes from."""
        return yield_target_in_use(self.store.site_settings().yield_target, self.profile)

    def refresh(self) -> None:
        target, source = self.target()
        self.yield_target.setText("" if target is None else f"{target:g}")
        self.source.setText(source)
        self.source.setVisible(bool(source))
        self.set_access()

    def set_access(self) -> None:
        self.denied = site_settings_access(self.identity(), self.store.has_people())
        editable = self.denied is None
        for widget in (self.yield_target, self.reason, self.save_button):
            widget.setEnabled(editable)
        self.access_note.setText(self.denied or "")
        self.access_note.setVisible(not editable)

    def save(self) -> bool:
        """Set the site's yield target as the field holds it (empty: none), audited with the
        reason; an older station.yaml's target is then removed from the file (moved here)."""
        actor = self.identity()
        if self.denied is not None or actor is None:
            self._say(self.denied or site_settings_access(None, True), error=True)
            return False
        text = self.yield_target.text().strip() or "none"
        try:
            old, new = self.store.set_setting(actor, "yield_target", text, self.reason.text())
        except InspectorError as exc:
            self._say(str(exc), error=True)
            return False
        said = f"Yield target {'none' if new is None else f'{new:g} %'} saved for every station"
        said += f" (was {'none' if old is None else f'{old:g} %'}; in the audit trail)."
        if self.profile.yield_target.strip():
            StationProfile.update(yield_target=None)
            said += (
                f" The older yield_target ({self.profile.yield_target}) was removed from "
                f"{StationProfile.path()}: the site's is used now."
            )
            self.profile = StationProfile.load()
        self.reason.clear()
        self.refresh()
        self._say(said)
        self.yield_target_changed.emit(self.target()[0])
        return True

    def set_profile(self, profile: StationProfile) -> None:
        """station.yaml as saved from the page (its older target, if any, is still read)."""
        self.profile = profile
        self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color:#ff8a80;" if error else "color:#7bd88f;")
        self.message.setText(text)
