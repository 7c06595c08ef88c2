"""A person took the call but their audio is not on it (the agent's browser dropped, or never connected): after
``AGENT_ABSENT_SECONDS`` the sidecar gives the call back to the AI, which tells the caller it lost the connection to
the agent and carries on, instead of leaving the caller in silence. The real voice loop and a caller on the PCM
socket; the caller's request goes in as the voice loop hands a heard turn to the flow."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from sqlmodel import select

from agent.transports import browser_calls
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import Membership, User
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff
from quantum_voice.services.handoffs import presence, takeover
from quantum_voice.services.media import SIGNALLING_HEADER, signalling_key
from tests.factories import add_member
from tests.integration.agent.support import brochure_campaign, conversation, sqlite_only, started_server
from tests.integration.agent.test_socket_transport import SocketBrowser
from tests.integration.flows.test_conversations import acting, rows


def an_agent_online(campaign_id: int) -> int:
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        owner = session.exec(select(Membership).where(Membership.organization_id == campaign.organization_id,
                                                      Membership.role == "owner")).one()
        agent = add_member(session, session.get(User, owner.user_id), "alex@team.example", "agent")
        agent.full_name = "Alex Rivera"
        session.add(agent)
        agent_id = agent.id
    with acting(agent_id) as repo:
        presence.set_presence(repo, "available")
    return agent_id


def said(text: str):
    return lambda m: m.get("type") == "transcript" and m.get("speaker") == "agent" and text in m.get("text", "")


@sqlite_only
def test_a_call_without_the_agents_audio_goes_back_to_the_ai_which_tells_the_caller(engine, voice, monkeypatch):
    monkeypatch.setattr(browser_calls, "AGENT_ABSENT_SECONDS", 3.0)
    campaign_id = brochure_campaign()
    agent_id = an_agent_online(campaign_id)

    async def scenario():
        server = await started_server(voice)
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{server.url}/calls/socket", headers={SIGNALLING_HEADER: signalling_key()})
            await ws.send_str(json.dumps({"type": "start", "campaign_id": campaign_id, "setup": {}}))
            caller = SocketBrowser(ws)
            _, started = await caller.wait_for(lambda m: True, timeout=30)
            conversation_id = started["conversation_id"]
            try:
                await caller.wait_until_agent_listens()
                brain = server.calls.running(conversation_id).brain
                held = await brain.respond("can I talk to a real person please?")
                handoff_id = rows(Handoff, Handoff.conversation_id == conversation_id)[0].id

                def accept():
                    with acting(agent_id) as repo:
                        takeover.accept(repo, handoff_id)
                await asyncio.to_thread(accept)
                _, put_through = await caller.wait_for(said("putting you through to Alex"))
                _, lost = await caller.wait_for(said("lost the connection to Alex"))
                return conversation_id, handoff_id, held.text, put_through["text"], lost["text"]
            finally:
                await caller.close()
                await server.stop()

    conversation_id, handoff_id, held, put_through, lost = asyncio.run(scenario())
    assert held == "Let me find someone from the team for you. Please stay on the line."
    assert put_through == "I'm putting you through to Alex now."
    assert lost.startswith("I'm sorry, I've lost the connection to Alex. I'm back with you.")
    handoff = rows(Handoff, Handoff.id == handoff_id)[0]
    assert (handoff.status, handoff.disposition) == ("completed", "agent_disconnected")
    assert conversation(conversation_id).status in ("active", "ended")
