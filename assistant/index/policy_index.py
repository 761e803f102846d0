"""The index the rest of the app talks to: embeddings + Chroma + the document registry + the keyword side.

``sync`` is the ingest run: it compares content hashes with the registry, re-embeds only changed files,
removes documents whose files are gone and finishes what a killed run left behind.  Files are parsed
(and tokenised) in worker processes while this process embeds, and written in batches: each batch is
marked pending in the registry, written to Chroma, marked complete (one commit, a new generation), then
applied to the keyword index.  The keyword index follows the registry's change log: a process that
finds it behind the registry (another replica wrote, or a writer was killed) catches it up with just the
documents committed since, never rebuilding it.
"""

from __future__ import annotations

import contextvars
import fcntl
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator

import numpy as np

from assistant import components
from assistant.index.embeddings import Embedder, is_usem3
from assistant.index.sentence_vectors import SentenceVectorStore
from assistant.index.filters import Filters
from assistant.index.keyword import KeywordChunk, KeywordIndex
from assistant.index.parse import PreparedFile, exit_with_parent, prepare_file, prepare_task
from assistant.index.registry import DocumentRegistry
from assistant.index.store import IndexUnavailable, VectorStore, storage_error, storage_problem
from assistant.index.versions import link_versions
from assistant.ingest.fingerprint import pipeline_fingerprint
from assistant.ingest.models import FileReport, IngestError
from assistant.ingest.pipeline import SourceFile, check_inside_root, discover, doc_id_for, file_hash
from assistant.settings import Settings
from assistant.tracing import span

log = logging.getLogger(__name__)


def _hash_or_none(path: Path) -> str | None:
    try:
        return file_hash(path)
    except OSError:
        return None

SYNCED_MARKER = ".synced"  # in the index dir once a sync has finished: a later start only resumes
KEYWORD_DIR = "keyword"

