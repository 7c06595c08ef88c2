"""Organisation A can never see or touch organisation B's data."""

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import SQLModel, select

import quantum_voice.models as m
from quantum_voice.api import create_api
from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import NotFound
from quantum_voice.services import accounts, team
from tests.factories import PASSWORD, repo_for, verified_owner


def _org_b_world(session, owner_b) -> dict[type, SQLModel]:
    """One row of every organisation-owned table, all in organisation B."""
    repo = repo_for(session, owner_b)
    rows: dict[type, SQLModel] = {}

    def add(obj):
        rows[type(obj)] = repo.add(obj)
        return rows[type(obj)]

    org_id = repo.scope.organization_id
    flow = add(m.Flow(organization_id=org_id, name="Flow", draft={"nodes": [], "edges": []}))
    version = add(m.FlowVersion(organization_id=org_id, flow_id=flow.id, version=1, definition={}, checksum="x",
                                published_at=utcnow()))
    kb = add(m.KnowledgeBase(organization_id=org_id, name="KB"))
    campaign = add(m.Campaign(organization_id=org_id, name="C", slug="b-campaign", flow_id=flow.id,
                              knowledge_base_id=kb.id))
    qr = add(m.QRCode(organization_id=org_id, campaign_id=campaign.id, code="bqr1"))
    add(m.QRScanEvent(organization_id=org_id, qr_code_id=qr.id, campaign_id=campaign.id))
    doc = add(m.Document(organization_id=org_id, knowledge_base_id=kb.id, name="d.pdf", sha256="0" * 64))
    add(m.Chunk(organization_id=org_id, knowledge_base_id=kb.id, document_id=doc.id, ordinal=0, text="t"))
    add(m.QnAPair(organization_id=org_id, knowledge_base_id=kb.id, question="q", answer="a"))
    conv = add(m.Conversation(organization_id=org_id, campaign_id=campaign.id, flow_version_id=version.id))
    add(m.KnowledgeQuery(organization_id=org_id, knowledge_base_id=kb.id, conversation_id=conv.id, query="q"))
    add(m.TranscriptTurn(organization_id=org_id, conversation_id=conv.id, seq=1, speaker="caller", text="hi"))
    consent = add(m.ConsentRecord(organization_id=org_id, public_id="00000000-0000-4000-8000-000000000001",
                                  granted=True, wording="w", policy_version="1"))
    lead = add(m.Lead(organization_id=org_id, conversation_id=conv.id, consent_record_id=consent.id,
                      email="lead@example.com"))
    add(m.Handoff(organization_id=org_id, conversation_id=conv.id, lead_id=lead.id, reason="request"))
    add(m.LeadActivity(organization_id=org_id, lead_id=lead.id, kind="note", text="called back"))
    add(m.NotificationDelivery(organization_id=org_id, lead_id=lead.id, channel="slack", band="hot",
                               idempotency_key=f"qv-lead-{lead.id}-slack-hot"))
    add(m.AgentPresence(organization_id=org_id, user_id=owner_b.id))
    add(m.HandoffRule(organization_id=org_id, name="r", trigger="keyword"))
    add(m.ApiKey(organization_id=org_id, name="k", prefix="qv_b", key_hash="1" * 64))
    hook = add(m.Webhook(organization_id=org_id, url="http://127.0.0.1:9/hook", signing_secret="s"))
    delivery = add(m.WebhookDelivery(organization_id=org_id, webhook_id=hook.id, event_id="e1",
                                     event_type="lead.created"))
    add(m.WebhookAttempt(organization_id=org_id, delivery_id=delivery.id, number=1, status_code=500))
    add(m.IdempotentRequest(organization_id=org_id, caller="user:1", method="POST", path="/api/campaigns",
                            idempotency_key="k1", request_hash="0" * 64, expires_at=utcnow()))
    add(m.IntegrationSetting(organization_id=org_id, provider="slack"))
    add(m.UsageRecord(organization_id=org_id, conversation_id=conv.id, provider="local", service="stt",
                      unit="seconds", quantity=3.0, cost_usd=Decimal("0.01")))
    add(m.Budget(organization_id=org_id, hard_limit_usd=Decimal("10")))
    add(m.SystemMetric(organization_id=org_id, name="turn_latency_ms", value=420.0))
    add(m.AuditLog(organization_id=org_id, action="test"))
    add(m.EmailMessage(organization_id=org_id, to_address="x@example.com", subject="s", body_text="b",
                       kind="notification", status="logged"))
    _, _ = team.invite(repo, email="invitee@example.com", role="viewer")
    rows[m.Invitation] = session.exec(select(m.Invitation)).one()
    rows[m.UserSession], _ = accounts.create_api_session(session, owner_b)
    rows[m.Membership] = session.exec(select(m.Membership).where(m.Membership.user_id == owner_b.id)).one()
    session.flush()
    return rows


