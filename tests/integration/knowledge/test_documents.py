"""Uploads of every format become searchable chunks through the background job."""

import pytest
from sqlalchemy import text
from sqlmodel import select

from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from quantum_voice.core.jobs import get_job_queue
from quantum_voice.models.knowledge import Chunk, DocumentStatus
from quantum_voice.services.knowledge import documents
from quantum_voice.services.knowledge.errors import DocumentRejected
from quantum_voice.services.knowledge.fulltext import fulltext_search
from quantum_voice.services.knowledge.storage import get_blob_storage
from tests.integration.knowledge.conftest import (acting_as, document, new_knowledge_base, new_member, new_owner,
                                                  run_jobs, upload)
from tests.unit.knowledge import files

FORMATS = {
    "brochure.pdf": lambda: files.markdown_to_pdf(files.BROCHURE_MD),
    "brochure.docx": lambda: files.markdown_to_docx(files.BROCHURE_MD),
    "brochure.md": lambda: files.BROCHURE_MD.encode(),
    "brochure.txt": lambda: files.BROCHURE_MD.replace("#", "").replace("|", " ").encode(),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_is_processed_in_the_background_into_chunks(engine, name):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id = upload(owner, kb, name, FORMATS[name]())
    assert document(doc_id).status == DocumentStatus.QUEUED  # nothing heavy ran in the request
    assert get_job_queue().size() == 1
    assert run_jobs() == 1
    processed = document(doc_id)
    assert processed.status == DocumentStatus.READY and processed.progress == 1.0 and processed.error is None
    assert processed.chunk_count >= 1 and processed.processed_at is not None
    with session_scope() as session:
        chunks = session.exec(select(Chunk).where(Chunk.document_id == doc_id).order_by(Chunk.ordinal)).all()
        assert len(chunks) == processed.chunk_count
        assert all(len(c.embedding) == 384 * 4 for c in chunks)
        assert any("covered parking" in c.text for c in chunks)
        hits = fulltext_search(session, organization_id=processed.organization_id, knowledge_base_id=kb,
                               question="Where do I park my car? parking garage")
        assert hits and "parking" in session.get(Chunk, hits[0]).text.lower()
    if name.endswith(".pdf"):
        assert processed.page_count == 1 and {c.page for c in chunks} == {1}
    if name.endswith((".pdf", ".docx", ".md")):
        assert any(c.section and c.section.endswith("Parking") for c in chunks)


def test_the_same_file_twice_is_detected_by_its_hash(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    upload(owner, kb, "a.md", files.BROCHURE_MD.encode())
    with pytest.raises(Conflict) as caught:
        upload(owner, kb, "renamed-copy.md", files.BROCHURE_MD.encode())
    assert caught.value.code == "duplicate_document" and "a.md" in caught.value.message
    other_kb = new_knowledge_base(owner, "Other")
    upload(owner, other_kb, "a.md", files.BROCHURE_MD.encode())  # another knowledge base may hold it too


def test_hostile_files_are_refused_before_anything_is_stored(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    for data in (files.zip_bomb_docx(40), files.encrypted_pdf(), b""):
        with pytest.raises(DocumentRejected):
            upload(owner, kb, "bad.bin", data)
    with acting_as(owner) as repo:
        assert documents.list_documents(repo, kb) == []
    assert get_job_queue().size() == 0


def test_an_image_only_pdf_fails_in_the_job_with_what_to_do(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id = upload(owner, kb, "scan.pdf", files.image_only_pdf())
    run_jobs()
    failed = document(doc_id)
    assert failed.status == DocumentStatus.FAILED and "OCR" in failed.error and failed.attempts == 1
    assert get_job_queue().size() == 0  # a file the user must fix is not retried


def test_deleting_a_document_removes_its_chunks_index_entries_and_original(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id = upload(owner, kb, "brochure.md", files.BROCHURE_MD.encode())
    run_jobs()
    key = document(doc_id).storage_key
    assert get_blob_storage().exists(key)
    with acting_as(owner) as repo:
        documents.delete_document(repo, doc_id)
    with session_scope() as session:
        assert session.exec(select(Chunk).where(Chunk.knowledge_base_id == kb)).all() == []
        assert fulltext_search(session, organization_id=1, knowledge_base_id=kb, question="parking") == []
        if engine.dialect.name == "sqlite":
            assert session.execute(text("SELECT count(*) FROM chunks_fts")).scalar() == 0
    assert not get_blob_storage().exists(key)


def test_reprocessing_replaces_the_chunks(engine):
    owner = new_owner()
    kb = new_knowledge_base(owner)
    doc_id = upload(owner, kb, "brochure.md", files.BROCHURE_MD.encode())
    run_jobs()
    first = document(doc_id).chunk_count
    with acting_as(owner) as repo:
        assert documents.reprocess_document(repo, doc_id).status == DocumentStatus.QUEUED
    run_jobs()
    with session_scope() as session:
        assert len(session.exec(select(Chunk).where(Chunk.document_id == doc_id)).all()) == first
    assert document(doc_id).status == DocumentStatus.READY


def test_viewers_read_but_cannot_upload_and_other_organisations_see_nothing(engine):
    owner = new_owner()
    viewer = new_member(owner, "viewer@example.com", "viewer")
    kb = new_knowledge_base(owner)
    doc_id = upload(owner, kb, "brochure.md", files.BROCHURE_MD.encode())
    with acting_as(viewer) as repo:
        assert [d.id for d in documents.list_documents(repo, kb)] == [doc_id]
        with pytest.raises(PermissionDenied):
            documents.upload_document(repo, kb, "x.txt", b"Some words for the base.")
    stranger = new_owner("else@example.com", "Other Org")
    with acting_as(stranger) as repo:
        with pytest.raises(NotFound):
            documents.get_document(repo, doc_id)
        with pytest.raises(NotFound):
            documents.upload_document(repo, kb, "x.txt", b"Some words for the base.")
        assert documents.list_knowledge_bases(repo) == []


def test_a_knowledge_base_is_renamed_with_the_same_name_rules_as_creation(engine):
    owner = new_owner()
    kb_id = new_knowledge_base(owner, "Brochures")
    new_knowledge_base(owner, "Price lists")
    with acting_as(owner) as repo:
        renamed = documents.rename_knowledge_base(repo, kb_id, "  Sales   brochures ", "Spring 2027")
        assert (renamed.name, renamed.description) == ("Sales brochures", "Spring 2027")
        documents.rename_knowledge_base(repo, kb_id, "sales BROCHURES")  # its own name in another case is fine
    with acting_as(owner) as repo, pytest.raises(Conflict, match="already exists"):
        documents.rename_knowledge_base(repo, kb_id, "price lists")
    with acting_as(owner) as repo, pytest.raises(ValidationFailed, match="1 to 200"):
        documents.rename_knowledge_base(repo, kb_id, "   ")
    viewer = new_member(owner, "viewer@example.com", "viewer")
    with acting_as(viewer) as repo, pytest.raises(PermissionDenied):
        documents.rename_knowledge_base(repo, kb_id, "Mine now")
    with acting_as(new_owner("other@example.com", "Other Co")) as repo, pytest.raises(NotFound):
        documents.rename_knowledge_base(repo, kb_id, "Mine now")
    with acting_as(owner) as repo:
        assert documents.get_knowledge_base(repo, kb_id).name == "sales BROCHURES"
