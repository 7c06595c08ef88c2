"""The File Search store adapter used by the sync, against a local fake of the store's API: uploads wait for the
indexing operation within a deadline, deletes treat 404 as done, failures count on the circuit breaker."""

import pytest

from quantum_voice.core.config import reset_settings
from quantum_voice.core.resilience import OPEN, CircuitOpen
from quantum_voice.services.knowledge.filesearch_sync import StoreDocuments, configured_store, web_text
from quantum_voice.services.knowledge.parsing import HEADING, TABLE, TEXT, Block, ParsedDocument
from tests.unit.knowledge.fake_filesearch_store import API_KEY, store  # noqa: F401  (the fixture)

STORE = "fileSearchStores/harbor-view"


class SteppingClock:
    """A monotonic clock that moves only when the adapter sleeps."""

    def __init__(self):
        self.now, self.sleeps = 100.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def documents(store, monkeypatch) -> StoreDocuments:
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("KNOWLEDGE_GEMINI_STORE", STORE)
    monkeypatch.setenv("GEMINI_BASE_URL", store.url)
    monkeypatch.setenv("KNOWLEDGE_GEMINI_SYNC_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("KNOWLEDGE_GEMINI_SYNC_WAIT_SECONDS", "10")
    reset_settings()
    return configured_store()


def test_the_sync_is_off_without_a_key_and_a_store(monkeypatch):
    for var in ("GEMINI_API_KEY", "KNOWLEDGE_GEMINI_STORE"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    assert configured_store() is None
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)  # a key alone switches nothing on
    reset_settings()
    assert configured_store() is None


def with_clock(documents: StoreDocuments, clock: SteppingClock) -> StoreDocuments:
    return StoreDocuments(documents.client, documents.store, documents.breaker,
                          wait_seconds=documents.wait_seconds, sleep=clock.sleep, clock=clock)


def test_an_upload_polls_its_operation_until_the_store_names_the_document(documents, store):
    clock = SteppingClock()
    store.pending_polls = 4  # the finalize reply and three reads say "not done yet"
    name = with_clock(documents, clock).upload(b"Pets: two per home.", display_name="pets.txt", mime_type="text/plain",
                            metadata={"document_id": 3})
    assert name in store.documents and store.documents[name].data == b"Pets: two per home."
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6]
    assert [c.split(" ")[0] for c in store.calls()] == ["POST"] * 2 + ["GET"] * 4
    assert store.requests[0]["headers"]["x-goog-upload-protocol"] == "resumable"
    assert store.requests[0]["headers"]["x-goog-upload-header-content-length"] == "19"


def test_an_upload_the_store_never_finishes_indexing_stops_at_the_deadline(documents, store):
    clock = SteppingClock()
    store.pending_polls = 1000
    with pytest.raises(TimeoutError, match="still indexing the file after 10 s"):
        with_clock(documents, clock).upload(b"x", display_name="x.txt", mime_type="text/plain", metadata={})
    assert sum(clock.sleeps) >= 10 and max(clock.sleeps) == 5.0


def test_deleting_a_missing_document_is_not_an_error(documents, store):
    name = store.add_document(STORE)
    assert documents.delete(name) is True and name not in store.documents
    assert documents.delete(name) is False
    assert documents.breaker.state != OPEN


def test_five_store_failures_open_the_sync_circuit(documents, store):
    store.mode = "error"
    for _ in range(5):
        with pytest.raises(Exception, match="500"):
            documents.delete(f"{STORE}/documents/abc")
    with pytest.raises(CircuitOpen):
        documents.delete(f"{STORE}/documents/abc")
    assert len(store.requests) == 5


def test_a_web_source_becomes_markdown_style_text():
    parsed = ParsedDocument([Block(HEADING, "Pricing", level=1), Block(TEXT, "The HOA fee is $450 a month."),
                             Block(HEADING, "Models", level=2), Block(TABLE, "Aster | 1 | $420,000"),
                             Block(TEXT, "  ")], title="Pricing | Harbor View")
    assert web_text(parsed) == "# Pricing\n\nThe HOA fee is $450 a month.\n\n## Models\n\nAster | 1 | $420,000\n"
    assert web_text(ParsedDocument([Block(TEXT, "Open daily.")], title="Tours")) == "# Tours\n\nOpen daily.\n"
