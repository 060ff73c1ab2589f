"""The webhook against a real HTTP server on 127.0.0.1: a 500 then 200 is retried and
delivered once, in order; a server that hangs is cut off by the timeout; both counted and
logged, and recording goes on meanwhile."""

from __future__ import annotations

import logging
import time

import pytest

from inspector.outputs import OutputError, open_output
from inspector.outputs.webhook import WebhookPublisher
from inspector.station import publishing as publishing_module
from inspector.station.publishing import Publishing
from inspector.store import Store
from tests.support.outbox_records import Recorder
from tests.support.ports import free_port
from tests.support.webhook_peer import WebhookPeer


@pytest.fixture
def quick_backoff(monkeypatch):
    monkeypatch.setattr(publishing_module, "FIRST_BACKOFF_S", 0.05)


def test_a_500_is_retried_and_each_verdict_delivered_once_in_order(
    sqlite_settings, quick_backoff, caplog
) -> None:
    peer = WebhookPeer(statuses=[500, 500, 503])
    caplog.set_level(logging.WARNING)
    with Store.open(sqlite_settings) as store:
        publishing = Publishing.open(store, [peer.url], station="s1")
        publishing.start()
        recorder = Recorder(store, publishing)
        ids = [recorder.record() for _ in range(10)]
        assert peer.wait_for(10)
        [report] = publishing.reports()
        publishing.close()
        assert store.outbox_count_pending() == 0
    peer.close()
    assert [m["inspection_id"] for m in peer.received] == ids
    assert [h["Idempotency-Key"] for h in peer.headers] == [str(i) for i in ids]
    assert peer.requests == 13  # three refusals, then one request per verdict
    assert (report.status.sent, report.status.failed) == (10, 3)
    assert report.status.connected and report.status.last_error is None
    assert "HTTP 503" in caplog.text and "kept in the outbox" in caplog.text


def test_a_hanging_server_is_cut_off_counted_and_recording_goes_on(sqlite_settings) -> None:
    peer = WebhookPeer(hang_s=3.0)
    publisher = WebhookPublisher(peer.url, timeout_s=0.3)
    with Store.open(sqlite_settings) as store:
        publishing = Publishing(store, [publisher], "s1")
        publishing.start()
        recorder = Recorder(store, publishing)
        ids = [recorder.record() for _ in range(20)]
        assert peer.received == []  # all recorded while the server hung
        deadline = time.monotonic() + 10
        while publisher.status().failed < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        status = publisher.status()
        assert status.failed >= 2 and status.sent == 0
        assert "no answer within 0.3 s" in status.last_error
        assert not status.connected
        assert store.outbox_count_pending() == len(ids)  # every verdict kept for later
        publishing.close(drain_s=0.5)
    peer.close()


def test_a_refused_connection_raises_and_is_counted() -> None:
    publisher = WebhookPublisher(f"http://127.0.0.1:{free_port()}/hook", timeout_s=1)
    with pytest.raises(OutputError, match=r"webhook http://127\.0\.0\.1"):
        publisher.publish({"inspection_id": 1})
    status = publisher.status()
    assert (status.sent, status.failed, status.connected) == (0, 1, False)
    assert "refused" in status.last_error.lower()


def test_a_webhook_is_named_without_the_secrets_of_its_url() -> None:
    """A token in the query (`?token=`, `?api_key=`) is a secret like a password: the name the
    console, the window and the record show carries it masked."""
    url = "http://hook:pw@127.0.0.1:9/in?api_key=secret-1&line=3&access_token=secret-2"
    publisher = open_output(url)
    try:
        assert (
            publisher.name == "http://hook:***@127.0.0.1:9/in?api_key=***&line=3&access_token=***"
        )
    finally:
        publisher.close()
