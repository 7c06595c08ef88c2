"""The RAG Answer node on the real knowledge service: a brochure uploaded to the campaign's knowledge base,
processed by the worker, answering a caller (SQLite and PostgreSQL, the real embedding model)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.services import campaigns, conversations
from quantum_voice.services.flows.knowledge_adapter import ServiceKnowledgeSearch, service_knowledge_search
from quantum_voice.services.knowledge import documents
from quantum_voice.services.knowledge.answering import sentence_vectors
from quantum_voice.services.knowledge.vectors import matrix_cache
from quantum_voice.worker import build_worker
from tests.factories import repo_for, verified_owner
from tests.unit.knowledge import files


@pytest.fixture(autouse=True)
def _fresh_knowledge_caches() -> Iterator[None]:
    matrix_cache.clear()
    sentence_vectors.clear()
    yield
    matrix_cache.clear()


@pytest.fixture
def campaign_with_brochure(engine) -> tuple[int, int, int]:
    """(owner id, campaign id, knowledge base id) with the brochure processed and searchable."""
    with session_scope() as session:
        user, _ = verified_owner(session)
        repo = repo_for(session, user)
        campaign = campaigns.create_campaign(repo, name="Spring Open House")
        documents.upload_document(repo, campaign.knowledge_base_id, "brochure.md", files.BROCHURE_MD.encode())
        ids = user.id, campaign.id, campaign.knowledge_base_id
    build_worker().run_pending()
    return ids


def test_the_adapter_returns_the_best_answer_with_citations(campaign_with_brochure):
    _, _, kb_id = campaign_with_brochure
    with session_scope() as session:
        org_id = session.exec(select(Campaign)).one().organization_id
        search = service_knowledge_search(session)
        assert isinstance(search, ServiceKnowledgeSearch)
        found = search.search(organization_id=org_id, knowledge_base_id=kb_id, question="How much is the HOA fee?",
                              threshold=0.5)
        assert "$450" in found.text and found.confidence >= 0.5
        assert found.citations and found.citations[0].startswith("brochure")
        unsure = search.search(organization_id=org_id, knowledge_base_id=kb_id,
                               question="What is the weather forecast for tomorrow?", threshold=0.5)
        assert unsure is None or unsure.confidence < 0.5
        _, other = verified_owner(session, email="eve@example.com", org="Elsewhere")
        assert search.search(organization_id=other.id, knowledge_base_id=kb_id,
                             question="How much is the HOA fee?", threshold=0.5) is None  # not theirs


def test_a_caller_gets_answers_from_the_uploaded_brochure(campaign_with_brochure):
    owner_id, campaign_id, kb_id = campaign_with_brochure
    with session_scope() as session:
        repo = repo_for(session, session.get(User, owner_id))
        result = conversations.simulate(repo, campaign_id, [
            "Hi, I'm Ana, ana@example.com", "yes", "How much is the HOA fee?", "Can I keep a dog?", "bye"])
    answers = [t.agent for t in result.turns]
    assert "$450" in answers[3] and "dog" in answers[4].lower()
    with session_scope() as session:
        logged = session.exec(select(KnowledgeQuery).where(KnowledgeQuery.knowledge_base_id == kb_id)).all()
    assert {q.conversation_id for q in logged} == {result.conversation_id}
    assert any(q.answered for q in logged)
