"""The leads workspace through the REST API (SQLite and PostgreSQL): filters and the cursor in headers, the
pipeline, notes, the streamed CSV export, the person's data export and erasure, roles and organisations."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.api import leads as leads_api
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.models.leads import Lead
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services.leads.privacy import TOMBSTONE
from tests.factories import api_login, api_member, api_owner, verified_owner
from tests.integration.flows.test_conversations import call, new_campaign, rows
from tests.integration.leads.test_people_and_pipeline import ticket


@pytest.fixture
def client(engine) -> TestClient:
    app = create_api()
    app.include_router(leads_api.router)
    return TestClient(app)


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def owner_id() -> int:
    with session_scope() as session:
        return session.exec(select(User).where(User.email == "owner@example.com")).one().id


def a_real_lead(email: str = "ana.lopez@example.com", *lines: str) -> int:
    user_id = owner_id()
    campaign_id = new_campaign(user_id)
    call(user_id, campaign_id, *(lines or ("I'm Ana Lopez", "we'd love a tour next month", "bye")),
         setup=ticket(user_id, campaign_id, email))
    return rows(Lead, Lead.email == email)[0].id


def test_list_pages_with_a_cursor_in_the_headers(client, owner):
    for i in range(5):
        a_real_lead(f"caller{i}@example.com", "bye")
    first = client.get("/api/leads?limit=2", headers=owner)
    assert first.status_code == 200 and len(first.json()) == 2
    cursor = first.headers["X-Next-Cursor"]
    assert 'rel="next"' in first.headers["Link"] and f"cursor={cursor}" in first.headers["Link"]
    seen = [lead["email"] for lead in first.json()]
    while cursor:
        page = client.get("/api/leads", params={"limit": 2, "cursor": cursor}, headers=owner)
        seen += [lead["email"] for lead in page.json()]
        cursor = page.headers.get("X-Next-Cursor")
    assert sorted(seen) == [f"caller{i}@example.com" for i in range(5)]
    assert client.get("/api/leads?q=caller3", headers=owner).json()[0]["email"] == "caller3@example.com"
    for bad in ("cursor=nonsense", "sort=alphabet", "assignee=someone", "status=done", "created_from=yesterday"):
        response = client.get(f"/api/leads?{bad}", headers=owner)
        assert response.status_code == 422, bad


def test_detail_has_every_call_its_consent_and_the_score_breakdown(client, owner):
    lead_id = a_real_lead()
    detail = client.get(f"/api/leads/{lead_id}", headers=owner).json()
    assert detail["name"] == "Ana Lopez" and detail["band"] in ("warm", "hot") and detail["score_breakdown"]
    [only] = detail["calls"]
    assert only["came_by"] == "call link" and only["consent"]["wording"] == "I agree to be contacted."
    assert only["consent"]["policy_version"] == "3" and only["transcript"][1]["text"] == "I'm Ana Lopez"
    assert detail["activities"][0]["kind"] == "created"


def test_managers_change_status_assignee_and_notes_others_read(client, owner):
    lead_id = a_real_lead()
    manager = api_member(client, "manager", "max@example.com")
    agent = api_member(client, "agent", "ada@example.com")
    max_id = client.get("/api/leads", headers=owner) and _user_id("max@example.com")
    changed = client.patch(f"/api/leads/{lead_id}", json={"status": "qualified", "assignee_user_id": max_id},
                           headers=manager)
    assert changed.status_code == 200 and changed.json()["status"] == "qualified"
    assert changed.json()["assignee_name"] == "max"
    kept = client.patch(f"/api/leads/{lead_id}", json={"status": "won"}, headers=manager).json()
    assert kept["assignee_user_id"] == max_id  # left out: unchanged
    unassigned = client.patch(f"/api/leads/{lead_id}", json={"assignee_user_id": None}, headers=manager).json()
    assert unassigned["assignee_user_id"] is None
    note = client.post(f"/api/leads/{lead_id}/notes", json={"text": "Call after 5pm"}, headers=manager)
    assert note.status_code == 201 and note.json()["text"] == "Call after 5pm"
    history = [a["kind"] for a in client.get(f"/api/leads/{lead_id}", headers=agent).json()["activities"]
               if a["kind"] != "notified"]  # the call's notifications (docs/notifications.md)
    assert history == ["created", "status", "assigned", "status", "assigned", "note"]
    for method, path, body in (("patch", f"/api/leads/{lead_id}", {"status": "lost"}),
                               ("post", f"/api/leads/{lead_id}/notes", {"text": "x"}),
                               ("post", "/api/leads/bulk", {"lead_ids": [lead_id], "status": "lost"}),
                               ("post", f"/api/leads/{lead_id}/erase", None),
                               ("get", f"/api/leads/{lead_id}/export", None)):
        response = client.request(method, path, json=body, headers=agent)
        assert response.status_code == 403, path
    bulk = client.post("/api/leads/bulk", json={"lead_ids": [lead_id], "status": "contacted"}, headers=manager)
    assert bulk.json() == {"changed": 1}
    assert client.post(f"/api/leads/{lead_id}/notes", json={"text": "x" * 5001}, headers=manager).status_code == 422


def _user_id(email: str) -> int:
    with session_scope() as session:
        return session.exec(select(User).where(User.email == email)).one().id


def test_another_organisation_cannot_reach_the_leads(client, owner):
    lead_id = a_real_lead()
    with session_scope() as session:
        verified_owner(session, email="eve@example.com", org="Elsewhere")
    eve = api_login(client, "eve@example.com")
    assert client.get("/api/leads", headers=eve).json() == []
    assert "ana" not in client.get("/api/leads/export.csv", headers=eve).text
    for method, path, body in (("get", f"/api/leads/{lead_id}", None),
                               ("patch", f"/api/leads/{lead_id}", {"status": "lost"}),
                               ("post", f"/api/leads/{lead_id}/notes", {"text": "x"}),
                               ("post", f"/api/leads/{lead_id}/erase", None),
                               ("get", f"/api/leads/{lead_id}/export", None)):
        assert client.request(method, path, json=body, headers=eve).status_code == 404, path


def test_csv_export_streams_the_filter_with_formulas_defused(client, owner):
    a_real_lead()
    a_real_lead("=cmd|' /C calc'!A0@example.com", "bye")
    response = client.get("/api/leads/export.csv?q=example.com", headers=owner)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="leads-')
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["email"] for row in table} == {"ana.lopez@example.com", "'=cmd|' /C calc'!A0@example.com"}
    assert next(row for row in table if row["name"] == "Ana Lopez")["campaign"] == "Spring Open House"
    only_ana = client.get("/api/leads/export.csv?q=lopez", headers=owner).text
    assert only_ana.count("\n") == 2  # the header and Ana
    with session_scope() as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "leads.exported_csv")).first()


def test_export_then_erase_leaves_nothing_personal_but_the_consent_ticket(client, owner):
    lead_id = a_real_lead("ana.lopez@example.com", "I'm Ana Lopez, call me on 555 010 2000",
                          "is there a pool?", "bye")
    user_id = owner_id()
    with session_scope() as session:
        org_id = session.get(Lead, lead_id).organization_id
        conversation = session.exec(select(Conversation).where(Conversation.lead_id == lead_id)).one()
        session.add(KnowledgeQuery(organization_id=org_id, knowledge_base_id=_kb(session, org_id),
                                   conversation_id=conversation.id, query="Ana Lopez asks: is there a pool?"))
        session.add(EmailMessage(organization_id=org_id, to_address="owner@example.com", kind="notification",
                                 subject="Hot lead: Ana Lopez", body_text="ana.lopez@example.com wants a tour",
                                 status="logged"))
        session.add(EmailMessage(organization_id=org_id, to_address="ana.lopez@example.com", kind="notification",
                                 subject="Thanks for calling", body_text="Hi Ana", status="logged"))
    client.post(f"/api/leads/{lead_id}/notes", json={"text": "Ana prefers mornings"}, headers=owner)

    exported = client.get(f"/api/leads/{lead_id}/export", headers=owner).json()
    assert exported["lead"]["email"] == "ana.lopez@example.com" and exported["notes"][0]["text"] == \
        "Ana prefers mornings"
    assert exported["calls"][0]["consent"]["wording"] == "I agree to be contacted."
    assert any("555 010 2000" in turn["text"] for turn in exported["calls"][0]["transcript"])

    erased = client.post(f"/api/leads/{lead_id}/erase", headers=owner)
    assert erased.status_code == 200 and erased.json()["erased"] is True
    assert client.post(f"/api/leads/{lead_id}/erase", headers=owner).status_code == 422
    assert client.patch(f"/api/leads/{lead_id}", json={"status": "won"}, headers=owner).status_code == 422

    with session_scope() as session:
        everything = " ".join(
            [str(v) for v in session.get(Lead, lead_id).model_dump().values()]
            + [t.text for t in session.exec(select(TranscriptTurn)).all()]
            + [q.query for q in session.exec(select(KnowledgeQuery)).all()]
            + [f"{m.to_address} {m.subject} {m.body_text}" for m in session.exec(select(EmailMessage).where(
                EmailMessage.organization_id == org_id)).all()]
            + [f"{c.summary} {c.flow_state} {c.user_agent}" for c in session.exec(select(Conversation)).all()]
            + [str(a.model_dump()) for a in session.exec(select(AuditLog)).all()])
        for personal in ("Ana", "Lopez", "ana.lopez", "555 010 2000", "5550102000", "pool"):
            assert personal.lower() not in everything.lower(), personal
        assert TOMBSTONE in everything
        consent = session.exec(select(ConsentRecord)).one()
        assert consent.email == "ana.lopez@example.com" and consent.erased_at is not None  # the legal record
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
        assert actions[-2:] == ["lead.exported", "lead.erased"] and user_id


def _kb(session, org_id: int) -> int:
    from quantum_voice.models.knowledge import KnowledgeBase

    return session.exec(select(KnowledgeBase).where(KnowledgeBase.organization_id == org_id)).first().id
