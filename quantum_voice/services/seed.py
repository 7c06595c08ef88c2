"""Demo data for a fresh install: one organisation, its owner and a live campaign whose knowledge base holds the
building's brochure (processed by the app's worker when it starts), so demo calls can answer questions."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.security import hash_password
from quantum_voice.models.accounts import Membership, Organization, Role, User
from quantum_voice.models.campaigns import CampaignStatus
from quantum_voice.services.onboarding import new_campaign
from quantum_voice.services.tenancy import OrgRepository, Scope

log = logging.getLogger("quantum_voice.seed")

DEMO_ORGANIZATION = "Harbor View Residences"
DEMO_BROCHURE = Path(__file__).resolve().parents[1] / "seed_data" / "harbor_view_brochure.md"


def seed_demo(session: Session, settings: Settings | None = None) -> bool:
    """Seed only an empty database (no organisation yet). Returns whether it seeded."""
    settings = settings or get_settings()
    if session.exec(select(Organization)).first() is not None:
        return False
    now = utcnow()
    org = Organization(name=DEMO_ORGANIZATION, slug="harbor-view", industry="real_estate",
                       onboarding_completed_at=now)
    user = User(email=settings.demo_email.lower(), full_name="Demo Owner",
                password_hash=hash_password(settings.demo_password.get_secret_value()), email_verified_at=now)
    session.add(org)
    session.add(user)
    session.flush()
    session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER.value))
    repo = OrgRepository(session, Scope(user_id=user.id, organization_id=org.id, role=Role.OWNER.value, via="system"))
    campaign = new_campaign(repo, org, "Spring Open House")
    campaign.description = "Callers from yard signs and flyers ask about the new 2- and 3-bedroom homes."
    campaign.target_audience = "First-time buyers and families looking in the harbour district"
    campaign.status = CampaignStatus.LIVE.value
    if campaign.knowledge_base_id is not None:
        from quantum_voice.services.knowledge import documents

        documents.upload_document(repo, campaign.knowledge_base_id, DEMO_BROCHURE.name, DEMO_BROCHURE.read_bytes())
    session.flush()
    log.info("seeded demo organisation %r with owner %s", org.name, user.email)
    return True
