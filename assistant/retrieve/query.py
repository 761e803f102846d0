"""Query understanding: the same normalisation documents get, plus colloquial synonyms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from assistant.index.tokenize import tokenize
from assistant.ingest.clean import normalize_query_text
from assistant.settings import DATA_DIR



@dataclass
class ParsedQuery:
    original: str
    normalized: str  # simplified, half-width
    dense_text: str  # colloquial words replaced by policy terms
    tokens: list[str]  # BM25 tokens, policy terms added
    expansions: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    raw = yaml.safe_load((DATA_DIR / "synonyms.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in raw.items()}


def parse_query(question: str) -> ParsedQuery:
    normalized = normalize_query_text(question)
    expansions: dict[str, str] = {}
    dense_text = normalized
    for colloquial in sorted(synonyms(), key=len, reverse=True):
        term = synonyms()[colloquial]
        if colloquial in dense_text and term not in dense_text:
            expansions[colloquial] = term
            dense_text = dense_text.replace(colloquial, term)
    tokens = tokenize(normalized)
    for term in expansions.values():
        tokens += [t for t in tokenize(term) if t not in tokens]
    return ParsedQuery(question, normalized, dense_text, tokens, expansions)
