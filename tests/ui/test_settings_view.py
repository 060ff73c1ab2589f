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
