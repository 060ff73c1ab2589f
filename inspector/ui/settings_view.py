"""Settings: camera, recipe, trigger policy, data directory, database. Saved for the next start."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
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
from inspector.config import StationProfile
from inspector.errors import InspectorError
from inspector.judges import keys
from inspector.store.database import is_database_url

SOURCE_HELP = (
    "usb:0 · rtsp://user:pass@host/path · http://host/stream.mjpg · a video file · "
    "folder:DIR?loop=1&fps=2"
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

    def __init__(self, profile: StationProfile) -> None:
        super().__init__()
        self._loaded = profile  # what this page does not edit (station name, outputs) is kept
        self.source = QLineEdit(profile.source)
        self.source.setPlaceholderText(SOURCE_HELP)
        self.recipe = QLineEdit(profile.recipe)
        self.trigger = QComboBox()
        self.trigger.addItems(["auto", "free-run", "triggered"])
        self.trigger.setCurrentText(profile.trigger)
        self.data_dir = QLineEdit(profile.data_dir)
        self.data_dir.setPlaceholderText("default: the user data directory")
        self.database_url = QLineEdit(profile.database_url)
        self.database_url.setPlaceholderText("default: SQLite in the data directory")
        form = QFormLayout()
        form.addRow("Camera source", self.source)
        form.addRow("", QLabel(SOURCE_HELP))
        form.addRow("Recipe file", self.recipe)
        form.addRow("Trigger", self.trigger)
        form.addRow("Data directory", self.data_dir)
        form.addRow("Database URL", self.database_url)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        save = QPushButton("Save settings")
        save.clicked.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(save)
        layout.addWidget(self.message)
        layout.addWidget(
            QLabel(
                "Models are chosen per recipe (Recipe tab, Engines). Cloud API keys are read "
                "from the environment or the OS keyring; they are never written to the "
                "database, the logs or the settings file."
            )
        )
        keys_form = QFormLayout()
        self.key_edits: dict[str, QLineEdit] = {}
        self.key_status: dict[str, QLabel] = {}
        for provider in keys.ENV_VARS:
            edit = QLineEdit()
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText(f"{provider} API key")
            store = QPushButton("Store in keyring")
            store.clicked.connect(lambda _=False, p=provider: self.store_key(p))
            status = QLabel("")
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(store)
            row.addWidget(status)
            keys_form.addRow(f"{provider.capitalize()} key", row)
            self.key_edits[provider] = edit
            self.key_status[provider] = status
        layout.addLayout(keys_form)
        self.key_message = QLabel("")
        self.key_message.setWordWrap(True)
        layout.addWidget(self.key_message)
        self.refresh_keys()
        layout.addStretch(1)

    def refresh_keys(self) -> None:
        """Where each provider's key would come from, never the key itself."""
        for provider, label in self.key_status.items():
            label.setText(keys.key_source(provider) or "not set")

    def store_key(self, provider: str) -> bool:
        edit = self.key_edits[provider]
        try:
            keys.store_in_keyring(provider, edit.text())
        except InspectorError as exc:
            self.key_message.setStyleSheet("color:#ff8a80;")
            self.key_message.setText(str(exc))
            return False
        finally:
            edit.clear()  # the key does not stay on screen (or in a screenshot)
        self.key_message.setStyleSheet("color:#7bd88f;")
        self.key_message.setText(f"{provider} key stored in the OS keyring.")
        self.refresh_keys()
        return True

    def edited(self) -> dict[str, str]:
        """The settings this page shows, as the form holds them."""
        return {
            "source": self.source.text().strip(),
            "recipe": self.recipe.text().strip(),
            "trigger": self.trigger.currentText(),
            "data_dir": self.data_dir.text().strip(),
            "database_url": self.database_url.text().strip(),
        }

    def profile(self) -> StationProfile:
        return dataclasses.replace(self._loaded, **self.edited())

    def save(self) -> StationProfile | None:
        """Write what this page edits into station.yaml as the file is now: every key it does
        not show (min_free_disk_mb, station, outputs, keys of a newer version) is kept."""
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
        self.saved.emit(dataclasses.replace(profile))
        return profile
