"""Asking with the optional providers switched on: LLM rephrasing, Gemini File Search and the once-per-conversation
web fallback, against local fakes of the OpenAI, Gemini and Tavily APIs. None is needed: failures leave the
answer as it was."""

import time

import pytest
from sqlmodel import select

import quantum_voice.models as m
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.services.knowledge import questions
from quantum_voice.services.knowledge.rephrasing import NOT_FOUND
from tests.integration.knowledge.conftest import acting_as, new_knowledge_base, new_owner, run_jobs, upload
from tests.unit.knowledge import files
from tests.unit.knowledge.fake_providers import fake  # noqa: F401  (the fixture)

UNANSWERABLE = "What is the weather forecast for tomorrow?"


@pytest.fixture
def brochure_base(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    upload(owner, kb, "brochure.pdf", files.markdown_to_pdf(files.BROCHURE_MD))
    run_jobs()
    return owner, kb


@pytest.fixture
def rephrasing_on(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/v1")  # a local OpenAI-compatible server needs no key
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("KNOWLEDGE_REPHRASE_MODEL", "fake-model")
    monkeypatch.setenv("KNOWLEDGE_REPHRASE_TIMEOUT_SECONDS", "0.5")
    reset_settings()


@pytest.fixture
def web_fallback_on(fake, monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_WEB_FALLBACK", "true")
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-test")
    monkeypatch.setenv("TAVILY_BASE_URL", fake.url)
    monkeypatch.setenv("KNOWLEDGE_WEB_TIMEOUT_SECONDS", "0.5")
    reset_settings()


@pytest.fixture
def gemini_on(fake, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test")
    monkeypatch.setenv("KNOWLEDGE_GEMINI_STORE", "fileSearchStores/harbor-view")
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("KNOWLEDGE_GEMINI_TIMEOUT_SECONDS", "0.5")
    reset_settings()


def ask(owner: int, kb: int, question: str, **options):
    with acting_as(owner) as repo:
        return questions.ask_as(repo, kb, question, **options)


def new_conversation(owner: int, kb: int, slug: str = "open-house") -> int:
    with acting_as(owner) as repo:
        org = repo.scope.organization_id
        flow = repo.add(m.Flow(organization_id=org, name="Flow", draft={"nodes": [], "edges": []}))
        version = repo.add(m.FlowVersion(organization_id=org, flow_id=flow.id, version=1, definition={},
                                         checksum="x", published_at=utcnow()))
        campaign = repo.add(m.Campaign(organization_id=org, name="C", slug=slug, flow_id=flow.id,
                                       knowledge_base_id=kb))
        return repo.add(m.Conversation(organization_id=org, campaign_id=campaign.id, flow_version_id=version.id)).id


def test_a_grounded_answer_is_rephrased_from_the_passages_keeping_its_sources(brochure_base, rephrasing_on, fake):
    owner, kb = brochure_base
    found = ask(owner, kb, "Does my home come with a parking space?")
    assert found.answered and found.answer.source == "llm" and found.answer.text == fake.reply
    assert found.answer.citations[0].document_name == "brochure.pdf"
    assert found.answer.confidence == found.candidate.confidence >= found.threshold
    body = fake.requests[0]["json"]
    assert "one covered parking space" in body["messages"][1]["content"]


def test_rephrasing_is_skipped_below_the_threshold(brochure_base, rephrasing_on, fake):
    owner, kb = brochure_base
    assert not ask(owner, kb, UNANSWERABLE).answered and not fake.requests


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_a_failing_llm_leaves_the_extractive_answer(brochure_base, rephrasing_on, fake, mode):
    owner, kb = brochure_base
    fake.mode = mode
    found = ask(owner, kb, "Does my home come with a parking space?")
    assert found.answered and found.answer.source == "extractive" and "one covered parking space" in found.answer.text


def test_when_the_llm_finds_no_answer_in_the_passages_the_question_is_unanswered(brochure_base, rephrasing_on, fake):
    owner, kb = brochure_base
    fake.reply = NOT_FOUND
    found = ask(owner, kb, "Does my home come with a parking space?")
    assert not found.answered and found.candidate.source == "extractive"
    with session_scope() as session:
        assert not session.exec(select(KnowledgeQuery)).one().answered


def test_the_web_answers_once_per_conversation_what_the_knowledge_base_cannot(brochure_base, web_fallback_on, fake):
    owner, kb = brochure_base
    conversation = new_conversation(owner, kb)
    found = ask(owner, kb, UNANSWERABLE, conversation_id=conversation)
    assert found.answered and found.answer.source == "web" and found.answer.text == fake.web_answer
    assert found.answer.citations[0].url == "https://example.org/weather"
    assert not ask(owner, kb, "Will it rain on Sunday?", conversation_id=conversation).answered
    assert fake.paths() == ["/search"]
    another_call = new_conversation(owner, kb, slug="second-call")
    assert ask(owner, kb, UNANSWERABLE, conversation_id=another_call).answer.source == "web"
    with session_scope() as session:  # analytics still show the knowledge base's gap
        assert not any(q.answered for q in session.exec(select(KnowledgeQuery)).all())


def test_the_web_is_not_searched_when_the_knowledge_base_answers_or_without_a_conversation(
        brochure_base, web_fallback_on, fake):
    owner, kb = brochure_base
    conversation = new_conversation(owner, kb)
    found = ask(owner, kb, "Does my home come with a parking space?", conversation_id=conversation)
    assert found.answer.source == "extractive"
    assert not ask(owner, kb, UNANSWERABLE).answered
    assert not fake.requests


def test_a_failing_web_search_is_not_found(brochure_base, web_fallback_on, fake):
    owner, kb = brochure_base
    fake.mode = "error"
    assert not ask(owner, kb, UNANSWERABLE, conversation_id=new_conversation(owner, kb)).answered


GEMINI_PATH = "/v1beta/models/gemini-2.5-flash:generateContent"


def test_gemini_file_search_answers_what_the_knowledge_base_cannot_citing_its_grounding(
        brochure_base, gemini_on, fake):
    owner, kb = brochure_base
    found = ask(owner, kb, UNANSWERABLE)
    assert found.answered and found.answer.source == "gemini" and found.answer.text == fake.gemini_reply
    assert found.answer.confidence == 0.6 >= found.threshold and found.candidate is found.answer
    assert [(c.document_name, c.page) for c in found.answer.citations] == [("pet-policy.pdf", 2)]
    assert fake.paths() == [GEMINI_PATH]
    with session_scope() as session:  # analytics still show the knowledge base's own gap
        assert not session.exec(select(KnowledgeQuery)).one().answered


def test_gemini_is_not_asked_when_the_knowledge_base_answers_nor_trusted_above_its_confidence(
        brochure_base, gemini_on, fake):
    owner, kb = brochure_base
    found = ask(owner, kb, "Does my home come with a parking space?")
    assert found.answer.source == "extractive" and not fake.requests
    assert not ask(owner, kb, UNANSWERABLE, threshold=0.7).answered  # a strict node never takes 0.6
    assert fake.paths() == [GEMINI_PATH]


def test_gemini_is_tried_before_the_web(brochure_base, gemini_on, web_fallback_on, fake):
    owner, kb = brochure_base
    found = ask(owner, kb, UNANSWERABLE, conversation_id=new_conversation(owner, kb))
    assert found.answer.source == "gemini" and fake.paths() == [GEMINI_PATH]


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_a_failing_gemini_leaves_the_local_answer_and_the_web_fallback(brochure_base, gemini_on, web_fallback_on,
                                                                        fake, mode):
    owner, kb = brochure_base
    fake.mode = mode
    started = time.monotonic()
    found = ask(owner, kb, UNANSWERABLE)  # no conversation: no web search either
    assert time.monotonic() - started < 5
    assert not found.answered and (found.candidate is None or found.candidate.source in ("extractive", "qna"))
    fake.mode = "ok"
    fake.gemini_chunks = []  # an ungrounded reply is no answer: the web is next
    found = ask(owner, kb, UNANSWERABLE, conversation_id=new_conversation(owner, kb))
    assert found.answer.source == "web" and fake.paths()[-2:] == [GEMINI_PATH, "/search"]


def test_gemini_is_off_by_default(brochure_base, fake, monkeypatch):
    for var in ("GEMINI_API_KEY", "KNOWLEDGE_GEMINI_STORE", "GEMINI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    owner, kb = brochure_base
    assert not ask(owner, kb, UNANSWERABLE).answered and not fake.requests
