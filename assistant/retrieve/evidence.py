"""The evidence, sentence by sentence: what can be quoted from a chunk, and how well each piece answers.

A sentence is scored by the question's words it contains (weighted by rarity; a word only in its heading
counts less), its embedding similarity to the question, a bonus for a figure when the question asks for one,
and a small prior for its chunk's retrieval rank.  The extractive answer quotes the best pieces; the
evidence reranker orders the retrieved chunks by their best piece, so the first source is the one that
answers (a hybrid retrieval ranks whole chunks, and an article's one answering sentence can rank it low).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from assistant.ingest.models import TABLE_CELL_SEPARATOR
from assistant.retrieve.hybrid import RetrievedChunk
from assistant.retrieve.query import asks_amount, content_words
from assistant.retrieve.threshold import FIGURE, rarity

_LIST_ITEM = re.compile(r"^\s*(\d{1,2}[.、]|\(\d{1,2}\)|\([一二三四五六七八九十]+\)|[①-⑳]|[一二三四五六七八九十]+是)")
MIN_SENTENCE = 8
# Answers quote whole sentences: `;` separates the items of one rule and stays inside.
_FULL_STOP = re.compile(r"[^。!?!?]*[。!?!?]+[”’\"」』)]*|[^。!?!?]+$")


@dataclass
class Candidate:
    text: str
    source_rank: int
    position: int
    section: str = ""
    score: float = 0.0
    body: str = ""  # what is scored, when not the whole text (a table row without its header)
    heading_weight: float = 0.5  # a word found only in the heading counts this much

    @property
    def scored(self) -> str:
        return self.body or self.text


def _units(chunk_text: str, whole_limit: int) -> list[str]:
    """What can be quoted from a chunk: all of a short one (an article, a Q&A answer,
    whose conditions and figures belong together), else its sentences, where a
    sentence ending in ':' keeps the list items that follow it, and a table row
    (cells joined by " | ") comes with the table's header row, which names its columns and units."""
    lines = [line.strip() for line in chunk_text.split("\n") if line.strip() and not re.match(r"^问[::]", line.strip())]
    body = "\n".join(lines)
    if 0 < len(body) <= whole_limit:
        return [body]
    units: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if TABLE_CELL_SEPARATOR in line and index + 1 < len(lines) and TABLE_CELL_SEPARATOR in lines[index + 1]:
            header = line
            index += 1
            while index < len(lines) and TABLE_CELL_SEPARATOR in lines[index]:
                units.append(f"{header}\n{lines[index]}")
                index += 1
            continue
        if line.endswith(":") and index + 1 < len(lines) and _LIST_ITEM.match(lines[index + 1]):
            items = [line]
            index += 1
            while index < len(lines) and _LIST_ITEM.match(lines[index]):
                items.append(lines[index])
                index += 1
            units.append("\n".join(items))
            continue
        units.extend(s.strip() for s in _FULL_STOP.findall(line) if s.strip())
        index += 1
    return units


def _strip_heading(sentence: str) -> str:
    """`问:…?` lines restate the question; answers read better without the `答:` label."""
    return re.sub(r"^(答[::]\s*|\d{1,2}[.、]\s*)", "", sentence)


def score_candidates(
    question: str,
    hits: list[RetrievedChunk],
    embeddings,
    whole_limit: int = 260,
) -> list[Candidate]:
    """Every quotable unit of the chunks, scored against the question (best first); ``whole_limit``: a chunk
    this short is one unit (0: always sentences)."""
    words = content_words(question)
    total = sum(rarity(w) for w, _ in words) or 1.0
    candidates: list[Candidate] = []
    for hit in hits:
        for position, unit in enumerate(_units(hit.chunk.text, whole_limit)):
            text = _strip_heading(unit)
            if len(text) < MIN_SENTENCE:
                continue
            section = hit.meta.get("section", "")
            header, _, row = text.partition("\n")
            if row and TABLE_CELL_SEPARATOR in header:  # a table row: its header counts like a heading
                candidates.append(Candidate(text, hit.rank, position, f"{section} {header}", body=row, heading_weight=0.8))
            else:
                candidates.append(Candidate(text, hit.rank, position, section))
    if not candidates:
        return []
    wants_figure = asks_amount(question) is not None
    vectors = np.array(embeddings.embed_documents([c.scored[:300] for c in candidates] + [question]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    similarity = vectors[:-1] @ vectors[-1]
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
