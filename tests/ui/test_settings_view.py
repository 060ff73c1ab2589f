"""The window's Settings page saves what it edits and keeps every other key of station.yaml:
the disk reserve, the station's name, the line outputs, and keys it does not know (a newer
version's), as the file holds them when Save is pressed."""

from __future__ import annotations

import yaml

from inspector.config import StationProfile
from inspector.ui.settings_view import SettingsView

OUTPUT = "mqtt://127.0.0.1:1883/plant1"


def test_saving_the_page_keeps_the_keys_it_does_not_show(tmp_path, monkeypatch, qtbot):
    path = tmp_path / "station.yaml"
    monkeypatch.setenv("INSPECTOR_CONFIG", str(path))
    path.write_text(
        yaml.safe_dump(
            {
                "source": "usb:0",
                "recipe": str(tmp_path / "board.yaml"),
                "min_free_disk_mb": 800,
                "station": "line-2 станция",
                "outputs": [OUTPUT],
                "from_a_newer_version": {"keep": True},
            },
            allow_unicode=True,
        )
    )
    view = SettingsView(StationProfile.load())
    qtbot.addWidget(view)
    # Behind the page's back (the page was opened earlier), a second output is added.
    on_disk = yaml.safe_load(path.read_text())
    on_disk["outputs"].append("https://mes.example.com/hook")
    path.write_text(yaml.safe_dump(on_disk, allow_unicode=True))

    view.source.setText("usb:1")
    view.trigger.setCurrentText("triggered")
    with qtbot.waitSignal(view.saved) as emitted:
        assert view.save() is not None

    saved = yaml.safe_load(path.read_text())
    assert saved["source"] == "usb:1" and saved["trigger"] == "triggered"
    assert saved["min_free_disk_mb"] == 800
    assert saved["station"] == "line-2 станция"
    assert saved["outputs"] == [OUTPUT, "https://mes.example.com/hook"]
    assert saved["from_a_newer_version"] == {"keep": True}
    profile = StationProfile.load()
    assert profile.min_free_disk_mb == "800" and profile.station == "line-2 станция"
    assert emitted.args[0] == profile  # what the window takes up is the file as now saved
    assert profile.settings().min_free_disk_mb == 800


def test_a_bad_form_writes_nothing(tmp_path, monkeypatch, qtbot):
    path = tmp_path / "station.yaml"
    monkeypatch.setenv("INSPECTOR_CONFIG", str(path))
    path.write_text("station: line-3\nmin_free_disk_mb: 900\n")
    view = SettingsView(StationProfile.load())
    qtbot.addWidget(view)
    view.source.setText("")
    assert view.save() is None
    assert path.read_text() == "station: line-3\nmin_free_disk_mb: 900\n"


def test_the_data_directory_and_database_the_environment_set_are_shown(
    tmp_path, monkeypatch, qtbot
):
    from inspector.config import Settings

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    data = tmp_path / "plant data"
    url = "postgresql+psycopg://inspector:s3cret-pw@127.0.0.1:5432/line4"
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(data))
    monkeypatch.setenv("INSPECTOR_DATABASE_URL", url)
    profile = StationProfile.load()
    view = SettingsView(profile, Settings.from_env())
    qtbot.addWidget(view)
    shown = view.data_dir_in_use.text()
    assert shown == f"In use now: {data} (set by INSPECTOR_DATA_DIR in the environment)"
    database = view.database_in_use.text()
    assert "127.0.0.1:5432/line4" in database and "INSPECTOR_DATABASE_URL" in database
    assert "s3cret-pw" not in database and "default" not in shown + database
    # Editing a field the environment overrides would change nothing: it is read-only.
    assert view.data_dir.isReadOnly() and view.database_url.isReadOnly()
    assert str(data) in view.data_dir.placeholderText()


def test_without_the_environment_it_says_where_each_comes_from(tmp_path, monkeypatch, qtbot):
    from inspector.config import Settings
    from inspector.ui.settings_view import in_use

    monkeypatch.delenv("INSPECTOR_DATA_DIR", raising=False)
    monkeypatch.delenv("INSPECTOR_DATABASE_URL", raising=False)
    given = Settings.from_env(data_dir=tmp_path / "d")
    shown = in_use(given, StationProfile(), environ={})
    assert shown["data_dir"] == (
        str(tmp_path / "d"),
        "given when the window was started (--data-dir)",
    )
    assert shown["database_url"][1] == "the default: SQLite in the data directory"
    in_file = StationProfile(data_dir=str(tmp_path / "d"))
    assert in_use(given, in_file, environ={})["data_dir"][1] == "from station.yaml"


