"""Documents and articles a question names: 《河南省失业保险条例》第十八条, 郑州失业保险条例第二十条.

A question that names a document goes to that document; one that names an article goes to the article,
and an article the document does not have is reported as such instead of being answered with another
law's article of that number.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from assistant.text.headings import ARTICLE_MENTION, ARTICLE_START, NUMERAL, numeral_value
from assistant.text.normalize import normalize_query_text

_QUOTED = re.compile(r"《([^》]{2,60})》")
# what a title is called: a question saying 条例/办法/解释 … is naming a document
_DOCUMENT_WORD = re.compile(r"(法|条例|规定|办法|细则|解释|决定|通知|意见|方案|纲要|批复)")
# how a document's name ends: a document word and maybe an ordinal, 解释(四)
_NAME_END = r"(?:法|条例|规定|办法|细则|解释)(?:\([一二三四五六七八九十]+\))?"
# a document's name as a question writes it: a run of characters ending like one
_MENTION = re.compile(rf"[\u4e00-\u9fff]{{2,30}}{_NAME_END}")
_MENTION_END = re.compile(rf"{_NAME_END}$")
# a document named just before an article number: 劳动合同法第四十七条 (its name, for "not indexed")
_NAMED_BEFORE_ARTICLE = re.compile(rf"([\u4e00-\u9fff]{{2,30}}?{_NAME_END})第{NUMERAL}条")
_TITLE_NOISE = re.compile(r"^中华人民共和国|[((]\d{4}[-年]?.*?[))]$|【[^】]*】|\s")  # 【…】: a tag, not the name
_TILL_TRIAL = re.compile(r"[((](试行|暂行|草案|修订|修正)[))]")
MIN_TITLE_MATCH = 0.8  # share of a title's characters the question must contain, in order


def article_number(text: str) -> int | None:
    """第十八条 -> 18 (the first article named), None when there is none."""
    match = ARTICLE_MENTION.search(text)
    return numeral_value(match.group(1)) if match else None


def quoted_titles(question: str) -> list[str]:
    return _QUOTED.findall(question)


def _core(title: str) -> str:
    return _TILL_TRIAL.sub("", _TITLE_NOISE.sub("", normalize_query_text(title)))


@lru_cache(maxsize=1 << 20)  # one entry a title: the index of the next document list reuses them
def _cores(title: str) -> tuple[str, ...]:
    """The names a document goes by: its title, and the document a 关于印发《…》的通知 issues."""
    return tuple(core for core in {_core(title), *map(_core, _QUOTED.findall(title))} if len(core) >= 4)


def title_match(question: str, title: str) -> float:
    """How well the question names the title, 0..1: the share of the title's characters (without
    中华人民共和国, (试行) and a trailing date) the question contains in order — 郑州失业保险条例 has 8 of
    郑州市失业保险条例's 9 — or, for a short name (劳动争议司法解释(四)), the share of that name's characters the
    title contains in order: 9 of 11 for 最高人民法院关于审理劳动争议案件适用法律若干问题的解释(四), 7 for its (三)."""
    best = 0.0
    for core in _cores(title):
        best = max(best, _matched(core, question) / len(core))
        kind = _MENTION_END.search(core)
        for name in _MENTION.findall(question):
            # a short name only for a title of the same kind: 条例 for a 条例, 解释(四) for a 解释(四) — a case
            # titled 用人单位未按规章制度… is not named by 未按规定
            if kind and name.endswith(kind.group(0)):
                best = max(best, _matched(core, name) / len(name))
    return best


def _matched(core: str, text: str) -> int:
    blocks = SequenceMatcher(None, core, text, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks if block.size >= 2)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _covered(text: str, bigrams: set[str]) -> int:
    """Characters of ``text`` inside a bigram from ``bigrams``: ``_matched`` counts only blocks of two or more,
    so this bounds what it can find."""
    return sum(1 for i in range(len(text)) if text[i:i + 2] in bigrams or (i and text[i - 1:i + 1] in bigrams))


class _TitleIndex:
    """The titles' name cores by character bigram, so a question is compared (by ``SequenceMatcher``) only with
    the titles that could match it: comparing every title made a question naming a law cost ~200 ms at 2,849
    documents (100k chunks), growing with the knowledge base."""

    def __init__(self, titles: tuple[tuple[str, str], ...]):
        self.titles = dict(titles)
        self.cores = {doc_id: [(core, _bigrams(core)) for core in _cores(title)] for doc_id, title in titles}
        self.by_bigram: dict[str, set[str]] = defaultdict(set)
        for doc_id, cores in self.cores.items():
            for _, bigrams in cores:
                for bigram in bigrams:
                    self.by_bigram[bigram].add(doc_id)

    def candidates(self, text: str) -> list[str]:
        """The documents whose ``title_match`` with ``text`` can reach MIN_TITLE_MATCH (a superset)."""
        asked = _bigrams(text)
        sharing = set().union(*(self.by_bigram.get(bigram, ()) for bigram in asked))
        names = _MENTION.findall(text)
        possible = []
        for doc_id in sharing:
            for core, bigrams in self.cores[doc_id]:
                if _covered(core, asked) >= MIN_TITLE_MATCH * len(core) or any(
                        _covered(name, bigrams) >= MIN_TITLE_MATCH * len(name) for name in names):
                    possible.append(doc_id)
                    break
        return possible

    def matching(self, text: str) -> list[tuple[float, str]]:
        scored = ((title_match(text, self.titles[doc_id]), doc_id) for doc_id in self.candidates(text))
        return [(score, doc_id) for score, doc_id in scored if score >= MIN_TITLE_MATCH]


@lru_cache(maxsize=4)
def _title_index(titles: tuple[tuple[str, str], ...]) -> _TitleIndex:
    return _TitleIndex(titles)


def index_titles(titles: dict[str, str]) -> _TitleIndex:
    """The bigram index of these titles (doc_id -> title), built once per document list."""
    return _title_index(tuple(titles.items()))


@dataclass
class NamedDocuments:
    doc_ids: list[str]  # documents the question names, best match first
    unknown: list[str]  # titles quoted in 《》 that match no indexed document


def named_documents(question: str, titles: dict[str, str]) -> NamedDocuments:
    """The indexed documents (doc_id -> title) a question names, by title; a question that uses no
    document word (条例, 办法, 解释 …) names none, whatever words it shares with a title."""
    quoted = quoted_titles(question)
    if not quoted and not _DOCUMENT_WORD.search(question):
        return NamedDocuments([], [])
    index = index_titles(titles)
    best_of: dict[str, float] = {}
    for text in quoted or [question]:
        for score, doc_id in index.matching(text):
            best_of[doc_id] = max(score, best_of.get(doc_id, 0.0))
    scored = sorted(((score, len(titles[doc_id]), doc_id) for doc_id, score in best_of.items()), reverse=True)
    best = scored[0][0] if scored else 0.0
    doc_ids = [doc_id for score, _, doc_id in scored if score >= best - 1e-9]
    mentioned = quoted or [m.group(1) for m in _NAMED_BEFORE_ARTICLE.finditer(question)]
    unknown = [] if doc_ids and not quoted else [name for name in mentioned if not index.matching(name)]
    return NamedDocuments(doc_ids, unknown)


_ISSUING = re.compile(r"^关于(印发|发布|公布|颁布)?《([^》]+)》的(通知|决定|公告|令)$")


def cited_title(title: str) -> str:
    """The name an article is cited under: 关于印发《示范市见习管理办法》的通知 -> 示范市见习管理办法 (its articles
    are the issued document's)."""
    match = _ISSUING.match(title.strip())
    return match.group(2) if match else title


def section_article(section: str) -> int | None:
    """The article number of a chunk from its section path (第二章 … > 第十八条)."""
    last = section.rsplit(" > ", 1)[-1]
    match = ARTICLE_START.match(last)
    return numeral_value(match.group(1)) if match else None
