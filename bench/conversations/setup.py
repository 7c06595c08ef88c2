"""Building what a business's calls run on: an organisation, a knowledge base holding its document (processed by
the real worker) and a campaign from the ``lead_capture_qa`` template, on a throw-away database.

Everything goes through the project's own services (the same ones the app uses), so the evaluation measures the
agent as a customer would get it, not a hand-assembled copy.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.conversations.material import Business

TEMPLATE = "lead_capture_qa"


@dataclass(frozen=True)
class BusinessSetup:
    business: Business
    organization_id: int
    knowledge_base_id: int
    campaign_id: int


@contextmanager
def temporary_database() -> Iterator[str]:
    """A migrated SQLite database in a temporary data dir, installed as the app's database for the duration.
    The environment is set before settings are read (as bench/knowledge.py does); it is restored afterwards."""
    saved = {k: os.environ.get(k) for k in ("DATA_DIR", "DATABASE_URL", "REDIS_URL")}
    with tempfile.TemporaryDirectory(prefix="qv-conversations-") as data_dir:
        os.environ["DATA_DIR"] = data_dir
        os.environ["DATABASE_URL"] = ""
        os.environ.pop("REDIS_URL", None)
        from quantum_voice.core import db as db_mod
        from quantum_voice.core.config import reset_settings
        from quantum_voice.core.migrate import upgrade_to_head

        reset_settings()
        db_mod._engine = None
        upgrade_to_head()
        try:
            yield data_dir
        finally:
            engine = db_mod._engine
            if engine is not None:
                engine.dispose()
            db_mod._engine = None
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            reset_settings()


def owner_repo(session, organization_id: int):
    """An owner-level repository for the organisation (the harness acts as the system, no user account)."""
    from quantum_voice.services.tenancy import OrgRepository, Scope

    return OrgRepository(session, Scope(user_id=None, organization_id=organization_id, role="owner", via="system"))


def build_business(business: Business) -> BusinessSetup:
    """Organisation → knowledge base with the document (processed) → campaign (flow published)."""
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.accounts import Organization
    from quantum_voice.models.knowledge import Document
    from quantum_voice.services import campaigns
    from quantum_voice.services.knowledge import documents
    from quantum_voice.worker import build_worker

    with session_scope() as session:
        org = Organization(name=business.name, slug=f"conv-{business.key.replace('_', '-')}-{random.randrange(10**6)}")
        session.add(org)
        session.flush()
        repo = owner_repo(session, org.id)
        kb = documents.create_knowledge_base(repo, f"{business.name} documents")
        documents.upload_document(repo, kb.id, business.document.name, business.document.read_bytes())
        organization_id, kb_id = org.id, kb.id
    build_worker().run_pending()
    with session_scope() as session:
        docs = session.exec(select(Document).where(Document.knowledge_base_id == kb_id)).all()
        failed = [(d.name, d.error) for d in docs if d.status != "ready"]
        if failed or not docs:
            raise RuntimeError(f"{business.key}: the document did not process: {failed}")
        campaign = campaigns.create_campaign(owner_repo(session, organization_id), name=business.name,
                                             knowledge_base_id=kb_id, template=TEMPLATE, publish=True)
        campaign_id = campaign.id
    return BusinessSetup(business, organization_id, kb_id, campaign_id)


@contextmanager
def acting(setup: BusinessSetup):
    """A fresh session (committed on exit) per use, as each API request or voice-sidecar turn has."""
    from quantum_voice.core.db import session_scope

    with session_scope() as session:
        yield owner_repo(session, setup.organization_id)


def consent_ticket(setup: BusinessSetup, email: str) -> int:
    """The consent record the call page's email gate writes (``email_gate.open_gate``) for a typed email."""
    import uuid

    from quantum_voice.models.calls import ConsentRecord
    from quantum_voice.models.campaigns import Campaign

    with acting(setup) as repo:
        campaign = repo.get(Campaign, setup.campaign_id)
        record = ConsentRecord(public_id=str(uuid.uuid4()), organization_id=setup.organization_id,
                               campaign_id=campaign.id, email=email, granted=True, wording=campaign.privacy_wording,
                               policy_version=campaign.privacy_policy_version, ip="127.0.0.1",
                               user_agent="bench.conversations")
        repo.session.add(record)
        repo.session.flush()
        return record.id
