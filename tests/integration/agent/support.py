"""What the voice-loop tests share: a campaign with the brochure in its knowledge base (processed and ready), a
sidecar media server, and small readers of what a call left behind."""

from __future__ import annotations

import re

import pytest

from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import campaigns
from quantum_voice.services.knowledge import documents
from quantum_voice.worker import build_worker
from tests.factories import repo_for, verified_owner
from tests.unit.knowledge.files import BROCHURE_MD

# the whole voice loop is heavy: these tests run on SQLite only (the database code under them runs on both)
sqlite_only = pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", (text or "").lower()))


def conversation(conversation_id: int) -> Conversation:
    with session_scope() as session:
        return session.get(Conversation, conversation_id)


def is_agent(seq: int | None = None):
    """Matches the sidecar's transcript event of an agent turn (of turn ``seq``, if given)."""
    return lambda m: m["type"] == "transcript" and m["speaker"] == "agent" and (seq is None or m["seq"] == seq)


async def started_server(voice, *, capacity: int = 4, worker_id: str = "media-host:1"):
    """The sidecar's media server (signalling, WebRTC and the call socket) on an ephemeral port."""
    from agent.transports.signalling import MediaServer
    from agent.transports.webrtc import BrowserCalls

    server = MediaServer(BrowserCalls(voice, worker_id=worker_id, capacity=capacity))
    await server.start()
    return server


def brochure_campaign(org: str = "Harbor View Residences") -> int:
    with session_scope() as session:
        user, _ = verified_owner(session, org=org)
        repo = repo_for(session, session.get(User, user.id))
        campaign = campaigns.create_campaign(repo, name="Spring Open House", template="lead_capture_qa")
        documents.upload_document(repo, campaign.knowledge_base_id, "brochure.md", BROCHURE_MD.encode())
        campaign_id = campaign.id
    build_worker().run_pending()
    with session_scope() as session:
        assert session.get(Campaign, campaign_id).knowledge_base_id is not None
    return campaign_id
