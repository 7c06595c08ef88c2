"""Knowledge bases, their documents and chunks, Q&A pairs and the questions callers asked."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, org_fk, ts_field


class KnowledgeBase(SQLModel, table=True):
    __tablename__ = "knowledge_bases"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PARSING = "parsing"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    READY = "ready"
    FAILED = "failed"


class FileSearchStatus(StrEnum):
    """Where a document's copy in the optional Gemini File Search store stands (``None``: no copy wanted)."""

    PENDING = "pending"
    SYNCING = "syncing"
    SYNCED = "synced"
    FAILED = "failed"


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    __table_args__ = (
        sa.UniqueConstraint("knowledge_base_id", "sha256", name="uq_documents_kb_sha256"),
        sa.Index("ix_documents_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    knowledge_base_id: int = Field(foreign_key="knowledge_bases.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=300)
    source_type: str = Field(default="upload", max_length=20)  # upload | url | sitemap
    source_url: str | None = Field(default=None, max_length=2000)
    content_type: str | None = Field(default=None, max_length=120)
    size_bytes: int = Field(default=0)
    sha256: str = Field(max_length=64)
    storage_key: str | None = Field(default=None, max_length=500)
    status: str = Field(default=DocumentStatus.QUEUED.value, max_length=20)
    progress: float = Field(default=0.0)
    error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    page_count: int | None = None
    chunk_count: int = Field(default=0)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    processed_at: datetime | None = ts_field()
    # The copy in the optional Gemini File Search store (services/knowledge/filesearch_sync.py).
    filesearch_status: str | None = Field(default=None, max_length=20)
    filesearch_document: str | None = Field(default=None, max_length=500)  # fileSearchStores/…/documents/…
    filesearch_error: str | None = Field(default=None, sa_type=sa.Text)
    filesearch_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    filesearch_updated_at: datetime | None = ts_field()


class Chunk(SQLModel, table=True):
    __tablename__ = "chunks"
    __table_args__ = (sa.Index("ix_chunks_document_ordinal", "document_id", "ordinal"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    knowledge_base_id: int = Field(foreign_key="knowledge_bases.id", index=True, ondelete="CASCADE")
    document_id: int = Field(foreign_key="documents.id", ondelete="CASCADE")
    ordinal: int
    text: str = Field(sa_type=sa.Text)
    page: int | None = None
    section: str | None = Field(default=None, max_length=500)
    token_count: int = Field(default=0)
    embedding: bytes | None = Field(default=None, sa_type=sa.LargeBinary)  # float32 little-endian
    # one float16 vector per spoken unit of the text (services/knowledge/spoken.py), for the extractive answerer
    unit_vectors: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    created_at: datetime = created_at_field()


class QnAPair(SQLModel, table=True):
    __tablename__ = "qna_pairs"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    knowledge_base_id: int = Field(foreign_key="knowledge_bases.id", index=True, ondelete="CASCADE")
    question: str = Field(sa_type=sa.Text)
    answer: str = Field(sa_type=sa.Text)
    enabled: bool = Field(default=True)
    source: str = Field(default="manual", max_length=30)  # manual | unanswered_question
    embedding: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class KnowledgeQuery(SQLModel, table=True):
    """Every question asked of a knowledge base, for "most asked" and "unanswered" analytics."""

    __tablename__ = "knowledge_queries"
    __table_args__ = (sa.Index("ix_knowledge_queries_kb_time", "knowledge_base_id", "created_at"),
                      sa.Index("ix_knowledge_queries_org_time", "organization_id", "created_at"))  # analytics

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    knowledge_base_id: int = Field(foreign_key="knowledge_bases.id", ondelete="CASCADE")
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    query: str = Field(sa_type=sa.Text)
    answered: bool = Field(default=False)
    confidence: float = Field(default=0.0)
    created_at: datetime = created_at_field()
