"""The optional Gemini File Search store kept in step with the documents, against a local fake of the store's API
(resumable uploads, long-running operations, document deletes), on SQLite and PostgreSQL."""

import logging
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core import jobs
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings, reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.knowledge import Chunk, Document, DocumentStatus, FileSearchStatus
from quantum_voice.services.knowledge import documents
from quantum_voice.worker import build_worker, rescue_abandoned_work
from tests.factories import PASSWORD
from tests.local_server import serving
from tests.integration.knowledge.conftest import acting_as, document, new_knowledge_base, new_owner, run_jobs, upload
from tests.unit.knowledge import files
from tests.unit.knowledge.fake_filesearch_store import API_KEY, store  # noqa: F401  (the fixture)

STORE = "fileSearchStores/harbor-view"
UPLOAD = f"POST /upload/v1beta/{STORE}:uploadToFileSearchStore"
PRICING = b"""<html><head><title>Pricing</title></head><body><main><h1>Pricing</h1>
<p>The Cedar three-bedroom home starts at $689,000. The HOA fee is $450 a month.</p></main></body></html>"""


@pytest.fixture
def sync_on(store, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("KNOWLEDGE_GEMINI_STORE", STORE)
    monkeypatch.setenv("GEMINI_BASE_URL", store.url)
    monkeypatch.setenv("KNOWLEDGE_GEMINI_SYNC_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("KNOWLEDGE_GEMINI_SYNC_WAIT_SECONDS", "5")
    reset_settings()


def sync_off(monkeypatch):
    for var in ("GEMINI_API_KEY", "KNOWLEDGE_GEMINI_STORE", "GEMINI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()


@pytest.fixture
def site(monkeypatch):
    """Web pages on 127.0.0.1 by path: (status, body)."""
    monkeypatch.setenv("KNOWLEDGE_FETCH_ALLOW_PRIVATE_NETWORKS", "true")
    reset_settings()
    pages = {"/robots.txt": (200, b"User-agent: *\nAllow: /\n"), "/pricing": (200, PRICING)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = pages.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    with serving(Handler) as url:
        yield url, pages


def uploaded_brochure(owner: int, kb: int, name: str = "brochure.pdf") -> tuple[int, bytes]:
    data = files.markdown_to_pdf(files.BROCHURE_MD + f"\n{name}\n")
    return upload(owner, kb, name, data), data


def delete_document(owner: int, document_id: int) -> None:
    with acting_as(owner) as repo:
        documents.delete_document(repo, document_id)


def reprocess(owner: int, document_id: int) -> None:
    with acting_as(owner) as repo:
        documents.reprocess_document(repo, document_id)


def test_a_ready_upload_is_copied_with_its_name_and_ids(engine, sync_on, store):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id, data = uploaded_brochure(owner, kb)
    run_jobs()
    doc = document(doc_id)
    assert doc.status == DocumentStatus.READY.value
    assert (doc.filesearch_status, doc.filesearch_error) == (FileSearchStatus.SYNCED.value, None)
    copy = store.documents[doc.filesearch_document]
    assert copy.data == data and copy.display_name == "brochure.pdf" and copy.mime_type == "application/pdf"
    assert (copy.metadata("document_id"), copy.metadata("knowledge_base_id")) == (doc_id, kb)
    assert copy.metadata("organization_id") == doc.organization_id
    operation = f"GET /v1beta/{copy.name.split('/documents/')[0]}/upload/operations/"
    assert [c if not c.startswith(operation) else operation for c in store.calls()] == [UPLOAD, UPLOAD, operation]


def test_a_web_source_is_copied_as_the_text_read_from_it(engine, sync_on, store, site):
    url, _ = site
    owner = new_owner()
    kb = new_knowledge_base(owner)
    with acting_as(owner) as repo:
        doc_id = documents.add_web_source(repo, kb, f"{url}/pricing").id
    run_jobs()
    doc = document(doc_id)
    assert doc.filesearch_status == FileSearchStatus.SYNCED.value
    copy = store.documents[doc.filesearch_document]
    assert copy.mime_type == "text/plain" and copy.display_name == "Pricing" == doc.name
    text = copy.data.decode()
    assert text.startswith("# Pricing\n") and "The Cedar three-bedroom home starts at $689,000." in text
    assert "<p>" not in text


def test_reprocessing_replaces_the_copy(engine, sync_on, store):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id, data = uploaded_brochure(owner, kb)
    run_jobs()
    first = document(doc_id).filesearch_document
    store.requests.clear()
    reprocess(owner, doc_id)
    assert document(doc_id).filesearch_status == FileSearchStatus.SYNCED.value  # the old copy serves meanwhile
    run_jobs()
    doc = document(doc_id)
    assert doc.filesearch_status == FileSearchStatus.SYNCED.value and doc.filesearch_document != first
    assert store.deleted == [first] and list(store.documents) == [doc.filesearch_document]
    assert store.documents[doc.filesearch_document].data == data
    assert store.calls()[:2] == [f"DELETE /v1beta/{first}", UPLOAD]


def test_deleting_a_document_deletes_its_copy_and_a_missing_copy_counts_as_deleted(engine, sync_on, store):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    kept, _ = uploaded_brochure(owner, kb, "kept.pdf")
    removed, _ = uploaded_brochure(owner, kb, "removed.pdf")
    gone_already, _ = uploaded_brochure(owner, kb, "gone.pdf")
    run_jobs()
    copy, lost = document(removed).filesearch_document, document(gone_already).filesearch_document
    del store.documents[lost]  # deleted in Google's console meanwhile
    delete_document(owner, removed)
    delete_document(owner, gone_already)
    assert copy in store.documents  # nothing leaves the store before the commit's job runs
    assert run_jobs() == 2
    assert store.deleted == [copy] and list(store.documents) == [document(kept).filesearch_document]
    assert store.calls()[-2:] == [f"DELETE /v1beta/{copy}", f"DELETE /v1beta/{lost}"]  # each once: no retry


def test_a_delete_the_store_fails_is_tried_again(engine, sync_on, store):
    owner = new_owner()
    doc_id, _ = uploaded_brochure(owner, new_knowledge_base(owner))
    run_jobs()
    copy = document(doc_id).filesearch_document
    store.fail_next = 1
    delete_document(owner, doc_id)
    assert run_jobs() == 2  # the failed try and the one that deleted it
    assert store.deleted == [copy] and store.calls()[-2:] == [f"DELETE /v1beta/{copy}"] * 2


def test_deleting_a_knowledge_base_deletes_every_copy(engine, sync_on, store):
    owner = new_owner()
    kb, other_kb = new_knowledge_base(owner), new_knowledge_base(owner, "Price lists")
    ids = [uploaded_brochure(owner, kb, f"brochure-{n}.pdf")[0] for n in range(3)]
    other, _ = uploaded_brochure(owner, other_kb)
    run_jobs()
    copies = {document(i).filesearch_document for i in ids}
    with acting_as(owner) as repo:
        documents.delete_knowledge_base(repo, kb)
    run_jobs()
    assert set(store.deleted) == copies and list(store.documents) == [document(other).filesearch_document]


def test_a_failing_store_is_retried_then_recorded_and_local_search_is_untouched(engine, sync_on, store, caplog):
    caplog.set_level(logging.DEBUG)
    store.mode = "error"
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id, _ = uploaded_brochure(owner, kb)
    run_jobs()
    doc, attempts = document(doc_id), get_settings().knowledge_max_attempts
    assert doc.status == DocumentStatus.READY.value and doc.error is None and doc.chunk_count > 0
    assert doc.filesearch_status == FileSearchStatus.FAILED.value and doc.filesearch_document is None
    assert f"failed {attempts} times (HTTP 500 INTERNAL: Internal error encountered.)" in doc.filesearch_error
    assert "Local search is not affected" in doc.filesearch_error
    assert store.calls() == [UPLOAD] * attempts
    with acting_as(owner) as repo:
        found = documents.list_documents(repo, kb)[0]
        assert found.status == DocumentStatus.READY.value
    with session_scope() as session:
        assert session.exec(select(Chunk).where(Chunk.document_id == doc_id)).first() is not None
    assert API_KEY not in caplog.text and API_KEY not in doc.filesearch_error

    store.mode = "ok"  # Reprocess tries again
    reprocess(owner, doc_id)
    run_jobs()
    assert document(doc_id).filesearch_status == FileSearchStatus.SYNCED.value


def test_a_store_that_fails_once_is_retried_and_the_error_is_cleared(engine, sync_on, store):
    store.fail_next = 1
    owner = new_owner()
    doc_id, data = uploaded_brochure(owner, new_knowledge_base(owner))
    run_jobs()
    doc = document(doc_id)
    assert (doc.filesearch_status, doc.filesearch_error, doc.filesearch_attempts) == ("synced", None, 2)
    assert store.documents[doc.filesearch_document].data == data


def test_a_document_deleted_while_its_copy_is_made_loses_that_copy(engine, sync_on, store):
    owner = new_owner()
    doc_id, _ = uploaded_brochure(owner, new_knowledge_base(owner))
    store.on_finalize = lambda name: delete_document(owner, doc_id)
    run_jobs()
    assert document(doc_id) is None
    assert store.documents == {} and len(store.deleted) == 1


def test_a_document_reprocessed_while_its_copy_is_made_ends_with_one_fresh_copy(engine, sync_on, store):
    owner = new_owner()
    doc_id, data = uploaded_brochure(owner, new_knowledge_base(owner))
    made: list[str] = []

    def reprocess_once(name: str) -> None:
        made.append(name)
        if len(made) == 1:
            reprocess(owner, doc_id)

    store.on_finalize = reprocess_once
    run_jobs()
    doc = document(doc_id)
    assert doc.status == DocumentStatus.READY.value and doc.filesearch_status == FileSearchStatus.SYNCED.value
    assert len(made) == 2 and store.deleted == [made[0]] and list(store.documents) == [made[1]]
    assert doc.filesearch_document == made[1] and store.documents[made[1]].data == data


def test_a_document_that_fails_reprocessing_loses_its_copy(engine, sync_on, store, site):
    url, pages = site
    owner = new_owner()
    with acting_as(owner) as repo:
        doc_id = documents.add_web_source(repo, new_knowledge_base(owner), f"{url}/pricing").id
    run_jobs()
    copy = document(doc_id).filesearch_document
    pages["/pricing"] = (404, b"gone")
    reprocess(owner, doc_id)
    run_jobs()
    doc = document(doc_id)
    assert doc.status == DocumentStatus.FAILED.value
    assert (doc.filesearch_status, doc.filesearch_document) == (None, None)
    assert store.deleted == [copy] and store.documents == {}


def test_a_sync_abandoned_by_a_stopped_worker_is_queued_again(engine, sync_on, store):
    owner = new_owner()
    doc_id, data = uploaded_brochure(owner, new_knowledge_base(owner))
    assert build_worker().run_next(timeout=1)  # processing only: the sync job waits in the queue
    jobs.set_job_queue(None)  # the worker stops: the in-process queue and its job are gone
    long_ago = utcnow() - timedelta(minutes=get_settings().knowledge_stale_minutes + 1)
    with session_scope() as session:  # it had claimed the document when it stopped
        claimed = session.get(Document, doc_id)
        claimed.filesearch_status, claimed.filesearch_updated_at = FileSearchStatus.SYNCING.value, long_ago
    rescue_abandoned_work()
    assert run_jobs() == 1
    doc = document(doc_id)
    assert doc.filesearch_status == FileSearchStatus.SYNCED.value
    assert store.documents[doc.filesearch_document].data == data


def test_switching_the_sync_on_later_copies_the_ready_documents(engine, store, monkeypatch, request):
    sync_off(monkeypatch)
    owner = new_owner()
    doc_id, data = uploaded_brochure(owner, new_knowledge_base(owner))
    run_jobs()
    request.getfixturevalue("sync_on")
    rescue_abandoned_work()
    run_jobs()
    doc = document(doc_id)
    assert doc.filesearch_status == FileSearchStatus.SYNCED.value
    assert store.documents[doc.filesearch_document].data == data


def test_the_sync_is_off_by_default(engine, store, monkeypatch):
    sync_off(monkeypatch)
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id, _ = uploaded_brochure(owner, kb)
    assert run_jobs() == 1  # the processing job, nothing else
    doc = document(doc_id)
    assert doc.status == DocumentStatus.READY.value and doc.filesearch_status is None
    assert doc.filesearch_document is None and doc.filesearch_attempts == 0
    assert api_document(owner, doc_id)["filesearch"] is None
    reprocess(owner, doc_id)
    rescue_abandoned_work()
    assert run_jobs() == 1
    delete_document(owner, doc_id)
    with acting_as(owner) as repo:
        documents.delete_knowledge_base(repo, kb)
    assert run_jobs() == 0 and store.requests == []


def test_the_document_api_shows_where_its_copy_stands(engine, sync_on, store):
    owner = new_owner()
    doc_id, _ = uploaded_brochure(owner, new_knowledge_base(owner))
    assert api_document(owner, doc_id)["filesearch"] == {"status": None, "error": None}  # not ready yet
    run_jobs()
    assert api_document(owner, doc_id)["filesearch"] == {"status": "synced", "error": None}


def api_document(owner: int, document_id: int) -> dict:
    """The document as ``GET /api/knowledge/documents/{id}`` shows it to its owner."""
    with session_scope() as session:
        email = session.get(User, owner).email
    client = TestClient(create_api())
    token = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()["token"]
    response = client.get(f"/api/knowledge/documents/{document_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()
