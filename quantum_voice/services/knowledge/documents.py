"""Knowledge bases and their documents, on behalf of a signed-in person (always through ``OrgRepository``).

Adding a document only checks it, stores the original and queues the background job; nothing heavy runs here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import case, event, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import Conflict, NotFound, ValidationFailed
from quantum_voice.core.jobs import Job, enqueue_after_commit
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.knowledge import Chunk, Document, DocumentStatus, KnowledgeBase
from quantum_voice.services.knowledge import filesearch_sync, intake
from quantum_voice.services.knowledge.storage import get_blob_storage
from quantum_voice.services.knowledge.vectors import matrix_cache
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

PROCESS_DOCUMENT_JOB = "knowledge.process_document"
_EXTENSIONS = {intake.PDF: ".pdf", intake.DOCX: ".docx", intake.TEXT: ".txt", intake.MARKDOWN: ".md"}


@dataclass
class KnowledgeBaseSummary:
    knowledge_base: KnowledgeBase
    document_count: int
    ready_count: int
    chunk_count: int


def create_knowledge_base(repo: OrgRepository, name: str, description: str = "") -> KnowledgeBase:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    name = _checked_name(repo, name)
    return repo.add(KnowledgeBase(organization_id=repo.scope.organization_id, name=name,
                                  description=description or ""))


def rename_knowledge_base(repo: OrgRepository, knowledge_base_id: int, name: str,
                          description: str | None = None) -> KnowledgeBase:
    """Give a knowledge base a new name (unique within the organisation) and, optionally, a new description."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    kb.name = _checked_name(repo, name, except_id=kb.id)
    if description is not None:
        kb.description = description.strip()[:2000]
    kb.updated_at = utcnow()
    repo.session.add(kb)
    repo.session.flush()
    return kb


