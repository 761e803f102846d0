"""The small API that the CLI, the Gradio UI and other programs share.

It holds the index and the retriever for the life of the process, so the
console's retrieval test and the chat's answer come from one code path.
"""

from __future__ import annotations

import threading
from pathlib import Path

from typing import Iterator

from assistant.answer.backends import make_chat_model
from assistant.answer.chain import Answer, AnswerChain
from assistant.answer.prompts import Prompts
from assistant.feedback import FeedbackStore
from assistant.index.policy_index import IngestReport, PolicyIndex, Progress
from assistant.ingest.pipeline import doc_id_for
from assistant.retrieve.query import parse_query
from assistant.uploads import UPLOAD_SUBDIR, UploadRejected, save_upload
from assistant.retrieve.hybrid import Filters, HybridRetriever, RetrievalResult
from assistant.settings import Settings, get_settings


class AssistantService:
    def __init__(self, settings: Settings | None = None, embeddings=None):
        self.settings = settings or get_settings()
        self.index = PolicyIndex(self.settings, embeddings=embeddings)
        self.retriever = HybridRetriever(self.index, self.settings.retrieval)
        self.retriever.reranker = _load_reranker(self.settings, self.retriever)
        self._ingest_lock = threading.Lock()
        self.prompts = Prompts.load(Path(self.settings.paths.prompts_dir))
        self._chains: dict[str, AnswerChain] = {}
        self._chain_lock = threading.Lock()
        self._feedback: FeedbackStore | None = None

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
        self.ask("就业", backend="extractive")

    def stats(self) -> dict:
        return self.index.stats()

    def upload(self, files: list[tuple[str, bytes]],
               progress: Progress | None = None) -> tuple[IngestReport, list[UploadRejected]]:
        """Save uploaded (name, content) pairs into the corpus and index them; refusals come back as
        ``UploadRejected`` (its str is the Chinese message)."""
        saved, refused = [], []
        for name, data in files:
            try:
                saved.append(save_upload(Path(self.settings.paths.corpus_dir), name, data, self.settings.ui.max_upload_mb))
            except UploadRejected as exc:
                refused.append(exc)
        report = self.ingest(saved, prune=False, progress=progress) if saved else IngestReport()
        return report, refused

    def document_path(self, doc_id: str) -> Path | None:
        """The file of an indexed document, only if it lies inside the corpus folder."""
        corpus = Path(self.settings.paths.corpus_dir).resolve()
        documents = self.index.complete_documents()
        meta = documents.get(doc_id) or documents.get(doc_id_for(doc_id))  # a doc id or a source path
        if not meta:
            return None
        path = (corpus / meta["source"]).resolve()
        return path if path.is_relative_to(corpus) and path.is_file() else None

    def ensure_index(self) -> IngestReport:
        """At start: index the corpus folder until one sync has finished (the first start, or one killed
        during it); after that, only finish what a killed process left (uploads saved but not indexed,
        documents half-written or half-deleted).  Nothing is replaced or removed: another replica, or a
        staff member through the console, may have changed it since."""
        corpus = Path(self.settings.paths.corpus_dir)
        if not self.index.synced_once:
            return self.ingest([corpus], prune=False)
        with self._ingest_lock:
            return self.index.resume([corpus / UPLOAD_SUBDIR])

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
                chat_model = make_chat_model(answer_settings)
                self._chains[backend] = AnswerChain(self.retriever, answer_settings, self.prompts, chat_model)
            return self._chains[backend]

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
            backend: str | None = None) -> Answer:
        return self.chain(backend).invoke(question, history, filters)

    def ask_stream(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
                   backend: str | None = None) -> Iterator[dict]:
        return self.chain(backend).stream(question, history, filters)


def _load_reranker(settings: Settings, retriever: HybridRetriever):
    """A CrossEncoder when one is configured; else the evidence reranker (sentence scores), unless turned off."""
    if settings.rerank.model:
        from assistant.retrieve.rerank import CrossEncoderReranker

        return CrossEncoderReranker(settings.rerank.model, settings.rerank.candidates)
    if settings.rerank.evidence_candidates:
        from assistant.retrieve.evidence import EvidenceReranker

        return EvidenceReranker(lambda: retriever.embedding_cache, settings.rerank.evidence_candidates)
    return None
