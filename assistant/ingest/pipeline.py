"""File -> clean -> chunk, for one file or a batch; failures are reported, never fatal."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from assistant.ingest.chunk import chunk_document
from assistant.ingest.clean import CleanedDocument, clean_pages
from assistant.ingest.loaders import load_file
from assistant.ingest.metadata import detect_doc_type, detect_facts, detect_title
from assistant.ingest.models import Chunk, DocumentMeta, IngestError, LoadedDocument
from assistant.settings import IngestSettings


@dataclass
class SourceFile:
    path: Path
    source: str  # stable name of the file in the index: relative, forward slashes


@dataclass
class ProcessedFile:
    doc: DocumentMeta
    chunks: list[Chunk]
    cleaned: CleanedDocument


def doc_id_for(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(paths: list[Path], corpus_dir: Path) -> list[SourceFile]:
    """Every file under the given paths, named relative to the corpus (or to the path given)."""
    found: list[SourceFile] = []
    corpus = corpus_dir.resolve()
    for given in paths:
        given = given.resolve()
        root = corpus if given.is_relative_to(corpus) else given.parent
        if given.is_dir():
            files = sorted(p for p in given.rglob("*") if p.is_file() and not _hidden(p.relative_to(given)))
        else:
            files = [given]
        for path in files:
            found.append(SourceFile(path, Path(os.path.relpath(path, root)).as_posix()))
    return found


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part.startswith("~$") for part in relative.parts)


def process_file(source_file: SourceFile, caps: IngestSettings, content_hash: str | None = None) -> ProcessedFile:
    """Load, clean and chunk one file. Raises IngestError with a reason on bad input."""
    loaded = load_file(source_file.path, source_file.source, caps)
    return process_loaded(
        loaded,
        caps,
        content_hash or file_hash(source_file.path),
        from_pdf=source_file.path.suffix.lower() == ".pdf",
    )


def process_loaded(loaded: LoadedDocument, caps: IngestSettings, content_hash: str, from_pdf: bool = False) -> ProcessedFile:
    """Clean, describe and chunk text already loaded from a file."""
    cleaned = clean_pages(loaded.pages, from_pdf=from_pdf)
    if not cleaned.paragraphs:
        raise IngestError("no_text", "清洗后没有剩余的正文内容", "no document text left after cleaning")
    title, title_is_first = detect_title(cleaned.paragraphs, loaded.title_hint, loaded.source)
    body = cleaned.paragraphs
    if title_is_first and len(body) > 1:
        position = next(i for i, p in enumerate(body[:4]) if p.text == title)
        body = body[:position] + body[position + 1 :]
    facts = detect_facts(title, cleaned.paragraphs, cleaned.meta)
    doc = DocumentMeta(
        doc_id=doc_id_for(loaded.source),
        title=title,
        source=loaded.source,
        content_hash=content_hash,
        doc_type=detect_doc_type(title, cleaned.paragraphs, cleaned.meta, facts["doc_number"]),
        reporter=cleaned.meta.get("reporter", ""),
        editor=cleaned.meta.get("editor", ""),
        **facts,
    )
    return ProcessedFile(doc, chunk_document(doc, body, caps.chunk_max_chars), cleaned)
