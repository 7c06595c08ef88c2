"""/api/knowledge: knowledge bases, documents (uploads and web sources), search with answers, Q&A pairs and
question analytics. Reads need the view permission; changes need manage_campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field, model_validator

from quantum_voice.api import cursors
from quantum_voice.api.deps import Repo
from quantum_voice.api.schema import errors
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.knowledge import Document, QnAPair
from quantum_voice.services import paging
from quantum_voice.services.knowledge import documents, filesearch_sync, qna, questions
from quantum_voice.services.knowledge.answering import Answer
from quantum_voice.services.knowledge.errors import FileTooLarge
from quantum_voice.services.permissions import Permission

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])


class BaseIn(BaseModel):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=4000)


class BaseRename(BaseModel):
    name: str = Field(max_length=200)
    description: str | None = Field(None, max_length=2000, description="Left as it is when omitted")


class Created(BaseModel):
    id: int


class BaseOut(BaseModel):
    id: int
    name: str
    description: str
    document_count: int
    ready_count: int
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class FileSearchCopyOut(BaseModel):
    status: str | None = Field(description="pending, syncing, synced or failed; null: no copy (yet)")
    error: str | None


class DocumentOut(BaseModel):
    id: int
    knowledge_base_id: int
    name: str
    source_type: str
    source_url: str | None
    content_type: str | None
    size_bytes: int
    status: str
    progress: float
    error: str | None
    attempts: int
    page_count: int | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    filesearch: FileSearchCopyOut | None = Field(
        None, description="The copy in the optional Gemini File Search store; null when that sync is off")


class Queued(BaseModel):
    id: int
    status: str


class WebSourceIn(BaseModel):
    knowledge_base_id: int
    url: str = Field(max_length=2000)
    kind: Literal["page", "sitemap"] = "page"


class ChunkOut(BaseModel):
    id: int
    ordinal: int
    text: str
    page: int | None
    section: str | None
    token_count: int


class SearchIn(BaseModel):
    knowledge_base_id: int | None = None
    campaign_id: int | None = None
    query: str = Field(min_length=1, max_length=1000)
    top_k: int = Field(5, ge=1, le=20)
    threshold: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_target(self) -> "SearchIn":
        if (self.knowledge_base_id is None) == (self.campaign_id is None):
            raise ValueError("give either knowledge_base_id or campaign_id")
        return self


class ResultOut(BaseModel):
    text: str
    score: float
    document_id: int
    document_name: str
    page: int | None
    section: str | None
    chunk_id: int


class CitationOut(BaseModel):
    document_id: int | None
    document_name: str
    page: int | None
    section: str | None
    chunk_id: int | None
    qna_pair_id: int | None


class AnswerOut(BaseModel):
    text: str
    confidence: float
    citations: list[CitationOut]
    source: str


class SearchOut(BaseModel):
    knowledge_base_id: int
    results: list[ResultOut]
    answer: AnswerOut | None
    best_candidate: AnswerOut | None = Field(None, description="The best answer found even when below threshold")
    threshold: float


class QnAIn(BaseModel):
    knowledge_base_id: int
    question: str = Field(max_length=1000)
    answer: str = Field(max_length=4000)
    enabled: bool = True
    source: Literal["manual", "unanswered_question"] = "manual"


class QnAPatch(BaseModel):
    question: str | None = Field(None, max_length=1000)
    answer: str | None = Field(None, max_length=4000)
    enabled: bool | None = None


class QnAOut(BaseModel):
    id: int
    knowledge_base_id: int
    question: str
    answer: str
    enabled: bool
    source: str
    created_at: datetime
    updated_at: datetime


class QuestionStatOut(BaseModel):
    question: str
    count: int
    answered_count: int
    average_confidence: float
    last_asked_at: datetime


class AnalyticsOut(BaseModel):
    most_asked: list[QuestionStatOut]
    unanswered: list[QuestionStatOut]


# ── Knowledge bases ──────────────────────────────────────────────────────────────────────────────────────────


@router.post("/bases", status_code=201, response_model=Created)
def create_base(body: BaseIn, repo: Repo) -> Created:
    return Created(id=documents.create_knowledge_base(repo, body.name, body.description).id)


@router.get("/bases", response_model=list[BaseOut], responses=cursors.NEXT_HEADERS)
def list_bases(repo: Repo, request: Request, response: Response, limit: cursors.Limit = paging.DEFAULT_LIMIT,
               cursor: cursors.Cursor = None) -> list[BaseOut]:
    """By name."""
    def order(summary: documents.KnowledgeBaseSummary) -> tuple[str, int]:
        return summary.knowledge_base.name, summary.knowledge_base.id

    rest = paging.items_after(documents.list_knowledge_bases(repo), order, cursors.key_of(cursor, str, int))
    return [_base_out(s) for s in cursors.sent(request, response, paging.batch_of(rest, limit, order))]


@router.get("/bases/{knowledge_base_id}", response_model=BaseOut)
def get_base(knowledge_base_id: int, repo: Repo) -> BaseOut:
    kb = documents.get_knowledge_base(repo, knowledge_base_id)
    return next(_base_out(s) for s in documents.list_knowledge_bases(repo) if s.knowledge_base.id == kb.id)


@router.patch("/bases/{knowledge_base_id}", response_model=BaseOut, responses=errors(409))
def rename_base(knowledge_base_id: int, body: BaseRename, repo: Repo) -> BaseOut:
    kb = documents.rename_knowledge_base(repo, knowledge_base_id, body.name, body.description)
    return next(_base_out(s) for s in documents.list_knowledge_bases(repo) if s.knowledge_base.id == kb.id)


@router.delete("/bases/{knowledge_base_id}", status_code=204)
def delete_base(knowledge_base_id: int, repo: Repo) -> Response:
    documents.delete_knowledge_base(repo, knowledge_base_id)
    return Response(status_code=204)


def _base_out(summary: documents.KnowledgeBaseSummary) -> BaseOut:
    kb = summary.knowledge_base
    return BaseOut(id=kb.id, name=kb.name, description=kb.description, document_count=summary.document_count,
                   ready_count=summary.ready_count, chunk_count=summary.chunk_count, created_at=kb.created_at,
                   updated_at=kb.updated_at)


# ── Documents ────────────────────────────────────────────────────────────────────────────────────────────────


@router.post("/upload", status_code=202, response_model=Queued, responses=errors(404))
def upload(repo: Repo, file: UploadFile = File(...), knowledge_base_id: int = Form(...)) -> Queued:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    limit = get_settings().knowledge_max_upload_mb * 1024 * 1024
    data = file.file.read(limit + 1)  # never more than the limit in memory
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {limit // 1048576} MB. Split it into smaller files or remove "
                           "large images, then upload again.")
    document = documents.upload_document(repo, knowledge_base_id, file.filename or "", data)
    return Queued(id=document.id, status=document.status)


@router.post("/sources", status_code=202, response_model=Queued, responses=errors(404))
def add_source(body: WebSourceIn, repo: Repo) -> Queued:
    document = documents.add_web_source(repo, body.knowledge_base_id, body.url, sitemap=body.kind == "sitemap")
    return Queued(id=document.id, status=document.status)


@router.get("/documents", response_model=list[DocumentOut], responses={**errors(404), **cursors.NEXT_HEADERS})
def list_documents(repo: Repo, request: Request, response: Response, knowledge_base_id: int = Query(...),
                   limit: cursors.Limit = paging.DEFAULT_LIMIT, cursor: cursors.Cursor = None) -> list[DocumentOut]:
    """Newest first."""
    kb = documents.get_knowledge_base(repo, knowledge_base_id)
    rows = paging.rows_after(repo, Document, Document.knowledge_base_id == kb.id, key=cursors.key_of(cursor, int),
                             limit=limit + 1, descending=True)
    batch = paging.batch_of(rows, limit, lambda document: (document.id,))
    return [_document_out(d) for d in cursors.sent(request, response, batch)]


@router.get("/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: int, repo: Repo) -> DocumentOut:
    return _document_out(documents.get_document(repo, document_id))


@router.delete("/documents/{document_id}", status_code=204)
def delete_document(document_id: int, repo: Repo) -> Response:
    documents.delete_document(repo, document_id)
    return Response(status_code=204)


@router.post("/documents/{document_id}/reprocess", status_code=202, response_model=DocumentOut)
def reprocess_document(document_id: int, repo: Repo) -> DocumentOut:
    """Read an upload again, or fetch a web source again (re-crawl)."""
    return _document_out(documents.reprocess_document(repo, document_id))


@router.get("/documents/{document_id}/chunks", response_model=list[ChunkOut])
def document_chunks(document_id: int, repo: Repo, limit: int = Query(200, ge=1, le=1000)) -> list[ChunkOut]:
    return [ChunkOut.model_validate(c, from_attributes=True) for c in documents.chunks_of(repo, document_id, limit)]


def _document_out(document: Document) -> DocumentOut:
    out = DocumentOut.model_validate(document, from_attributes=True)
    if filesearch_sync.sync_enabled():
        out.filesearch = FileSearchCopyOut(status=document.filesearch_status, error=document.filesearch_error)
    return out


# ── Search ───────────────────────────────────────────────────────────────────────────────────────────────────


@router.post("/search", response_model=SearchOut, responses=errors(404))
def search(body: SearchIn, repo: Repo) -> SearchOut:
    repo.scope.require(Permission.VIEW)
    kb_id = body.knowledge_base_id
    if body.campaign_id is not None:
        kb_id = documents.knowledge_base_of_campaign(repo, body.campaign_id).id
    found = questions.ask_as(repo, kb_id, body.query, top_k=body.top_k, threshold=body.threshold)
    return SearchOut(
        knowledge_base_id=kb_id,
        results=[ResultOut(text=p.text, score=round(p.confidence, 4), document_id=p.document_id,
                           document_name=p.document_name, page=p.page, section=p.section, chunk_id=p.chunk_id)
                 for p in found.results],
        answer=_answer_out(found.answer), best_candidate=_answer_out(found.candidate), threshold=found.threshold)


def _answer_out(answer: Answer | None) -> AnswerOut | None:
    if answer is None:
        return None
    return AnswerOut(text=answer.text, confidence=answer.confidence, source=answer.source,
                     citations=[CitationOut(**vars(c)) for c in answer.citations])


# ── Q&A pairs ────────────────────────────────────────────────────────────────────────────────────────────────


@router.get("/qna", response_model=list[QnAOut], responses={**errors(404), **cursors.NEXT_HEADERS})
def list_qna(repo: Repo, request: Request, response: Response, knowledge_base_id: int = Query(...),
             limit: cursors.Limit = paging.DEFAULT_LIMIT, cursor: cursors.Cursor = None) -> list[QnAOut]:
    """Oldest first."""
    kb = documents.get_knowledge_base(repo, knowledge_base_id)
    rows = paging.rows_after(repo, QnAPair, QnAPair.knowledge_base_id == kb.id, key=cursors.key_of(cursor, int),
                             limit=limit + 1, descending=False)
    return [_qna_out(p) for p in cursors.sent(request, response, paging.batch_of(rows, limit, lambda p: (p.id,)))]


@router.post("/qna", status_code=201, response_model=QnAOut, responses=errors(404))
def create_qna(body: QnAIn, repo: Repo) -> QnAOut:
    return _qna_out(qna.create_pair(repo, body.knowledge_base_id, body.question, body.answer, source=body.source,
                                    enabled=body.enabled))


@router.get("/qna/{pair_id}", response_model=QnAOut)
def get_qna(pair_id: int, repo: Repo) -> QnAOut:
    return _qna_out(qna.get_pair(repo, pair_id))


@router.patch("/qna/{pair_id}", response_model=QnAOut)
def update_qna(pair_id: int, body: QnAPatch, repo: Repo) -> QnAOut:
    if body.question is None and body.answer is None and body.enabled is None:
        raise ValidationFailed("Send at least one of question, answer or enabled.", field="body")
    return _qna_out(qna.update_pair(repo, pair_id, question=body.question, answer=body.answer, enabled=body.enabled))


@router.delete("/qna/{pair_id}", status_code=204)
def delete_qna(pair_id: int, repo: Repo) -> Response:
    qna.delete_pair(repo, pair_id)
    return Response(status_code=204)


def _qna_out(pair: QnAPair) -> QnAOut:
    return QnAOut.model_validate(pair, from_attributes=True)


# ── Analytics ────────────────────────────────────────────────────────────────────────────────────────────────


@router.get("/analytics", response_model=AnalyticsOut, responses=errors(404))
def analytics(repo: Repo, knowledge_base_id: int = Query(...), days: int = Query(30, ge=1, le=365),
              limit: int = Query(10, ge=1, le=100)) -> AnalyticsOut:
    def out(stats):
        return [QuestionStatOut.model_validate(s, from_attributes=True) for s in stats]

    return AnalyticsOut(most_asked=out(questions.most_asked(repo, knowledge_base_id, days=days, limit=limit)),
                        unanswered=out(questions.unanswered(repo, knowledge_base_id, days=days, limit=limit)))
