"""The window shows each line output's state and counts: green while it listens, red at once
when it does not (a webhook that is down, then one that answers); station.yaml's outputs are
what the window's station publishes to, and saving the settings keeps them."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from inspector.config import Settings, StationProfile
from inspector.outputs import OutputStatus
from inspector.station.publishing import OutputReport
from inspector.store import Store
from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.webhook_peer import WebhookPeer

DEMO = ROOT / "assets" / "demo"
RECIPE = str(DEMO / "recipe-reference.yaml")
CAMERA = f"folder:{DEMO / 'camera'}?loop=1&fps=10"


def test_output_lines_say_what_the_operator_must_see() -> None:
    from inspector.ui.station_view import output_line

    ok = OutputReport(OutputStatus("mqtt://u:***@broker.example.com:1883/p", True, 12, 0), 0)
    assert output_line(ok) == ("MQTT broker.example.com:1883: connected · 12 sent, 0 failed", True)
    down = OutputReport(OutputStatus("mqtt://h:1883/p", False, 3, 2, "broker gone"), 7)
    assert output_line(down) == ("MQTT h:1883: not connected · 3 sent, 2 failed, 7 waiting", False)
    failing = OutputReport(OutputStatus("https://mes.example.com/x", True, 0, 1, "HTTP 500"), 1)
    text, listening = output_line(failing)
    assert text.startswith("Webhook mes.example.com: HTTP 500") and not listening


def test_a_plc_server_is_red_until_a_plc_connects() -> None:
    from inspector.ui.station_view import output_line

    def server(connected: bool, clients: int, error: str | None = None) -> OutputReport:
        status = OutputStatus("opcua://127.0.0.1:4840", connected, 7, 1, error, clients, 8)
        return OutputReport(status, 0)

    counts = "8 triggers, 7 results, 1 errors"
    assert output_line(server(True, 1)) == (
        f"OPC UA 127.0.0.1:4840: a client connected · {counts}",
        True,
    )
    assert output_line(server(True, 0)) == (
        f"OPC UA 127.0.0.1:4840: listening, no PLC connected · {counts}",
        False,
    )
    text, ok = output_line(server(False, 0, "port in use"))
    assert text.startswith("OPC UA 127.0.0.1:4840: not serving (port in use)") and not ok


def test_the_strip_shows_the_plc_servers_and_who_is_connected(qtbot, tmp_path, monkeypatch):
    """A Modbus server from station.yaml: red while no PLC is connected, green once a real
    pymodbus client connects, with the handshake's counts."""
    pymodbus_client = pytest.importorskip("pymodbus.client")
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    port = free_port()
    config = tmp_path / "station.yaml"
    config.write_text(f"station: line-8\noutputs: [modbus://127.0.0.1:{port}]\n")
    monkeypatch.setenv("INSPECTOR_CONFIG", str(config))
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    store = Store.open(settings)
    window = MainWindow(settings, StationProfile.load(), store, CAMERA, RECIPE)
    qtbot.addWidget(window)
    window.show()
    view = window.station
    client = pymodbus_client.ModbusTcpClient("127.0.0.1", port=port)
    try:
        view.start()
        qtbot.waitUntil(lambda: "no PLC connected" in view.outputs_label.text(), timeout=30_000)
        assert f"Modbus 127.0.0.1:{port}: listening, no PLC connected" in view.outputs_label.text()
        assert "#ff5252" in view.outputs_label.text()
        assert client.connect()
        qtbot.waitUntil(lambda: "a client connected" in view.outputs_label.text(), timeout=30_000)
        assert "#7bd88f" in view.outputs_label.text()
        qtbot.waitUntil(lambda: " 0 results" not in view.outputs_label.text(), timeout=30_000)
        assert "triggers" in view.outputs_label.text() and "errors" in view.outputs_label.text()
    finally:
        client.close()
        window.runner.stop(wait=True)
        store.close()


def test_the_strip_turns_red_when_the_line_is_not_listening(qtbot, tmp_path, monkeypatch):
    from inspector.ui.app import application
    from inspector.ui.main_window import MainWindow

    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    config = tmp_path / "station.yaml"
    config.write_text(f"station: line-7\noutputs: [{url}]\n")
    monkeypatch.setenv("INSPECTOR_CONFIG", str(config))
    application()
    settings = Settings.from_env(data_dir=tmp_path / "data", database_url=None)
    store = Store.open(settings)
    profile = StationProfile.load()
    window = MainWindow(settings, profile, store, CAMERA, RECIPE)
    qtbot.addWidget(window)
    window.show()
    view = window.station
    try:
        view.start()  # the webhook's server is not there
        qtbot.waitUntil(lambda: "not connected" in view.outputs_label.text(), timeout=30_000)
        assert view.outputs_label.isVisible()
        assert f"Webhook 127.0.0.1:{port}: not connected" in view.outputs_label.text()
        assert "#ff5252" in view.outputs_label.text()

        peer = WebhookPeer(port=port)  # the server comes up: the strip turns green
        qtbot.waitUntil(lambda: "#7bd88f" in view.outputs_label.text(), timeout=60_000)
        assert ": connected · " in view.outputs_label.text()
        assert peer.received and {m["station"] for m in peer.received} == {"line-7"}
    finally:
        window.runner.stop(wait=True)
        store.close()
    peer.close()
    # Saving the settings page keeps what it does not show (station name, outputs).
    assert window.settings_view.profile().outputs == (url,)
    assert window.settings_view.profile().station == "line-7"
