"""API keys through the REST API, on SQLite and PostgreSQL: scopes, revocation, expiry, rotation, tenancy, rate
limits and the audit trail (docs/developers.md)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core import cache as cache_mod
from quantum_voice.core.clock import set_clock
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.developer import ApiKey
from quantum_voice.models.system import AuditLog
from tests.factories import api_login, api_member, api_owner, verified_owner

KEYS = "/api/developer/keys"


@pytest.fixture
def client(engine):
    return TestClient(create_api())


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def make_key(client, auth, scopes, **extra) -> dict:
    response = client.post(KEYS, json={"name": "CRM sync", "scopes": scopes, **extra}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def bearer(key: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['secret']}"}


def error(response) -> dict:
    return response.json()["error"]


def later(**delta) -> None:
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(**delta))


def test_the_secret_is_shown_once_and_stored_only_as_its_hash(client, owner):
    key = make_key(client, owner, ["leads:read"])
    secret = key["secret"]
    assert secret.startswith("qv_live_") and len(secret) > 40
    assert key["prefix"] == secret[:12] and key["status"] == "active" and key["created_by"] == "owner@example.com"
    with session_scope() as session:
        row = session.exec(select(ApiKey)).one()
        assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr(row.model_dump())
    listed = client.get(KEYS, headers=owner).json()
    assert [k["prefix"] for k in listed] == [key["prefix"]] and "secret" not in listed[0]
    assert secret not in client.get(KEYS, headers=owner).text


def test_a_read_only_leads_key_reads_leads_but_cannot_write_them(client, owner):
    key = bearer(make_key(client, owner, ["leads:read"]))
    assert client.get("/api/leads", headers=key).status_code == 200
    assert client.get("/api/leads/export.csv", headers=key).status_code == 200
    for response in (client.post("/api/leads/bulk", json={"ids": [1], "action": "set_status", "value": "won"},
                                 headers=key),
                     client.patch("/api/leads/1", json={"status": "won"}, headers=key)):
        assert response.status_code == 403
        assert error(response)["code"] == "missing_scope" and "leads:write" in error(response)["message"]


def test_a_leads_key_cannot_read_knowledge(client, owner):
    key = bearer(make_key(client, owner, ["leads:write"]))
    response = client.get("/api/knowledge/bases", headers=key)
    assert response.status_code == 403 and "knowledge:read" in error(response)["message"]
    assert client.get("/api/leads", headers=key).status_code == 200  # write implies read


def test_a_write_scope_lets_a_key_create_and_the_audit_log_names_the_key(client, owner):
    key = make_key(client, owner, ["campaigns:write"])
    response = client.post("/api/campaigns", json={"name": "Spring offer"}, headers=bearer(key))
    assert response.status_code == 201, response.text
    with session_scope() as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "campaign.created")).one()
        assert entry.actor_user_id is None
        assert entry.details["api_key"] == key["prefix"] + "…" and entry.details["api_key_id"] == key["id"]
        assert key["secret"] not in repr(entry.details)
    logs = client.get("/api/admin/audit-logs", headers=owner).json()
    created = next(e for e in logs if e["action"] == "campaign.created")
    assert created["actor"] == f"api key {key['prefix']}…"
    assert {e["action"] for e in logs} >= {"api_key.created"}


def test_revocation_takes_effect_on_the_very_next_request(client, owner):
    key = make_key(client, owner, ["leads:read"])
    assert client.get("/api/leads", headers=bearer(key)).status_code == 200
    revoked = client.post(f"{KEYS}/{key['id']}/revoke", headers=owner)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    response = client.get("/api/leads", headers=bearer(key))
    assert response.status_code == 401 and error(response)["code"] == "api_key_revoked"
    assert key["prefix"] in error(response)["message"]


def test_an_expired_key_is_refused(client, owner):
    key = make_key(client, owner, ["leads:read"], expires_in_days=1)
    assert client.get("/api/leads", headers=bearer(key)).status_code == 200
    later(days=1, seconds=1)
    response = client.get("/api/leads", headers=bearer(key))
    assert response.status_code == 401 and error(response)["code"] == "api_key_expired"
    assert client.get(KEYS, headers=owner).json()[0]["status"] == "expired"


def test_rotation_keeps_the_old_key_working_for_the_overlap_only(client, owner):
    old = make_key(client, owner, ["leads:read", "campaigns:read"])
    response = client.post(f"{KEYS}/{old['id']}/rotate", json={"overlap_hours": 2}, headers=owner)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["secret"] != old["secret"] and new["rotated_from_id"] == old["id"]
    assert (new["name"], new["scopes"], new["expires_at"]) == (old["name"], old["scopes"], None)
    for key in (old, new):
        assert client.get("/api/leads", headers=bearer(key)).status_code == 200
    again = client.post(f"{KEYS}/{old['id']}/rotate", headers=owner)
    assert again.status_code == 409 and error(again)["code"] == "api_key_already_rotated"
    later(hours=2, seconds=1)
    assert error(client.get("/api/leads", headers=bearer(old)))["code"] == "api_key_expired"
    assert client.get("/api/leads", headers=bearer(new)).status_code == 200


def test_a_rotation_overlap_is_bounded(client, owner):
    key = make_key(client, owner, ["leads:read"])
    response = client.post(f"{KEYS}/{key['id']}/rotate", json={"overlap_hours": 24 * 8}, headers=owner)
    assert response.status_code == 422 and error(response)["field"] == "overlap_hours"


def test_a_key_of_one_organisation_sees_nothing_of_another(client, owner):
    with session_scope() as session:
        verified_owner(session, email="bob@example.com", org="Other Org")
    other = api_login(client, "bob@example.com")
    theirs = client.post("/api/campaigns", json={"name": "Their campaign"}, headers=other).json()
    their_key = make_key(client, other, ["leads:read"])
    key = bearer(make_key(client, owner, ["campaigns:write", "leads:read"]))
    assert client.get("/api/campaigns", headers=key).json() == []
    assert client.get(f"/api/campaigns/{theirs['id']}", headers=key).status_code == 404
    assert client.delete(f"/api/campaigns/{theirs['id']}", headers=key).status_code == 404
    assert client.post(f"{KEYS}/{their_key['id']}/revoke", headers=owner).status_code == 404
    with session_scope() as session:
        assert session.get(Campaign, theirs["id"]) is not None


def test_a_key_cannot_manage_keys_or_reach_account_routes(client, owner):
    key = make_key(client, owner, [f"{r}:write" for r in ("campaigns", "knowledge", "flows", "leads", "calls",
                                                            "handoffs", "webhooks")])
    auth = bearer(key)
    for method, path in (("GET", KEYS), ("POST", KEYS), ("POST", f"{KEYS}/{key['id']}/revoke"),
                         ("POST", f"{KEYS}/{key['id']}/rotate"), ("GET", "/api/me"), ("GET", "/api/team/members"),
                         ("GET", "/api/admin/audit-logs"), ("GET", "/api/integrations"),
                         ("PUT", "/api/agents/me/presence")):
        response = client.request(method, path, json={"name": "x", "scopes": ["leads:read"]}, headers=auth)
        assert response.status_code == 403, (method, path, response.text)
        assert error(response)["code"] == "route_not_for_api_keys", path
    assert client.get(KEYS, headers=owner).json()[0]["status"] == "active"


def test_only_owners_and_admins_manage_keys_and_managers_may_look(client, owner):
    manager = api_member(client, "manager", "mia@example.com")
    viewer = api_member(client, "viewer", "vic@example.com")
    admin = api_member(client, "admin", "ada@example.com")
    response = client.post(KEYS, json={"name": "x", "scopes": ["leads:read"]}, headers=manager)
    assert response.status_code == 403 and "manage developer" in error(response)["message"]
    assert client.get(KEYS, headers=manager).status_code == 200
    assert client.get(KEYS, headers=viewer).status_code == 403
    made = make_key(client, admin, ["leads:read"], role="admin")
    assert made["role"] == "admin" and made["created_by"] == "ada@example.com"
    too_high = client.post(KEYS, json={"name": "x", "scopes": ["leads:read"], "role": "owner"}, headers=owner)
    assert too_high.status_code == 422 and error(too_high)["field"] == "role"


def test_a_viewer_role_key_with_a_write_scope_is_still_held_to_its_role(client, owner):
    key = bearer(make_key(client, owner, ["campaigns:write"], role="viewer"))
    assert client.get("/api/campaigns", headers=key).status_code == 200
    response = client.post("/api/campaigns", json={"name": "Nope"}, headers=key)
    assert response.status_code == 403 and "viewer" in error(response)["message"]


def test_bad_scopes_and_expiries_are_refused_with_the_reason(client, owner):
    response = client.post(KEYS, json={"name": "x", "scopes": ["leads:read", "billing:write"]}, headers=owner)
    assert response.status_code == 422 and "billing:write" in error(response)["message"]
    response = client.post(KEYS, json={"name": "x", "scopes": []}, headers=owner)
    assert response.status_code == 422 and error(response)["field"] == "scopes"
    past = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    response = client.post(KEYS, json={"name": "x", "scopes": ["leads:read"], "expires_at": past}, headers=owner)
    assert response.status_code == 422 and error(response)["field"] == "expires_at"
    response = client.post(KEYS, json={"name": " ", "scopes": ["leads:read"]}, headers=owner)
    assert response.status_code == 422 and error(response)["field"] == "name"


def test_unknown_keys_of_either_mode_are_refused_with_a_clear_message(client, owner):
    for token in ("qv_live_not-a-real-key", "qv_test_not-a-real-key"):
        response = client.get("/api/leads", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and error(response)["code"] == "invalid_api_key"
        assert "copied whole" in error(response)["message"]


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(client, owner, monkeypatch):
    monkeypatch.setenv("API_KEY_REQUESTS_PER_MINUTE", "3")
    reset_settings()
    key, other = bearer(make_key(client, owner, ["leads:read"])), bearer(make_key(client, owner, ["leads:read"]))
    for _ in range(3):
        assert client.get("/api/leads", headers=key).status_code == 200
    response = client.get("/api/leads", headers=key)
    assert response.status_code == 429 and error(response)["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert client.get("/api/leads", headers=other).status_code == 200  # per key, not per organisation


@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
def test_the_rate_limit_is_shared_through_redis_when_configured(client, owner, redis_url, monkeypatch):
    from quantum_voice.core.cache import RedisCache

    monkeypatch.setenv("API_KEY_REQUESTS_PER_MINUTE", "2")
    reset_settings()
    prefix = f"qvtest:{uuid.uuid4().hex[:8]}:"
    key = bearer(make_key(client, owner, ["leads:read"]))
    cache_mod.set_cache(RedisCache(redis_url, prefix=prefix))
    assert client.get("/api/leads", headers=key).status_code == 200
    cache_mod.set_cache(RedisCache(redis_url, prefix=prefix))  # another app process, the same Redis
    assert client.get("/api/leads", headers=key).status_code == 200
    assert client.get("/api/leads", headers=key).status_code == 429


def test_last_use_is_recorded_at_most_once_a_minute(client, owner):
    key = make_key(client, owner, ["leads:read"])
    assert client.get(KEYS, headers=owner).json()[0]["last_used_at"] is None
    client.get("/api/leads", headers=bearer(key))
    first = client.get(KEYS, headers=owner).json()[0]
    assert first["last_used_at"] and first["last_used_ip"] == "testclient"
    client.get("/api/leads", headers=bearer(key))
    assert client.get(KEYS, headers=owner).json()[0]["last_used_at"] == first["last_used_at"]


def test_the_secret_never_reaches_the_log(client, owner, caplog):
    caplog.set_level(logging.DEBUG)
    key = make_key(client, owner, ["leads:read"])
    client.get("/api/leads", headers=bearer(key))
    client.post("/api/leads/bulk", json={}, headers=bearer(key))
    client.post(f"{KEYS}/{key['id']}/revoke", headers=owner)
    client.get("/api/leads", headers=bearer(key))
    assert key["secret"] not in caplog.text


def test_a_rotated_key_keeps_the_lifetime_of_the_one_it_replaces(client, owner):
    old = make_key(client, owner, ["leads:read"], expires_in_days=30)
    new = client.post(f"{KEYS}/{old['id']}/rotate", json={"overlap_hours": 0}, headers=owner).json()
    lifetime = datetime.fromisoformat(new["expires_at"]) - datetime.fromisoformat(new["created_at"])
    assert timedelta(days=30) - timedelta(seconds=5) < lifetime <= timedelta(days=30)
    assert error(client.get("/api/leads", headers=bearer(old)))["code"] == "api_key_expired"  # no overlap
    assert client.get("/api/leads", headers=bearer(new)).status_code == 200
    expired = client.post(f"{KEYS}/{old['id']}/rotate", headers=owner)
    assert expired.status_code == 409 and error(expired)["code"] == "api_key_not_active"
