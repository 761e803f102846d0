"""Hybrid retrieval: dense (Chroma) and BM25 (the keyword index, jieba tokens) fused with reciprocal rank fusion."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.index.embeddings import EmbeddingCache
from assistant.index.filters import Filters
from assistant.index.policy_index import PolicyIndex
from assistant.index.store import PAGE_NONE, StoredChunk
from assistant.retrieve.places import asked_places, same_place
from assistant.retrieve.query import ParsedQuery, parse_query
from assistant.settings import RetrievalSettings
from assistant.tracing import span

__all__ = ["Filters", "HybridRetriever", "RetrievalResult", "RetrievedChunk"]  # Filters: callers import it here


def _for_asked_place(question: str, ranked: list[RetrievedChunk]) -> list[RetrievedChunk]:
    """When the question names a place and some retrieved document is issued for it, documents issued for
    another place go: 示范市's figure must not answer a question about 样例县.  Documents with no region
    stay; when no document matches, nothing is dropped (the refusal gate then judges the place)."""
    asked = asked_places(question)
    if not asked:
        return ranked

    def speaks_for_asked(hit: RetrievedChunk) -> bool:
        return any(same_place(place, hit.meta.get("region", "")) for place in asked)

    if not any(speaks_for_asked(hit) for hit in ranked):
        return ranked
    return [hit for hit in ranked if not hit.meta.get("region") or speaks_for_asked(hit)]


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
        }


@dataclass
class RetrievalResult:
    query: ParsedQuery
    chunks: list[RetrievedChunk] = field(default_factory=list)
    best_dense: float = 0.0  # highest cosine similarity over all dense candidates


class HybridRetriever:
    def __init__(self, index: PolicyIndex, settings: RetrievalSettings, reranker=None):
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
        return EmbeddingCache(self.index.embeddings, sizes.cache_documents, sizes.cache_queries)

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
            allowed = set(self.index.complete_documents())
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

        ranked = _for_asked_place(query.normalized, sorted(fused.values(), key=lambda hit: hit.score, reverse=True))
        if self.reranker is not None:
            with span("retrieve.rerank"):
                ranked = self.reranker.rerank(query.normalized, ranked)
        ranked = ranked[:k]
        for rank, hit in enumerate(ranked, start=1):
            hit.rank = rank
        best_dense = max((similarity for _, similarity in dense_hits), default=0.0)
        return RetrievalResult(query, ranked, best_dense)
