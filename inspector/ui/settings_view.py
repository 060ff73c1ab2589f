"""Settings: camera, recipe, trigger policy, data directory, database, saved to station.yaml for
the next start; and, given the store, the site settings kept in the database for every station
(the yield target: site_settings_box.py, audited).

What the station really uses is shown beside what the file holds: a data directory or database
set by the environment (INSPECTOR_DATA_DIR, INSPECTOR_DATABASE_URL) or the command line wins over
the file, and the page says so instead of "default". Only an admin changes these settings (the
`change settings` permission); others see them read-only, with the reason. A database password
and the API keys are never shown.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inspector.cameras import SCHEMES
from inspector.config import Settings, StationProfile
from inspector.errors import InspectorError
from inspector.judges import keys
from inspector.store import Store
from inspector.store.audit.users import Identity, Permission
from inspector.store.database import is_database_url, safe_url
from inspector.ui.site_settings_box import SiteSettingsBox

SOURCE_HELP = (
    "usb:0 · rtsp://user:pass@host/path · http://host/stream.mjpg · a video file · "
    "folder:DIR?loop=1&fps=2"
)
PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Google Gemini"}
DATA_DIR_ENV, DATABASE_ENV = "INSPECTOR_DATA_DIR", "INSPECTOR_DATABASE_URL"


def provider_label(provider: str) -> str:
    """ "OpenAI API key", not "Openai key" (Qt-free)."""
    return f"{PROVIDER_NAMES.get(provider, provider.capitalize())} API key"


def in_use(
    effective: Settings, profile: StationProfile, environ: Mapping[str, str] = os.environ
) -> dict[str, tuple[str, str]]:
    """The data directory and database the station uses now, each with where it comes from
    (Qt-free, tested on its own). The database is shown without its password."""
    data_dir = str(effective.data_dir)
    if environ.get(DATA_DIR_ENV):
        data_from = f"set by {DATA_DIR_ENV} in the environment"
    elif profile.data_dir and Path(profile.data_dir).expanduser() == effective.data_dir:
        data_from = "from station.yaml"
    elif effective.data_dir == Settings.from_env(data_dir=None, database_url="x").data_dir:
        data_from = "the default for this user"
    else:
        data_from = "given when the window was started (--data-dir)"
    url = effective.database_url
    default_url = f"sqlite:///{(effective.data_dir / 'inspector.db').as_posix()}"
    if environ.get(DATABASE_ENV):
        url_from = f"set by {DATABASE_ENV} in the environment"
    elif profile.database_url and profile.database_url == url:
        url_from = "from station.yaml"
    elif url == default_url:
        url_from = "the default: SQLite in the data directory"
    else:
        url_from = "given when the window was started (--database-url)"
    return {"data_dir": (data_dir, data_from), "database_url": (safe_url(url), url_from)}


def _shown_url(url: str) -> str:
    """A database URL as the page shows it: its password hidden (`***`)."""
    url = url.strip()
    return safe_url(url) if url and is_database_url(url) else url


def settings_access(identity: Identity | None, site_has_accounts: bool) -> str | None:
    """Why this person may not change the station's settings; None: they may (Qt-free)."""
    if not site_has_accounts:
        return None  # a site without accounts has no one to tell apart
    if identity is None:
        return "Read-only: log in as an admin to change the station's settings."
    if identity.can(Permission.CHANGE_SETTINGS):
        return None
    return (
        f"Read-only: only an admin may change the station's settings; you are logged in as "
        f"{identity.name} ({identity.role.value})."
    )


def check_profile(profile: StationProfile) -> list[str]:
    """Problems an operator can fix in the form, one sentence each (Qt-free, tested alone)."""
    problems = []
    source = profile.source.strip()
    scheme = source.partition(":")[0].lower()
    if not source:
        problems.append("Camera: give a source, for example usb:0 or folder:/path/to/images")
    elif ":" in source and len(scheme) > 1 and scheme not in SCHEMES and "/" not in scheme:
        problems.append(f"Camera: unknown kind {scheme!r}; use {SOURCE_HELP}")
    if not profile.recipe.strip():
        problems.append("Recipe: choose a recipe file")
    if profile.database_url.strip() and not is_database_url(profile.database_url.strip()):
        problems.append(
            "Database URL: not a database address; for example "
            "postgresql+psycopg://user@host/inspection (or leave empty for SQLite)"
        )
    return problems


