"""The no-LLM backend: answer with the source's own sentences.

It scores every sentence of the top chunks against the question (weighted
word overlap plus embedding similarity, with a bonus for a figure when the
question asks for one), keeps the best few, orders them by source and
position, and cites each.  It adds no words of its own beyond the frame in
prompts/extractive*.txt, so every figure is exactly the source's.  It is also
what every other backend falls back to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from assistant.answer.articles import compose_articles, pick_articles, quote
from assistant.answer.citations import cite
from assistant.answer.prompts import Prompts
from assistant.retrieve.evidence import Candidate, score_candidates
from assistant.retrieve.hybrid import RetrievedChunk
from assistant.retrieve.threshold import Coverage
from assistant.settings import AnswerSettings

# an answering sentence scoring below this is framed as "perhaps related"
UNSURE_SCORE = 0.45
# what a hedge says the documents do not state, by the kind of figure asked
_WHAT_IS_MISSING = {"money": "具体的金额", "ratio": "具体的比例", "duration": "具体的期限", "age": "具体的年龄条件",
                    "date": "具体的日期"}


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


def compose(chosen: list[Candidate], template: str, unsure_template: str, unsure: bool) -> str:
    points = "\n".join(f"• {cite(c.text, c.source_rank)}" for c in chosen)
    return (unsure_template if unsure else template).format(points=points)


class ExtractiveBackend:
    """The ``AnswerBackend`` that quotes: the answering article (documents with 条) or the best sentences."""

    name = "extractive"
    from_model = False  # its text is the sources' own words

    def __init__(self, settings: AnswerSettings, prompts: Prompts, embeddings: Callable[[], object]):
        self.settings = settings
        self.prompts = prompts
        self.embeddings = embeddings  # the retriever's vector cache, asked for at each call (it may be renewed)

    def available(self) -> bool:
        return True

    def rewrite(self, question: str, history: list[dict]) -> str | None:
        return None  # the slot rewrite (followup.py) is all there is

    def answer(self, question: str, hits: list[RetrievedChunk], coverage: Coverage) -> Iterator[str]:
        text, _ = self._compose(question, hits, coverage)
        if text:
            yield text

    def hedge(self, question: str, hits: list[RetrievedChunk], coverage: Coverage) -> str:
        """What the documents do not state, plainly: under it the closest article (a figure not stated), or
        the best sentences framed as "perhaps related"."""
        if coverage.reason != "not_stated":
            return self._compose(question, hits, coverage, unsure=True)[0]
        hits = hits[: self.settings.max_context_chunks]
        articles = pick_articles(question, hits, coverage, self.embeddings())[:1]
        if articles:
            quoted = f"{articles[0].citation}:\n{quote(articles[0])}"
        else:
            chosen = select_sentences(question, hits, self.embeddings(), 2)
            quoted = "\n".join(f"• {cite(c.text, c.source_rank)}" for c in chosen)
        topic = f"“{coverage.amount_term}”" if coverage.amount_term else "这个问题"
        return self.prompts.hedge.format(topic=topic, what=_WHAT_IS_MISSING.get(coverage.amount_kind.split("+")[0],
                                                                               "具体的数额"), quoted=quoted)

    def _compose(self, question: str, hits: list[RetrievedChunk], coverage: Coverage,
                 unsure: bool = False) -> tuple[str, bool]:
        """The sources' own words, and whether they are framed as "perhaps related" (``unsure``, or no
        sentence answers well)."""
        hits = hits[: self.settings.max_context_chunks]
        articles = [] if unsure else pick_articles(question, hits, coverage, self.embeddings())
        if articles and articles[0].sentences[0].score >= UNSURE_SCORE:
            return compose_articles(articles, coverage, self.prompts.extractive_article), False
        chosen = select_sentences(question, hits, self.embeddings(), self.settings.max_sentences)
        if not chosen:
            return "", False
        unsure = unsure or max(c.score for c in chosen) < UNSURE_SCORE
        return compose(chosen, self.prompts.extractive, self.prompts.extractive_unsure, unsure), unsure
