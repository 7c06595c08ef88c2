"""A campaign with the brochure in its knowledge base, processed and ready, for voice-loop tests."""

from __future__ import annotations

from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import campaigns
from quantum_voice.services.knowledge import documents
from quantum_voice.worker import build_worker
from tests.factories import repo_for, verified_owner
from tests.unit.knowledge.files import BROCHURE_MD


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
