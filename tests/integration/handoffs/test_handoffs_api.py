"""The hand-off queue through the REST API (SQLite and PostgreSQL): the queue, accept (409 when taken), release,
complete with its checks, presence with bounded input, the agents' board for managers, roles and organisations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.leads import Lead
from quantum_voice.models.system import AuditLog
from tests.factories import api_login, api_member, api_owner, verified_owner
from tests.integration.flows.test_conversations import new_campaign, rows
from tests.integration.handoffs.support import ask_for_person


@pytest.fixture
def client(engine) -> TestClient:
    return TestClient(create_api())


@pytest.fixture
def people(client) -> dict[str, dict[str, str]]:
    return {"owner": api_owner(client), "ana": api_member(client, "agent", "ana@team.example"),
            "bo": api_member(client, "agent", "bo@team.example"),
            "viewer": api_member(client, "viewer", "vi@team.example")}


def waiting_handoff(email: str = "caller@example.com") -> int:
    with session_scope() as session:
        owner_id = session.exec(select(User).where(User.email == "owner@example.com")).one().id
    return ask_for_person(owner_id, new_campaign(owner_id), email).id


def test_an_agent_takes_a_caller_from_the_queue_and_ends_with_a_disposition(client, people):
    handoff_id = waiting_handoff()
    queue = client.get("/api/handoffs?status=waiting", headers=people["ana"])
    assert queue.status_code == 200
    [entry] = queue.json()
    assert entry["id"] == handoff_id and entry["lead"]["email"] == "caller@example.com"
    assert entry["transcript"] and entry["waited_seconds"] >= 0

    taken = client.post(f"/api/handoffs/{handoff_id}/accept", headers=people["ana"])
    assert taken.status_code == 200 and taken.json()["status"] == "accepted"
    again = client.post(f"/api/handoffs/{handoff_id}/accept", headers=people["bo"])
    assert again.status_code == 409 and "already taken by ana" in again.json()["error"]["message"]
    assert client.get("/api/handoffs?status=waiting", headers=people["ana"]).json() == []

    late = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    refused = client.post(f"/api/handoffs/{handoff_id}/complete", headers=people["ana"],
                          json={"disposition": "callback", "callback_at": late})
    assert refused.status_code == 422
    too_long = client.post(f"/api/handoffs/{handoff_id}/complete", headers=people["ana"],
                           json={"disposition": "qualified", "notes": "x" * 2_001})
    assert too_long.status_code == 422
    soon = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    done = client.post(f"/api/handoffs/{handoff_id}/complete", headers=people["ana"],
                       json={"disposition": "callback", "callback_at": soon, "notes": "Tomorrow at 10."})
    assert done.status_code == 200 and done.json()["disposition"] == "callback"
    assert rows(Lead)[0].status == "contacted"
    assert {"handoff.accepted", "handoff.completed"} <= {a.action for a in rows(AuditLog)}
    assert [h["id"] for h in client.get("/api/handoffs?status=completed", headers=people["ana"]).json()] == \
        [handoff_id]


def test_release_hands_the_call_back_to_the_ai(client, people):
    handoff_id = waiting_handoff()
    client.post(f"/api/handoffs/{handoff_id}/accept", headers=people["ana"])
    assert client.post(f"/api/handoffs/{handoff_id}/release", headers=people["bo"]).status_code == 403
    released = client.post(f"/api/handoffs/{handoff_id}/release", headers=people["ana"])
    assert released.status_code == 200 and released.json()["disposition"] == "returned_to_ai"
    assert client.post(f"/api/handoffs/{handoff_id}/release", headers=people["ana"]).status_code == 409


def test_presence_is_bounded_and_the_board_is_for_managers(client, people):
    ok = client.put("/api/agents/me/presence", headers=people["ana"],
                    json={"status": "available", "skills": ["Spanish"], "max_concurrent": 2})
    assert ok.status_code == 200 and ok.json()["skills"] == ["spanish"] and ok.json()["max_concurrent"] == 2
    for bad in ({"status": "dancing"}, {"status": "available", "skills": ["x" * 61]},
                {"status": "available", "skills": [f"s{i}" for i in range(21)]},
                {"status": "available", "max_concurrent": 0}):
        assert client.put("/api/agents/me/presence", headers=people["ana"], json=bad).status_code == 422, bad
    assert client.get("/api/agents", headers=people["ana"]).status_code == 403
    board = {a["email"]: a for a in client.get("/api/agents", headers=people["owner"]).json()}
    assert board["ana@team.example"]["status"] == "available" and board["bo@team.example"]["status"] == "offline"
    assert "vi@team.example" not in board


def test_viewers_are_refused_and_other_organisations_see_nothing(client, people):
    handoff_id = waiting_handoff()
    assert client.get("/api/handoffs", headers=people["viewer"]).status_code == 403
    assert client.post(f"/api/handoffs/{handoff_id}/accept", headers=people["viewer"]).status_code == 403
    assert client.put("/api/agents/me/presence", headers=people["viewer"],
                      json={"status": "available"}).status_code == 403
    assert client.get("/api/handoffs?status=nonsense", headers=people["ana"]).status_code == 422
    with session_scope() as session:
        verified_owner(session, email="owner@elsewhere.example", org="Elsewhere")
    stranger = api_login(client, "owner@elsewhere.example")
    assert client.get("/api/handoffs", headers=stranger).json() == []
    assert client.post(f"/api/handoffs/{handoff_id}/accept", headers=stranger).status_code == 404
    assert client.post(f"/api/handoffs/{handoff_id}/complete", headers=stranger,
                       json={"disposition": "no_answer"}).status_code == 404
