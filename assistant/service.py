"""The small API that the CLI, the Gradio UI and other programs share.

It holds the index and the retriever for the life of the process, so the
console's retrieval test and the chat's answer come from one code path.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from collections.abc import Callable, Iterator

from assistant import viewer
from assistant.answer.chain import Answer, AnswerChain
from assistant.answer.events import StreamEvent
from assistant.answer.prompts import Prompts
from assistant import components
from assistant.audit import AuditLog
from assistant.client_input import clean_history, clean_question
from assistant.feedback import FeedbackStore
from assistant.index.policy_index import IngestReport, PolicyIndex, Progress
from assistant.index.store import IndexUnavailable
from assistant.ingest.pipeline import doc_id_for
from assistant.retrieve.query import parse_query
from assistant.uploads import UPLOAD_SUBDIR, UploadRejected, clear_staging, stage_upload
from assistant.retrieve.hybrid import Filters, HybridRetriever, RetrievalResult
from assistant.settings import Settings, get_settings

log = logging.getLogger(__name__)


class AssistantService:
    def __init__(self, settings: Settings | None = None, embeddings=None):
        self.settings = settings or get_settings()
        self.index = PolicyIndex(self.settings, embeddings=embeddings)
        self.retriever = HybridRetriever(self.index, self.settings.retrieval)
        self.retriever.reranker = components.reranker(self.settings, lambda: self.retriever.embedding_cache)
        self._ingest_lock = threading.Lock()
        self.prompts = Prompts.load(Path(self.settings.paths.prompts_dir))
        self._chains: dict[str, AnswerChain] = {}
        self._chain_lock = threading.Lock()
        self._feedback: FeedbackStore | None = None
        self._indexing: dict = {"state": "idle"}
        self.audit = AuditLog(self.settings.security.audit_log or Path(self.settings.paths.index_dir) / "audit.log")

    # ------------------------------------------------------------ knowledge base

    def ingest(self, paths: list[Path] | None = None, prune: bool = True, progress: Progress | None = None) -> IngestReport:
        with self._ingest_lock:
            return self.index.sync(paths or [Path(self.settings.paths.corpus_dir)], prune=prune, progress=progress)

    def rebuild(self, progress: Progress | None = None) -> IngestReport:
        with self._ingest_lock:
            return self.index.rebuild([Path(self.settings.paths.corpus_dir)], progress=progress)

    def delete_document(self, doc_id_or_source: str) -> bool:
        """Remove a document from the index and its file from the corpus, so no re-index brings it back."""
        with self._ingest_lock:
            path = self.document_path(doc_id_or_source)
            removed = self.index.delete_document(doc_id_or_source)
            if removed and path is not None:
                path.unlink(missing_ok=True)
            return removed

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for (jieba, POS tagger, query embedding, a local
        GGUF model); the question itself is extractive, so a slow or absent LLM endpoint never delays start-up."""
        self.chain()
        self.retriever.warm_up()
        self.ask("就业", backend="extractive")

    def stats(self) -> dict:
        return self.index.stats()

    def upload(self, files: list[tuple[str, bytes]],
               progress: Progress | None = None) -> tuple[IngestReport, list[UploadRejected]]:
        """Index uploaded (name, content) pairs; refusals come back as ``UploadRejected`` (its str is the Chinese
        message).  Each file is read in a staging folder and enters the corpus only once it was read well; one
        that cannot be indexed is recorded as failed (``failed_uploads``).  A name in use is never replaced
        (see ``stage_upload``); a report's ``note_zh`` says when a file was saved under another name."""
        corpus = Path(self.settings.paths.corpus_dir)
        staged, refused, notes = [], [], {}
        with self._ingest_lock:
            taken: set[str] = set()
            for name, data in files:
                try:
                    path, place, note = stage_upload(corpus, name, data, self.settings.ui.max_upload_mb, taken)
                except UploadRejected as exc:
                    refused.append(exc)
                    continue
                taken.add(place.name)
                staged.append((path, place))
                notes[place.name] = note
            try:
                report = self.index.ingest_staged(staged, progress=progress) if staged else IngestReport()
            finally:
                for path, _ in staged:
                    shutil.rmtree(path.parent, ignore_errors=True)
        for f in report.files:
            f.note_zh = notes.get(Path(f.source).name, "")
        return report, refused

    def failed_uploads(self) -> list[dict]:
        """Files that could not be indexed, with the reason (for the console); removable by ``remove_failed``."""
        return self.index.failures()

    def remove_failed(self, doc_id: str) -> bool:
        """Forget a failed file (and delete it, if a start found it in the uploads folder)."""
        with self._ingest_lock:
            record = next((m for m in self.index.failures() if m.get("doc_id") == doc_id), None)
            if record is None:
                return False
            corpus = Path(self.settings.paths.corpus_dir).resolve()
            path = (corpus / record.get("source", "")).resolve()
            self.index.forget_failure(doc_id)
            if path.is_relative_to(corpus / UPLOAD_SUBDIR) and path.is_file():
                path.unlink()
            return True

    def document_path(self, doc_id: str) -> Path | None:
        """The file of an indexed document, only if it lies inside the corpus folder."""
        corpus = Path(self.settings.paths.corpus_dir).resolve()
        documents = self.index.complete_documents()
        meta = documents.get(doc_id) or documents.get(doc_id_for(doc_id))  # a doc id or a source path
        if not meta:
            return None
        path = (corpus / meta["source"]).resolve()
        return path if path.is_relative_to(corpus) and path.is_file() else None

    def document(self, doc_id: str) -> dict | None:
        """An indexed document's entry in ``stats()["documents"]`` (None when it is not indexed)."""
        return next((d for d in self.stats()["documents"] if d["doc_id"] == doc_id), None)

    def document_chunks(self, doc_id: str) -> list[dict] | None:
        """An indexed document's chunks as indexed, in reading order (``viewer.chunk_json``); None when the
        document is not (completely) indexed."""
        if doc_id not in self.index.complete_documents():
            return None
        return [viewer.chunk_json(c) for c in self.index.store.document_chunks(doc_id)]

    def passage(self, doc_id: str, chunk_id: str, around: int = 2) -> dict | None:
        """A chunk of an indexed document with ``around`` chunks either side and the document's entry, for the
        viewer; ``pages`` is the page count of a PDF (0 otherwise).  None for an unknown document or chunk."""
        chunks = self.document_chunks(doc_id)
        found = viewer.passage_in(chunks or [], chunk_id, around)
        if found is None:
            return None
        path = self.document_path(doc_id)
        pages = viewer.page_count(path) if path is not None and path.suffix.lower() == ".pdf" else 0
        return {**found, "document": self.document(doc_id), "pages": pages}

    def page_image(self, doc_id: str, page: int, chunk_id: str = "") -> tuple[bytes, bool] | None:
        """Page ``page`` of an indexed PDF as PNG with the text of chunk ``chunk_id`` marked, and whether any
        was; None when the document is not an indexed PDF, has no such page or no such chunk."""
        path = self.document_path(doc_id)
        if path is None or path.suffix.lower() != ".pdf":
            return None
        passage = ""
        if chunk_id:
            chunk = next((c for c in self.document_chunks(doc_id) or [] if c["chunk_id"] == chunk_id), None)
            if chunk is None:
                return None
            passage = chunk["text"]
        try:
            return viewer.page_png(path, page, passage)
        except IndexError:
            return None

    def ensure_index(self, background: bool = False, done: Callable[[IngestReport], None] | None = None
                     ) -> IngestReport | None:
        """At start: index the corpus folder until one sync has finished (the first start, or one killed
        during it); after that, only finish what a killed process left (uploads saved but not indexed,
        documents half-written or half-deleted).  Nothing is replaced or removed: another replica, or a
        staff member through the console, may have changed it since.

        With ``background``, that finishing runs in a thread while the server answers from what is indexed
        (``indexing_status`` says how it goes; ``done`` gets its report); the first sync never does, since
        nothing could be answered before it."""
        corpus = Path(self.settings.paths.corpus_dir)
        clear_staging(corpus)
        if not self.index.synced_once:
            report = self.ingest([corpus], prune=False)
            self._indexing = {"state": "done", **report.summary()}
            return report
        if not background:
            return self._resume(corpus)
        self._indexing = {"state": "running"}
        threading.Thread(target=self._resume, args=(corpus, done), name="resume-indexing", daemon=True).start()
        return None

    def _resume(self, corpus: Path, done: Callable[[IngestReport], None] | None = None) -> IngestReport | None:
        self._indexing = {"state": "running"}
        try:
            with self._ingest_lock:
                report = self.index.resume([corpus / UPLOAD_SUBDIR])
        except IndexUnavailable as exc:  # a full or read-only disk, Chroma down: serving goes on
            log.error("finishing interrupted indexing failed: %s", exc)
            self._indexing = {"state": "failed", "reason": str(exc)}
            return None
        except Exception as exc:  # noqa: BLE001 - the server keeps answering from what is indexed
            log.exception("finishing interrupted indexing failed")
            self._indexing = {"state": "failed", "reason": type(exc).__name__}
            return None
        if done is not None:
            done(report)  # before the state says done: whoever waits for it finds the report told
        self._indexing = {"state": "done", **report.summary()}
        return report

    def indexing_status(self) -> dict:
        """Start-up indexing: ``{"state": "idle" | "running" | "done" | "failed", ...}`` (counts, or the reason)."""
        return dict(self._indexing)

    # ------------------------------------------------------------ feedback

    @property
    def feedback(self) -> FeedbackStore:
        if self._feedback is None:
            self._feedback = FeedbackStore(Path(self.settings.paths.index_dir) / "feedback.sqlite3")
        return self._feedback

    def record_feedback(self, answer: dict, rating: str, comment: str = "") -> int:
        """Store a 👍/👎 on an answer (the JSON of ``Answer.to_json``)."""
        return self.feedback.add(
            rating=rating,
            question=answer.get("question", ""),
            answer=answer.get("answer", ""),
            source_ids=[s.get("doc_id", "") for s in answer.get("sources", [])],
            backend=answer.get("backend", ""),
            refused=bool(answer.get("refused")),
            comment=comment,
        )

    def highlight_terms(self, question: str) -> list[str]:
        """Words of the question (and their policy terms) to mark in cited passages."""
        query = parse_query(question)
        return sorted({t for t in query.tokens if len(t) >= 2} | set(query.expansions.values()), key=len, reverse=True)

    # ------------------------------------------------------------ questions

    def retrieve(
        self, question: str, k: int | None = None, filters: Filters | None = None, mode: str = "hybrid"
    ) -> RetrievalResult:
        return self.retriever.retrieve(question, k=k, filters=filters, mode=mode)


    def chain(self, backend: str | None = None) -> AnswerChain:
        """The answer chain for a backend, built once (an LLM client or a loaded GGUF is reused)."""
        backend = backend or self.settings.answer.backend
        with self._chain_lock:
            if backend not in self._chains:
                answer_settings = self.settings.answer.model_copy(update={"backend": backend})
                built = components.answer_backend(answer_settings, self.prompts, lambda: self.retriever.embedding_cache)
                self._chains[backend] = AnswerChain(self.retriever, answer_settings, self.prompts, built)
            return self._chains[backend]

    def ask(self, question: str, history=None, filters: Filters | None = None, backend: str | None = None) -> Answer:
        """Answer ``question``; ``history`` in any shape a client sends (see ``clean_history``).

        Raises ``BadInput`` (a Chinese message) for a question or history that is not text."""
        question, history = self.clean_input(question, history)
        return self.chain(backend).invoke(question, history, filters)

    def ask_stream(self, question: str, history=None, filters: Filters | None = None,
                   backend: str | None = None) -> Iterator[StreamEvent]:
        question, history = self.clean_input(question, history)
        return self.chain(backend).stream(question, history, filters)

    def clean_input(self, question, history) -> tuple[str, list[dict]]:
        """The question and history as the answer chain takes them, checked and bounded before any work."""
        return clean_question(question), clean_history(history, self.settings.security)
