"""Test-mode API keys (``qv_test_…``), on SQLite and PostgreSQL: they see and make test calls and test leads only,
share the organisation's configuration (campaigns, knowledge, flows) with live keys, and never reach the hand-off
queue or the webhooks; a live key sees test data as a person does (docs/developers.md, "Test mode")."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation
from quantum_voice.models.developer import ApiKey
from quantum_voice.models.leads import Lead
from quantum_voice.models.system import AuditLog
from quantum_voice.services import conversations
from quantum_voice.services.tenancy import OrgRepository
from tests.factories import api_owner, scope_for
from tests.integration.flows.test_conversations import SERVICES, new_campaign
from tests.integration.leads.test_people_and_pipeline import ticket

KEYS = "/api/developer/keys"
EVERY_LEADS_SCOPE = ["leads:write", "campaigns:read", "handoffs:read", "webhooks:read"]


@pytest.fixture
def client(engine):
    return TestClient(create_api())


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def make_key(client, auth, mode: str | None = None, scopes=EVERY_LEADS_SCOPE) -> dict:
    body = {"name": f"{mode or 'default'} key", "scopes": scopes, **({"mode": mode} if mode else {})}
    response = client.post(KEYS, json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def bearer(key: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['secret']}"}


def error(response) -> dict:
    return response.json()["error"]


def owner_user() -> User:
    with session_scope() as session:
        return session.exec(select(User).where(User.email == "owner@example.com")).one()


def lead_with_a_call(*, is_test: bool, email: str) -> tuple[int, int]:
    """A lead and its call, both live or both test; (lead id, call id)."""
    with session_scope() as session:
        org = scope_for(session, session.exec(select(User).where(User.email == "owner@example.com")).one())
        call = Conversation(organization_id=org.organization_id, channel="web", status="ended", is_test=is_test)
        session.add(call)
        session.flush()
        lead = Lead(organization_id=org.organization_id, conversation_id=call.id, name=email.split("@")[0],
                    email=email, score=40, band="warm", is_test=is_test)
        session.add(lead)
        session.flush()
        call.lead_id = lead.id
        session.add(call)
        return lead.id, call.id


@pytest.fixture
def both(client, owner) -> dict[str, int]:
    live_lead, live_call = lead_with_a_call(is_test=False, email="real.caller@example.com")
    test_lead, test_call = lead_with_a_call(is_test=True, email="test.caller@example.com")
    return {"live_lead": live_lead, "live_call": live_call, "test_lead": test_lead, "test_call": test_call}


# ---------------------------------------------------------------- the key

def test_a_test_key_has_the_qv_test_prefix_and_says_its_mode(client, owner):
    test_key, live_key = make_key(client, owner, "test"), make_key(client, owner)
    assert test_key["secret"].startswith("qv_test_") and test_key["prefix"] == test_key["secret"][:12]
    assert test_key["mode"] == "test"
    assert live_key["secret"].startswith("qv_live_") and live_key["mode"] == "live"
    listed = {k["id"]: k["mode"] for k in client.get(KEYS, headers=owner).json()}
    assert listed == {test_key["id"]: "test", live_key["id"]: "live"}
    with session_scope() as session:
        assert session.get(ApiKey, test_key["id"]).mode == "test"
        created = session.exec(select(AuditLog).where(AuditLog.action == "api_key.created",
                                                      AuditLog.target_id == test_key["id"])).one()
        assert created.details["mode"] == "test"
    refused = client.post(KEYS, json={"name": "x", "scopes": ["leads:read"], "mode": "sandbox"}, headers=owner)
    assert refused.status_code == 422


def test_rotating_a_test_key_makes_a_test_key(client, owner):
    old = make_key(client, owner, "test")
    new = client.post(f"{KEYS}/{old['id']}/rotate", json={"overlap_hours": 0}, headers=owner).json()
    assert new["secret"].startswith("qv_test_") and new["mode"] == "test"


# ---------------------------------------------------------------- what a test key sees

def test_a_test_key_lists_only_test_leads_whatever_the_filter(client, owner, both):
    key = bearer(make_key(client, owner, "test"))
    for query in ("", "?include_tests=true", "?sort=oldest&limit=1"):
        listed = client.get(f"/api/leads{query}", headers=key).json()
        assert [lead["id"] for lead in listed] == [both["test_lead"]], query
        assert listed[0]["is_test"] is True
    assert client.get("/api/leads?q=real.caller", headers=key).json() == []
    exported = list(csv.reader(io.StringIO(client.get("/api/leads/export.csv", headers=key).text)))
    assert [row[0] for row in exported[1:]] == [str(both["test_lead"])]


def test_a_test_key_cannot_read_or_change_a_live_lead(client, owner, both):
    key = bearer(make_key(client, owner, "test"))
    live = both["live_lead"]
    for response in (client.get(f"/api/leads/{live}", headers=key),
                     client.get(f"/api/leads/{live}/export", headers=key),
                     client.patch(f"/api/leads/{live}", json={"status": "won"}, headers=key),
                     client.post(f"/api/leads/{live}/notes", json={"text": "hi"}, headers=key),
                     client.post(f"/api/leads/{live}/erase", headers=key)):
        assert response.status_code == 404, response.text
    bulk = client.post("/api/leads/bulk", json={"lead_ids": [live, both["test_lead"]], "status": "won"}, headers=key)
    assert bulk.status_code == 422 and error(bulk)["field"] == "lead_ids"  # all or nothing, as for another org's
    bulk = client.post("/api/leads/bulk", json={"lead_ids": [both["test_lead"]], "status": "won"}, headers=key)
    assert bulk.status_code == 200 and bulk.json() == {"changed": 1}
    with session_scope() as session:
        assert session.get(Lead, live).status == "new" and session.get(Lead, both["test_lead"]).status == "won"


def test_a_test_key_reads_a_test_lead_with_its_test_call(client, owner, both):
    key = bearer(make_key(client, owner, "test"))
    detail = client.get(f"/api/leads/{both['test_lead']}", headers=key)
    assert detail.status_code == 200 and detail.json()["is_test"] is True
    assert [c["conversation"]["id"] for c in detail.json()["calls"]] == [both["test_call"]]
    assert detail.json()["calls"][0]["conversation"]["is_test"] is True


def test_a_live_key_sees_test_leads_as_a_person_does(client, owner, both):
    key = bearer(make_key(client, owner))
    assert [lead["id"] for lead in client.get("/api/leads", headers=key).json()] == [both["live_lead"]]
    with_tests = client.get("/api/leads?include_tests=true", headers=key).json()
    assert {lead["id"] for lead in with_tests} == {both["live_lead"], both["test_lead"]}
    assert client.get(f"/api/leads/{both['test_lead']}", headers=key).json()["is_test"] is True


def test_a_test_key_shares_the_campaigns_and_never_reaches_handoffs_or_webhooks(client, owner, both):
    campaign_id = new_campaign(owner_user().id)
    test_key, live_key = bearer(make_key(client, owner, "test")), bearer(make_key(client, owner))
    for key in (test_key, live_key):
        assert [c["id"] for c in client.get("/api/campaigns", headers=key).json()] == [campaign_id]
    for path in ("/api/handoffs", "/api/webhooks"):
        refused = client.get(path, headers=test_key)
        assert refused.status_code == 403 and error(refused)["code"] == "not_in_test_mode", path
        assert "qv_live_" in error(refused)["message"]
        assert client.get(path, headers=live_key).status_code == 200, path


# ---------------------------------------------------------------- what a test key makes

def test_what_a_test_mode_scope_creates_is_test_data(client, owner):
    user_id = owner_user().id
    campaign_id = new_campaign(user_id)
    setup = ticket(user_id, campaign_id, "sandbox@example.com")  # a live call's setup: the scope makes it test
    assert setup.is_test is False
    with session_scope() as session:
        scope = replace(scope_for(session, session.get(User, user_id)), via="api_key", test_mode=True)
        repo = OrgRepository(session, scope)
        call_id = conversations.start_conversation(repo, campaign_id, setup, SERVICES).conversation.id
    with session_scope() as session:
        call = session.get(Conversation, call_id)
        lead = session.exec(select(Lead).where(Lead.email == "sandbox@example.com")).one()
        assert call.is_test is True and lead.is_test is True and lead.conversation_id == call_id


def test_a_simulated_call_through_a_test_key_makes_a_lead_the_test_key_then_lists(client, owner):
    campaign_id = new_campaign(owner_user().id)
    key = bearer(make_key(client, owner, "test", scopes=["flows:write", "leads:read"]))
    lines = ["My name is Sam Ortiz", "sam.ortiz@example.com", "yes", "bye"]
    response = client.post(f"/api/flows/{campaign_id}/test", json={"messages": lines}, headers=key)
    assert response.status_code == 200, response.text
    [lead] = client.get("/api/leads", headers=key).json()
    assert lead["email"] == "sam.ortiz@example.com" and lead["is_test"] is True
    assert lead["id"] == response.json()["lead"]["id"]
    with session_scope() as session:
        assert session.get(Conversation, response.json()["conversation_id"]).is_test is True
