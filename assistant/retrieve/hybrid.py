"""Hybrid retrieval: dense (Chroma) and BM25 (the keyword index, jieba tokens) fused with reciprocal rank fusion."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.index.embeddings import EmbeddingCache
from assistant.index.filters import Filters
from assistant.index.policy_index import PolicyIndex
from assistant.index.store import PAGE_NONE, StoredChunk
from assistant.index.versions import FIELDS as VERSION_FIELDS
from assistant.ingest.models import OCR_NOTICE
from assistant.retrieve.places import narrower, same_place
from assistant.retrieve.query import ParsedQuery, parse_query
from assistant.retrieve.references import article_number, index_titles, named_documents, section_article
from assistant.settings import RetrievalSettings
from assistant.tracing import span

if TYPE_CHECKING:
    from assistant.retrieve.rerank import Reranker

__all__ = ["Filters", "HybridRetriever", "RetrievalResult", "RetrievedChunk"]  # Filters: callers import it here


def _for_asked_place(asked: set[str], ranked: list[RetrievedChunk]) -> list[RetrievedChunk]:
    """When the question names a place (``asked``) and some retrieved document is issued for it, documents
    issued for another place go: 示范市's figure must not answer a question about 样例县.  Documents with no
    region stay; when no document matches, nothing is dropped (the refusal gate then judges the place)."""
    if not asked:
        return ranked

    def speaks_for_asked(hit: RetrievedChunk) -> bool:
        return any(same_place(place, hit.meta.get("region", "")) for place in asked)

    if not any(speaks_for_asked(hit) for hit in ranked):
        return ranked
    return [hit for hit in ranked if not hit.meta.get("region") or speaks_for_asked(hit)]


_YEAR = re.compile(r"((?:19|20|21)\d{2})\s*年?")
NOT_IN_FORCE_FACTOR = 0.5  # the fused score of a superseded or repealed version, unless the question names its year


def _prefer_in_force(question: str, ranked: list[RetrievedChunk], documents: dict[str, dict]) -> list[RetrievedChunk]:
    """Versions in force first: a superseded or repealed document's chunks are demoted, and carry its version
    fields (for the source card and the answer's notice).  A question naming a year (`2018年的上海市社会救助条例`)
    prefers the version of that year instead, demoting the other versions of the same document."""
    years = set(_YEAR.findall(question))
    named: set[str] = set()  # documents of a version group whose year the question names
    for hit in ranked:
        meta = documents.get(hit.meta.get("doc_id", ""), {})
        for name in VERSION_FIELDS:
            hit.meta[name] = meta.get(name, "")
        in_group = meta.get("superseded_by") or meta.get("older_versions")
        if years and in_group and any(meta.get(f, "")[:4] in years for f in ("date", "promulgated", "revised")):
            named.add(hit.meta.get("doc_id", ""))
    for hit in ranked:
        doc_id = hit.meta.get("doc_id", "")
        if named:
            if doc_id not in named and (hit.meta["superseded_by"] or hit.meta["older_versions"]):
                hit.score *= NOT_IN_FORCE_FACTOR
        elif hit.meta["validity"] in ("superseded", "repealed"):
            hit.score *= NOT_IN_FORCE_FACTOR
    return sorted(ranked, key=lambda hit: hit.score, reverse=True)


@dataclass
class RetrievedChunk:
    chunk: StoredChunk
    score: float  # fused (RRF) score, or the reranker's when reranking ran
    dense_score: float | None = None  # cosine similarity, None when the chunk was not a dense candidate
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None
    rank: int = 0

    @property
    def meta(self) -> dict:
        return self.chunk.metadata

    def source_json(self) -> dict:
        """The public shape of a source in the CLI's JSON output."""
        page = self.meta.get("page", PAGE_NONE)
        return {
            "rank": self.rank,
            "doc_id": self.meta.get("doc_id", ""),
            "title": self.meta.get("title", ""),
            "source": self.meta.get("source", ""),
            "page": None if page == PAGE_NONE else page,
            "section": self.meta.get("section", ""),
            "text": self.chunk.text,
            "score": round(self.score, 6),
            # added fields (none renamed): the document's date and issuer, and whether the passage was read by OCR
            "date": self.meta.get("date", ""),
            "issuer": self.meta.get("issuer", ""),
            "ocr": bool(self.meta.get("ocr", False)),
            "ocr_notice": OCR_NOTICE if self.meta.get("ocr") else "",
            "validity": self.meta.get("validity", ""),
            "superseded_by_title": self.meta.get("superseded_by_title", ""),
            "superseded_by_date": self.meta.get("superseded_by_date", ""),
            # the passage itself: the served app shows it at /documents/{doc_id}/view?chunk={chunk_id}
            "chunk_id": self.chunk.chunk_id,
        }


@dataclass
class Target:
    """What the question names itself: documents (by title) and an article number."""

    doc_ids: list[str] = field(default_factory=list)  # indexed documents the question names
    unknown_titles: list[str] = field(default_factory=list)  # 《…》 titles no indexed document has
    article: int | None = None  # 第X条 the question names
    article_found: bool = False  # a chunk of that article (in a named document, when one is named) was found
    last_article: int = 0  # the highest article number of the named documents (0: none named)


@dataclass
class RetrievalResult:
    query: ParsedQuery
    chunks: list[RetrievedChunk] = field(default_factory=list)
    best_dense: float = 0.0  # highest cosine similarity over all dense candidates
    target: Target = field(default_factory=Target)


class HybridRetriever:
    def __init__(self, index: PolicyIndex, settings: RetrievalSettings, reranker: Reranker | None = None):
        self.index = index
        self.settings = settings
        self.reranker = reranker
        self._embedding_cache = self._new_cache()

    @property
    def embedding_cache(self) -> EmbeddingCache:
        """Vectors by text, shared with the answer chain's sentence scoring; started afresh when the index's
        model is swapped (benchmarks do that), so a vector of another model is never served."""
        if self._embedding_cache.embeddings is not self.index.embeddings:
            self._embedding_cache = self._new_cache()
        return self._embedding_cache

    def _new_cache(self) -> EmbeddingCache:
        sizes = self.index.settings.embedding
        return EmbeddingCache(self.index.embeddings, sizes.cache_documents, sizes.cache_queries,
                              self.index.sentence_vectors)

    def retrieve(
        self, question: str, k: int | None = None, filters: Filters | None = None, mode: str = "hybrid"
    ) -> RetrievalResult:
        """Top-k chunks; ``mode`` 'dense' or 'bm25' runs one side alone (for evaluation)."""
        k = k or self.settings.top_k
        filters = filters or Filters()
        # the answer chain refuses longer questions with a message; a bare search (console, CLI) reads the start
        with span("retrieve.parse"):
            query = parse_query(question[: self.settings.max_question_chars])
        with span("retrieve.registry"):
            documents = self.index.complete_documents()
            allowed = set(documents)
        target = self._target(query.normalized, documents)
        if target.doc_ids:
            allowed = set(target.doc_ids)  # 《郑州市失业保险条例》…: answered from that document
            filters = filters.only(target.doc_ids)
        candidates = max(self.settings.candidate_k, k)

        dense_hits = []
        if mode != "bm25":
            with span("retrieve.embed_query"):
                vector = self.embedding_cache.embed_query(query.dense_text)
            with span("retrieve.dense"):
                dense_hits = [(chunk, similarity) for chunk, similarity in self.index.store.query(vector, candidates, filters)
                              if chunk.metadata.get("doc_id") in allowed]
        keyword_hits = []
        if mode != "dense":
            with span("retrieve.keyword"):
                keyword_hits = self.index.keyword_search(query.tokens, candidates, filters)

        fused: dict[str, RetrievedChunk] = {}
        rrf_k = self.settings.rrf_k
        for rank, (chunk, similarity) in enumerate(dense_hits, start=1):
            fused[chunk.chunk_id] = RetrievedChunk(
                chunk, self.settings.dense_weight / (rrf_k + rank), dense_score=similarity, dense_rank=rank
            )
        missing = [chunk_id for chunk_id, _ in keyword_hits if chunk_id not in fused]
        with span("retrieve.fetch"):
            stored = self.index.store.get_chunks(missing)
        rank = 0
        for chunk_id, score in keyword_hits:
            hit = fused.get(chunk_id)
            if hit is None:
                if chunk_id not in stored or stored[chunk_id].metadata.get("doc_id") not in allowed:
                    continue  # deleted since, or of a document not complete (being rewritten)
                hit = fused[chunk_id] = RetrievedChunk(stored[chunk_id], 0.0)
            rank += 1
            hit.score += self.settings.bm25_weight / (rrf_k + rank)
            hit.bm25_score, hit.bm25_rank = score, rank

        asked = query.places
        if not target.doc_ids and self.settings.local_weight != 1.0:
            for hit in fused.values():  # the rule for the place asked about before narrower ones
                if narrower(hit.meta.get("region", ""), asked):
                    hit.score *= self.settings.local_weight
        ranked = _prefer_in_force(query.normalized, list(fused.values()), documents)
        ranked = _for_asked_place(asked, ranked)
        if self.reranker is not None:
            with span("retrieve.rerank"):
                ranked = self.reranker.rerank(query.normalized, ranked)
        if target.article is not None:
            ranked = self._article_first(ranked, target)
        ranked = ranked[:k]
        for rank, hit in enumerate(ranked, start=1):
            hit.rank = rank
        best_dense = max((similarity for _, similarity in dense_hits), default=0.0)
        return RetrievalResult(query, ranked, best_dense, target)

    def warm_up(self) -> None:
        """Index the current documents' titles (what the first question naming a document would wait for)."""
        index_titles(_titles(self.index.complete_documents()))

    def _target(self, question: str, documents: dict[str, dict]) -> Target:
        named = named_documents(question, _titles(documents))
        return Target(named.doc_ids, named.unknown, article_number(question))

    def _article_first(self, ranked: list[RetrievedChunk], target: Target) -> list[RetrievedChunk]:
        """The named article leads: fetched from the named documents, or, when none is named, the retrieved
        chunks of that article number move up.  ``target`` records whether the article exists."""
        if target.doc_ids:
            chunks = [chunk for doc_id in target.doc_ids for chunk in self.index.store.document_chunks(doc_id)]
            numbers = [section_article(chunk.metadata.get("section", "")) for chunk in chunks]
            target.last_article = max((n for n in numbers if n), default=0)
            wanted = [chunk for chunk, n in zip(chunks, numbers) if n == target.article]
            target.article_found = bool(wanted)
            top = ranked[0].score if ranked else 1.0
            lead = [RetrievedChunk(chunk, top + 1.0 / (i + 1)) for i, chunk in enumerate(wanted)]
            ids = {hit.chunk.chunk_id for hit in lead}
            return lead + [hit for hit in ranked if hit.chunk.chunk_id not in ids]
        if target.unknown_titles:  # 某法第三十五条 of a law not indexed: another law's 第三十五条 is no answer
            target.article_found = True  # whether the evidence quotes that law is the gate's no_such_document check
            return ranked
        numbers = [section_article(hit.meta.get("section", "")) for hit in ranked]
        if not any(numbers):  # no 条 structure among the evidence: 第一条 means "the first point" (讲话 第一条)
            target.article = None
            return ranked
        matching = [hit for hit, n in zip(ranked, numbers) if n == target.article]
        target.article_found = bool(matching)
        return matching + [hit for hit in ranked if hit not in matching]


def _titles(documents: dict[str, dict]) -> dict[str, str]:
    return {doc_id: meta.get("title", "") for doc_id, meta in documents.items()}
