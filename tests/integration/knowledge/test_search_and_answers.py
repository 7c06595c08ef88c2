"""Hybrid search, Q&A pairs first, answers with citations, the threshold, and question analytics."""

import pytest
from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import NotFound, PermissionDenied
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.services.knowledge import documents, qna, questions
from quantum_voice.services.knowledge.vectors import matrix_cache
from tests.integration.knowledge.conftest import (acting_as, new_knowledge_base, new_member, new_owner, run_jobs,
                                                  upload)
from tests.unit.knowledge import files


@pytest.fixture
def brochure_base(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    upload(owner, kb, "brochure.pdf", files.markdown_to_pdf(files.BROCHURE_MD))
    run_jobs()
    return owner, kb


def ask(owner: int, kb: int, question: str, **options):
    with acting_as(owner) as repo:
        return questions.ask_as(repo, kb, question, **options)


def test_a_question_gets_an_extractive_answer_with_its_source(brochure_base):
    owner, kb = brochure_base
    found = ask(owner, kb, "Does my home come with a parking space?")
    assert found.answered and "one covered parking space" in found.answer.text
    citation = found.answer.citations[0]
    assert citation.document_name == "brochure.pdf" and citation.page == 1 and citation.section.endswith("Parking")
    assert found.results and all(0 <= r.confidence <= 1 for r in found.results)
    assert found.results[0].document_name == "brochure.pdf"


def test_a_question_the_documents_cannot_answer_is_not_found(brochure_base):
    owner, kb = brochure_base
    found = ask(owner, kb, "What is the weather forecast for tomorrow?")
    assert not found.answered and found.answer is None
    assert found.candidate is None or found.candidate.confidence < found.threshold


def test_the_threshold_decides_answered_or_not(brochure_base):
    owner, kb = brochure_base
    assert ask(owner, kb, "How much is the HOA fee?", threshold=0.2).answered
    assert not ask(owner, kb, "How much is the HOA fee?", threshold=0.999).answered


def test_q_and_a_pairs_are_matched_first(brochure_base):
    owner, kb = brochure_base
    with acting_as(owner) as repo:
        pair = qna.create_pair(repo, kb, "How much is the HOA fee?", "It is $450 a month, water included.")
    found = ask(owner, kb, "how much is the hoa fee")
    assert found.answer.source == "qna" and found.answer.text == "It is $450 a month, water included."
    assert found.answer.citations[0].qna_pair_id == pair.id and found.answer.confidence > 0.9
    with acting_as(owner) as repo:
        qna.update_pair(repo, pair.id, enabled=False)
    assert ask(owner, kb, "how much is the hoa fee").answer.source == "extractive"


def test_every_question_is_logged_and_analytics_group_them(brochure_base):
    owner, kb = brochure_base
    for question in ("How much is the HOA fee?", "how much is the HOA fee", "Can I smoke a cigar in the gym?",
                     "What is the weather forecast for tomorrow?", "What is the weather forecast for tomorrow"):
        ask(owner, kb, question)
    with session_scope() as session:
        assert len(session.exec(select(KnowledgeQuery)).all()) == 5
    with acting_as(owner) as repo:
        top = questions.most_asked(repo, kb)
        assert (top[0].count, top[1].count) == (2, 2) and len(top) == 3
        unanswered = questions.unanswered(repo, kb)
        assert unanswered[0].question.startswith("What is the weather") and unanswered[0].count == 2
        qna.create_pair(repo, kb, unanswered[0].question, "We do not give weather forecasts.",
                        source="unanswered_question")
        assert all(not s.question.startswith("What is the weather") for s in questions.unanswered(repo, kb))


def test_search_by_campaign_uses_its_knowledge_base(brochure_base):
    owner, kb = brochure_base
    with acting_as(owner) as repo:
        campaign = repo.add(Campaign(organization_id=repo.scope.organization_id, name="Launch", slug="launch-x",
                                     knowledge_base_id=kb))
        assert documents.knowledge_base_of_campaign(repo, campaign.id).id == kb


def test_matrix_is_rebuilt_when_documents_change(brochure_base):
    owner, kb = brochure_base
    before = ask(owner, kb, "Where is the sales gallery?")
    upload(owner, kb, "tours.txt", b"Sales gallery\n\nThe sales gallery is at 20 Quay Street, open daily from 10 am.")
    run_jobs()
    after = ask(owner, kb, "Where is the sales gallery?")
    assert "20 Quay Street" in after.answer.text and not (before.answered and "Quay" in before.answer.text)
    with acting_as(owner) as repo:
        documents.delete_document(repo, documents.list_documents(repo, kb)[0].id)
    assert not any("Quay" in r.text for r in ask(owner, kb, "Where is the sales gallery?").results)


def test_organisations_never_see_each_others_knowledge(brochure_base):
    owner, kb = brochure_base
    stranger = new_owner("else@example.com", "Other Org")
    other_kb = new_knowledge_base(stranger, "Theirs")
    upload(stranger, other_kb, "theirs.md", b"# Secret\n\nThe secret launch price is $1 for the first buyer only.")
    run_jobs()
    with acting_as(stranger) as repo:
        with pytest.raises(NotFound):
            questions.ask_as(repo, kb, "How much is the HOA fee?")
        with pytest.raises(NotFound):
            qna.create_pair(repo, kb, "Q?", "A.")
    results = ask(owner, kb, "What is the secret launch price?").results
    assert all("secret" not in r.text.lower() for r in results)


def test_q_and_a_editing_needs_the_manage_permission(brochure_base):
    owner, kb = brochure_base
    agent = new_member(owner, "agent@example.com", "agent")
    with acting_as(agent) as repo:
        assert questions.ask_as(repo, kb, "How much is the HOA fee?").results
        with pytest.raises(PermissionDenied):
            qna.create_pair(repo, kb, "Q?", "A.")
    matrix_cache.clear()
