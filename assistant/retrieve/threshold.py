"""Does the retrieved evidence cover the question?  The refusal gate.

Retrieval always returns *something*; this decides whether it is an answer.
Three signals, thresholds in settings and tuned on the eval sets (see
docs/refusal.md):

* coverage: the share of the question's content words, weighted by how rare
  they are in everyday Chinese, that occur in the top chunks (a question about
  住房公积金 or 天气 scores low on an employment corpus);
* places: a place the question names (北京, 上海市) must appear in the evidence;
* amounts: a question asking 多少/几个月/比例 needs a figure in the evidence,
  otherwise the documents do not state it and guessing one is the worst failure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.evaluation import squash
from assistant.index.tokenize import stopwords
from assistant.retrieve.hybrid import RetrievalResult
from assistant.settings import AnswerSettings

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
AMOUNT_QUESTION = re.compile(
    r"(多少|几[个月年天岁次倍%万元]|几成|金额|额度|比例|百分之|标准是|标准为|期限|多久|多长时间|上限|最高.{0,4}(多少|能|可以)|最多|最长|最低.{0,4}多少|几岁)"
)
FIGURE = re.compile(r"(\d+(\.\d+)?\s*(%|元|万|亿|个月|月|年|周岁|岁|日|天|个工作日|倍|人|次|小时|个基点)|[一二三四五六七八九十百千万两]+(个月|年|周岁|岁|元|倍|万元))")


@dataclass
class Coverage:
    covered: bool
    coverage: float
    best_dense: float
    missing_terms: list[str] = field(default_factory=list)
    missing_places: list[str] = field(default_factory=list)
    asks_amount: bool = False
    has_figure: bool = True
    reason: str = ""  # "" when covered; else low_coverage / low_similarity / place / no_figure / no_results


@lru_cache(maxsize=1)
def generic_terms() -> frozenset[str]:
    lines = (DATA_DIR / "generic_terms.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _posseg():
    import jieba.posseg

    from assistant.index.tokenize import _tokenizer

    return jieba.posseg.POSTokenizer(_tokenizer())


@lru_cache(maxsize=4096)
def _rarity(word: str) -> float:
    """-log frequency of the word in jieba's general dictionary: rare words weigh more."""
    from assistant.index.tokenize import _tokenizer

    tokenizer = _tokenizer()
    freq = tokenizer.FREQ.get(word, 0)
    return min(14.0, max(2.0, math.log((tokenizer.total or 1) / (freq + 1))))


def content_words(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) of the words that carry the question's topic."""
    stop, generic = stopwords(), generic_terms()
    out = []
    for pair in _posseg().cut(text):
        word, flag = pair.word.strip(), pair.flag
        if len(word) < 2 or word in stop or word in generic or not re.search(r"[\u4e00-\u9fff]", word):
            continue
        if flag.startswith(("u", "p", "c", "r", "d", "y", "e", "m", "q", "t", "f")):
            continue  # particles, pronouns, adverbs, numerals, time and direction words carry no topic
        out.append((word, flag))
    return out


def assess(result: RetrievalResult, settings: AnswerSettings, evidence_chunks: int = 3) -> Coverage:
    if not result.chunks:
        return Coverage(False, 0.0, 0.0, reason="no_results")
    evidence = squash("\n".join(hit.chunk.indexed_text for hit in result.chunks[:evidence_chunks]))
    words = content_words(result.query.dense_text)
    total = sum(_rarity(w) for w, _ in words)
    present = [w for w, _ in words if w in evidence]
    missing = [w for w, _ in words if w not in evidence]
    coverage = (sum(_rarity(w) for w in present) / total) if total else 1.0
    places = [w for w, flag in words if flag == "ns" and w not in evidence]
    asks_amount = bool(AMOUNT_QUESTION.search(result.query.normalized))
    has_figure = bool(FIGURE.search("\n".join(hit.chunk.text for hit in result.chunks[:evidence_chunks])))

    reason = ""
    if places:
        reason = "place"
    elif coverage < settings.refusal_min_coverage:
        reason = "low_coverage"
    elif result.best_dense < settings.refusal_min_dense:
        reason = "low_similarity"
    elif asks_amount and not has_figure:
        reason = "no_figure"
    return Coverage(not reason, coverage, result.best_dense, missing, places, asks_amount, has_figure, reason)
