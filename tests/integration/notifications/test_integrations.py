"""The Integrations settings over the API, on SQLite and PostgreSQL: secrets encrypted at rest and never shown
again or logged, roles, the audit log, organisation scoping, "Send test" with a clear error, and campaign
notification settings."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.system import AuditLog
from tests.factories import api_login, api_member, api_owner
from tests.unit.notifications.receivers import (
    ASANA_PROJECT, ASANA_TOKEN, RESEND_KEY, SLACK_CHANNEL, SLACK_TOKEN)

SLACK_BODY = {"config": {"channel": SLACK_CHANNEL}, "secrets": {"bot_token": SLACK_TOKEN}}
SECRETS = (SLACK_TOKEN, ASANA_TOKEN, RESEND_KEY)


@pytest.fixture
def client(engine):
    return TestClient(create_api())


@pytest.fixture
def owner(client):
    return api_owner(client)


def _connect_all(client, headers):
    for provider, body in {"slack": SLACK_BODY,
                           "asana": {"config": {"project_gid": ASANA_PROJECT}, "secrets": {"access_token": ASANA_TOKEN}},
                           "resend": {"config": {"from_address": "Leads <leads@harborview.example>"},
                                      "secrets": {"api_key": RESEND_KEY}}}.items():
        response = client.put(f"/api/integrations/{provider}", json=body, headers=headers)
        assert response.status_code == 200, response.text


def test_secrets_are_encrypted_at_rest_and_never_returned_or_logged(client, owner, engine, caplog, slack, resend):
    caplog.set_level(logging.DEBUG)
    _connect_all(client, owner)
    assert client.post("/api/integrations/slack/test", headers=owner).status_code == 200
    slack.stop()
    assert client.post("/api/integrations/slack/test", headers=owner).status_code == 502
    resend.fail_next = 1
    assert client.post("/api/integrations/resend/test", headers=owner).status_code == 502
    listing = client.get("/api/integrations", headers=owner)
    slack = next(i for i in listing.json() if i["provider"] == "slack")
    assert slack["connected"] and slack["config"] == {"channel": SLACK_CHANNEL}
    assert slack["secrets"] == {"bot_token": {"set": True, "last4": SLACK_TOKEN[-4:]}}
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT provider, config, secret_ciphertext FROM integration_settings")).all()
    assert len(raw) == 3
    for provider, config, ciphertext in raw:
        assert ciphertext and not any(secret in ciphertext or secret in str(config) for secret in SECRETS)
    with session_scope() as session:
        audit_text = str([(a.action, a.details) for a in session.exec(select(AuditLog)).all()])
    seen = listing.text + client.get("/api/integrations/slack", headers=owner).text + caplog.text + audit_text
    assert not any(secret in seen for secret in SECRETS)


def test_a_blank_secret_keeps_the_stored_one(client, owner):
    client.put("/api/integrations/slack", json=SLACK_BODY, headers=owner)
    response = client.put("/api/integrations/slack", json={"config": {"channel": "#sales"}, "secrets": {"bot_token": ""}},
                          headers=owner)
    assert response.status_code == 200 and response.json()["secrets"]["bot_token"]["set"]
    assert response.json()["config"] == {"channel": "#sales"}


def test_a_first_connect_needs_its_secret_and_a_valid_setting(client, owner):
    missing = client.put("/api/integrations/asana", json={"config": {"project_gid": ASANA_PROJECT}}, headers=owner)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "access_token"
    wrong = client.put("/api/integrations/slack", json={"config": {"channel": SLACK_CHANNEL},
                                                        "secrets": {"bot_token": "xoxp-user-token-123"}}, headers=owner)
    assert wrong.status_code == 422 and "xoxb-" in wrong.json()["error"]["message"]
    assert client.put("/api/integrations/fax", json={}, headers=owner).status_code == 404


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_owners_and_admins_change_integrations_and_everyone_reads(client, owner, role):
    client.put("/api/integrations/slack", json=SLACK_BODY, headers=owner)
    member = api_member(client, role, f"{role}@example.com")
    assert client.get("/api/integrations", headers=member).status_code == 200
    assert client.put("/api/integrations/slack", json=SLACK_BODY, headers=member).status_code == 403
    assert client.delete("/api/integrations/slack", headers=member).status_code == 403
    assert client.post("/api/integrations/slack/test", headers=member).status_code == 403


def test_an_admin_connects_and_disconnects_and_both_are_audited(client, owner):
    admin = api_member(client, "admin", "admin@example.com")
    assert client.put("/api/integrations/slack", json=SLACK_BODY, headers=admin).status_code == 200
    assert client.delete("/api/integrations/slack", headers=admin).status_code == 204
    assert client.delete("/api/integrations/slack", headers=admin).status_code == 404
    assert not client.get("/api/integrations/slack", headers=admin).json()["connected"]
    with session_scope() as session:
        entries = session.exec(select(AuditLog).where(AuditLog.target_type == "integration")).all()
    assert [(e.action, e.target_id) for e in entries] == [("integration.connect", "slack"),
                                                           ("integration.disconnect", "slack")]
    assert entries[0].details["changed"] == ["channel", "bot_token"]  # names, never values


def test_another_organisation_sees_none_of_it(client, owner):
    client.put("/api/integrations/slack", json=SLACK_BODY, headers=owner)
    from tests.factories import verified_owner
    with session_scope() as session:
        verified_owner(session, "b@example.com", "Org B")
    other = api_login(client, "b@example.com")
    assert not client.get("/api/integrations/slack", headers=other).json()["connected"]
    assert client.delete("/api/integrations/slack", headers=other).status_code == 404


def test_send_test_reports_success_and_a_clear_error(client, owner, slack):
    client.put("/api/integrations/slack", json=SLACK_BODY, headers=owner)
    ok = client.post("/api/integrations/slack/test", headers=owner)
    assert ok.status_code == 200 and ok.json()["ok"] and SLACK_CHANNEL in ok.json()["message"]
    assert "test from Quantum Voice" in str(slack.requests[0].body["blocks"])

    client.put("/api/integrations/slack", json={"config": {"channel": "#nowhere"}}, headers=owner)
    refused = client.post("/api/integrations/slack/test", headers=owner)
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "integration_test_failed"
    assert "channel_not_found" in refused.json()["error"]["message"]

    slack.stop()
    down = client.post("/api/integrations/slack/test", headers=owner)
    assert down.status_code == 502 and "Could not reach Slack" in down.json()["error"]["message"]
    assert SLACK_TOKEN not in refused.text + down.text


def test_send_test_of_asana_and_resend_reach_their_receivers(client, owner, asana, resend):
    _connect_all(client, owner)
    assert client.post("/api/integrations/asana/test", headers=owner).status_code == 200
    assert client.post("/api/integrations/resend/test", headers=owner).status_code == 200
    assert asana.requests[0].body["data"]["projects"] == [ASANA_PROJECT]
    assert resend.requests[0].body["to"] == ["owner@example.com"]
    not_connected = client.post("/api/integrations/asana/test", headers=api_owner_b(client))
    assert not_connected.status_code == 502 and "not connected" in not_connected.json()["error"]["message"]


def api_owner_b(client):
    from tests.factories import verified_owner
    with session_scope() as session:
        verified_owner(session, "b@example.com", "Org B")
    return api_login(client, "b@example.com")


def test_email_recipients_default_to_the_owners_and_can_be_set(client, owner):
    assert client.post("/api/integrations/email/test", headers=owner).json()["message"].startswith(
        "Test written to the email outbox for owner@example.com")
    response = client.put("/api/integrations/email", json={"config": {"recipients": "sales@example.com, Boss@Example.com"}},
                          headers=owner)
    assert response.json()["config"]["recipients"] == ["sales@example.com", "boss@example.com"]
    bad = client.put("/api/integrations/email", json={"config": {"recipients": ["not-an-address"]}}, headers=owner)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "recipients"


def test_a_campaign_chooses_its_channels_per_band(client, owner):
    created = client.post("/api/campaigns", json={"name": "Open house"}, headers=owner).json()
    url = f"/api/campaigns/{created['id']}/notifications"
    assert client.get(url, headers=owner).json() == {"hot": ["slack", "asana", "email"], "warm": ["asana", "email"],
                                                     "cold": ["digest"], "customised": False}
    changed = client.put(url, json={"hot": ["slack", "slack"], "cold": []}, headers=owner).json()
    assert changed == {"hot": ["slack"], "warm": ["asana", "email"], "cold": [], "customised": True}
    bad = client.put(url, json={"warm": ["fax"]}, headers=owner)
    assert bad.status_code == 422 and "fax" in bad.json()["error"]["message"]
    viewer = api_member(client, "viewer", "viewer@example.com")
    assert client.put(url, json={"hot": []}, headers=viewer).status_code == 403
    with session_scope() as session:
        assert session.get(Campaign, created["id"]).settings["notifications"] == {"hot": ["slack"], "cold": []}
    assert client.delete(f"/api/campaigns/{created['id']}", headers=owner).status_code in (200, 204)
    assert client.get(url, headers=owner).status_code == 404  # deleted campaigns stay deleted
    assert client.put(url, json={"hot": []}, headers=owner).status_code == 404
