"""Query understanding: the same normalisation documents get, plus colloquial synonyms; the words that carry
the question's topic, the figure it asks for, the places it names.

``parse_query`` reads a question once; the ``ParsedQuery`` travels with the request (``RetrievalResult.query``)
to retrieval's filters and the coverage gate, which read its fields instead of parsing the text again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import yaml

from assistant.retrieve.places import asked_places
from assistant.settings import DATA_DIR
from assistant.text.lexicon import pos_tagged, stopwords, tokenize
from assistant.text.normalize import normalize_query_text



@dataclass
class ParsedQuery:
    original: str
    normalized: str  # simplified, half-width
    dense_text: str  # colloquial words replaced by policy terms
    tokens: list[str]  # BM25 tokens, policy terms added
    expansions: dict[str, str] = field(default_factory=dict)

    @cached_property
    def content_words(self) -> tuple[tuple[str, str], ...]:
        """(word, part of speech) of the words that carry the topic (see ``content_words``)."""
        return tuple(content_words(self.normalized))

    @cached_property
    def amount(self) -> re.Match | None:
        """Where the question asks for a figure (see ``asks_amount``)."""
        return asks_amount(self.normalized)

    @cached_property
    def amount_kind(self) -> str:
        """The kinds of figure asked for (see ``amount_kind``)."""
        return amount_kind(self.normalized)

    @cached_property
    def places(self) -> set[str]:
        """Place names the question mentions (see ``asked_places``)."""
        return asked_places(self.normalized)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Colloquial word -> the statutory terms documents use for it (assistant/data/synonyms.yaml)."""
    raw = yaml.safe_load((DATA_DIR / "synonyms.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): tuple(map(str, v)) if isinstance(v, list) else (str(v),) for k, v in raw.items()}


def said_otherwise(word: str, text: str) -> bool:
    """The word, or one of the statutory terms for it, occurs in the text."""
    return word in text or any(term in text for term in synonyms().get(word, ()))


AMOUNT_QUESTION = re.compile(
    r"(多少|几(个月|个工作日|年|天|岁|次|倍|成|级|万|元)|几成|金额|额度|比例|百分之|标准|期限|多久|多长时间|上限|最多|最长|最短|最高|最低|几岁|哪天|几号"
    r"|\bhow (much|many|long|old)\b)",
    re.IGNORECASE,
)
@lru_cache(maxsize=1)
def generic_terms() -> frozenset[str]:
    lines = (DATA_DIR / "generic_terms.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def amount_questions() -> dict:
    return yaml.safe_load((DATA_DIR / "amount_questions.yaml").read_text(encoding="utf-8"))


def asks_amount(question: str) -> re.Match | None:
    """Where the question asks for a figure (多少, 几个月, 比例 …); None for a question about who or how a
    figure is set (工资标准由谁来定), which the article answers without stating one."""
    if any(word in question for word in amount_questions()["not_amount"]):
        return None
    return AMOUNT_QUESTION.search(question)


def amount_kind(question: str) -> str:
    """money / ratio / duration / age / date: the kinds of figure the question asks for, '+'-joined in a
    fixed order ('' for any figure).  标准 asks for money or a ratio (失业保险金标准 is 最低工资的80%)."""
    table = amount_questions()["kinds"]
    asked = [(word, kind) for kind, words in table.items() for word in words if word in question]
    meanings: dict[str, set[str]] = {}
    for word, kind in asked:
        meanings.setdefault(word, set()).add(kind)
    # a word of one kind (多少钱) says more than one of several (标准): 最低工资标准是每月多少钱 asks a sum
    kinds = set().union(*(k for k in meanings.values() if len(k) == 1)) or set().union(*meanings.values())
    return "+".join(kind for kind in table if kind in kinds)


def content_words(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) of the words that carry the question's topic."""
    stop, generic = stopwords(), generic_terms()
    out = []
    for word, flag in pos_tagged(text):
        word = word.strip()
        if len(word) < 2 or word in stop or word in generic or not re.search(r"[\u4e00-\u9fff]", word):
            continue
        if flag.startswith(("u", "p", "c", "r", "d", "y", "e", "m", "q", "t", "f")):
            continue  # particles, pronouns, adverbs, numerals, time and direction words carry no topic
        out.append((word, flag))
    return out


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
