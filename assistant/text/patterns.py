"""The strip patterns (assistant/data/strip_patterns.yaml): solicitation, instructions aimed at an assistant,
paywall notices, web furniture, page markers, contact details.

Cleaning drops what they match from documents; retrieval and answering use the same patterns on questions and
on answers, so a sentence stripped at ingest can never come back through a prompt.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import yaml

from assistant.settings import DATA_DIR
from assistant.text.normalize import INVISIBLE, fold_width, to_simplified
from assistant.text.sentences import split_sentences


@lru_cache(maxsize=1)
def patterns() -> dict[str, list[re.Pattern]]:
    """Kind -> its compiled patterns (case-insensitive)."""
    path = DATA_DIR / "strip_patterns.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: [re.compile(p, re.I) for p in values] for key, values in raw.items()}


def matches(kind: str, text: str) -> bool:
    """Whether any pattern of ``kind`` occurs in ``text``."""
    return any(p.search(text) for p in patterns()[kind])


# spacing and filler put between the characters of a phrase to slip it past a pattern (`忽 略 以 上`, `忽-略`)
_SPREAD = re.compile(r"[\s·•*_~^`|\-]+")


def hostile_kind(text: str) -> str | None:
    """"solicitation" or "instruction" when the text is one (as written, or with its characters spread apart)."""
    plain = to_simplified(INVISIBLE.sub("", unicodedata.normalize("NFC", fold_width(text))))
    compact = _SPREAD.sub("", plain)
    for kind in ("solicitation", "instruction"):
        if matches(kind, plain) or matches(kind, compact):
            return kind
    return None


def strip_hostile_sentences(paragraph: str) -> tuple[str, list[tuple[str, str]]]:
    """The paragraph without its hostile sentences, and (kind, sentence) for each one dropped."""
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for sentence in split_sentences(paragraph):
        kind = hostile_kind(sentence)
        if kind:
            dropped.append((kind, sentence.strip()))
        else:
            kept.append(sentence)
    return "".join(kept).strip(), dropped


def strip_hostile(text: str) -> str:
    """``text`` without its solicitation and instruction sentences, line by line (the last guard before a prompt)."""
    return "\n".join(strip_hostile_sentences(line)[0] if line.strip() else line for line in text.split("\n"))
