"""Query understanding: the same normalisation documents get, plus colloquial synonyms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from assistant.settings import DATA_DIR
from assistant.text.lexicon import tokenize
from assistant.text.normalize import normalize_query_text



@dataclass
class ParsedQuery:
    original: str
    normalized: str  # simplified, half-width
    dense_text: str  # colloquial words replaced by policy terms
    tokens: list[str]  # BM25 tokens, policy terms added
    expansions: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Colloquial word -> the statutory terms documents use for it (assistant/data/synonyms.yaml)."""
    raw = yaml.safe_load((DATA_DIR / "synonyms.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): tuple(map(str, v)) if isinstance(v, list) else (str(v),) for k, v in raw.items()}


def said_otherwise(word: str, text: str) -> bool:
    """The word, or one of the statutory terms for it, occurs in the text."""
    return word in text or any(term in text for term in synonyms().get(word, ()))


def parse_query(question: str) -> ParsedQuery:
    normalized = normalize_query_text(question)
    expansions: dict[str, str] = {}
    extra_terms: list[str] = []
    dense_text = normalized
    matched: list[str] = []
    for colloquial in sorted(synonyms(), key=len, reverse=True):
        terms = synonyms()[colloquial]
        if colloquial not in normalized or any(colloquial in longer for longer in matched):
            continue  # 工资 inside 加班工资 was read with the whole word
        matched.append(colloquial)
        others = [term for term in terms if term != colloquial]
        extra_terms += others
        if all(term in normalized for term in terms):
            continue  # the question already says it the statute's way
        expansions[colloquial] = terms[0]
        # 老板 reads as 用人单位; 辞退, itself a statutory word, reads as 辞退(解除劳动合同)
        replacement = terms[0] if colloquial not in terms else f"{colloquial}({others[0]})" if others else colloquial
        dense_text = dense_text.replace(colloquial, replacement, 1)
    tokens = tokenize(normalized)
    for term in extra_terms:
        tokens += [t for t in tokenize(term) if t not in tokens]
    return ParsedQuery(question, normalized, dense_text, tokens, expansions)
