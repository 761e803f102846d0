"""The index the rest of the app talks to: embeddings + Chroma + the BM25 side.

``sync`` is the ingest run: it compares content hashes with the registry,
re-embeds only changed files, removes documents whose files are gone, finishes
what a killed run left behind, and rebuilds BM25 from Chroma once at the end.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from assistant.index.bm25 import BM25Index
from assistant.index.embeddings import load_embeddings
from assistant.index.store import ChromaStore, IndexUnavailable, make_client, storage_error, storage_problem
from assistant.index.versions import link_versions
from assistant.ingest.fingerprint import pipeline_fingerprint
from assistant.ingest.models import FileReport, IngestError
from assistant.ingest.pipeline import SourceFile, check_inside_root, discover, doc_id_for, file_hash, process_file
from assistant.settings import Settings

log = logging.getLogger(__name__)

SYNCED_MARKER = ".synced"  # in the index dir once a sync has finished: a later start only resumes

Progress = Callable[[str, int, int, int], None]  # (source, files done, files total, chunks so far)


def _hash_or_none(path: Path) -> str | None:
    try:
        return file_hash(path)
    except OSError:
        return None


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status == "indexed")

    @property
    def failed(self) -> bool:
        return any(f.status == "failed" for f in self.files)

    def summary(self) -> dict:
        return {
            "ok": self.count("indexed") + self.count("unchanged"),
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "removed": self.count("removed"),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 2),
        }


class PolicyIndex:
    def __init__(self, settings: Settings, embeddings=None):
        self.settings = settings
        self.index_dir = Path(settings.paths.index_dir)
        self.embeddings = embeddings or load_embeddings(settings.embedding)
        self._store: ChromaStore | None = None
        self._store_lock = threading.Lock()
        self.store  # opened now, so a wrong model or an unusable disk is reported at start-up
        self._bm25: BM25Index | None = None
        self._documents: dict[str, dict] = {}
        self._seen_generation = -1
        self._refresh_lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None
        self._rebuild_lock = threading.Lock()
        self._writing = False  # this process holds the write lock

    @property
    def store(self) -> ChromaStore:
        """The Chroma store; reopened after a storage failure (Chroma's embedded engine can hang after one)."""
        if self._store is not None and not self._store.broken:
            return self._store
        with self._store_lock:
            if self._store is not None and self._store.broken:
                self._store.close()
                self._store = None
                self._seen_generation = -1
            if self._store is None:
                low_disk_mb = self.settings.ingest.min_free_disk_mb
                client = make_client(self.settings.chroma, self.index_dir, low_disk_mb)
                self._store = ChromaStore(client, self.settings.chroma, self.embeddings.name,
                                          self.embeddings.dimension, self.index_dir, low_disk_mb)
            return self._store

    # ------------------------------------------------------------ read side

    @property
    def bm25_dir(self) -> Path:
        suffix = f"-{self.settings.chroma.host}-{self.settings.chroma.port}" if self.settings.chroma.host else ""
        return self.index_dir / f"bm25{suffix}"

    def refresh(self, wait: bool = True) -> None:
        """Follow Chroma: reload the document registry and BM25 when the generation moved.

        With ``wait=False`` (the question path) and a large BM25 in memory, the registry switches at once
        (a deleted document stops being served) and BM25 is rebuilt in the background while the previous
        one keeps answering; until then the new chunks are found by the dense side only.
        """
        generation = self.store.generation()
        if generation == self._seen_generation:
            return
        with self._refresh_lock:
            if generation == self._seen_generation:
                return
            documents = link_versions(self.store.documents())  # versions in force, computed on every read
            bm25 = self._bm25
            background = False
            if bm25 is None or bm25.generation != generation:
                saved = BM25Index.load(self.bm25_dir)
                if saved is not None and saved.generation == generation:
                    bm25 = saved
                elif not wait and bm25 is not None and len(bm25) >= self.settings.retrieval.bm25_background_min_chunks:
                    if self._writing:  # the registry now; BM25 once, by the writer's refresh at the end of its sync
                        self._documents = documents
                        return
                    background = True
                else:
                    bm25 = self._rebuild_bm25(generation, bm25 or saved)
            self._documents = documents
            self._bm25 = bm25
            self._seen_generation = generation
            if background and self._rebuilding is None:
                self._rebuilding = threading.Thread(target=self._rebuild_in_background, args=(generation,),
                                                    name="bm25-rebuild", daemon=True)
                self._rebuilding.start()

    def _rebuild_in_background(self, generation: int) -> None:
        """Rebuild BM25 off the question path, again while the generation moved on under it."""
        while True:
            try:
                bm25 = self._rebuild_bm25(generation, self._bm25)
            except Exception:  # noqa: BLE001 - the old BM25 keeps serving
                log.exception("background BM25 rebuild failed")
                with self._refresh_lock:
                    self._rebuilding = None
                    self._seen_generation = -1  # the next question tries again
                return
            with self._refresh_lock:
                if self._bm25 is None or self._bm25.generation <= generation:  # a writer may have built a newer one
                    self._bm25 = bm25
                if self._bm25.generation == self._seen_generation:
                    self._rebuilding = None
                    return
                generation = self._seen_generation

    def _rebuild_bm25(self, generation: int, previous: BM25Index | None) -> BM25Index:
        with self._rebuild_lock:  # one at a time: a writer's and a background rebuild share bm25_dir
            bm25 = BM25Index.build(self.store.iter_chunks(), generation, previous.reusable_tokens() if previous else None)
            try:
                bm25.save(self.bm25_dir)
            except OSError:
                pass  # a read-only index dir still serves from memory
            return bm25

    @property
    def bm25(self) -> BM25Index:
        self.refresh(wait=False)
        assert self._bm25 is not None
        return self._bm25

    def complete_documents(self) -> dict[str, dict]:
        """Documents fully written; chunks of any other document are never returned."""
        self.refresh(wait=False)
        return {doc_id: meta for doc_id, meta in self._documents.items() if meta.get("status") == "complete"}

    def stats(self) -> dict:
        documents = self.complete_documents()
        return {
            "documents": [
                {
                    "doc_id": doc_id,
                    "title": meta.get("title", ""),
                    "source": meta.get("source", ""),
                    "doc_type": meta.get("doc_type", ""),
                    "date": meta.get("date", ""),
                    "region": meta.get("region", ""),
                    "chunks": int(meta.get("chunk_count", 0)),
                    "issuer": meta.get("issuer", ""),
                    "validity": meta.get("validity", ""),
                    "superseded_by": meta.get("superseded_by", ""),
                }
                for doc_id, meta in sorted(documents.items(), key=lambda item: item[1].get("source", ""))
            ],
            "chunks": {"chroma": self.store.count(), "bm25": len(self.bm25)},
            "embedding_model": self.embeddings.name,
            "embedding_dim": self.embeddings.dimension,
            "index": str(self.index_dir.resolve()) if not self.settings.chroma.host else self.store.location,
        }

    # ------------------------------------------------------------ write side

    @contextmanager
    def _write_lock(self):
        """One writer at a time per index dir (the CLI and the staff console may both ingest).

        A disk that is read-only or too full is refused here, before anything is written.
        """
        if not self.settings.chroma.host:
            reason = storage_problem(self.index_dir, self.settings.ingest.min_free_disk_mb)
            if reason is not None:
                raise storage_error(self.index_dir, reason)
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.index_dir / ".write.lock", "a+")
        except OSError as exc:
            raise storage_error(self.index_dir, storage_problem(self.index_dir, 0, exc) or exc.strerror, exc) from exc
        with lock_file as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._writing = True
            try:
                yield
            finally:
                self._writing = False
                fcntl.flock(fh, fcntl.LOCK_UN)

    def sync(self, paths: list[Path], prune: bool = True, progress: Progress | None = None) -> IngestReport:
        """Bring the index in line with the files under ``paths``."""
        started = time.perf_counter()
        report = IngestReport()
        corpus_dir = Path(self.settings.paths.corpus_dir)
        with self._write_lock():
            registry = self.store.documents()
            for doc_id, meta in registry.items():
                if meta.get("status") == "deleting":
                    self.store.delete_document(doc_id)  # finish what a killed run started
            files = discover(paths, corpus_dir)
            for done, source_file in enumerate(files, start=1):
                step = None
                if progress:  # steps inside a file (OCR pages) as the file's own progress line
                    def step(text, name=source_file.source, before=done - 1):
                        progress(f"{name} · {text}", before, len(files), report.chunks)
                report.files.append(self._ingest_one(source_file, registry, step))
                if progress:
                    progress(source_file.source, done, len(files), report.chunks)
            if prune:
                report.files += self._prune(paths, corpus_dir, {f.source for f in files}, registry)
            self.refresh()
            (self.index_dir / SYNCED_MARKER).touch()
        report.seconds = time.perf_counter() - started
        return report

    @property
    def synced_once(self) -> bool:
        return (self.index_dir / SYNCED_MARKER).exists()

    def resume(self, paths: list[Path]) -> IngestReport:
        """Finish what a killed process left: documents half-written or half-deleted, and files under ``paths``
        saved but never indexed.  Complete documents are not read again and nothing else is removed."""
        started = time.perf_counter()
        report = IngestReport()
        corpus_dir = Path(self.settings.paths.corpus_dir)
        if not any(self._left_behind(self.store.documents(), paths)):
            return report  # nothing to write: a full disk does not stop a start
        with self._write_lock():
            registry = self.store.documents()
            unfinished, saved = self._left_behind(registry, paths)
            retry = []
            for doc_id in unfinished:
                meta = registry[doc_id]
                path = corpus_dir / meta.get("source", "")
                if meta.get("status") in ("pending", "complete") and path.is_file():
                    retry.append(path)  # half-written, or written by an older pipeline
                elif meta.get("status") != "complete":
                    self.store.delete_document(doc_id)  # half-deleted, or its file is gone
            for source_file in discover(retry, corpus_dir) + saved:
                report.files.append(self._ingest_one(source_file, registry, record_failure=True))
            self.refresh()
        report.seconds = time.perf_counter() - started
        return report

    def ingest_staged(self, staged: list[tuple[Path, Path]], progress: Progress | None = None) -> IngestReport:
        """Index uploads read from a staging folder: (staged file, its place in the corpus) pairs.

        A file moves to its place only once it has been read and chunked, so a file that cannot be indexed never
        enters the corpus (no start reads it again); it is recorded as failed, with the reason, for staff."""
        started = time.perf_counter()
        report = IngestReport()
        corpus_dir = Path(self.settings.paths.corpus_dir).resolve()
        with self._write_lock():
            registry = self.store.documents()
            for done, (path, place) in enumerate(staged, start=1):
                source = Path(os.path.relpath(place.resolve(), corpus_dir)).as_posix()
                report.files.append(self._ingest_one(SourceFile(path, source), registry, record_failure=True,
                                                      place=place))
                if progress:
                    progress(source, done, len(staged), report.chunks)
            self.refresh()
        report.seconds = time.perf_counter() - started
        return report

    def failures(self) -> list[dict]:
        """Files recorded as failed (uploads and files a start found), newest first."""
        failed = [meta for meta in self.store.documents().values() if meta.get("status") == "failed"]
        return sorted(failed, key=lambda meta: -float(meta.get("failed_at", 0)))

    def _left_behind(self, registry: dict[str, dict], paths: list[Path]) -> tuple[list[str], list[SourceFile]]:
        """Registry records not complete or written by another pipeline, and files under ``paths`` the registry
        does not know (or knows as failed, with other content or under another pipeline: a file replaced since, or
        a pipeline that may read it now)."""
        current = pipeline_fingerprint(self.settings.ingest)
        unfinished = [doc_id for doc_id, meta in registry.items() if meta.get("status") != "failed"
                      and (meta.get("status") != "complete" or meta.get("pipeline") != current)]
        existing = [path for path in paths if path.exists()]
        corpus_dir = Path(self.settings.paths.corpus_dir)

        def known(source_file: SourceFile) -> bool:
            meta = registry.get(doc_id_for(source_file.source))
            if meta is None:
                return False
            return meta.get("status") != "failed" or (meta.get("content_hash") == _hash_or_none(source_file.path)
                                                      and meta.get("pipeline") == current)

        saved = [f for f in discover(existing, corpus_dir) if not known(f)]
        return unfinished, saved

    def _ingest_one(self, source_file: SourceFile, registry: dict[str, dict], step=None, record_failure: bool = False,
                    place: Path | None = None) -> FileReport:
        """Index one file.  With ``place``, the file is staged: moved there once read, deleted if it cannot be.
        With ``record_failure``, a file that cannot be indexed is recorded as failed in the registry."""
        source = source_file.source
        digest, known = "", None
        try:
            check_inside_root(source_file)  # before reading a byte of it
            digest = file_hash(source_file.path)
            known = registry.get(doc_id_for(source))
            same_file = bool(known) and known.get("content_hash") == digest and known.get("status") == "complete"
            pipeline = pipeline_fingerprint(self.settings.ingest)
            if same_file and known.get("pipeline") == pipeline:
                if place is not None:
                    os.replace(source_file.path, place)
                return FileReport(source, "unchanged", int(known.get("chunk_count", 0)), title=known.get("title", ""))
            if same_file:
                log.info("re-processing %s: the ingest pipeline changed (%s -> %s)", source, known.get("pipeline"), pipeline)
            processed = process_file(source_file, self.settings.ingest, digest, step)
            if place is not None:
                place.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source_file.path, place)  # read well: only now is it part of the corpus
        except (IngestError, OSError) as exc:
            if isinstance(exc, IngestError):
                status = "skipped" if exc.code == "unsupported_type" else "failed"
                failed = FileReport(source, status, code=exc.code, reason_zh=exc.message_zh, reason_en=exc.message_en)
            else:
                failed = FileReport(source, "failed", code="io_error", reason_zh=f"无法读取文件:{exc.strerror}",
                                    reason_en=str(exc))
            if place is not None:
                source_file.path.unlink(missing_ok=True)
            # a document indexed before (by an older pipeline) keeps being served as it was
            if record_failure and not (known and known.get("status") == "complete"):
                self._record_failure(failed, digest)
            return failed
        vectors = self.embeddings.embed_documents([c.indexed_text for c in processed.chunks])
        self.store.replace_document(processed.doc, processed.chunks, vectors)
        code = "pipeline_changed" if same_file else ""
        return FileReport(source, "indexed", len(processed.chunks), code=code, title=processed.doc.title)

    def _record_failure(self, failed: FileReport, digest: str) -> None:
        try:
            self.store.record_failure(doc_id_for(failed.source), failed.source, digest, failed.code or failed.status,
                                      failed.reason_zh, pipeline_fingerprint(self.settings.ingest))
        except IndexUnavailable as exc:  # the report still says why; the next start will try the file again
            log.warning("could not record the failure of %s: %s", failed.source, exc)

    def _prune(self, paths: list[Path], corpus_dir: Path, present: set[str], registry: dict[str, dict]) -> list[FileReport]:
        """Remove documents whose files were under a synced folder and are gone."""
        prefixes = []
        for given in paths:
            given = given.resolve()
            if not given.is_dir():
                continue
            root = corpus_dir.resolve() if given.is_relative_to(corpus_dir.resolve()) else given.parent
            prefix = Path(os.path.relpath(given, root)).as_posix()
            prefixes.append("" if prefix == "." else prefix + "/")
        removed = []
        for doc_id, meta in registry.items():
            source = meta.get("source", "")
            if source in present or not any(source.startswith(p) for p in prefixes) or meta.get("status") == "failed":
                continue  # a failure record has no file by design: staff remove it in the console
            self.store.delete_document(doc_id)
            removed.append(FileReport(source, "removed", int(meta.get("chunk_count", 0)), title=meta.get("title", "")))
        return removed

    def delete_document(self, doc_id_or_source: str) -> bool:
        """Remove a document from Chroma and BM25 at once; True when it existed."""
        with self._write_lock():
            registry = self.store.documents()
            doc_id = doc_id_or_source if doc_id_or_source in registry else doc_id_for(doc_id_or_source)
            if doc_id not in registry:
                return False
            self.store.delete_document(doc_id)
            self.refresh()
            return True

    def rebuild(self, paths: list[Path], progress: Progress | None = None) -> IngestReport:
        """Drop everything and index ``paths`` from scratch."""
        with self._write_lock():
            for doc_id in list(self.store.documents()):
                self.store.delete_document(doc_id)
        return self.sync(paths, prune=True, progress=progress)