def _org_owned_models() -> set[type]:
    return {mapper.class_ for mapper in SQLModel._sa_registry.mappers
            if "organization_id" in mapper.columns and mapper.class_.__module__.startswith("quantum_voice.models")}


def test_every_org_owned_row_of_b_is_not_found_for_a(session):
    owner_a, _ = verified_owner(session, "a@example.com", "Org A")
    owner_b, _ = verified_owner(session, "b@example.com", "Org B")
    world = _org_b_world(session, owner_b)
    missing = _org_owned_models() - set(world)
    assert not missing, f"add these tables to the tenancy test: {missing}"
    repo_a = repo_for(session, owner_a)
    for model, row in world.items():
        with pytest.raises(NotFound):
            repo_a.get(model, row.id)
        assert all(getattr(r, "organization_id") == repo_a.scope.organization_id for r in repo_a.list(model))
        with pytest.raises(NotFound):
            repo_a.delete(row)
    # and B sees its own rows
    repo_b = repo_for(session, owner_b)
    for model, row in world.items():
        assert repo_b.get(model, row.id).id == row.id


def test_writes_are_stamped_with_the_callers_organisation(session):
    owner_a, org_a = verified_owner(session, "a@example.com", "Org A")
    _, org_b = verified_owner(session, "b@example.com", "Org B")
    kb = repo_for(session, owner_a).add(m.KnowledgeBase(organization_id=org_b.id, name="sneaky"))
    assert kb.organization_id == org_a.id


def test_api_returns_404_for_every_org_b_resource(engine):
    client = TestClient(create_api())
    from quantum_voice.core.db import session_scope

    with session_scope() as s:
        verified_owner(s, "a@example.com", "Org A")
        owner_b, _ = verified_owner(s, "b@example.com", "Org B")
        invitation, _ = team.invite(repo_for(s, owner_b), email="x@example.com", role="viewer")
        b_membership = s.exec(select(m.Membership).where(m.Membership.user_id == owner_b.id)).one().id
        b_invitation = invitation.id
    token = client.post("/api/auth/login", json={"email": "a@example.com", "password": PASSWORD}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    calls = [
        ("patch", f"/api/team/members/{b_membership}", {"role": "viewer"}),
        ("delete", f"/api/team/members/{b_membership}", None),
        ("delete", f"/api/team/invitations/{b_invitation}", None),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=auth)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    members = client.get("/api/team/members", headers=auth).json()
    assert [x["email"] for x in members] == ["a@example.com"]
    outbox = client.get("/api/admin/outbox", headers=auth).json()
    assert not any(mail["to_address"] == "x@example.com" for mail in outbox)  # B's invitation stays B's
    audit = client.get("/api/admin/audit-logs", headers=auth).json()
    assert audit and not any(entry["details"].get("email") == "x@example.com" for entry in audit)
    with session_scope() as s:  # B's rows are untouched
        assert s.get(m.Membership, b_membership).role == "owner"
        assert s.get(m.Invitation, b_invitation).revoked_at is None
