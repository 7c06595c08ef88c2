"""WS /api/handoffs/{id}/audio, the agent's page's side of the audio bridge: who is refused and why (not signed in,
another site's page, a viewer, another organisation, a hand-off not accepted or accepted by someone else, a call
that ended or is on no sidecar, a sidecar that cannot be reached), and the whole chain — the caller on the app's
call socket, the agent on this one, a sidecar in its own thread — carrying each one's voice to the other until the
hand-off is completed or the call ends."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from agent.heartbeat import report_heartbeat
from quantum_voice.api import create_api, handoff_audio
from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.system import VoiceWorker
from quantum_voice.services import accounts
from quantum_voice.services.public_calls import email_gate
from tests.factories import api_login, api_member, api_owner, verified_owner
from tests.integration.agent.support import SidecarThread, brochure_campaign, is_agent, sqlite_only
from tests.integration.agent.test_agent_audio_bridge import AGENT_HZ, CALLER_HZ, CHUNK, has_tone, tone
from tests.integration.agent.test_socket_transport import receive_until
from tests.integration.flows.test_conversations import new_campaign
from tests.integration.handoffs.support import ask_for_person, change

OWN_PAGE = {"Origin": "http://testserver"}


@pytest.fixture
def client(engine) -> TestClient:
    return TestClient(create_api())


def sign_in_with_cookie(client: TestClient, email: str) -> None:
    """``client`` holds ``email``'s sign-in cookie, as the agent's browser does."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        ticket = accounts.create_web_ticket(session, user)
    assert client.get(f"/api/auth/session?ticket={ticket}", follow_redirects=False).status_code == 303


def refusal(client: TestClient, handoff_id: int, headers: dict[str, str] | None = None) -> tuple[dict, int]:
    with client.websocket_connect(f"/api/handoffs/{handoff_id}/audio", headers=headers or {}) as ws:
        answer = ws.receive_json()
        closed = ws.receive()
    return answer, closed.get("code")


def test_the_agents_audio_socket_refuses_whoever_may_not_hear_the_caller_and_says_why(client):
    people = {"owner": api_owner(client), "ana": api_member(client, "agent", "ana@team.example"),
              "bo": api_member(client, "agent", "bo@team.example"),
              "viewer": api_member(client, "viewer", "vi@team.example")}
    with session_scope() as session:
        owner_id = session.exec(select(User).where(User.email == "owner@example.com")).one().id
        verified_owner(session, email="owner@elsewhere.example", org="Elsewhere")
    handoff_id = ask_for_person(owner_id, new_campaign(owner_id), "caller@example.com").id
    stranger = api_login(client, "owner@elsewhere.example")

    nobody = refusal(client, handoff_id, OWN_PAGE)
    viewer = refusal(client, handoff_id, people["viewer"])
    elsewhere = refusal(client, handoff_id, stranger)
    missing = refusal(client, 999_999, people["ana"])
    waiting = refusal(client, handoff_id, people["ana"])
    assert client.post(f"/api/handoffs/{handoff_id}/accept", headers=people["ana"]).status_code == 200
    someone_else = refusal(client, handoff_id, people["bo"])
    no_sidecar = refusal(client, handoff_id, people["ana"])  # a call the simulator ran: on no voice sidecar
    with session_scope() as session:
        session.add(VoiceWorker(id="gone:1", host="gone", media_url="http://127.0.0.1:9",
                                last_heartbeat_at=utcnow()))
        conversation = session.get(Conversation, session.get(Handoff, handoff_id).conversation_id)
        conversation.worker_id = "gone:1"
        session.add(conversation)
    unreachable = refusal(client, handoff_id, people["ana"])
    with session_scope() as session:
        session.get(Conversation, session.get(Handoff, handoff_id).conversation_id).status = "ended"
    hung_up = refusal(client, handoff_id, people["ana"])

    assert nobody == ({"type": "error", "status": 401, "code": "not_authenticated",
                       "message": nobody[0]["message"]}, 1008)
    assert viewer[0]["status"] == 403 and viewer[0]["code"] == "forbidden" and viewer[1] == 1008
    assert elsewhere[0]["status"] == 404 and missing[0]["status"] == 404
    assert waiting[0]["status"] == 409 and waiting[0]["code"] == "handoff_not_accepted"
    assert someone_else[0]["status"] == 403 and someone_else[0]["code"] == "not_your_call"
    assert no_sidecar[0]["status"] == 409 and no_sidecar[0]["code"] == "call_not_bridgeable"
    assert unreachable[0]["status"] == 503 and unreachable[0]["code"] == "sidecar_unavailable"
    assert unreachable[1] == 1011, "try again later"
    assert hung_up[0]["status"] == 409 and hung_up[0]["code"] == "call_ended"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Origin": "http://testserver:4000"}, {}])
