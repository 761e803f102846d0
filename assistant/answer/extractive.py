"""The no-LLM backend: answer with the source's own sentences.

It scores every sentence of the top chunks against the question (weighted
word overlap plus embedding similarity, with a bonus for a figure when the
question asks for one), keeps the best few, orders them by source and
position, and cites each.  It adds no words of its own beyond the frame in
prompts/extractive*.txt, so every figure is exactly the source's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.ingest.clean import split_sentences
from assistant.retrieve.hybrid import RetrievedChunk
from assistant.retrieve.threshold import FIGURE, Coverage, content_words, rarity

_LIST_ITEM = re.compile(r"^\s*(\d{1,2}[.、]|\(\d{1,2}\)|\([一二三四五六七八九十]+\)|[①-⑳]|[一二三四五六七八九十]+是)")
MIN_SENTENCE = 8


@dataclass
class Candidate:
    text: str
    source_rank: int
    position: int
    score: float = 0.0


def _units(chunk_text: str) -> list[str]:
    """Sentences of a chunk; a sentence ending in ':' keeps the list items that follow it."""
    units: list[str] = []
    lines = [line.strip() for line in chunk_text.split("\n") if line.strip()]
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.endswith(":") and index + 1 < len(lines) and _LIST_ITEM.match(lines[index + 1]):
            items = [line]
            index += 1
            while index < len(lines) and _LIST_ITEM.match(lines[index]):
                items.append(lines[index])
                index += 1
            units.append("\n".join(items))
            continue
        units.extend(s.strip() for s in split_sentences(line) if s.strip())
        index += 1
    return units


def _strip_heading(sentence: str) -> str:
    """`问:…?` lines restate the question; answers read better without the `答:` label."""
    return re.sub(r"^(答[::]\s*|\d{1,2}[.、]\s*)", "", sentence)


def select_sentences(
    question: str, hits: list[RetrievedChunk], coverage: Coverage, embeddings, max_sentences: int
) -> list[Candidate]:
    words = content_words(question)
    total = sum(rarity(w) for w, _ in words) or 1.0
    candidates: list[Candidate] = []
    for hit in hits:
        for position, unit in enumerate(_units(hit.chunk.text)):
            text = _strip_heading(unit)
            if len(text) < MIN_SENTENCE or re.match(r"^问[::]", text):
                continue
            candidates.append(Candidate(text, hit.rank, position))
    if not candidates:
        return []
    vectors = np.array(embeddings.embed_documents([c.text[:300] for c in candidates] + [question]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    similarity = vectors[:-1] @ vectors[-1]
    for candidate, dense in zip(candidates, similarity):
        lexical = sum(rarity(w) for w, _ in words if w in candidate.text) / total
        figure = 0.15 if coverage.asks_amount and FIGURE.search(candidate.text) else 0.0
        candidate.score = 0.5 * lexical + 0.5 * float(dense) + figure + 0.05 / candidate.source_rank
    best = max(c.score for c in candidates)
    chosen = sorted(candidates, key=lambda c: c.score, reverse=True)
    chosen = [c for c in chosen if c.score >= 0.75 * best][:max_sentences]
    return sorted(chosen, key=lambda c: (c.source_rank, c.position))


def cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation, where Chinese text carries it."""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in "。;!?:,":
        return f"{sentence[:-1]}[{number}]{sentence[-1]}"
    return f"{sentence}[{number}]"


def compose(chosen: list[Candidate], template: str, unsure_template: str, unsure: bool) -> str:
    points = "\n".join(f"• {cite(c.text, c.source_rank)}" for c in chosen)
    return (unsure_template if unsure else template).format(points=points)
