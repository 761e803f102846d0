"""Extractive answers from documents with 条/款 structure: quote the article that answers.

A hotline worker cites a rule as 《河南省失业保险条例》第二十一条, so the answer does too: the answering
sentence first (for a figure question, the sentence that states the figure), then the article under its
title and number with that sentence marked, and at most one further article when another one answers
nearly as well.  A local regulation is labelled 地方规定 with its region.  Documents without articles
(speeches, news, Q&A sheets) keep the sentence-by-sentence answer of extractive.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.citations import cite
from assistant.retrieve.evidence import Candidate, score_candidates
from assistant.retrieve.hybrid import RetrievedChunk
from assistant.retrieve.references import cited_title, section_article
from assistant.retrieve.threshold import KIND_FIGURE, Coverage, FIGURE
from assistant.text.headings import ARTICLE_START, NUMERAL

MAX_ARTICLES = 2
SECOND_ARTICLE_SHARE = 0.85  # a further article is quoted when its best sentence scores this share of the best
MAX_QUOTE_CHARS = 600  # longer articles are quoted by the 款 that answers
LEAD_SHARE = 0.6  # an answering sentence longer than this share of its article is not repeated above it


@dataclass
class QuotedArticle:
    hit: RetrievedChunk
    sentences: list[Candidate]  # the answering sentences of this article, best first
    named: bool = False  # the question asked for this very article

    @property
    def citation(self) -> str:
        """《title》第X条, plus the region of a local regulation."""
        meta = self.hit.meta
        article = meta.get("section", "").rsplit(" > ", 1)[-1]
        region = meta.get("region", "")
        label = f"(地方规定·{region})" if region else ""
        return f"《{cited_title(meta.get('title', ''))}》{article}{label}"


def is_article(hit: RetrievedChunk) -> bool:
    return section_article(hit.meta.get("section", "")) is not None


def pick_articles(question: str, hits: list[RetrievedChunk], coverage: Coverage, embeddings) -> list[QuotedArticle]:
    """The article that answers best (when the best sentence comes from an article), and a second one that
    answers nearly as well; [] when the best answer is not in an article."""
    scored = score_candidates(question, hits, embeddings, whole_limit=0)  # sentences, not whole chunks
    if not scored:
        return []
    by_rank = {hit.rank: hit for hit in hits}
    if coverage.article is not None and is_article(hits[0]):  # the question named this article: it alone
        return [QuotedArticle(hits[0], [c for c in scored if c.source_rank == hits[0].rank], named=True)]
    best = scored[0]
    if not is_article(by_rank[best.source_rank]):
        return []
    articles: dict[int, QuotedArticle] = {}
    for candidate in scored:
        hit = by_rank[candidate.source_rank]
        if not is_article(hit) or candidate.score < SECOND_ARTICLE_SHARE * best.score:
            continue
        if candidate.source_rank not in articles:
            if len(articles) >= MAX_ARTICLES:
                continue
            articles[candidate.source_rank] = QuotedArticle(hit, [])
        articles[candidate.source_rank].sentences.append(candidate)
    return list(articles.values())


def lead_sentence(article: QuotedArticle, coverage: Coverage) -> Candidate:
    """The sentence the answer opens with: for a figure question, the best one stating a figure of the kind
    asked (期限 → 十二个月, not the article's 缴费 sentence)."""
    if coverage.asks_amount:
        kinds = [KIND_FIGURE[k] for k in coverage.amount_kind.split("+") if k in KIND_FIGURE] or [FIGURE]
        for candidate in article.sentences:
            if any(pattern.search(candidate.text) for pattern in kinds):
                return candidate
    return article.sentences[0]


def quote(article: QuotedArticle) -> str:
    """The article as a Markdown quote with its answering sentences in bold; a long article by its 款 that
    answer (its first line kept, omissions marked ……)."""
    text = article.hit.chunk.text.strip()
    marked = [c.text for c in article.sentences]
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not ARTICLE_START.match(lines[0]):
        lines.insert(0, "……")  # a long article's later part (the chunker split it): say it does not start here
    if len(text) > MAX_QUOTE_CHARS:
        keep = [i for i, line in enumerate(lines) if i == 0 or any(m in line for m in marked)]
        shown, last = [], -1
        for i in keep:
            if i > last + 1:
                shown.append("……")
            shown.append(lines[i])
            last = i
        if last < len(lines) - 1:
            shown.append("……")
        lines = shown
    pieces = [piece.strip() for unit in marked for piece in unit.split("\n") if piece.strip()]
    if article.named or sum(len(p) for p in pieces) >= LEAD_SHARE * len(text):
        pieces = []  # the whole article answers: marking it all would only shout
    out = []
    for line in lines:
        for piece in pieces:
            if piece in line:
                line = line.replace(piece, f"**{piece}**", 1)
        out.append("> " + line.replace("****", ""))  # two marked sentences in a row read as one
    out[-1] = cite(out[-1], article.hit.rank)
    return "\n".join(out)


def compose_articles(articles: list[QuotedArticle], coverage: Coverage, template: str) -> str:
    """The answering sentence, then the articles; the sentence is left out when it is most of the article
    (it would only be read twice)."""
    lead = lead_sentence(articles[0], coverage)
    opening = cite(_plain(lead.text), lead.source_rank) + "\n\n"
    if len(lead.text) > LEAD_SHARE * len(articles[0].hit.chunk.text):
        opening = ""
    quoted = "\n\n".join(f"{article.citation}:\n{quote(article)}" for article in articles)
    return template.format(lead=opening, articles=quoted).strip()


def _plain(sentence: str) -> str:
    """A sentence as the opening line: without its article number (第二十一条 …)."""
    return re.sub(rf"^第{NUMERAL}条\s*", "", sentence.strip())
