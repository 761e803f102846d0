"""Optional cross-encoder reranking of the fused candidates.

Off unless ``settings.rerank.model`` names a sentence-transformers ``CrossEncoder``
(a hub id such as ``BAAI/bge-reranker-base`` or a local path).  The first
``candidates`` hits are scored on (question, chunk text with its title/section
header) pairs and reordered by that score; hits beyond them keep their fused
order after the reranked ones.  Reranked hits carry the cross-encoder's score.

sentence-transformers (and torch) are imported only when a reranker is
configured: the import alone takes ~10 s.
"""

from __future__ import annotations

from typing import Protocol

from assistant.retrieve.hybrid import RetrievedChunk


class Reranker(Protocol):
    """Reorders the fused hits for the (normalised) question; hits it does not score keep their order after."""

    def rerank(self, query: str, hits: list[RetrievedChunk]) -> list[RetrievedChunk]: ...


class CrossEncoderReranker:
    def __init__(self, model: str, candidates: int):
        if candidates < 1:
            raise ValueError(f"rerank.candidates must be at least 1, got {candidates}")
        from sentence_transformers import CrossEncoder

        self.model_name = str(model)
        self.candidates = candidates
        self.model = CrossEncoder(self.model_name)
        if self.model.num_labels != 1:
            raise ValueError(
                f"{self.model_name} is a {self.model.num_labels}-label classifier, not a reranker "
                "(a reranking CrossEncoder outputs one relevance score per pair)"
            )

    def scores(self, query: str, hits: list[RetrievedChunk]) -> list[float]:
        """The cross-encoder's score of each hit for ``query``, in the order given."""
        if not hits:
            return []
        pairs = [(query, hit.chunk.indexed_text) for hit in hits]
        raw = self.model.predict(pairs, show_progress_bar=False, convert_to_numpy=True)
        return [float(s) for s in raw.reshape(len(hits))]

    def rerank(self, query: str, hits: list[RetrievedChunk]) -> list[RetrievedChunk]:
        head, tail = list(hits[: self.candidates]), list(hits[self.candidates :])
        for hit, score in zip(head, self.scores(query, head)):
            hit.score = score
        # sorted() is stable: equal scores keep the fused order
        return sorted(head, key=lambda hit: hit.score, reverse=True) + tail
