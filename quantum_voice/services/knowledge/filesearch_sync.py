"""Keeps the optional Gemini File Search store in step with the knowledge base's documents.

Off unless ``GEMINI_API_KEY`` and ``KNOWLEDGE_GEMINI_STORE`` are both set (``filesearch.store_settings``); then:

- a document that becomes ready gets a copy in the store: uploads their original file, web sources the text read
  from the pages (kept as a blob when they are processed, see ``keep_web_text``), with the document's name as the
  display name and its document, knowledge base and organisation ids as custom metadata;
- reprocessing replaces the copy (the old one is deleted, the new one uploaded) once the document is ready again;
  a document whose processing fails for good loses its copy, as it leaves local search;
- deleting a document or a knowledge base deletes the copies, after the commit (a 404 counts as deleted).

Each copy is made by the ``knowledge.filesearch_sync`` job, through the SDK's resumable upload and its long-running
operation (polled until ``KNOWLEDGE_GEMINI_SYNC_WAIT_SECONDS``). Where the copy stands is on the document row
(``filesearch_status``: pending → syncing → synced, or failed with ``filesearch_error``); it never touches the
document's own status: local search works whatever Gemini does. A failed attempt is retried by the job queue up to
``KNOWLEDGE_MAX_ATTEMPTS`` times. A job *claims* its document with one conditional UPDATE, so two workers never copy
the same document; when the document changes while its copy is being made (reprocessed, failed, deleted), the job
records what it made and asks for another round, which replaces it. Every call goes through one circuit breaker;
the API key travels in a header and never appears in a log line or an error message.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.jobs import Job, enqueue_after_commit
from quantum_voice.core.resilience import CircuitBreaker, CircuitOpen
from quantum_voice.models.knowledge import Document, DocumentStatus, FileSearchStatus
from quantum_voice.services.knowledge import intake
from quantum_voice.services.knowledge.filesearch import DOCUMENT_KEY, KNOWLEDGE_BASE_KEY, gemini_client, \
    store_settings
from quantum_voice.services.knowledge.parsing import HEADING, ParsedDocument
from quantum_voice.core.ai_clients import breaker_for
from quantum_voice.services.knowledge.storage import get_blob_storage

log = logging.getLogger(__name__)

SYNC_DOCUMENT_JOB = "knowledge.filesearch_sync"
DELETE_COPIES_JOB = "knowledge.filesearch_delete"
ORGANIZATION_KEY = "organization_id"
DELETE_BATCH = 100  # store documents per delete job
BACKFILL_BATCH = 50  # ready documents without a copy asked for per sweep (sync switched on later)
WEB_TEXT_TYPE = "text/plain"  # web sources go in as their text, Markdown headings included
_UPLOAD_TYPES = {intake.MARKDOWN: "text/plain"}  # Markdown is plain text to the store


class SyncRejected(Exception):
    """Nothing to copy, and trying again will not change that (the original is gone)."""


class SyncRetrying(Exception):
    """Raised after a failed attempt that will be tried again (the job queue puts the job back)."""


# ── The store ────────────────────────────────────────────────────────────────────────────────────────────────


class StoreDocuments:
    """The documents of one File Search store, through the ``google-genai`` SDK, behind one circuit breaker."""

    def __init__(self, client, store: str, breaker: CircuitBreaker, *, wait_seconds: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.client, self.store, self.breaker, self.wait_seconds = client, store, breaker, wait_seconds
        self._sleep, self._clock = sleep, clock

    def upload(self, data: bytes, *, display_name: str, mime_type: str, metadata: dict[str, int]) -> str:
        """Upload ``data`` and wait until the store has indexed it; returns the store document's name."""
        return self.breaker.call(lambda: self._upload(data, display_name, mime_type, metadata))

    def delete(self, name: str) -> bool:
        """Delete a store document with its chunks; False when it was already gone."""
        return self.breaker.call(lambda: self._delete(name))

    def _upload(self, data: bytes, display_name: str, mime_type: str, metadata: dict[str, int]) -> str:
        operation = self.client.file_search_stores.upload_to_file_search_store(
            file_search_store_name=self.store, file=io.BytesIO(data),
            config={"display_name": display_name, "mime_type": mime_type,
                    "custom_metadata": [{"key": key, "numeric_value": value} for key, value in metadata.items()]})
        deadline, delay = self._clock() + self.wait_seconds, 0.2
        while not operation.done:
            if self._clock() >= deadline:
                raise TimeoutError(f"the store was still indexing the file after {self.wait_seconds:.0f} s")
            self._sleep(delay)
            delay = min(delay * 2, 5.0)
            operation = self.client.operations.get(operation)
        if operation.error:
            raise RuntimeError(f"the store could not index the file: {operation.error.get('message') or 'error'}")
        name = operation.response.document_name if operation.response else None
        if not name:
            raise RuntimeError("the store finished the upload without naming the document")
        return name

    def _delete(self, name: str) -> bool:
        from google.genai import errors

        try:
            self.client.file_search_stores.documents.delete(name=name, config={"force": True})
        except errors.APIError as error:
            if error.code == 404:
                return False
            raise
        return True


