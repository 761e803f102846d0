"""Hybrid retrieval: dense (Chroma) and BM25 (jieba) fused with reciprocal rank fusion."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.index.embeddings import EmbeddingCache
from assistant.index.policy_index import PolicyIndex
from assistant.index.store import PAGE_NONE, StoredChunk
from assistant.index.versions import FIELDS as VERSION_FIELDS
from assistant.ingest.models import OCR_NOTICE
from assistant.retrieve.places import asked_places, same_place
from assistant.retrieve.query import ParsedQuery, parse_query
from assistant.settings import RetrievalSettings


@dataclass
class Filters:
    doc_type: str | None = None
    region: str | None = None
    date_from: str | None = None  # yyyy-mm-dd
    date_to: str | None = None

    def chroma_where(self, allowed_doc_ids: set[str] | None = None) -> dict | None:
        clauses: list[dict] = []
        if self.doc_type:
            clauses.append({"doc_type": self.doc_type})
        if self.region:
            clauses.append({"region": self.region})
        if self.date_from:
            clauses.append({"date_int": {"$gte": _date_int(self.date_from)}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": _date_int(self.date_to)}})
            clauses.append({"date_int": {"$gt": 0}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


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


def _date_int(value: str) -> int:
    return int(value.replace("-", "").ljust(8, "0")[:8])


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
        query = parse_query(question[: self.settings.max_question_chars])
        documents = self.index.complete_documents()
        allowed = set(documents)
        candidates = max(self.settings.candidate_k, k)

        dense_hits = [] if mode == "bm25" else [
            (chunk, similarity)
            for chunk, similarity in self.index.store.query(
                self.embedding_cache.embed_query(query.dense_text), candidates, filters.chroma_where()
            )
            if chunk.metadata.get("doc_id") in allowed
        ]
        bm25 = self.index.bm25
        mask = None if mode == "dense" else bm25.mask(
            allowed,
            filters.doc_type,
            filters.region,
            _date_int(filters.date_from) if filters.date_from else None,
            _date_int(filters.date_to) if filters.date_to else None,
        )
        bm25_hits = [] if mode == "dense" else bm25.search(query.tokens, candidates, mask)

        fused: dict[str, RetrievedChunk] = {}
        rrf_k = self.settings.rrf_k
        for rank, (chunk, similarity) in enumerate(dense_hits, start=1):
            fused[chunk.chunk_id] = RetrievedChunk(
                chunk, self.settings.dense_weight / (rrf_k + rank), dense_score=similarity, dense_rank=rank
            )
        missing = [chunk_id for chunk_id, _ in bm25_hits if chunk_id not in fused]
        stored = self.index.store.get_chunks(missing)
        for rank, (chunk_id, score) in enumerate(bm25_hits, start=1):
            hit = fused.get(chunk_id)
            if hit is None:
                if chunk_id not in stored:
                    continue  # deleted between the BM25 build and now
                hit = fused[chunk_id] = RetrievedChunk(stored[chunk_id], 0.0)
            hit.score += self.settings.bm25_weight / (rrf_k + rank)
            hit.bm25_score, hit.bm25_rank = score, rank

        ranked = _prefer_in_force(query.normalized, list(fused.values()), documents)
        ranked = _for_asked_place(query.normalized, ranked)
        if self.reranker is not None:
            ranked = self.reranker.rerank(query.normalized, ranked)
        ranked = ranked[:k]
        for rank, hit in enumerate(ranked, start=1):
            hit.rank = rank
        best_dense = max((similarity for _, similarity in dense_hits), default=0.0)
        return RetrievalResult(query, ranked, best_dense)
