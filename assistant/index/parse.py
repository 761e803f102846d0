"""One file made ready for the index: loaded, cleaned, chunked and tokenised for the keyword side.

A module of its own, importing neither Chroma nor the embedder, so that ingest can run it in a pool of
worker processes while the ingesting process embeds and writes the files before.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.index.keyword import KeywordChunk
from assistant.index.store import chunk_metadata
from assistant.ingest.models import Chunk, DocumentMeta, FileReport, IngestError
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings


@dataclass
class PreparedFile:
    source: str
    doc: DocumentMeta
    chunks: list[Chunk]
    keyword_chunks: list[KeywordChunk]


def prepare_file(source_file: SourceFile, caps: IngestSettings, content_hash: str) -> PreparedFile | FileReport:
    """The file ready to embed and write, or the report of why it cannot be indexed."""
    source = source_file.source
    try:
        processed = process_file(source_file, caps, content_hash)
    except IngestError as exc:
        status = "skipped" if exc.code == "unsupported_type" else "failed"
        return FileReport(source, status, code=exc.code, reason_zh=exc.message_zh, reason_en=exc.message_en)
    except OSError as exc:
        return FileReport(source, "failed", code="io_error", reason_zh=f"无法读取文件:{exc.strerror}", reason_en=str(exc))
    keyword_chunks = [KeywordChunk.tokenized(c.chunk_id, chunk_metadata(c), c.indexed_text) for c in processed.chunks]
    return PreparedFile(source, processed.doc, processed.chunks, keyword_chunks)


def prepare_task(task: tuple[SourceFile, IngestSettings, str]) -> PreparedFile | FileReport:
    """``prepare_file`` for ``Executor.map``."""
    return prepare_file(*task)
