"""File -> clean -> chunk, for one file or a batch; failures are reported, never fatal."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from assistant.ingest.budget import Budget
from assistant.ingest.chunk import chunk_document
from assistant.ingest.clean import CleanedDocument, clean_pages
from assistant.ingest.fingerprint import pipeline_fingerprint
from assistant.ingest.loaders import load_file
from assistant.ingest.metadata import detect_doc_type, detect_facts, detect_title
from assistant.ingest.models import Chunk, DocumentMeta, IngestError, LoadedDocument
from assistant.settings import IngestSettings


log = logging.getLogger(__name__)


@dataclass
class SourceFile:
    path: Path
    source: str  # stable name of the file in the index: relative, forward slashes
    root: Path | None = None  # the folder it was found under; a link leading out of it is not read


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
    """Every file under the given paths, named relative to the corpus (or to the path given).

    Folders are walked without following links to folders.  Each file keeps the root it was found
    under (the corpus, or the folder given) and ``process_file`` refuses a link leading out of it.
    """
    found: list[SourceFile] = []
    corpus = corpus_dir.resolve()
    for given in paths:
        given = given.resolve()
        inside = given.is_relative_to(corpus)
        root = corpus if inside else given.parent
        if given.is_dir():
            files, boundary = sorted(_walk(given)), corpus if inside else given
        else:
            files, boundary = [given], corpus if inside else None  # a file named outside the corpus is the user's choice
        for path in files:
            found.append(SourceFile(path, Path(os.path.relpath(path, root)).as_posix(), boundary))
    return found


def _walk(folder: Path) -> list[Path]:
    """Files under a folder, not descending into hidden folders or into links to folders."""
    out = []
    for directory, subdirs, names in os.walk(folder, followlinks=False):
        relative = Path(directory).relative_to(folder)
        subdirs[:] = [d for d in subdirs if not _hidden(relative / d)]
        for name in names:
            path = Path(directory) / name
            if not _hidden(relative / name) and path.is_file():
                out.append(path)
    return out


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part.startswith("~$") for part in relative.parts)


def check_inside_root(source_file: SourceFile) -> None:
    """A link that leads out of the folder being indexed is not read (it could expose any file on the host)."""
    root = source_file.root
    if root is not None and not source_file.path.resolve().is_relative_to(root.resolve()):
        raise IngestError(
            "link_outside",
            "这是一个指向语料目录之外的链接,出于安全考虑不读取;请把文件本身放进语料目录",
            "symbolic link pointing outside the corpus folder; not followed",
        )


def process_file(
    source_file: SourceFile, caps: IngestSettings, content_hash: str | None = None,
    on_progress: Callable[[str, float | None], None] | None = None,
) -> ProcessedFile:
    """Load, clean and chunk one file within its budget. Raises IngestError with a reason on bad input."""
    check_inside_root(source_file)
    budget = Budget(caps, on_progress)
    loaded = load_file(source_file.path, source_file.source, caps, budget)
    return process_loaded(loaded, caps, content_hash or file_hash(source_file.path), budget=budget)


def process_loaded(
    loaded: LoadedDocument, caps: IngestSettings, content_hash: str, from_pdf: bool | None = None,
    budget: Budget | None = None,
) -> ProcessedFile:
    """Clean, describe and chunk text already loaded from a file."""
    budget = budget or Budget(caps)
    if loaded.extra.get("hidden"):
        log.info("%s: %s passages a reader cannot see were not indexed", loaded.source, loaded.extra["hidden"])
    cleaned = clean_pages(loaded.pages, from_pdf=loaded.laid_out if from_pdf is None else from_pdf)
    budget.check()
    if not cleaned.paragraphs:
        raise IngestError("no_text", "清洗后没有剩余的正文内容", "no document text left after cleaning")
    title, title_is_first = detect_title(cleaned.paragraphs, loaded.title_hint, loaded.source)
    body = cleaned.paragraphs
    if title_is_first and len(body) > 1:
        position = next(i for i, p in enumerate(body[:4]) if p.text == title)
        body = body[:position] + body[position + 1 :]
    facts = detect_facts(title, cleaned.paragraphs, cleaned.meta, caps.local_places)
    issuing = facts.pop("issuing_lines")
    body = [p for p in body if p.text not in issuing] or body  # issuing information is metadata, not article text
    ocr_pages = [p for p in loaded.pages if p.ocr]
    doc = DocumentMeta(
        doc_id=doc_id_for(loaded.source),
        title=title,
        source=loaded.source,
        content_hash=content_hash,
        doc_type=detect_doc_type(title, cleaned.paragraphs, cleaned.meta, facts["doc_number"]),
        reporter=cleaned.meta.get("reporter", ""),
        editor=cleaned.meta.get("editor", ""),
        ocr_pages="all" if ocr_pages and all(p.page is None for p in ocr_pages) else ",".join(str(p.page) for p in ocr_pages),
        pipeline=pipeline_fingerprint(caps),
        **facts,
    )
    chunks = chunk_document(doc, body, caps.chunk_max_chars)
    budget.check()
    return ProcessedFile(doc, chunks, cleaned)