def _checked_name(repo: OrgRepository, name: str, *, except_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise ValidationFailed("Give the knowledge base a name of 1 to 200 characters.", field="name")
    clashes = repo.list(KnowledgeBase, func.lower(KnowledgeBase.name) == name.lower(), limit=2)
    if any(kb.id != except_id for kb in clashes):
        raise Conflict(f"A knowledge base named “{name}” already exists. Pick another name.", field="name")
    return name


def list_knowledge_bases(repo: OrgRepository) -> list[KnowledgeBaseSummary]:
    repo.scope.require(Permission.VIEW)
    bases = repo.list(KnowledgeBase, order_by=KnowledgeBase.name, limit=500)
    counts = {kb_id: (total, ready, chunks) for kb_id, total, ready, chunks in repo.session.exec(
        select(Document.knowledge_base_id, func.count(Document.id),
               func.sum(case((Document.status == DocumentStatus.READY.value, 1), else_=0)),
               func.sum(case((Document.status == DocumentStatus.READY.value, Document.chunk_count), else_=0)))
        .where(Document.organization_id == repo.scope.organization_id).group_by(Document.knowledge_base_id))}
    return [KnowledgeBaseSummary(kb, *(int(v or 0) for v in counts.get(kb.id, (0, 0, 0)))) for kb in bases]


def get_knowledge_base(repo: OrgRepository, knowledge_base_id: int) -> KnowledgeBase:
    repo.scope.require(Permission.VIEW)
    return repo.get(KnowledgeBase, knowledge_base_id)


def knowledge_base_of_campaign(repo: OrgRepository, campaign_id: int) -> KnowledgeBase:
    campaign = repo.get(Campaign, campaign_id)
    if campaign.deleted_at is not None:
        raise NotFound(f"No campaign with id {campaign_id} in your organisation.")
    if campaign.knowledge_base_id is None:
        raise ValidationFailed(f"Campaign “{campaign.name}” has no knowledge base yet. Attach one to the campaign "
                               "first.", field="campaign_id")
    return repo.get(KnowledgeBase, campaign.knowledge_base_id)


def delete_knowledge_base(repo: OrgRepository, knowledge_base_id: int) -> None:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    docs = repo.list(Document, Document.knowledge_base_id == kb.id, limit=100_000)
    keys = [d.storage_key for d in docs]
    copies = [d.filesearch_document for d in docs if d.filesearch_document]
    repo.delete(kb)
    matrix_cache.invalidate(kb.id)
    _delete_blobs_after_commit(repo, [k for k in keys if k])
    filesearch_sync.delete_copies_after_commit(repo.session, copies)


def upload_document(repo: OrgRepository, knowledge_base_id: int, filename: str, data: bytes) -> Document:
    """Check and store an uploaded file and queue its processing; raises ``DocumentRejected`` or ``Conflict``."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    settings = get_settings()
    facts = intake.inspect_upload(data, max_bytes=settings.knowledge_max_upload_mb * 1024 * 1024,
                                  max_pages=settings.knowledge_max_pages)
    _refuse_duplicate(repo, kb.id, facts.sha256)
    key = f"org-{repo.scope.organization_id}/kb-{kb.id}/{facts.sha256}{_EXTENSIONS[facts.content_type]}"
    get_blob_storage().put(key, data)
    document = Document(organization_id=repo.scope.organization_id, knowledge_base_id=kb.id,
                        name=_display_name(filename), source_type="upload", content_type=facts.content_type,
                        size_bytes=facts.size_bytes, sha256=facts.sha256, storage_key=key,
                        page_count=facts.page_count, created_by_id=repo.scope.user_id)
    return _add_and_queue(repo, document)


def add_web_source(repo: OrgRepository, knowledge_base_id: int, url: str, *, sitemap: bool = False) -> Document:
    """Queue a web page (or every page of a sitemap, up to the configured limit) for fetching and processing."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    url = normalise_url(url)
    kind = "sitemap" if sitemap else "url"
    digest = hashlib.sha256(f"{kind}:{url}".encode()).hexdigest()
    _refuse_duplicate(repo, kb.id, digest)
    document = Document(organization_id=repo.scope.organization_id, knowledge_base_id=kb.id, name=url[:300],
                        source_type=kind, source_url=url, content_type=intake.HTML, sha256=digest,
                        created_by_id=repo.scope.user_id)
    return _add_and_queue(repo, document)


def normalise_url(url: str) -> str:
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("Enter a full web address starting with http:// or https://.", field="url")
    if len(url) > 2000:
        raise ValidationFailed("That web address is too long (2,000 characters at most).", field="url")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def list_documents(repo: OrgRepository, knowledge_base_id: int) -> list[Document]:
    repo.scope.require(Permission.VIEW)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    return repo.list(Document, Document.knowledge_base_id == kb.id, order_by=Document.id.desc(), limit=1000)


def get_document(repo: OrgRepository, document_id: int) -> Document:
    repo.scope.require(Permission.VIEW)
    return repo.get(Document, document_id)


def delete_document(repo: OrgRepository, document_id: int) -> None:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    document = repo.get(Document, document_id)
    key, kb_id, store_copy = document.storage_key, document.knowledge_base_id, document.filesearch_document
    repo.delete(document)  # chunks go with it (ON DELETE CASCADE), and so do their full-text entries
    _touch_knowledge_base(repo, kb_id)
    matrix_cache.invalidate(kb_id)
    if key:
        _delete_blobs_after_commit(repo, [key])
    if store_copy:  # a copy being made right now is deleted by its own job, which finds the document gone
        filesearch_sync.delete_copies_after_commit(repo.session, [store_copy])


def reprocess_document(repo: OrgRepository, document_id: int) -> Document:
    """Parse (or, for web sources, fetch) the document again from scratch."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    document = repo.get(Document, document_id)
    if document.status in (DocumentStatus.PARSING, DocumentStatus.CHUNKING, DocumentStatus.EMBEDDING):
        raise Conflict("This document is being processed right now. Wait until it is ready or failed.")
    document.status, document.progress, document.error, document.attempts = DocumentStatus.QUEUED.value, 0.0, None, 0
    document.updated_at = utcnow()
    repo.session.add(document)
    repo.session.flush()
    enqueue_after_commit(repo.session, Job(PROCESS_DOCUMENT_JOB, {"document_id": document.id}))
    return document


def chunks_of(repo: OrgRepository, document_id: int, limit: int = 500) -> list[Chunk]:
    repo.scope.require(Permission.VIEW)
    document = repo.get(Document, document_id)
    return repo.list(Chunk, Chunk.document_id == document.id, order_by=Chunk.ordinal, limit=limit)


def _refuse_duplicate(repo: OrgRepository, knowledge_base_id: int, sha256: str) -> None:
    existing = repo.list(Document, Document.knowledge_base_id == knowledge_base_id, Document.sha256 == sha256,
                         limit=1)
    if existing:
        raise Conflict(f"This is already in the knowledge base as “{existing[0].name}”. Delete that one first if "
                       "you want to replace it, or use Reprocess to read it again.", code="duplicate_document")


def _add_and_queue(repo: OrgRepository, document: Document) -> Document:
    try:
        with repo.session.begin_nested():
            repo.add(document)
    except IntegrityError:
        raise Conflict("This is already in the knowledge base (it was just added). Refresh the list.",
                       code="duplicate_document") from None
    enqueue_after_commit(repo.session, Job(PROCESS_DOCUMENT_JOB, {"document_id": document.id}))
    return document


def _touch_knowledge_base(repo: OrgRepository, knowledge_base_id: int) -> None:
    kb = repo.session.get(KnowledgeBase, knowledge_base_id)
    if kb is not None:
        kb.updated_at = utcnow()
        repo.session.add(kb)


def _display_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (name or "Untitled document")[:300]


def _delete_blobs_after_commit(repo: OrgRepository, keys: list[str]) -> None:
    """Delete the originals once the rows are gone for good (a rolled-back delete keeps its files)."""
    storage = get_blob_storage()

    def delete(_session) -> None:
        for key in keys:
            try:
                storage.delete(key)
            except (OSError, ValueError):
                pass  # an orphaned original is harmless; the rows are gone

    event.listen(repo.session, "after_commit", delete, once=True)
