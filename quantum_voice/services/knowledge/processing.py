"""The background job that turns a queued document into searchable chunks, and the sweep that rescues
documents whose worker died.

queued → parsing → chunking → embedding → ready, or failed with a reason the user can act on. A job first
*claims* its document with one conditional UPDATE, so two workers never process the same document. Files the
user must fix fail at once; other errors are retried up to ``knowledge_max_attempts`` times. Progress updates
double as a heartbeat: a document whose processing state has not changed for ``knowledge_stale_minutes`` was
abandoned (a crash, a restart) and is queued again, or failed once it has used up its attempts. Becoming ready
(or failing for good) also asks ``filesearch_sync`` to update the document's optional Gemini File Search copy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.jobs import Job, enqueue_after_commit
from quantum_voice.models.knowledge import Chunk, Document, DocumentStatus, KnowledgeBase
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.knowledge import filesearch_sync, webpages
from quantum_voice.services.knowledge.chunking import ChunkDraft, chunk_blocks
from quantum_voice.services.knowledge.documents import PROCESS_DOCUMENT_JOB
from quantum_voice.services.knowledge.embeddings import get_embedder, to_bytes, unit_vectors_to_bytes
from quantum_voice.services.knowledge.spoken import embedding_texts
from quantum_voice.services.knowledge.errors import DocumentRejected
from quantum_voice.services.knowledge.parsing import ParsedDocument, parse_document
from quantum_voice.services.knowledge.storage import get_blob_storage
from quantum_voice.services.knowledge.vectors import matrix_cache

log = logging.getLogger(__name__)

PROCESSING = (DocumentStatus.PARSING.value, DocumentStatus.CHUNKING.value, DocumentStatus.EMBEDDING.value)
EMBED_BATCH = 64


class Retrying(Exception):
    """Raised after a failed attempt that will be tried again (the job queue puts the job back)."""


def process_document_job(args: dict[str, Any]) -> None:
    """Job handler for ``knowledge.process_document``."""
    process_document(int(args["document_id"]))


def process_document(document_id: int) -> str | None:
    """Process one document end to end; returns its final status, or ``None`` when another worker has it."""
    if not claim(document_id):
        return None
    try:
        source = _load_source(document_id)
        parsed = _parse(source)
        _set_status(document_id, DocumentStatus.CHUNKING, 0.35, page_count=parsed.page_count)
        drafts = chunk_blocks(parsed.blocks)
        if not drafts:
            raise DocumentRejected("No text could be read from this document. Check it is the right file.",
                                   code="empty_file")
        _set_status(document_id, DocumentStatus.EMBEDDING, 0.45, chunk_count=len(drafts))
        vectors = _embed(document_id, drafts)
        text_key = filesearch_sync.keep_web_text(source.document, parsed)  # what the store gets of a web source
        _store_chunks(document_id, drafts, vectors, title=parsed.title, storage_key=text_key)
        return DocumentStatus.READY.value
    except DocumentRejected as exc:
        _fail(document_id, exc.message)
        return DocumentStatus.FAILED.value
    except Exception as exc:
        return _after_error(document_id, exc)


def claim(document_id: int) -> bool:
    """Move a queued (or abandoned) document to ``parsing`` and count the attempt; False if someone else has it."""
    settings, now = get_settings(), utcnow()
    stale_before = now - timedelta(minutes=settings.knowledge_stale_minutes)
    with session_scope() as session:
        result = session.execute(
            update(Document)
            .where(Document.id == document_id,
                   or_(Document.status == DocumentStatus.QUEUED.value,
                       and_(Document.status.in_(PROCESSING), Document.updated_at < stale_before)))
            .values(status=DocumentStatus.PARSING.value, progress=0.05, attempts=Document.attempts + 1,
                    updated_at=now, error=None)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1


@dataclass
class _Source:
    document: Document
    data: bytes | None  # the original upload; None for web sources


def _load_source(document_id: int) -> _Source:
    with session_scope() as session:
        document = session.get(Document, document_id)
        session.expunge(document)
    if document.source_type == "upload":
        if not document.storage_key:
            raise DocumentRejected("The original file is missing. Upload it again.", code="missing_original")
        return _Source(document, get_blob_storage().get(document.storage_key))
    return _Source(document, None)


def _parse(source: _Source) -> ParsedDocument:
    document, settings = source.document, get_settings()
    if document.source_type == "upload":
        return parse_document(source.data or b"", document.content_type or "", max_pages=settings.knowledge_max_pages)
    with webpages.WebFetcher.from_settings() as fetcher:
        if document.source_type == "sitemap":
            return fetcher.sitemap_document(document.source_url or "", max_pages=settings.knowledge_sitemap_max_pages)
        return fetcher.page_document(document.source_url or "")


def _embed(document_id: int, drafts: list[ChunkDraft]):
    """Per chunk: its vector for retrieval, and its spoken units' vectors for the answerer (both from MiniLM)."""
    embedder, parts = get_embedder(), []
    for start in range(0, len(drafts), EMBED_BATCH):
        batch = drafts[start : start + EMBED_BATCH]
        vectors = embedder.embed([d.embedding_text for d in batch])
        unit_texts = [embedding_texts(d.text, d.section) for d in batch]
        flat = embedder.embed([t for texts in unit_texts for t in texts])
        offset = 0
        for vector, texts in zip(vectors, unit_texts):
            parts.append((vector, unit_vectors_to_bytes(flat[offset : offset + len(texts)]) if texts else None))
            offset += len(texts)
        done = min(start + EMBED_BATCH, len(drafts)) / len(drafts)
        _set_status(document_id, DocumentStatus.EMBEDDING, 0.45 + 0.5 * done)  # progress is the heartbeat
    return parts


