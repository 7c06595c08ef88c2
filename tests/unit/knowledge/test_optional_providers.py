"""The optional LLM rephraser, Tavily web search and Gemini File Search, against local fakes speaking their wire
formats."""

import time

import pytest

from quantum_voice.core.config import reset_settings
from quantum_voice.core.resilience import OPEN
from quantum_voice.services.knowledge.answering import Answer, Citation
from quantum_voice.services.knowledge.filesearch import GROUNDED_CONFIDENCE, configured_file_search
from quantum_voice.services.knowledge.rephrasing import NOT_FOUND, configured_rephraser
from quantum_voice.services.knowledge.retrieval import Passage
from quantum_voice.services.knowledge.websearch import claim_web_search, configured_web_search
from tests.unit.knowledge.fake_providers import fake  # noqa: F401  (the fixture)

PASSAGE = Passage(7, 10, "brochure.pdf", "Fees. The HOA fee is $450 per month and covers water and trash.", 1,
                  "Fees", 0.6, 0.5, 0.8, 0.03)
EXTRACTIVE = Answer("The HOA fee is $450 per month and covers water and trash.", 0.81,
                    [Citation(10, "brochure.pdf", 1, "Fees", 7)])


@pytest.fixture
def llm(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("KNOWLEDGE_REPHRASE_MODEL", "fake-model")
    monkeypatch.setenv("KNOWLEDGE_REPHRASE_TIMEOUT_SECONDS", "0.5")
    reset_settings()
    return configured_rephraser()


@pytest.fixture
def web(fake, monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_WEB_FALLBACK", "true")
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-test")
    monkeypatch.setenv("TAVILY_BASE_URL", fake.url)
    monkeypatch.setenv("KNOWLEDGE_WEB_TIMEOUT_SECONDS", "0.5")
    reset_settings()
    return configured_web_search()


@pytest.fixture
def gemini(fake, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test")
    monkeypatch.setenv("KNOWLEDGE_GEMINI_STORE", "fileSearchStores/harbor-view")
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("KNOWLEDGE_GEMINI_TIMEOUT_SECONDS", "0.5")
    reset_settings()
    return configured_file_search()


def test_providers_are_off_by_default(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "KNOWLEDGE_REPHRASE_MODEL", "TAVILY_API_KEY",
                "KNOWLEDGE_WEB_FALLBACK", "GEMINI_API_KEY", "KNOWLEDGE_GEMINI_STORE", "GEMINI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    assert configured_rephraser() is None and configured_web_search() is None and configured_file_search() is None
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")  # a key alone does not switch rephrasing on
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-test")  # nor does a Tavily key switch the web fallback on
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test")  # nor a Gemini key File Search, without a store
    reset_settings()
    assert configured_rephraser() is None and configured_web_search() is None and configured_file_search() is None
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("KNOWLEDGE_GEMINI_STORE", "fileSearchStores/harbor-view")  # nor a store without a key
    reset_settings()
    assert configured_file_search() is None


def test_the_rephraser_sends_the_passages_and_keeps_citations_and_confidence(llm, fake):
    answer = llm.rephrase("How much is the HOA fee?", [PASSAGE], EXTRACTIVE)
    assert answer.text == fake.reply and answer.source == "llm"
    assert answer.citations == EXTRACTIVE.citations and answer.confidence == EXTRACTIVE.confidence
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["headers"]["authorization"] == "Bearer sk-test"
    body = request["json"]
    assert body["model"] == "fake-model" and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and "only" in system["content"] and NOT_FOUND in system["content"]
    assert PASSAGE.text in user["content"] and "How much is the HOA fee?" in user["content"]


def test_the_rephraser_says_not_found_when_the_model_finds_no_answer(llm, fake):
    fake.reply = NOT_FOUND
    assert llm.rephrase("Can I keep a horse?", [PASSAGE], EXTRACTIVE) is None


def test_a_server_error_falls_back_to_the_extractive_answer(llm, fake):
    fake.mode = "error"
    assert llm.rephrase("How much is the HOA fee?", [PASSAGE], EXTRACTIVE) is EXTRACTIVE
    assert len(fake.requests) == 1  # no retries: the caller is waiting on the phone


def test_a_hanging_server_times_out_and_falls_back(llm, fake):
    fake.mode = "hang"
    started = time.monotonic()
    assert llm.rephrase("How much is the HOA fee?", [PASSAGE], EXTRACTIVE) is EXTRACTIVE
    assert time.monotonic() - started < 3


def test_five_failures_open_the_circuit_and_stop_calling_the_endpoint(llm, fake):
    fake.mode = "error"
    for _ in range(6):
        assert llm.rephrase("How much is the HOA fee?", [PASSAGE], EXTRACTIVE) is EXTRACTIVE
    assert len(fake.requests) == 5 and llm.breaker.state == OPEN


def test_q_and_a_answers_are_never_rephrased(llm, fake):
    pair = Answer("It is $450 a month.", 0.95, [Citation(None, "Q&A", qna_pair_id=3)], source="qna")
    assert llm.rephrase("How much is the HOA fee?", [PASSAGE], pair) is pair and not fake.requests


def test_the_web_search_answers_from_tavily_and_cites_the_page(web, fake):
    answer = web.answer("What is the weather tomorrow?")
    assert answer.source == "web" and answer.text == fake.web_answer and answer.confidence == 0.91
    citation = answer.citations[0]
    assert citation.url == citation.document_name == "https://example.org/weather"
    assert citation.section == "Harbor View weather" and citation.document_id is None
    request = fake.requests[0]
    assert request["path"] == "/search" and request["headers"]["authorization"] == "Bearer tvly-test"
    assert request["json"]["query"] == "What is the weather tomorrow?" and request["json"]["max_results"] == 3


def test_without_a_tavily_answer_the_top_result_is_read(web, fake):
    fake.web_answer = None
    assert web.answer("Weather?").text == "Tomorrow will be sunny with a high of 24 degrees. Light wind."


def test_web_search_failures_are_no_answer(web, fake):
    fake.mode = "error"
    assert web.answer("Weather?") is None
    fake.mode = "hang"
    started = time.monotonic()
    assert web.answer("Weather?") is None and time.monotonic() - started < 3
    fake.mode, fake.web_results = "ok", []
    assert web.answer("Weather?") is None


def test_the_web_is_claimed_once_per_conversation_and_never_without_one():
    assert claim_web_search(41) and not claim_web_search(41) and claim_web_search(42)
    assert not claim_web_search(None)


def test_gemini_file_search_answers_from_the_store_and_cites_its_grounding_chunks(gemini, fake):
    answer = gemini.answer("Can I keep a dog?", [])
    assert answer.source == "gemini" and answer.text == fake.gemini_reply
    assert answer.confidence == GROUNDED_CONFIDENCE == 0.6
    assert answer.citations == [Citation(None, "pet-policy.pdf", 2)]
    request = fake.requests[0]
    assert request["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request["headers"]["x-goog-api-key"] == "gemini-test"
    body = request["json"]
    assert body["contents"][0]["parts"][0]["text"] == "Can I keep a dog?"
    assert NOT_FOUND in body["systemInstruction"]["parts"][0]["text"]
    file_search = body["tools"][0]["fileSearch"]  # the SDK sends the store list under its snake_case name
    stores = file_search.get("fileSearchStoreNames") or file_search.get("file_search_store_names")
    assert stores == ["fileSearchStores/harbor-view"]
    assert not (file_search.get("metadataFilter") or file_search.get("metadata_filter"))  # the whole store


def test_gemini_file_search_of_one_knowledge_base_searches_only_its_copies(gemini, fake):
    configured_file_search(knowledge_base_id=7).answer("Can I keep a dog?")
    file_search = fake.requests[0]["json"]["tools"][0]["fileSearch"]
    assert (file_search.get("metadataFilter") or file_search.get("metadata_filter")) == "knowledge_base_id = 7"


def test_gemini_citations_are_one_per_document_and_keep_web_uris(gemini, fake):
    fake.gemini_chunks = [
        {"retrievedContext": {"title": "pet-policy.pdf", "text": "a", "pageNumber": 2}},
        {"retrievedContext": {"title": "pet-policy.pdf", "text": "b", "pageNumber": 2}},
        {"retrievedContext": {"title": "faq", "uri": "https://example.org/faq", "text": "c"}},
        {"web": {"uri": "https://elsewhere.example", "title": "not from the store"}}]
    citations = gemini.answer("Can I keep a dog?").citations
    assert [(c.document_name, c.page, c.url) for c in citations] == [
        ("pet-policy.pdf", 2, None), ("faq", None, "https://example.org/faq")]


def test_an_ungrounded_or_not_found_gemini_reply_is_no_answer(gemini, fake):
    fake.gemini_chunks = []
    assert gemini.answer("Can I keep a dog?") is None
    fake.gemini_chunks, fake.gemini_reply = [{"retrievedContext": {"title": "x.pdf", "text": "y"}}], NOT_FOUND
    assert gemini.answer("Can I keep a horse?") is None


def test_gemini_failures_are_no_answer_within_the_timeout(gemini, fake):
    fake.mode = "error"
    assert gemini.answer("Can I keep a dog?") is None
    assert len(fake.requests) == 1  # no retries
    fake.mode = "hang"
    started = time.monotonic()
    assert gemini.answer("Can I keep a dog?") is None and time.monotonic() - started < 3


def test_five_gemini_failures_open_its_circuit(gemini, fake):
    fake.mode = "error"
    for _ in range(6):
        assert gemini.answer("Can I keep a dog?") is None
    assert len(fake.requests) == 5 and gemini.breaker.state == OPEN