Progress = Callable[[str, int, int, int], None]  # (source, files done, files total, chunks so far)
# a Progress may also have ``step(source, text, fraction)``: steps inside a file parsed in this process (pages
# read, chunks embedded), for a progress bar that moves during one long file
EMBED_STEP = 32  # chunks embedded between two steps reported
SENTENCE_STEP = 128  # sentences (shorter) embedded between two steps reported


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
    def __init__(self, settings: Settings, embeddings: Embedder | None = None):
        self.settings = settings
        self.index_dir = Path(settings.paths.index_dir)
        # workers embed only with the model this process would load itself (an embedder passed in may differ)
        self._workers_may_embed = embeddings is None and is_usem3(settings.embedding)
        self.embeddings = embeddings or components.embedder(settings.embedding)
        self._store: VectorStore | None = None
        self._store_lock = threading.Lock()
        # the store is opened now (the registry needs it), so a wrong model or an unusable disk is reported at start-up
        self.registry: DocumentRegistry = components.document_registry(settings, self.store, self.index_dir)
        self._keyword: KeywordIndex | None = None
        self._documents: dict[str, dict] = {}
        self._documents_generation = -1
        self._seen_generation = -1  # registry generation whose documents and keyword index are both in use
        self._refresh_lock = threading.Lock()
        self._catching_up: threading.Thread | None = None
        self._writing = False  # this process holds the write lock
        self._sentence_vectors: SentenceVectorStore | None = None

    @property
    def store(self) -> VectorStore:
        """The vector store; reopened after a storage failure (Chroma's embedded engine can hang after one)."""
        if self._store is not None and not self._store.broken:
            return self._store
        with self._store_lock:
            if self._store is not None and self._store.broken:
                self._store.close()
                self._store = None
                self._seen_generation = -1
            if self._store is None:
                self._store = components.vector_store(self.settings, self.index_dir, self.embeddings.name,
                                                      self.embeddings.dimension)
            return self._store

    @property
    def sentence_vectors(self) -> SentenceVectorStore | None:
        """The quotable sentences' vectors kept beside the index (None when ``index.sentence_vectors`` is off)."""
        if not self.settings.index.sentence_vectors:
            return None
        with self._store_lock:
            kept = self._sentence_vectors
            if kept is not None and (kept.model, kept.dimension) != (self.embeddings.name, self.embeddings.dimension):
                kept.close()  # the model was swapped (benchmarks do): its vectors are keyed by model, so reopen
                self._sentence_vectors = None
            if self._sentence_vectors is None:
                self._sentence_vectors = SentenceVectorStore(self.index_dir / "sentence_vectors.sqlite",
                                                             self.embeddings.name, self.embeddings.dimension)
            return self._sentence_vectors

    def close(self) -> None:
        self.registry.close()
        if self._sentence_vectors is not None:
            self._sentence_vectors.close()
        if self._keyword is not None:
            self._keyword.close()
        self.store.close()

    # ------------------------------------------------------------ read side

    @property
    def keyword(self) -> KeywordIndex:
        """The keyword index in ``<index_dir>/keyword``, derived from this Chroma collection."""
        if self._keyword is None:
            self._keyword = components.keyword_index(self.settings, self.index_dir / KEYWORD_DIR, self.store.identity)
        return self._keyword

    def refresh(self, wait: bool = True) -> None:
        """Follow the registry: its documents at once, and the keyword index up to its generation.

        With ``wait=False`` (the question path) a large catch-up runs in the background while the keyword
        index answers as it was (a deleted document is still dropped at once: only complete documents
        are served).  A keyword index that another process in this index dir is writing is left to it.
        """
        with span("index.refresh"):
            generation = self.registry.generation()
            if generation == self._seen_generation:
                return
            with self._refresh_lock:
                if generation != self._documents_generation:
                    self._documents = link_versions(self.registry.documents())  # versions in force, on every read
                    self._documents_generation = generation
                keyword = self.keyword
                keyword.refresh()
                if keyword.generation != generation and not self._writing and self._catching_up is None:
                    self._catch_up(generation, wait)
                if keyword.generation == generation:
                    self._seen_generation = generation

    def _catch_up(self, generation: int, wait: bool) -> None:
        """Bring the keyword index to ``generation``, if no other writer holds this index dir."""
        changed = None if self.keyword.generation < 0 or self.keyword.generation > generation else \
            self.registry.changed_since(self.keyword.generation)
        size = sum(int(m.get("chunk_count", 0)) for m in changed.values()) if changed is not None else self.store.count()
        if not wait and size >= self.settings.index.catch_up_background_min_chunks:
            self._catching_up = threading.Thread(target=self._catch_up_in_background, name="keyword-catch-up",
                                                 daemon=True)
            self._catching_up.start()
            return
        with self._try_write_lock() as locked:
            if locked:
                self._apply_changes(generation)

    def _catch_up_in_background(self) -> None:
        try:
            with self._try_write_lock() as locked:
                if locked:
                    self._apply_changes(self.registry.generation())
        except Exception:  # noqa: BLE001 - the keyword index keeps answering as it was; the next question retries
            log.exception("keyword index catch-up failed")
        finally:
            with self._refresh_lock:
                self._catching_up = None

    def _apply_changes(self, generation: int) -> None:
        """Keyword index to ``generation``: the documents committed since its own, or all of Chroma."""
        keyword = self.keyword
        keyword.refresh()
        if keyword.generation == generation:
            return
        with span("index.catch_up"):
            if keyword.generation < 0 or keyword.generation > generation:
                log.info("building the keyword index from Chroma (generation %s)", generation)
                keyword.clear()
                chunks = (KeywordChunk.tokenized(c.chunk_id, c.metadata, c.indexed_text) for c in self.store.iter_chunks())
                keyword.replace([], chunks, generation)
                return
            changed = self.registry.changed_since(keyword.generation)
            complete = [doc_id for doc_id, meta in changed.items() if meta.get("status") == "complete"]
            chunks = [KeywordChunk.tokenized(c.chunk_id, c.metadata, c.indexed_text)
                      for c in self.store.iter_chunks(doc_ids=complete)]
            keyword.replace(list(changed), chunks, generation)

    def complete_documents(self) -> dict[str, dict]:
        """Documents fully written; chunks of any other document are never returned."""
        self.refresh(wait=False)
        return {doc_id: meta for doc_id, meta in self._documents.items() if meta.get("status") == "complete"}

    def keyword_search(self, tokens: list[str], k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """BM25 over the keyword index (call ``complete_documents`` first: it brings the index forward)."""
        return self.keyword.search(tokens, k, filters)

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
            "chunks": {"chroma": self.store.count(), "bm25": self.keyword.count()},
            "embedding_model": self.embeddings.name,
            "embedding_dim": self.embeddings.dimension,
            "index": str(self.index_dir.resolve()) if not self.settings.chroma.host else self.store.location,
        }

    # ------------------------------------------------------------ write side

    def _lock_file(self):
        if not self.settings.chroma.host:
            reason = storage_problem(self.index_dir, self.settings.ingest.min_free_disk_mb)
            if reason is not None:
                raise storage_error(self.index_dir, reason)
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            return open(self.index_dir / ".write.lock", "a+")
        except OSError as exc:
            raise storage_error(self.index_dir, storage_problem(self.index_dir, 0, exc) or exc.strerror, exc) from exc

    @contextmanager
    def _write_lock(self):
        """One writer at a time per index dir (the CLI and the staff console may both ingest).

        A disk that is read-only or too full is refused here, before anything is written.
        """
        with self._lock_file() as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._writing = True
            try:
                yield
            finally:
                self._writing = False
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def _try_write_lock(self) -> Iterator[bool]:
        """The write lock if it is free now (a catch-up never waits for an ingest; the ingest updates the
        keyword index itself); False when it is taken or cannot be had (a read-only index dir)."""
        try:
            fh = open(self.index_dir / ".write.lock", "a+")
        except OSError:
            yield False
            return
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def sync(self, paths: list[Path], prune: bool = True, progress: Progress | None = None) -> IngestReport:
        """Bring the index in line with the files under ``paths``."""
        started = time.perf_counter()
        report = IngestReport()
        corpus_dir = Path(self.settings.paths.corpus_dir)
        with self._write_lock():
            self._bring_keyword_forward()
            registry = self.registry.documents()
            deleting = [doc_id for doc_id, meta in registry.items() if meta.get("status") == "deleting"]
            if deleting:
                self._delete(deleting)  # finish what a killed run started
            files = discover(paths, corpus_dir)
            self._ingest(files, registry, report, progress)
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
        if not any(self._left_behind(self.registry.documents(), paths)):
            return report  # nothing to write: a full disk does not stop a start
        with self._write_lock():
            self._bring_keyword_forward()
            registry = self.registry.documents()
            unfinished, saved = self._left_behind(registry, paths)
            retry, gone = [], []
            for doc_id in unfinished:
                meta = registry[doc_id]
                path = corpus_dir / meta.get("source", "")
                if meta.get("status") in ("pending", "complete") and path.is_file():
                    retry.append(path)  # half-written, or written by an older pipeline
                elif meta.get("status") != "complete":
                    gone.append(doc_id)  # half-deleted, or its file is gone
            if gone:
                self._delete(gone)
            self._ingest(discover(retry, corpus_dir) + saved, registry, report, None, record_failures=True)
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
        files = [SourceFile(path, Path(os.path.relpath(place.resolve(), corpus_dir)).as_posix()) for path, place in staged]
        places = {f.source: place for f, (_, place) in zip(files, staged)}
        with self._write_lock():
            self._bring_keyword_forward()
            self._ingest(files, self.registry.documents(), report, progress, record_failures=True, places=places)
            self.refresh()
        report.seconds = time.perf_counter() - started
        return report

    def failures(self) -> list[dict]:
        """Files recorded as failed (uploads, and files a start found), newest first."""
        return sorted(self.registry.failures(), key=lambda meta: -float(meta.get("failed_at", 0)))

    def forget_failure(self, doc_id: str) -> bool:
        with self._write_lock():
            return self.registry.forget_failure(doc_id)

    def _record_failure(self, failed: FileReport, digest: str) -> None:
        record = {"doc_id": doc_id_for(failed.source), "source": failed.source, "title": Path(failed.source).name,
                  "content_hash": digest, "pipeline": pipeline_fingerprint(self.settings.ingest),
                  "code": failed.code or failed.status, "reason": failed.reason_zh, "chunk_count": 0,
                  "failed_at": time.time()}
        try:
            self.registry.record_failure(record)
        except IndexUnavailable as exc:  # the report still says why; the next start will try the file again
            log.warning("could not record the failure of %s: %s", failed.source, exc)

    def _left_behind(self, registry: dict[str, dict], paths: list[Path]) -> tuple[list[str], list[SourceFile]]:
        """Registry records not complete or written by another pipeline, and files under ``paths`` the registry
        does not know, unless they failed before with the same content under the same pipeline (a file
        replaced since, or a pipeline that may read it now, is tried again)."""
        current = pipeline_fingerprint(self.settings.ingest)
        unfinished = [doc_id for doc_id, meta in registry.items()
                      if meta.get("status") != "complete" or meta.get("pipeline") != current]
        existing = [path for path in paths if path.exists()]
        corpus_dir = Path(self.settings.paths.corpus_dir)
        failed = {meta["doc_id"]: meta for meta in self.registry.failures()} if existing else {}

        def known(source_file: SourceFile) -> bool:
            doc_id = doc_id_for(source_file.source)
            if doc_id in registry:
                return True
            failure = failed.get(doc_id)
            return (failure is not None and failure.get("pipeline") == current
                    and failure.get("content_hash") == _hash_or_none(source_file.path))

        saved = [f for f in discover(existing, corpus_dir) if not known(f)]
        return unfinished, saved

    def _bring_keyword_forward(self) -> None:
        """Under the write lock: the keyword index at the registry's generation before this writer moves
        it (a writer killed between its registry commit and its keyword commit left it behind)."""
        generation = self.registry.generation()
        if self.keyword.generation != generation:
            self._apply_changes(generation)

    # ------------------------------------------------------------ ingest

    def _ingest(self, files: list[SourceFile], registry: dict[str, dict], report: IngestReport,
                progress: Progress | None, record_failures: bool = False, places: dict[str, Path] | None = None) -> None:
        """Parse changed files (in worker processes when there are several), embed them in batches, and
        write each batch while the next is embedded.

        With ``record_failures``, a file that cannot be indexed (and was never indexed before: an older
        pipeline's document keeps being served) is recorded as failed.  ``places`` maps the source of a staged
        file to its place in the corpus: it moves there once parsed, and is deleted if it cannot be."""
        total = len(files)
        done = 0
        places = places or {}
        staged = {f.source: f.path for f in files if f.source in places}
        digests: dict[str, str] = {}
        failed_before = {m["doc_id"] for m in self.registry.failures()} if record_failures else set()

        def finished(file_report: FileReport) -> None:
            nonlocal done
            source, doc_id = file_report.source, doc_id_for(file_report.source)
            if file_report.status in ("failed", "skipped"):
                if source in staged:
                    staged[source].unlink(missing_ok=True)
                previous = registry.get(doc_id)
                if record_failures and file_report.status == "failed" and not (
                        previous and previous.get("status") == "complete"):
                    self._record_failure(file_report, digests.get(source, ""))
            else:
                if file_report.status == "unchanged" and source in staged:
                    os.replace(staged[source], places[source])
                if doc_id in failed_before:  # it was read this time: its failure is history
                    self.registry.forget_failure(doc_id)
            report.files.append(file_report)
            done += 1
            if progress:
                progress(file_report.source, done, total, report.chunks)

        def into_place(item: PreparedFile) -> bool:
            """A staged file that parsed well becomes part of the corpus now, before its chunks are written."""
            if item.source not in staged:
                return True
            try:
                places[item.source].parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged[item.source], places[item.source])
                return True
            except OSError as exc:
                finished(FileReport(item.source, "failed", code="io_error", reason_zh=f"文件无法保存:{exc.strerror}",
                                    reason_en=str(exc)))
                return False

        tasks = []
        pipeline = pipeline_fingerprint(self.settings.ingest)
        reprocessed: set[str] = set()  # unchanged files written by an older pipeline
        for source_file in files:
            try:
                check_inside_root(source_file)  # before reading a byte of it
                digest = file_hash(source_file.path)
                digests[source_file.source] = digest
            except IngestError as exc:
                finished(FileReport(source_file.source, "failed", code=exc.code, reason_zh=exc.message_zh,
                                    reason_en=exc.message_en))
                continue
            except OSError as exc:
                finished(FileReport(source_file.source, "failed", code="io_error",
                                    reason_zh=f"无法读取文件:{exc.strerror}", reason_en=str(exc)))
                continue
            known = registry.get(doc_id_for(source_file.source))
            same_file = bool(known) and known.get("content_hash") == digest and known.get("status") == "complete"
            if same_file and known.get("pipeline") == pipeline:
                finished(FileReport(source_file.source, "unchanged", int(known.get("chunk_count", 0)),
                                    title=known.get("title", "")))
                continue
            if same_file:
                log.info("re-processing %s: the ingest pipeline changed (%s -> %s)", source_file.source,
                         known.get("pipeline"), pipeline)
                reprocessed.add(source_file.source)
            tasks.append((source_file, self.settings.ingest, digest))
        if not tasks:
            return
        options = self.settings.index
        pool = None
        if options.parse_workers > 0 and len(tasks) >= options.parse_pool_min_files:
            # spawned, not forked: this process runs Chroma's and the embedder's threads
            pool = ProcessPoolExecutor(options.parse_workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=exit_with_parent, initargs=(os.getpid(),))
            embedding = self.settings.embedding if self._workers_may_embed else None
            store = self.sentence_vectors if embedding is not None else None
            kept = (str(store.path), store.model, store.dimension) if store is not None else None
            tasks = [(*task, embedding, kept) for task in tasks]
        writer = ThreadPoolExecutor(1, thread_name_prefix="ingest-write")
        writing: Future | None = None
        batch: list[PreparedFile] = []
        try:
            step = getattr(progress, "step", None)

            def steps_of(source: str):
                return (lambda text, fraction: step(source, text, (fraction or 0.0) * 0.5)) if step else None

            prepared = pool.map(prepare_task, tasks) if pool else (
                prepare_file(*task, on_progress=steps_of(task[0].source)) for task in tasks)

            def flush() -> None:
                nonlocal writing, batch
                with span("ingest.embed"):
                    if all(f.vectors is not None for f in batch):  # embedded by the workers
                        vectors = np.concatenate([f.vectors.reshape(-1, self.embeddings.dimension) for f in batch])
                    else:
                        texts = [c.indexed_text for f in batch for c in f.chunks]
                        if step is None:
                            vectors = self.embeddings.embed_documents(texts)
                        else:  # in slices, so the progress of a long file moves while it is embedded
                            share = 0.5 if self.sentence_vectors is None else 0.25  # the sentences take the rest
                            vectors = []
                            for start in range(0, len(texts), EMBED_STEP):
                                vectors += self.embeddings.embed_documents(texts[start:start + EMBED_STEP])
                                step(batch[-1].source, f"生成向量 {len(vectors)}/{len(texts)} 个片段",
                                     0.5 + share * len(vectors) / len(texts))
                    self._embed_sentences(batch, step)
                if writing is not None:
                    for file_report in writing.result():
                        finished(file_report)
                context = contextvars.copy_context()  # the writer's spans join the caller's trace
                writing = writer.submit(context.run, self._write_batch, batch, vectors, reprocessed)
                batch = []

            while True:
                with span("ingest.parse_wait"):
                    item = next(prepared, None)
                if item is None:
                    break
                if isinstance(item, FileReport):
                    finished(item)
                    continue
                if not into_place(item):
                    continue
                batch.append(item)
                if sum(len(f.chunks) for f in batch) >= options.batch_chunks:
                    flush()
            if batch:
                flush()
            if writing is not None:
                for file_report in writing.result():
                    finished(file_report)
        finally:
            writer.shutdown(wait=True)
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _embed_sentences(self, batch: list[PreparedFile], step: Callable[[str, str, float], None] | None = None) -> None:
        """The quotable sentences of files the workers did not embed, except those already kept (``step`` hears
        the progress: the last quarter of a file's)."""
        store = self.sentence_vectors
        if store is None:
            return
        for prepared in batch:
            if prepared.sentence_vectors is not None:
                continue
            texts = prepared.quotable_texts()
            kept = store.known(texts)
            todo = [text for text in texts if text not in kept]
            vectors: list[list[float]] = []
            for start in range(0, len(todo), SENTENCE_STEP):
                vectors += self.embeddings.embed_documents(todo[start:start + SENTENCE_STEP])
                if step is not None:
                    step(prepared.source, f"生成句子向量 {len(vectors)}/{len(todo)} 句", 0.75 + 0.25 * len(vectors) / len(todo))
            prepared.sentence_texts = todo
            prepared.sentence_vectors = np.asarray(vectors, dtype=np.float16)

    def _write_batch(self, batch: list[PreparedFile], vectors: list[list[float]],
                     reprocessed: frozenset[str] | set[str] = frozenset()) -> list[FileReport]:
        """Pending in the registry, chunks into Chroma, complete in the registry (one commit), keyword index."""
        docs = [(f.doc, len(f.chunks)) for f in batch]
        doc_ids = [f.doc.doc_id for f in batch]
        with span("ingest.write.registry"):
            self.registry.mark_pending(docs)
        with span("ingest.write.chroma"):
            self.store.write_documents(doc_ids, [c for f in batch for c in f.chunks], vectors)
        store = self.sentence_vectors
        if store is not None:
            with span("ingest.write.sentences"):
                for f in batch:
                    if f.sentence_texts:
                        store.put(f.sentence_texts, f.sentence_vectors)
        with span("ingest.write.registry"):
            generation = self.registry.mark_complete(docs)
        self._commit_keyword(doc_ids, [c for f in batch for c in f.keyword_chunks], generation)
        return [FileReport(f.source, "indexed", len(f.chunks), code="pipeline_changed" if f.source in reprocessed else "",
                           title=f.doc.title) for f in batch]

    def _commit_keyword(self, doc_ids: list[str], chunks: list[KeywordChunk], generation: int) -> None:
        """The writer's own change, straight into the keyword index when it was at the generation before."""
        with span("ingest.write.keyword"):
            keyword = self.keyword
            if keyword.generation == generation - 1:
                keyword.replace(doc_ids, chunks, generation)
            else:
                self._apply_changes(generation)

    def _delete(self, doc_ids: list[str]) -> None:
        self.registry.mark_deleting(doc_ids)
        self.store.delete_documents(doc_ids)
        generation = self.registry.mark_deleted(doc_ids)
        self._commit_keyword(doc_ids, [], generation)

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
        removed = {}
        for doc_id, meta in registry.items():
            source = meta.get("source", "")
            if source in present or not any(source.startswith(p) for p in prefixes):
                continue
            removed[doc_id] = FileReport(source, "removed", int(meta.get("chunk_count", 0)), title=meta.get("title", ""))
        if removed:
            self._delete(list(removed))
        return list(removed.values())

    def delete_document(self, doc_id_or_source: str) -> bool:
        """Remove a document from Chroma and the keyword index at once; True when it existed."""
        with self._write_lock():
            registry = self.registry.documents()
            doc_id = doc_id_or_source if doc_id_or_source in registry else doc_id_for(doc_id_or_source)
            if doc_id not in registry:
                return False
            self._bring_keyword_forward()
            self._delete([doc_id])
            self.refresh()
            return True

    def rebuild(self, paths: list[Path], progress: Progress | None = None) -> IngestReport:
        """Drop everything and index ``paths`` from scratch."""
        with self._write_lock():
            self._bring_keyword_forward()
            everything = list(self.registry.documents())
            if everything:
                self._delete(everything)
            if self.sentence_vectors is not None:
                self.sentence_vectors.clear()
        return self.sync(paths, prune=True, progress=progress)