def sync_enabled() -> bool:
    return store_settings() is not None


def configured_store() -> StoreDocuments | None:
    """The store the settings name, or ``None`` when the sync is off (the default)."""
    switched_on = store_settings()
    if switched_on is None:
        return None
    key, store, base_url = switched_on
    settings = get_settings()
    client = gemini_client(key, base_url, settings.knowledge_gemini_sync_timeout_seconds)
    return StoreDocuments(client, store, breaker_for(f"filesearch-sync:{base_url or 'gemini'}"),
                          wait_seconds=settings.knowledge_gemini_sync_wait_seconds)


# ── Asking for work (from the code that changes documents) ──────────────────────────────────────────────────


def request_sync(session: Session, document_id: int, *, only_if_copied: bool = False) -> bool:
    """Bring the document's copy up to date once ``session`` commits: copy a ready document, remove the copy of
    one that is not. A copy being made right now is left alone: its job sees the change and goes round again.
    ``only_if_copied``: only when the document has a copy (to remove it). False when nothing was asked."""
    if not sync_enabled():
        return False
    syncing = FileSearchStatus.SYNCING.value
    conditions = [Document.id == document_id,
                  or_(Document.filesearch_status.is_(None), Document.filesearch_status != syncing)]
    if only_if_copied:
        conditions.append(Document.filesearch_document.is_not(None))
    result = session.execute(
        update(Document).where(*conditions)
        .values(filesearch_status=FileSearchStatus.PENDING.value, filesearch_error=None, filesearch_attempts=0,
                filesearch_updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    enqueue_after_commit(session, Job(SYNC_DOCUMENT_JOB, {"document_id": document_id}))
    return True


def delete_copies_after_commit(session: Session, names: list[str]) -> None:
    """Delete these store documents once ``session`` commits (dropped on rollback; nothing when the sync is off)."""
    names = [n for n in names if n]
    if not names or not sync_enabled():
        return
    for start in range(0, len(names), DELETE_BATCH):
        enqueue_after_commit(session, Job(DELETE_COPIES_JOB, {"names": names[start:start + DELETE_BATCH]}))


def keep_web_text(document: Document, parsed: ParsedDocument) -> str | None:
    """Keep the text read from a web source as a blob, for its copy in the store; returns the blob's key, or
    ``None`` (not a web source, or the sync is off)."""
    if document.source_type == "upload" or not sync_enabled():
        return None
    key = f"org-{document.organization_id}/kb-{document.knowledge_base_id}/web-{document.sha256}.md"
    get_blob_storage().put(key, web_text(parsed).encode("utf-8"))
    return key


def web_text(parsed: ParsedDocument) -> str:
    """The blocks of a web source as Markdown-style text: headings marked, paragraphs and table rows as read."""
    parts = [f"{'#' * min(max(block.level, 1), 6)} {block.text}" if block.kind == HEADING else block.text
             for block in parsed.blocks if block.text.strip()]
    if parsed.title and not (parsed.blocks and parsed.blocks[0].kind == HEADING):
        parts.insert(0, f"# {parsed.title}")
    return "\n\n".join(parts) + "\n"


# ── The jobs ─────────────────────────────────────────────────────────────────────────────────────────────────


def sync_document_job(args: dict[str, Any]) -> None:
    """Job handler for ``knowledge.filesearch_sync``."""
    sync_document(int(args["document_id"]))


def delete_copies_job(args: dict[str, Any]) -> None:
    """Job handler for ``knowledge.filesearch_delete``."""
    delete_copies([str(name) for name in args.get("names") or []])


def sync_document(document_id: int) -> str | None:
    """Replace the store copy of one document by its current version; returns its ``filesearch_status``
    afterwards, or ``None`` when there was nothing to do (sync off, another worker has it, no copy wanted)."""
    store = configured_store()
    if store is None:
        return None
    document = _claim(document_id)
    if document is None:
        return None
    try:
        name = _replace_copy(store, document)
    except Exception as exc:
        return _after_error(document_id, exc)
    return _finish(store, document, name)


def delete_copies(names: list[str]) -> None:
    """Delete store documents; raises (so the job is tried again) when some could not be deleted."""
    store = configured_store()
    if store is None:
        log.warning("%d File Search store documents were not deleted: the sync is switched off", len(names))
        return
    failures = []
    for name in names:
        try:
            store.delete(name)
        except Exception as exc:  # noqa: BLE001 - the others are still deleted; the job is tried again
            failures.append(f"{name}: {_describe(exc)}")
    if failures:
        log.warning("could not delete %d File Search store documents: %s", len(failures), "; ".join(failures[:3]))
        raise SyncRetrying(f"{len(failures)} store documents not deleted")


def _claim(document_id: int) -> Document | None:
    """Move a pending (or abandoned) sync to ``syncing`` and count the attempt; the document, or ``None``."""
    settings, now = get_settings(), utcnow()
    stale_before = now - timedelta(minutes=settings.knowledge_stale_minutes)
    with session_scope() as session:
        result = session.execute(
            update(Document)
            .where(Document.id == document_id,
                   or_(Document.filesearch_status == FileSearchStatus.PENDING.value,
                       and_(Document.filesearch_status == FileSearchStatus.SYNCING.value,
                            Document.filesearch_updated_at < stale_before)))
            .values(filesearch_status=FileSearchStatus.SYNCING.value, filesearch_updated_at=now,
                    filesearch_attempts=Document.filesearch_attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        return session.get(Document, document_id)


def _replace_copy(store: StoreDocuments, document: Document) -> str | None:
    """Delete the old copy, then upload the current version when the document is ready; the new copy's name."""
    if document.filesearch_document:
        store.delete(document.filesearch_document)
        with session_scope() as session:
            session.execute(update(Document)
                            .where(Document.id == document.id,
                                   Document.filesearch_document == document.filesearch_document)
                            .values(filesearch_document=None).execution_options(synchronize_session=False))
    if document.status != DocumentStatus.READY.value:
        return None
    data, mime_type = _content_of(document)
    return store.upload(data, display_name=document.name, mime_type=mime_type, metadata={
        DOCUMENT_KEY: document.id, KNOWLEDGE_BASE_KEY: document.knowledge_base_id,
        ORGANIZATION_KEY: document.organization_id})


def _content_of(document: Document) -> tuple[bytes, str]:
    if not document.storage_key:
        raise SyncRejected("The text of this web source was not kept (it was read before the sync was on)."
                           if document.source_type != "upload" else "The original file is missing.")
    try:
        data = get_blob_storage().get(document.storage_key)
    except FileNotFoundError:
        raise SyncRejected("The original file is missing.") from None
    if document.source_type != "upload":
        return data, WEB_TEXT_TYPE
    content_type = document.content_type or "application/octet-stream"
    return data, _UPLOAD_TYPES.get(content_type, content_type)


def _finish(store: StoreDocuments, document: Document, name: str | None) -> str | None:
    """Record the new copy, unless the document changed meanwhile: then record it and go round again."""
    status = FileSearchStatus.SYNCED.value if name else None
    now = utcnow()
    same_version = Document.processed_at.is_(None) if document.processed_at is None else \
        Document.processed_at == document.processed_at
    with session_scope() as session:
        result = session.execute(
            update(Document)
            .where(Document.id == document.id, Document.filesearch_status == FileSearchStatus.SYNCING.value,
                   Document.status == document.status, same_version)
            .values(filesearch_status=status, filesearch_document=name, filesearch_error=None,
                    filesearch_updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            log.info("document %s: File Search copy %s", document.id, name or "removed")
            return status
        current = session.get(Document, document.id)
        if current is not None:
            if name:
                current.filesearch_document = name  # the next round deletes it
            current.filesearch_status, current.filesearch_error = FileSearchStatus.PENDING.value, None
            current.filesearch_attempts, current.filesearch_updated_at = 0, now
            enqueue_after_commit(session, Job(SYNC_DOCUMENT_JOB, {"document_id": document.id}))
            log.info("document %s changed while its File Search copy was made; going round again", document.id)
            return FileSearchStatus.PENDING.value
    if name:  # the document was deleted meanwhile: so is its copy
        try:
            store.delete(name)
        except Exception as exc:  # noqa: BLE001 - an orphan in the store is harmless to local search
            log.warning("could not delete File Search copy %s of deleted document %s: %s", name, document.id,
                        _describe(exc))
    return None


def _after_error(document_id: int, exc: Exception) -> str | None:
    reason, permanent = _describe(exc), isinstance(exc, SyncRejected)
    most = get_settings().knowledge_max_attempts
    with session_scope() as session:
        document = session.get(Document, document_id)
        if document is None or document.filesearch_status != FileSearchStatus.SYNCING.value:
            return None
        attempts = document.filesearch_attempts
        document.filesearch_updated_at = utcnow()
        if permanent or attempts >= most:
            document.filesearch_status = FileSearchStatus.FAILED.value
            document.filesearch_error = (reason if permanent else
                                         f"Copying to Gemini File Search failed {attempts} times ({reason}).") + \
                " Local search is not affected. Press Reprocess to try again."
            log.warning("document %s: File Search copy failed after %s attempts: %s", document_id, attempts, reason)
            return FileSearchStatus.FAILED.value
        document.filesearch_status = FileSearchStatus.PENDING.value
        document.filesearch_error = f"Attempt {attempts} to copy to Gemini File Search failed ({reason}); trying again."
    log.info("document %s: File Search copy attempt %s failed, will retry: %s", document_id, attempts, reason)
    raise SyncRetrying(reason) from exc


def _describe(exc: Exception) -> str:
    """One line about a failure, for people: the store's status and message, never the API key."""
    if isinstance(exc, SyncRejected):
        return str(exc)
    if isinstance(exc, CircuitOpen):
        return "Gemini failed several times just now, so calls are paused for a while"
    code, status, message = getattr(exc, "code", None), getattr(exc, "status", None), getattr(exc, "message", None)
    if isinstance(code, int) and message is not None:
        text = f"HTTP {code} {status or ''}: {message}"
    else:
        lines = str(exc).splitlines()
        text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    settings = store_settings()
    if settings and settings[0]:
        text = text.replace(settings[0], "***")
    return " ".join(text.split())[:300]


# ── Rescue ───────────────────────────────────────────────────────────────────────────────────────────────────


def recover_stuck_syncs(*, include_fresh: bool = False) -> list[int]:
    """Queue again the syncs whose job was lost (a restart, a crash) and ask for a copy of ready documents that
    have none yet (the sync was switched on after they were processed). Returns the documents queued.

    ``include_fresh`` also re-queues syncs that are waiting right now: right for a worker starting on the
    in-process queue, which starts empty after a restart."""
    if not sync_enabled():
        return []
    settings, now = get_settings(), utcnow()
    stale_before = now - timedelta(minutes=settings.knowledge_stale_minutes)
    waiting = Document.filesearch_status == FileSearchStatus.PENDING.value
    if not include_fresh:
        waiting = and_(waiting, Document.filesearch_updated_at < stale_before)
    abandoned = and_(Document.filesearch_status == FileSearchStatus.SYNCING.value,
                     Document.filesearch_updated_at < stale_before)
    settled = Document.status.in_((DocumentStatus.READY.value, DocumentStatus.FAILED.value))
    queued: list[int] = []
    with session_scope() as session:
        stuck = session.exec(select(Document.id).where(settled, or_(waiting, abandoned))).all()
        for document_id in stuck:  # pending again, so the new job can claim an abandoned one
            session.execute(update(Document).where(Document.id == document_id)
                            .values(filesearch_status=FileSearchStatus.PENDING.value, filesearch_updated_at=now)
                            .execution_options(synchronize_session=False))
            enqueue_after_commit(session, Job(SYNC_DOCUMENT_JOB, {"document_id": document_id}))
        queued.extend(stuck)
        never_copied = session.exec(
            select(Document.id).where(Document.status == DocumentStatus.READY.value,
                                      Document.filesearch_status.is_(None))
            .order_by(Document.id).limit(BACKFILL_BATCH)).all()
        queued.extend(document_id for document_id in never_copied if request_sync(session, document_id))
    if queued:
        log.info("File Search sync queued for documents %s", queued)
    return queued
