"""The no-LLM backend: answer with the source's own sentences.

It scores every sentence of the top chunks against the question (weighted
word overlap plus embedding similarity, with a bonus for a figure when the
question asks for one), keeps the best few, orders them by source and
position, and cites each.  It adds no words of its own beyond the frame in
prompts/extractive*.txt, so every figure is exactly the source's.
"""

from __future__ import annotations

from assistant.retrieve.evidence import Candidate, score_candidates
from assistant.retrieve.hybrid import RetrievedChunk


def select_sentences(
    question: str,
    hits: list[RetrievedChunk],
    embeddings,
    max_sentences: int,
    whole_limit: int = 260,
    max_chars: int = 700,
) -> list[Candidate]:
    chosen = score_candidates(question, hits, embeddings, whole_limit)
    if not chosen:
        return []
    best = chosen[0].score
    picked: list[Candidate] = []
    length = 0
    for candidate in chosen:
        if candidate.score < 0.75 * best or len(picked) >= max_sentences:
            break
        if picked and length + len(candidate.text) > max_chars:
            continue
        picked.append(candidate)
        length += len(candidate.text)
    return sorted(picked, key=lambda c: (c.source_rank, c.position))


def cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation, where Chinese text carries it."""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in "。;!?:,":
        return f"{sentence[:-1]}[{number}]{sentence[-1]}"
    return f"{sentence}[{number}]"


def compose(chosen: list[Candidate], template: str, unsure_template: str, unsure: bool) -> str:
    points = "\n".join(f"• {cite(c.text, c.source_rank)}" for c in chosen)
    return (unsure_template if unsure else template).format(points=points)
