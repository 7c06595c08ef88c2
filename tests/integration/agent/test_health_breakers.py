"""The sidecar's circuit breakers in /api/health: published the way the sidecar publishes them (its process-wide
registry, ``agent.resilience.publish_breakers``) and read by the app — through the database without Redis (the
two processes share no memory), through Redis when it is configured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from agent.heartbeat import report_heartbeat
from agent.resilience import breakers, publish_breakers
from quantum_voice.api import create_api
from quantum_voice.core import cache as cache_mod
from quantum_voice.core.clock import set_clock, utcnow
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.system import SystemMetric
from quantum_voice.services.health import BREAKERS_METRIC, health_report


@pytest.fixture(autouse=True)
def fresh_breakers() -> Iterator[None]:
    breakers.reset()
    yield
    breakers.reset()


def trip_deepgram() -> None:
    deepgram = breakers.breaker("stt:deepgram", kind="stt")
    for _ in range(5):
        deepgram.record_failure("timed out after 3.0 s")
    breakers.breaker("stt:whisper", kind="stt").record_success()


def snapshot_rows() -> list[SystemMetric]:
    with session_scope() as session:
        return list(session.exec(select(SystemMetric).where(SystemMetric.name == BREAKERS_METRIC)).all())


def test_an_open_breaker_shows_under_the_voice_sidecar_and_degrades_the_report(engine):
    report_heartbeat("host-a:1", active_calls=1)
    trip_deepgram()
    publish_breakers("host-a:1")

    body = TestClient(create_api()).get("/api/health").json()
    sidecar = body["components"]["voice_sidecar"]
    assert sidecar["status"] == "ok" and "circuit open: stt:deepgram" in sidecar["detail"]
    assert sidecar["breakers"] == [
        {"worker": "host-a:1", "name": "stt:deepgram", "kind": "stt", "state": "open", "failures": 5,
         "last_error": "timed out after 3.0 s"},
        {"worker": "host-a:1", "name": "stt:whisper", "kind": "stt", "state": "closed", "failures": 0,
         "last_error": None}]
    assert body["status"] == "degraded", "calls go on through the fallback, but a provider is down"


def test_each_heartbeat_updates_the_sidecars_one_row_and_a_recovered_provider_clears_the_report(engine):
    report_heartbeat("host-a:1")
    trip_deepgram()
    publish_breakers("host-a:1")
    breakers.breaker("stt:deepgram", kind="stt").record_success()  # the half-open trial worked
    publish_breakers("host-a:1")

    assert len(snapshot_rows()) == 1
    report = health_report()
    assert report["status"] == "ok"
    assert {b["name"]: b["state"] for b in report["components"]["voice_sidecar"]["breakers"]} == {
        "stt:deepgram": "closed", "stt:whisper": "closed"}


def test_only_live_sidecars_are_shown_and_long_gone_ones_are_pruned(engine, settings):
    report_heartbeat("host-old:1")
    trip_deepgram()
    publish_breakers("host-old:1")
    later = utcnow() + timedelta(seconds=10 * settings.sidecar_heartbeat_timeout_seconds + 1)
    set_clock(lambda: later)
    try:
        report_heartbeat("host-new:2")
        breakers.reset()
        breakers.breaker("tts:piper", kind="tts").record_success()
        publish_breakers("host-new:2")
        shown = health_report()["components"]["voice_sidecar"]["breakers"]
    finally:
        set_clock(None)
    assert [(b["worker"], b["name"]) for b in shown] == [("host-new:2", "tts:piper")]
    assert [row.labels["worker_id"] for row in snapshot_rows()] == ["host-new:2"]


def test_no_breakers_reported_keeps_the_component_as_it_was(engine):
    report_heartbeat("host-a:1", active_calls=2)
    sidecar = health_report()["components"]["voice_sidecar"]
    assert sidecar == {"status": "ok", "detail": "1 sidecar(s), 2 active call(s)"}


@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
def test_with_redis_the_snapshot_goes_through_the_shared_cache(engine, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings()
    cache_mod.set_cache(None)
    report_heartbeat("host-r:7")
    trip_deepgram()
    publish_breakers("host-r:7")
    cache_mod.set_cache(None)  # the app's own connection, as another process would have

    sidecar = health_report()["components"]["voice_sidecar"]
    assert ("host-r:7", "stt:deepgram", "open") in {(b["worker"], b["name"], b["state"]) for b in sidecar["breakers"]}
    assert snapshot_rows() == [], "nothing written to the database"
    cache_mod.get_cache().delete("voice:breakers:host-r:7")