def test_a_page_on_another_site_cannot_open_the_agents_audio_with_the_sign_in_cookie(client, headers):
    with session_scope() as session:
        owner, _ = verified_owner(session)
        owner_id = owner.id
    handoff_id = ask_for_person(owner_id, new_campaign(owner_id), "caller@example.com").id
    sign_in_with_cookie(client, "owner@example.com")

    hijacked = refusal(client, handoff_id, headers)
    own_page = refusal(client, handoff_id, OWN_PAGE)  # gets past the origin: the hand-off is only waiting

    assert hijacked[0]["status"] == 403 and hijacked[0]["code"] == "cross_site_request" and hijacked[1] == 1008
    assert own_page[0]["status"] == 409 and own_page[0]["code"] == "handoff_not_accepted"


def tone_chunks(ws, hz: int, need: int, timeout: float = 30.0) -> tuple[int, list[dict]]:
    """Audio from the socket until ``need`` chunks carry the tone: (how many did, the text messages on the way)."""
    deadline, found, texts = time.monotonic() + timeout, 0, []
    while found < need and time.monotonic() < deadline:
        message = ws.receive()
        if message.get("bytes") is not None:
            found += has_tone(message["bytes"], hz)
        elif message.get("text") is not None:
            texts.append(json.loads(message["text"]))
        else:
            break
    return found, texts


def speak(ws, samples: np.ndarray) -> None:
    began = time.monotonic()
    for sent, start in enumerate(range(0, len(samples), CHUNK), start=1):
        ws.send_bytes(samples[start:start + CHUNK].tobytes())
        time.sleep(max(0.0, began + sent * 0.02 - time.monotonic()))


@sqlite_only
def test_the_app_bridges_the_agent_who_took_the_caller_until_the_handoff_or_the_call_ends(engine, voice,
                                                                                            monkeypatch):
    monkeypatch.setattr(handoff_audio, "HANDOFF_CHECK_SECONDS", 0.2)
    campaign_id = brochure_campaign()
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.status, slug, org_id = "live", campaign.slug, campaign.organization_id
        owner_id = session.exec(select(User).where(User.email == "owner@example.com")).one().id
    with session_scope() as session:
        ticket = email_gate.open_gate(session, slug, email="ana@example.com", consent=True, ip="203.0.113.7",
                                      user_agent="test", page_opened_at=utcnow().timestamp() - 5)
    sidecar = SidecarThread(voice)
    report_heartbeat("media-host:1", active_calls=0, capacity=4, media_url=sidecar.server.url)
    client = TestClient(create_api())
    sign_in_with_cookie(client, "owner@example.com")
    try:
        with client.websocket_connect(f"/api/public/calls/socket?ticket={ticket.token}") as caller:
            started = caller.receive_json()
            receive_until(caller, is_agent(0))
            receive_until(caller, lambda m: m == {"type": "agent_state", "state": "listening"})
            with session_scope() as session:
                handoff = Handoff(organization_id=org_id, conversation_id=started["conversation_id"],
                                  reason="request", status="accepted", assigned_user_id=owner_id,
                                  accepted_at=utcnow() - timedelta(seconds=1))
                session.add(handoff)
                session.flush()
                handoff_id = handoff.id
            url = f"/api/handoffs/{handoff_id}/audio"
            with client.websocket_connect(url, headers=OWN_PAGE) as agent:
                joined = agent.receive_json()
                speak(agent, tone(AGENT_HZ, 1.0))
                caller_heard, _ = tone_chunks(caller, AGENT_HZ, 40)
                speak(caller, tone(CALLER_HZ, 1.0))
                agent_heard, _ = tone_chunks(agent, CALLER_HZ, 40)
                change(handoff_id, status="completed")
                handoff_over = receive_until(agent, lambda m: m["type"] == "ended")[0][-1]
            change(handoff_id, status="accepted")
            with client.websocket_connect(url, headers=OWN_PAGE) as agent:
                rejoined = agent.receive_json()
                caller.send_text(json.dumps({"type": "hangup"}))
                ended, _ = receive_until(agent, lambda m: m["type"] == "ended")
                closed = agent.receive()
    finally:
        sidecar.stop()

    assert joined == {"type": "joined", "conversation_id": started["conversation_id"]} == rejoined
    assert caller_heard >= 40, "the caller heard the agent through the app and the sidecar"
    assert agent_heard >= 40, "the agent heard the caller"
    assert handoff_over == {"type": "ended", "reason": "handoff_completed"}, "a completed hand-off stops the audio"
    assert ended[-1] == {"type": "ended", "reason": "caller_hung_up"}
    assert closed["type"] == "websocket.close"