class SettingsView(QWidget):
    saved = Signal(object)  # the StationProfile

    def __init__(
        self,
        profile: StationProfile,
        effective: Settings | None = None,
        store: Store | None = None,
        identity: Callable[[], Identity | None] = lambda: None,
    ) -> None:
        super().__init__()
        self._loaded = profile  # what this page does not edit (station name, outputs) is kept
        self.effective = effective or profile.settings()  # what the station uses now
        self.source = QLineEdit(profile.source)
        self.source.setPlaceholderText(SOURCE_HELP)
        self.recipe = QLineEdit(profile.recipe)
        self.trigger = QComboBox()
        self.trigger.addItems(["auto", "free-run", "triggered"])
        self.trigger.setCurrentText(profile.trigger)
        self.data_dir = QLineEdit(profile.data_dir)
        self.database_url = QLineEdit(_shown_url(profile.database_url))
        self.data_dir_in_use = QLabel("")
        self.database_in_use = QLabel("")
        for label in (self.data_dir_in_use, self.database_in_use):
            label.setStyleSheet("color:#8a8f98;")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("Camera source", self.source)
        form.addRow("", QLabel(SOURCE_HELP))
        form.addRow("Recipe file", self.recipe)
        form.addRow("Trigger", self.trigger)
        form.addRow("Data directory", self.data_dir)
        form.addRow("", self.data_dir_in_use)
        form.addRow("Database URL", self.database_url)
        form.addRow("", self.database_in_use)
        self.access_note = QLabel("")
        self.access_note.setWordWrap(True)
        self.access_note.setStyleSheet("color:#e0a800; font-weight:bold;")
        self.access_note.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.save_button = QPushButton("Save settings")
        self.save_button.clicked.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.access_note)
        layout.addLayout(form)
        layout.addWidget(self.save_button)
        layout.addWidget(self.message)
        # The site's settings (the database, every station): only with the store at hand.
        self.site = SiteSettingsBox(store, profile, identity) if store is not None else None
        if self.site is not None:
            layout.addWidget(self.site)
        about_keys = QLabel(
            "Models are chosen per recipe (Recipe tab, Engines). Cloud API keys are read "
            "from the environment or the OS keyring; they are never written to the "
            "database, the logs or the settings file, and never shown here."
        )
        about_keys.setWordWrap(True)
        layout.addWidget(about_keys)
        keys_form = QFormLayout()
        self.key_edits: dict[str, QLineEdit] = {}
        self.key_buttons: dict[str, QPushButton] = {}
        self.key_status: dict[str, QLabel] = {}
        for provider in keys.ENV_VARS:
            edit = QLineEdit()
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText(f"paste a new {provider_label(provider)} to store it")
            store = QPushButton("Store in keyring")
            store.clicked.connect(lambda _=False, p=provider: self.store_key(p))
            status = QLabel("")
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(store)
            row.addWidget(status)
            keys_form.addRow(provider_label(provider), row)
            self.key_edits[provider] = edit
            self.key_buttons[provider] = store
            self.key_status[provider] = status
        layout.addLayout(keys_form)
        self.key_message = QLabel("")
        self.key_message.setWordWrap(True)
        layout.addWidget(self.key_message)
        self.refresh_keys()
        layout.addStretch(1)
        self.denied: str | None = None  # why this person may not change settings
        self._show_in_use()

    def _show_in_use(self) -> None:
        """Beside each field: what the station uses now and where that comes from; a field the
        environment overrides is read-only (editing it would change nothing)."""
        shown = in_use(self.effective, self._loaded)
        for key, edit, label, env in (
            ("data_dir", self.data_dir, self.data_dir_in_use, DATA_DIR_ENV),
            ("database_url", self.database_url, self.database_in_use, DATABASE_ENV),
        ):
            value, source = shown[key]
            label.setText(f"In use now: {value} ({source})")
            edit.setPlaceholderText(f"not set here: {value} is used")
            if os.environ.get(env):
                edit.setReadOnly(True)
                edit.setToolTip(f"{env} is set in the environment and wins over this field")

    def set_access(self, identity: Identity | None, site_has_accounts: bool) -> None:
        """Editable for an admin (or on a site without accounts); read-only, saying why, for
        everyone else."""
        self.denied = settings_access(identity, site_has_accounts)
        editable = self.denied is None
        for widget in (self.source, self.recipe, self.data_dir, self.database_url):
            widget.setEnabled(editable)
        for widget in (self.trigger, self.save_button):
            widget.setEnabled(editable)
        for provider in self.key_edits:
            self.key_edits[provider].setEnabled(editable)
            self.key_buttons[provider].setEnabled(editable)
        self.access_note.setText(self.denied or "")
        self.access_note.setVisible(not editable)
        if self.site is not None:
            self.site.set_access()

    def refresh_keys(self) -> None:
        """Where each provider's key would come from, never the key itself."""
        for provider, label in self.key_status.items():
            label.setText(keys.key_source(provider) or "not set")

    def store_key(self, provider: str) -> bool:
        edit = self.key_edits[provider]
        if self.denied is not None:
            edit.clear()
            self._say_key(self.denied, error=True)
            return False
        try:
            keys.store_in_keyring(provider, edit.text())
        except InspectorError as exc:
            self._say_key(str(exc), error=True)
            return False
        finally:
            edit.clear()  # the key does not stay on screen (or in a screenshot)
        self._say_key(f"{provider_label(provider)} stored in the OS keyring.")
        self.refresh_keys()
        return True

    def _say_key(self, text: str, error: bool = False) -> None:
        self.key_message.setStyleSheet("color:#ff8a80;" if error else "color:#7bd88f;")
        self.key_message.setText(text)

    def edited(self) -> dict[str, str]:
        """The settings this page shows, as the form holds them."""
        url = self.database_url.text().strip()
        if url and url == _shown_url(self._loaded.database_url):
            url = self._loaded.database_url  # unchanged: keep the password the field hides
        return {
            "source": self.source.text().strip(),
            "recipe": self.recipe.text().strip(),
            "trigger": self.trigger.currentText(),
            "data_dir": self.data_dir.text().strip(),
            "database_url": url,
        }

    def profile(self) -> StationProfile:
        return dataclasses.replace(self._loaded, **self.edited())

    def save(self) -> StationProfile | None:
        """Write what this page edits into station.yaml as the file is now: every key it does
        not show (min_free_disk_mb, station, outputs, keys of a newer version) is kept."""
        if self.denied is not None:
            self.message.setStyleSheet("color:#ff8a80;")
            self.message.setText(self.denied)
            return None
        problems = check_profile(self.profile())
        if problems:
            self.message.setStyleSheet("color:#ff8a80;")
            self.message.setText("\n".join(problems))
            return None
        path = StationProfile.update(**self.edited())
        profile = self._loaded = StationProfile.load()
        self.message.setStyleSheet("color:#7bd88f;")
        note = " The data directory and database apply at the next start."
        self.message.setText(f"Saved to {path}.{note}")
        if self.site is not None:
            self.site.set_profile(profile)
        self.saved.emit(dataclasses.replace(profile))
        return profile
