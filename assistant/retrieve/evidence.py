"""The evidence, sentence by sentence: what can be quoted from a chunk, and how well each piece answers.

A sentence is scored by the question's words it contains (weighted by rarity; a word only in its heading
counts less), its embedding similarity to the question, a bonus for a figure when the question asks for one,
and a small prior for its chunk's retrieval rank.  The extractive answer quotes the best pieces; the
evidence reranker orders the retrieved chunks by their best piece, so the first source is the one that
answers (a hybrid retrieval ranks whole chunks, and an article's one answering sentence can rank it low).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from assistant.retrieve.hybrid import RetrievedChunk
from assistant.retrieve.query import asks_amount, content_words
from assistant.retrieve.threshold import FIGURE, rarity
from assistant.text.quotable import WHOLE_CHUNK_LIMIT, quotables


@dataclass
class Candidate:
    text: str
    source_rank: int
    position: int
    section: str = ""
    score: float = 0.0
    body: str = ""  # what is scored, when not the whole text (a table row without its header)
    heading_weight: float = 0.5  # a word found only in the heading counts this much
    embedded: str = ""  # what is embedded (assistant/text/quotable.py)

    @property
    def scored(self) -> str:
        return self.body or self.text


def score_candidates(
    question: str,
    hits: list[RetrievedChunk],
    embeddings,
    whole_limit: int = WHOLE_CHUNK_LIMIT,
) -> list[Candidate]:
    """Every quotable unit of the chunks, scored against the question (best first); ``whole_limit``: a chunk
    this short is one unit (0: always sentences)."""
    words = content_words(question)
    total = sum(rarity(w) for w, _ in words) or 1.0
    candidates: list[Candidate] = []
    for hit in hits:
        section = hit.meta.get("section", "")
        for unit in quotables(hit.chunk.text, whole_limit):  # a table row's header counts like a heading
            candidates.append(Candidate(unit.text, hit.rank, unit.position,
                                        f"{section} {unit.header}" if unit.header else section, body=unit.body,
                                        heading_weight=0.8 if unit.header else 0.5, embedded=unit.embedded))
    if not candidates:
        return []
    wants_figure = asks_amount(question) is not None
    # the question as a query: only document text is ever kept beside the index (sentence_vectors.py)
    vectors = np.array(embeddings.embed_documents([c.embedded for c in candidates]), dtype=np.float32)
    asked = np.asarray(embeddings.embed_query(question), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    similarity = vectors @ (asked / (np.linalg.norm(asked) + 1e-9))
    for candidate, dense in zip(candidates, similarity):
        # words found in the sentence count fully, words found only in its heading half
        lexical = sum(
            rarity(w) * (1.0 if w in candidate.scored else candidate.heading_weight if w in candidate.section else 0.0)
            for w, _ in words
        ) / total
        figure = 0.15 if wants_figure and FIGURE.search(candidate.scored) else 0.0
        lead = 0.05 if candidate.position == 0 else 0.0  # an article's first sentence states its rule
        candidate.score = 0.5 * lexical + 0.5 * float(dense) + figure + lead + 0.1 / candidate.source_rank
    return sorted(candidates, key=lambda c: c.score, reverse=True)


class EvidenceReranker:
    """Orders the first ``candidates`` retrieved chunks by their best sentence (the rest keep their order)."""

    def __init__(self, embeddings: Callable[[], object], candidates: int = 5):
        self.embeddings = embeddings  # the retriever's vector cache, asked for at each call (it may be renewed)
        self.candidates = candidates

    def rerank(self, query: str, hits: list[RetrievedChunk]) -> list[RetrievedChunk]:
        head, tail = list(hits[: self.candidates]), list(hits[self.candidates :])
        for rank, hit in enumerate(head, start=1):
            hit.rank = rank  # the rank prior of the sentence scores
        best: dict[int, float] = {}
        for candidate in score_candidates(query, head, self.embeddings(), whole_limit=0):
            best.setdefault(candidate.source_rank, candidate.score)
        for hit in head:
            hit.score = best.get(hit.rank, 0.0)
        # sorted() is stable: equal scores keep the fused order
        return sorted(head, key=lambda hit: hit.score, reverse=True) + tail
