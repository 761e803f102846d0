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
from assistant.answer.followup import parse
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
# a group every sentence about workers may name (劳动者, 职工): it never sets a sentence apart
_ANY_WORKER = "职工"


def _groups(text: str) -> set[str]:
    return set(parse(text).all_values("group")) - {_ANY_WORKER}


def _related(group: str, asked: set[str]) -> bool:
    return any(group in other or other in group for other in asked)  # 农民工 ~ 返乡创业农民工


def of_the_asked_group(question: str, candidates: list[Candidate]) -> list[Candidate]:
    """A question about one group of people (那退役军人呢?) is answered with what the sources say of that
    group, not with the neighbouring sentences about other groups (高校毕业生, 农民工), whenever some
    candidate speaks of the group asked; sentences naming no group stay."""
    asked = _groups(question)
    if not asked:
        return candidates
    named = [(c, _groups(c.text)) for c in candidates]
    if not any(_related(g, asked) for _, groups in named for g in groups):
        return candidates
    return [c for c, groups in named if not groups or any(_related(g, asked) for g in groups)]


def select_sentences(
    question: str,
    hits: list[RetrievedChunk],
    embeddings,
    max_sentences: int,
    whole_limit: int = 260,
    max_chars: int = 700,
) -> list[Candidate]:
    chosen = of_the_asked_group(question, score_candidates(question, hits, embeddings, whole_limit))
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