def _set_status(document_id: int, status: DocumentStatus, progress: float, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(Document).where(Document.id == document_id)
                        .values(status=status.value, progress=round(progress, 3), updated_at=utcnow(), **values)
                        .execution_options(synchronize_session=False))


def _store_chunks(document_id: int, drafts: list[ChunkDraft], vectors, *, title: str | None,
                  storage_key: str | None = None) -> None:
    """Replace the document's chunks and mark it ready, in one transaction: search sees all or nothing. The
    optional File Search copy is asked for in the same transaction (nothing happens when that sync is off)."""
    with session_scope() as session:
        document = session.get(Document, document_id)
        session.execute(delete(Chunk).where(Chunk.document_id == document_id))
        for ordinal, (draft, (vector, unit_vectors)) in enumerate(zip(drafts, vectors)):
            session.add(Chunk(organization_id=document.organization_id, knowledge_base_id=document.knowledge_base_id,
                              document_id=document.id, ordinal=ordinal, text=draft.text, page=draft.page,
                              section=draft.section, token_count=draft.token_count, embedding=to_bytes(vector),
                              unit_vectors=unit_vectors))
        now = utcnow()
        document.status, document.progress, document.error = DocumentStatus.READY.value, 1.0, None
        document.chunk_count, document.processed_at, document.updated_at = len(drafts), now, now
        if title and document.source_type == "url" and document.name == (document.source_url or "")[:300]:
            document.name = title[:300]
        if storage_key:
            document.storage_key = storage_key
        _touch(session, document.knowledge_base_id)
        filesearch_sync.request_sync(session, document_id)
        webhook_events.document_event(session, document_id)  # committed with the ready status, or not at all
    matrix_cache.invalidate(document.knowledge_base_id)


def _after_error(document_id: int, exc: Exception) -> str:
    settings = get_settings()
    with session_scope() as session:
        document = session.get(Document, document_id)
        attempts = document.attempts if document else settings.knowledge_max_attempts
    reason = _describe(exc)
    if attempts >= settings.knowledge_max_attempts:
        log.warning("document %s failed after %s attempts: %s", document_id, attempts, reason)
        _fail(document_id, f"Processing failed {attempts} times ({reason}). Press Reprocess to try again; if it "
                           "keeps failing, save the file again and upload the new copy.")
        return DocumentStatus.FAILED.value
    log.info("document %s attempt %s failed, will retry: %s", document_id, attempts, reason)
    with session_scope() as session:
        session.execute(update(Document).where(Document.id == document_id)
                        .values(status=DocumentStatus.QUEUED.value, progress=0.0, updated_at=utcnow(),
                                error=f"Attempt {attempts} failed ({reason}); trying again.")
                        .execution_options(synchronize_session=False))
    raise Retrying(reason) from exc


def _describe(exc: Exception) -> str:
    lines = str(getattr(exc, "message", None) or exc).splitlines()
    return f"{type(exc).__name__}: {lines[0]}"[:300] if lines else type(exc).__name__


def _fail(document_id: int, reason: str) -> None:
    with session_scope() as session:
        session.execute(update(Document).where(Document.id == document_id)
                        .values(status=DocumentStatus.FAILED.value, error=reason, updated_at=utcnow())
                        .execution_options(synchronize_session=False))
        filesearch_sync.request_sync(session, document_id, only_if_copied=True)  # it has left local search too
        webhook_events.document_event(session, document_id)


def _touch(session: Session, knowledge_base_id: int) -> None:
    kb = session.get(KnowledgeBase, knowledge_base_id)
    if kb is not None:
        kb.updated_at = utcnow()


@dataclass
class RecoveryReport:
    requeued: list[int]
    failed: list[int]


def recover_stuck_documents(*, include_fresh_queued: bool = False) -> RecoveryReport:
    """Queue again the documents whose processing was abandoned; fail those that used up their attempts.

    ``include_fresh_queued`` also re-queues documents that are waiting right now: right for a worker starting
    on the in-process queue, which starts empty after a restart.
    """
    settings, now = get_settings(), utcnow()
    stale_before = now - timedelta(minutes=settings.knowledge_stale_minutes)
    waiting = Document.status == DocumentStatus.QUEUED.value
    if not include_fresh_queued:
        waiting = and_(waiting, Document.updated_at < stale_before)
    report = RecoveryReport([], [])
    with session_scope() as session:
        stuck = session.exec(select(Document).where(
            or_(waiting, and_(Document.status.in_(PROCESSING), Document.updated_at < stale_before)))).all()
        for document in stuck:
            if document.attempts >= settings.knowledge_max_attempts:
                document.status = DocumentStatus.FAILED.value
                document.error = (f"Processing was interrupted {document.attempts} times and was stopped. Press "
                                  "Reprocess to try again; if it keeps happening, split the file into smaller ones.")
                filesearch_sync.request_sync(session, document.id, only_if_copied=True)
                webhook_events.document_event(session, document.id)
                report.failed.append(document.id)
            else:
                if document.status != DocumentStatus.QUEUED.value:
                    document.error = "Processing was interrupted (the worker stopped); trying again."
                document.status, document.progress = DocumentStatus.QUEUED.value, 0.0
                enqueue_after_commit(session, Job(PROCESS_DOCUMENT_JOB, {"document_id": document.id}))
                report.requeued.append(document.id)
            document.updated_at = now
    if report.requeued or report.failed:
        log.info("recovered documents: requeued %s, failed %s", report.requeued, report.failed)
    return report
