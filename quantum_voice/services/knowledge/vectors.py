"""In-memory embedding matrices, one per knowledge base, rebuilt when the knowledge base changes.

A cached matrix is tagged with a fingerprint of what it was built from (ready documents: how many, the newest,
their chunk count, the last processing time; Q&A pairs: how many, the newest, the last edit); every lookup
compares that fingerprint with one cheap aggregate query, so a document processed by a
worker in another process is searchable at once. Writers in this process also call ``invalidate``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from quantum_voice.models.knowledge import Chunk, Document, DocumentStatus, QnAPair
from quantum_voice.services.knowledge.embeddings import DIMENSION, from_bytes


@dataclass(frozen=True)
class Matrix:
    fingerprint: tuple
    ids: np.ndarray  # row i belongs to chunk (or Q&A pair) ids[i]; ascending
    vectors: np.ndarray  # (n, DIMENSION) float32, rows of length 1

    def row_of(self, id_: int) -> int | None:
        row = int(np.searchsorted(self.ids, id_))
        return row if row < len(self.ids) and self.ids[row] == id_ else None

    def similarities(self, query: np.ndarray) -> np.ndarray:
        return self.vectors @ query if len(self.ids) else np.zeros(0, dtype=np.float32)


def _stack(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    rows = [(i, blob) for i, blob in rows if blob and len(blob) == DIMENSION * 4]
    ids = np.fromiter((i for i, _ in rows), dtype=np.int64, count=len(rows))
    vectors = np.vstack([from_bytes(blob) for _, blob in rows]) if rows else np.zeros((0, DIMENSION), np.float32)
    return ids, vectors


def _key(session: Session, kind: str, knowledge_base_id: int) -> tuple[str, str, int]:
    return kind, str(session.get_bind().url), knowledge_base_id


class MatrixCache:
    """Matrices of the most recently searched knowledge bases (10,000 chunks take about 15 MB)."""

    def __init__(self, max_entries: int = 64) -> None:
        self._entries: OrderedDict[tuple[str, str, int], Matrix] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def chunks(self, session: Session, organization_id: int, knowledge_base_id: int) -> Matrix:
        # Chunks change only together with their document (written when it becomes ready, deleted with it), so
        # the documents table fingerprints them without scanning the (large) chunk rows.
        fingerprint = tuple(session.exec(
            select(func.count(Document.id), func.max(Document.id), func.sum(Document.chunk_count),
                   func.max(Document.processed_at))
            .where(Document.organization_id == organization_id, Document.knowledge_base_id == knowledge_base_id,
                   Document.status == DocumentStatus.READY.value)).one())
        searchable = (select(Chunk.id, Chunk.embedding).join(Document, Document.id == Chunk.document_id)
                      .where(Chunk.organization_id == organization_id, Chunk.knowledge_base_id == knowledge_base_id,
                             Document.status == DocumentStatus.READY.value, Chunk.embedding.is_not(None))
                      .order_by(Chunk.id))
        return self._get(_key(session, "chunks", knowledge_base_id), fingerprint,
                         lambda: session.exec(searchable).all())

    def qna(self, session: Session, organization_id: int, knowledge_base_id: int) -> Matrix:
        where = (QnAPair.organization_id == organization_id, QnAPair.knowledge_base_id == knowledge_base_id,
                 QnAPair.enabled.is_(True), QnAPair.embedding.is_not(None))
        fingerprint = tuple(session.exec(
            select(func.count(QnAPair.id), func.max(QnAPair.id), func.max(QnAPair.updated_at)).where(*where)).one())
        return self._get(_key(session, "qna", knowledge_base_id), fingerprint,
                         lambda: session.exec(select(QnAPair.id, QnAPair.embedding).where(*where)
                                              .order_by(QnAPair.id)).all())

    def _get(self, key: tuple[str, str, int], fingerprint: tuple, load) -> Matrix:
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached.fingerprint == fingerprint:
                self._entries.move_to_end(key)
                return cached
        ids, vectors = _stack(list(load()))
        matrix = Matrix(fingerprint, ids, vectors)
        with self._lock:
            self._entries[key] = matrix
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return matrix

    def invalidate(self, knowledge_base_id: int) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[2] == knowledge_base_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


matrix_cache = MatrixCache()
