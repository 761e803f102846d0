"""Turn a follow-up ("那退役军人呢?") into a question that stands alone.

With an LLM the condense prompt does it; without one (and whenever the LLM's
rewrite is unusable) a rule swaps the follow-up's group / policy / region term
into the previous question.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from assistant.ingest.clean import normalize_query_text
from assistant.settings import DATA_DIR

_LEAD = re.compile(r"^(那么|那如果|那要是|那|如果是|要是|换成|还有|另外|对于|至于|假如是|假如|请问)[,,\s]*")
_TAIL = re.compile(r"[呢吗啊呀哦嘛]*[??。!!\s]*$")


@lru_cache(maxsize=1)
def _categories() -> dict[str, list[str]]:
    raw = yaml.safe_load((DATA_DIR / "followup_terms.yaml").read_text(encoding="utf-8"))
    return {name: sorted(terms, key=len, reverse=True) for name, terms in raw.items()}


def _find(text: str, terms: list[str]) -> str | None:
    return next((t for t in terms if t in text), None)


def looks_like_follow_up(question: str) -> bool:
    q = normalize_query_text(question)
    return bool(_LEAD.match(q)) or (len(q) <= 14 and bool(re.search(r"呢[??]?$", q))) or len(q) <= 6


def rule_based_rewrite(question: str, history: list[dict]) -> str:
    """The standalone form of ``question`` given earlier turns; unchanged when it already stands alone."""
    previous = None
    for turn in history:
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            text = str(turn["content"])
            previous = rule_based_rewrite(text, []) if previous is None else _merge(previous, text)
    if previous is None or not looks_like_follow_up(question):
        return question
    return _merge(previous, question)


def _merge(previous: str, question: str) -> str:
    if not looks_like_follow_up(question):
        return question
    prev = normalize_query_text(previous)
    core = _TAIL.sub("", _LEAD.sub("", normalize_query_text(question)))
    result = prev
    replaced_any = False
    for terms in _categories().values():
        new = _find(core, terms)
        if not new:
            continue
        old = _find(result, terms)
        result = result.replace(old, new, 1) if old else f"{new} {result}"
        core = core.replace(new, "", 1)
        replaced_any = True
    leftover = core.strip(" ,,、")
    if leftover and not replaced_any:
        # "能领多久?" after "见习补贴每月多少钱": keep the old topic, ask the new thing
        topic = " ".join(t for terms in _categories().values() if (t := _find(prev, terms)))
        return f"{topic or _TAIL.sub('', prev)} {leftover}".strip()
    if leftover:
        result = f"{result} {leftover}"
    return result


def key_terms(question: str) -> list[str]:
    """The group / policy / region terms a question names (what a rewrite must keep)."""
    return [t for terms in _categories().values() if (t := _find(normalize_query_text(question), terms))]
