from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from agent.heartbeat import remove_worker, report_heartbeat
from quantum_voice.api import create_api
from quantum_voice.core.clock import set_clock, utcnow
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import Organization, User
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.knowledge import Document
from quantum_voice.services import accounts
from quantum_voice.services.seed import seed_demo


def test_health_reports_database_embedded_redis_and_missing_sidecar(engine):
    body = TestClient(create_api()).get("/api/health").json()
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["database"]["detail"] == engine.dialect.name
    assert body["components"]["redis"]["status"] == "embedded"
    assert body["components"]["voice_sidecar"]["status"] == "not_running"
    assert body["status"] == "degraded"


def test_health_sees_a_sidecar_while_its_heartbeat_is_fresh(engine, settings):
    report_heartbeat("host-a:123", active_calls=2)
    client = TestClient(create_api())
    body = client.get("/api/health").json()
    assert body["components"]["voice_sidecar"] == {"status": "ok", "detail": "1 sidecar(s), 2 active call(s)"}
    assert body["status"] == "ok"
    later = utcnow() + timedelta(seconds=settings.sidecar_heartbeat_timeout_seconds + 1)
    set_clock(lambda: later)
    assert client.get("/api/health").json()["components"]["voice_sidecar"]["status"] == "not_running"
    set_clock(None)
    remove_worker("host-a:123")
    assert client.get("/api/health").json()["components"]["voice_sidecar"]["status"] == "not_running"


def test_health_checks_real_redis_when_configured(engine, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings()
    assert TestClient(create_api()).get("/api/health").json()["components"]["redis"]["status"] == "ok"


def test_health_reports_an_unreachable_redis(engine, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    reset_settings()
    response = TestClient(create_api()).get("/api/health")
    assert response.status_code == 503
    assert response.json()["components"]["redis"]["status"] == "error"


def test_demo_seed_runs_once_and_its_login_works(engine, settings):
    with session_scope() as s:
        assert seed_demo(s) is True
    with session_scope() as s:
        assert seed_demo(s) is False
        assert len(s.exec(select(Organization)).all()) == 1
        campaign = s.exec(select(Campaign)).one()
        assert campaign.status == "live" and campaign.greeting
        [brochure] = s.exec(select(Document).where(Document.knowledge_base_id == campaign.knowledge_base_id)).all()
        assert brochure.name == "harbor_view_brochure.md" and brochure.status == "queued"  # the worker takes it
        user = accounts.authenticate(s, email=settings.demo_email, password=settings.demo_password.get_secret_value(),
                                     ip=None)
        assert s.exec(select(User)).one().id == user.id


def test_seed_leaves_a_database_with_data_alone(session):
    accounts.signup(session, email="a@example.com", password="a-long-password-42", organization_name="Mine")
    assert seed_demo(session) is False
