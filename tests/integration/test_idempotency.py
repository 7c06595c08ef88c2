"""Idempotency-Key on POSTs, on SQLite and PostgreSQL: a retry replays the first answer and runs nothing again,
per organisation and credential, for 24 hours (api/idempotency.py, docs/developers.md)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api, idempotency
from quantum_voice.core.clock import set_clock
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import UserSession
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.developer import IdempotentRequest
from quantum_voice.worker import purge_expired_idempotency_keys
from tests.factories import api_login, api_owner, verified_owner

CAMPAIGNS = "/api/campaigns"


@pytest.fixture
def client(engine):
    return TestClient(create_api())


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def keyed(auth: dict[str, str], key: str = "create-spring-open-house") -> dict[str, str]:
    return {**auth, "Idempotency-Key": key}


def campaign_names() -> list[str]:
    with session_scope() as session:
        return sorted(c.name for c in session.exec(select(Campaign)).all())


def records() -> list[IdempotentRequest]:
    with session_scope() as session:
        return list(session.exec(select(IdempotentRequest)).all())


def test_a_retry_replays_the_first_answer_and_creates_one_campaign(client, owner):
    first = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner))
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["content-type"] == "application/json"
    assert campaign_names() == ["Open house"]


def test_without_a_key_every_post_runs(client, owner):
    for _ in range(2):
        assert client.post(CAMPAIGNS, json={"name": "Open house"}, headers=owner).status_code == 201
    assert campaign_names() == ["Open house", "Open house"] and records() == []


def test_the_same_key_with_another_body_is_refused(client, owner):
    assert client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner)).status_code == 201
    other = client.post(CAMPAIGNS, json={"name": "Something else"}, headers=keyed(owner))
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert campaign_names() == ["Open house"]


def test_the_same_key_on_another_route_is_independent(client, owner):
    created = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner)).json()
    qr = client.post(f"{CAMPAIGNS}/{created['id']}/qr", json={"label": "Flyer"}, headers=keyed(owner))
    assert qr.status_code == 201 and "idempotent-replayed" not in qr.headers


def test_another_organisation_or_credential_with_the_same_key_is_independent(client, owner):
    with session_scope() as session:
        verified_owner(session, email="rival@example.com", org="Rival Realty")
    rival = api_login(client, "rival@example.com")
    key = client.post("/api/developer/keys", json={"name": "CRM", "scopes": ["campaigns:write"]},
                      headers=owner).json()["secret"]
    by_key = {"Authorization": f"Bearer {key}"}
    answers = [client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(auth))
               for auth in (owner, rival, by_key)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert all("idempotent-replayed" not in a.headers for a in answers)
    assert len({a.json()["id"] for a in answers}) == 3
    assert sorted(r.caller.split(":")[0] for r in records()) == ["key", "user", "user"]
    replay = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(by_key))
    assert replay.headers["idempotent-replayed"] == "true" and replay.json()["id"] == answers[2].json()["id"]


def test_a_failed_first_attempt_is_not_stored_and_may_be_retried(client, owner):
    refused = client.post(CAMPAIGNS, json={"name": "x" * 201}, headers=keyed(owner))
    assert refused.status_code == 422 and records() == []
    retried = client.post(CAMPAIGNS, json={"name": "x" * 201}, headers=keyed(owner))
    assert retried.status_code == 422 and "idempotent-replayed" not in retried.headers
    fixed = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner))
    assert fixed.status_code == 201 and campaign_names() == ["Open house"]


def test_a_retry_while_the_first_still_runs_is_told_to_wait(client, owner):
    with session_scope() as session:
        row = session.exec(select(UserSession)).first()
        caller = idempotency.Caller(row.organization_id, f"user:{row.user_id}")
    body = b'{"name": "Open house"}'
    running = idempotency.reserve(caller, "POST", CAMPAIGNS, "k-1", idempotency.request_hash(body, "application/json"))
    assert running.reserved_id is not None
    retry = client.post(CAMPAIGNS, content=body, headers={**keyed(owner, "k-1"), "Content-Type": "application/json"})
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "idempotency_key_in_progress"
    assert campaign_names() == []


def test_a_reservation_whose_request_died_is_released(client, owner):
    with session_scope() as session:
        row = session.exec(select(UserSession)).first()
        caller = idempotency.Caller(row.organization_id, f"user:{row.user_id}")
    body = b'{"name": "Open house"}'
    idempotency.reserve(caller, "POST", CAMPAIGNS, "k-1", idempotency.request_hash(body, "application/json"))
    set_clock(lambda: datetime.now(timezone.utc) + idempotency.ABANDONED_AFTER + timedelta(seconds=1))
    retry = client.post(CAMPAIGNS, content=body, headers={**keyed(owner, "k-1"), "Content-Type": "application/json"})
    assert retry.status_code == 201 and campaign_names() == ["Open house"]


def test_a_key_is_kept_for_24_hours_then_purged(client, owner):
    first = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner)).json()
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(hours=23))
    assert client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner)).json() == first
    assert purge_expired_idempotency_keys() == 0
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(hours=24, minutes=1))
    assert purge_expired_idempotency_keys() == 1 and records() == []
    again = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner))
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    assert campaign_names() == ["Open house", "Open house"]


def test_an_expired_key_not_yet_purged_runs_again(client, owner):
    client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner))
    set_clock(lambda: datetime.now(timezone.utc) + timedelta(hours=25))
    again = client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert len(campaign_names()) == 2 and len(records()) == 1


@pytest.mark.parametrize("key", ["k" * 256, "", "caf\u00e9-1".encode(), "tab\there"])
def test_a_key_that_is_too_long_or_not_printable_is_refused(client, owner, key):
    response = client.post(CAMPAIGNS, json={"name": "Open house"},
                           headers={**owner, "Idempotency-Key": key})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_idempotency_key" and error["field"] == "Idempotency-Key"
    assert "255" in error["message"] or "printable" in error["message"]
    assert campaign_names() == []


def test_a_key_of_255_characters_is_accepted(client, owner):
    assert client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner, "k" * 255)).status_code == 201


def test_an_answer_too_large_to_keep_is_not_stored(client, owner, monkeypatch):
    monkeypatch.setattr(idempotency, "MAX_STORED_BODY", 10)
    assert client.post(CAMPAIGNS, json={"name": "Open house"}, headers=keyed(owner)).status_code == 201
    assert records() == []


def test_a_multipart_retry_with_a_new_boundary_is_the_same_request(client, owner):
    base = client.post("/api/knowledge/bases", json={"name": "Listings"}, headers=owner).json()
    files = {"file": ("faq.txt", b"Open house on Saturday at ten.", "text/plain")}
    answers = [client.post("/api/knowledge/upload", data={"knowledge_base_id": str(base["id"])}, files=files,
                           headers=keyed(owner, "upload-faq-1")) for _ in range(2)]
    assert [a.status_code for a in answers] == [answers[0].status_code] * 2 and answers[0].status_code < 300
    assert answers[1].headers["idempotent-replayed"] == "true" and answers[1].json() == answers[0].json()


def test_get_requests_ignore_the_header(client, owner):
    response = client.get(CAMPAIGNS, headers=keyed(owner, "k" * 300))
    assert response.status_code == 200 and records() == []


def test_an_unauthenticated_post_is_refused_by_the_route_and_nothing_is_kept(client):
    response = client.post(CAMPAIGNS, json={"name": "Open house"},
                           headers={"Authorization": "Bearer nope", "Idempotency-Key": "k-1"})
    assert response.status_code == 401 and records() == []