def test_a_database_password_in_the_file_is_hidden_and_kept(tmp_path, monkeypatch, qtbot):
    path = tmp_path / "station.yaml"
    monkeypatch.setenv("INSPECTOR_CONFIG", str(path))
    monkeypatch.delenv("INSPECTOR_DATABASE_URL", raising=False)
    url = "postgresql+psycopg://inspector:s3cret-pw@127.0.0.1/line4"
    path.write_text(yaml.safe_dump({"source": "usb:0", "recipe": "r.yaml", "database_url": url}))
    view = SettingsView(StationProfile.load())
    qtbot.addWidget(view)
    assert "s3cret-pw" not in view.database_url.text() and "***" in view.database_url.text()
    view.source.setText("usb:2")
    assert view.save() is not None
    assert yaml.safe_load(path.read_text())["database_url"] == url


def test_api_keys_are_labelled_by_provider_and_never_shown(tmp_path, monkeypatch, qtbot):
    from PySide6.QtWidgets import QLabel, QLineEdit

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    secret = "sk-proj-abcdefghijklmnop1234"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    view = SettingsView(StationProfile.load())
    qtbot.addWidget(view)
    texts = [label.text() for label in view.findChildren(QLabel)]
    for name in ("OpenAI API key", "Anthropic API key", "Google Gemini API key"):
        assert name in texts
    assert not any("Openai" in text for text in texts)
    assert "OPENAI_API_KEY" in view.key_status["openai"].text()
    assert not any(secret in text for text in texts)
    for edit in view.findChildren(QLineEdit):
        assert secret not in edit.text()
    assert all(e.echoMode() == QLineEdit.EchoMode.Password for e in view.key_edits.values())


def test_only_an_admin_changes_station_settings(tmp_path, monkeypatch, qtbot):
    from inspector.config import Settings
    from inspector.store import Store
    from tests.support.records_data import make_users

    path = tmp_path / "station.yaml"
    monkeypatch.setenv("INSPECTOR_CONFIG", str(path))
    path.write_text("source: usb:0\nrecipe: r.yaml\n")
    with Store.open(Settings.from_env(data_dir=tmp_path / "data", database_url=None)) as store:
        people = make_users(store)
        has_accounts = store.has_people()
    view = SettingsView(StationProfile.load())
    qtbot.addWidget(view)
    for who in ("olly", "erin"):
        view.set_access(people[who], has_accounts)
        assert view.access_note.isVisibleTo(view)
        assert "only an admin" in view.access_note.text() and who in view.access_note.text()
        assert not view.source.isEnabled() and not view.save_button.isEnabled()
        assert not any(b.isEnabled() for b in view.key_buttons.values())
        view.source.setText("usb:9")  # even called directly, nothing is written
        assert view.save() is None and "only an admin" in view.message.text()
        assert path.read_text() == "source: usb:0\nrecipe: r.yaml\n"
    view.set_access(None, has_accounts)
    assert "log in as an admin" in view.access_note.text()
    view.set_access(people["ada"], has_accounts)
    assert not view.access_note.isVisibleTo(view) and view.save_button.isEnabled()
    assert view.save() is not None and StationProfile.load().source == "usb:9"
    view.set_access(None, site_has_accounts=False)  # a site with no accounts at all
    assert view.save_button.isEnabled()


def test_the_window_gives_settings_to_admins_only(tmp_path, monkeypatch, qtbot):
    from inspector.config import Settings
    from inspector.store import Store
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow
    from tests.support.records_data import make_users

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    with Store.open(settings) as store:
        people = make_users(store)
        window = MainWindow(settings, StationProfile(), store, "usb:0", "r.yaml", people["erin"])
        qtbot.addWidget(window)
        view = window.settings_view
        assert not view.save_button.isEnabled() and "erin (engineer)" in view.access_note.text()
        assert str(settings.data_dir) in view.data_dir_in_use.text()
        # The site's settings (the yield target): read-only for an engineer too.
        site = view.site
        assert not site.save_button.isEnabled() and not site.yield_target.isEnabled()
        assert "erin (engineer)" in site.access_note.text()
        window.log_in(people["ada"])
        assert view.save_button.isEnabled() and not view.access_note.isVisibleTo(view)
        assert site.save_button.isEnabled() and not site.access_note.isVisibleTo(view)


def test_without_accounts_the_site_settings_are_read_only_and_say_why(tmp_path, monkeypatch, qtbot):
    """The station's file may be edited on a site without accounts; a site setting is changed
    by an admin on record, so the page says how to get one."""
    from inspector.config import Settings
    from inspector.store import Store

    monkeypatch.setenv("INSPECTOR_CONFIG", str(tmp_path / "station.yaml"))
    with Store.open(Settings.from_env(data_dir=tmp_path / "data", database_url=None)) as store:
        view = SettingsView(StationProfile.load(), store=store)
        qtbot.addWidget(view)
        view.set_access(None, site_has_accounts=False)
        assert view.save_button.isEnabled()
        assert not view.site.save_button.isEnabled()
        assert "inspector user add NAME --role admin" in view.site.access_note.text()
        view.site.yield_target.setText("95")
        assert not view.site.save() and store.site_settings().yield_target is None
