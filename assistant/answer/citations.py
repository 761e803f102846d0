"""Post-processing every answer goes through, whichever backend wrote it.

Markers that point to no source are removed; solicitation and contact details
never reach the user; a sentence stating a figure that none of its sources
states (by value and unit: assistant/text/figures.py) is dropped, because a wrong amount told with confidence is the worst
failure this product can have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.privacy import mask_pii
from assistant.text.figures import figures, stated_in
from assistant.text.normalize import squash
from assistant.text.patterns import hostile_kind, matches
from assistant.text.sentences import split_sentences

MARKER = re.compile(r"\[(\d{1,2})\]")


def cite(sentence: str, number: int) -> str:
    """Put the marker before the closing punctuation, where Chinese text carries it."""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in "。;!?:,":
        return f"{sentence[:-1]}[{number}]{sentence[-1]}"
    return f"{sentence}[{number}]"
# a model's other ways of writing a citation; parentheses are not among them: "(3)" and "(3)" are how documents
# number items and clauses, and quoting one must not turn it into a citation of source 3
_MARKER_VARIANTS = re.compile(r"[\[【](\d{1,2}(?:\s*[,,、]\s*\d{1,2})*)[\]】]")
_CLAUSE = re.compile(r"[^,,。;;!!??\n]+[,,。;;!!??\n]*")


@dataclass
class Checked:
    text: str
    dropped: list[str] = field(default_factory=list)  # sentences removed, with why
    cited: list[int] = field(default_factory=list)


def normalize_markers(text: str, n_sources: int) -> str:
    """`【1】` `[1,2]` become `[1][2]`; markers outside 1..n are removed."""

    def unify(match: re.Match) -> str:
        numbers = re.findall(r"\d{1,2}", match.group(1))
        return "".join(f"[{n}]" for n in numbers if 1 <= int(n) <= n_sources)

    text = _MARKER_VARIANTS.sub(unify, text)
    return MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_sources else "", text)


def has_contact(text: str) -> bool:
    """A phone number, address, e-mail or messaging id other than the 12333 hotline."""
    return matches("contact", text.replace("12333", ""))


def safe_to_echo(text: str) -> str:
    """The clauses of a user's text that may be repeated back: none holding contact details, solicitation or
    an instruction ('' when nothing is left).  A refusal quotes what was looked for, never an advert."""
    kept = "".join(c for c in _CLAUSE.findall(text) if not hostile_kind(c) and not has_contact(c))
    kept = re.sub(r"[,,;;、\s]+$", "", mask_pii(kept).strip())
    return kept if re.search(r"[\u4e00-\u9fff]", kept) else ""


def cited_numbers(text: str) -> list[int]:
    return sorted({int(n) for n in MARKER.findall(text)})


def check_answer(text: str, source_texts: list[str], from_model: bool = True) -> Checked:
    """Apply every guard to an answer whose markers refer to ``source_texts`` (1-based).

    A model's other ways of citing (``【1】``, ``[1,2]``) are unified; an extractive answer (``from_model=False``)
    carries only its own ``[n]``, and what it quotes stays as the document wrote it."""
    text = normalize_markers(text, len(source_texts)) if from_model else text
    source_figures = [figures(s) for s in source_texts]
    kept_lines, dropped = [], []
    for line in text.split("\n"):
        kept = []
        for sentence in split_sentences(line) or [line]:
            plain = MARKER.sub("", sentence)
            if hostile_kind(plain) or has_contact(plain):
                dropped.append(f"solicitation: {plain.strip()}")
                continue
            claimed = figures(plain)
            if claimed:
                refs = [int(n) for n in MARKER.findall(sentence)] or range(1, len(source_texts) + 1)
                stated = [f for n in refs for f in source_figures[n - 1]]
                unsupported = [f.text for f in claimed if not stated_in(f, stated)]
                if unsupported:
                    dropped.append(f"unsupported figure {unsupported}: {plain.strip()}")
                    continue
            kept.append(sentence)
        if kept or not line.strip():
            kept_lines.append("".join(kept))
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip()
    return Checked(cleaned, dropped, cited_numbers(cleaned))


def citation_validity(text: str, source_texts: list[str]) -> tuple[int, int]:
    """(valid, total) cited sentences: valid when a cited source contains the sentence itself."""
    valid = total = 0
    squashed_sources = [squash(s) for s in source_texts]
    sentences = [s for line in text.split("\n") for s in split_sentences(line)]
    for sentence in sentences:
        refs = [int(n) for n in MARKER.findall(sentence) if 1 <= int(n) <= len(source_texts)]
        if not refs:
            continue
        total += 1
        claim = squash(re.sub(r"^\s*([-•·]|\d+[.、])\s*", "", MARKER.sub("", sentence)))
        if claim and any(claim in squashed_sources[n - 1] for n in refs):
            valid += 1
    return valid, total
