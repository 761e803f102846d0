"""The retrieval chain: follow-up rewrite -> hybrid retrieval (-> rerank) ->
coverage gate -> answer (extractive or LLM, LCEL) -> citation and figure guards.

``stream`` yields events so a UI can show progress and tokens as they come;
``invoke`` returns the final ``Answer``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Iterator

from langchain_core.prompts import ChatPromptTemplate

from assistant.answer.citations import check_answer
from assistant.answer.extractive import compose, select_sentences
from assistant.answer.followup import key_terms, looks_like_follow_up, rule_based_rewrite
from assistant.ingest.clean import normalize_query_text
from assistant.answer.prompts import Prompts
from assistant.retrieve.hybrid import Filters, HybridRetriever, RetrievedChunk
from assistant.retrieve.threshold import Coverage, assess
from assistant.settings import AnswerSettings

_UNSURE_SCORE = 0.45
EMPTY_QUESTION = "请输入您要咨询的问题(文字),例如“失业保险金能领多久?”。"


class LLMTooSlow(RuntimeError):
    """The LLM's answer did not complete within ``llm_deadline_s``."""


class LLMEmptyAnswer(RuntimeError):
    """The LLM answered with no text (the endpoint works; the model said nothing)."""


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    refused: bool
    backend: str
    sources: list[RetrievedChunk] = field(default_factory=list)
    notice: str = ""
    coverage: Coverage | None = None
    dropped: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The public shape printed by ``ask --json``; fields may be added, never renamed."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "backend": self.backend,
            "sources": [hit.source_json() for hit in self.sources],
            "standalone_question": self.standalone_question,
            "notice": self.notice,
        }


class AnswerChain:
    def __init__(self, retriever: HybridRetriever, settings: AnswerSettings, prompts: Prompts, chat_model=None):
        self.retriever = retriever
        self.settings = settings
        self.prompts = prompts
        self.chat_model = chat_model
        self.backend = settings.backend if chat_model is not None else "extractive"
        # after a failure the LLM is skipped for a while: a down endpoint must not cost every caller a timeout
        self._llm_down_until = 0.0
        if chat_model is not None:
            self._condense = ChatPromptTemplate.from_messages([("human", prompts.condense)]) | chat_model
            # no output parser in either chain: a parser drains the whole HTTP response when the stream is
            # closed early, which would defeat the answer deadline (see _llm_tokens)
            self._generate = (
                ChatPromptTemplate.from_messages([("system", prompts.system), ("human", prompts.answer)]) | chat_model
            )

    # ------------------------------------------------------------ steps

    def standalone(self, question: str, history: list[dict]) -> str:
        if not history or not looks_like_follow_up(question):
            return question
        ruled = rule_based_rewrite(question, history)
        if not self._llm_available():
            return ruled
        transcript = "\n".join(f"{'用户' if t.get('role') == 'user' else '助手'}:{t.get('content', '')}" for t in history[-6:])
        try:
            rewritten = "".join(self._llm_tokens(self._condense, {"history": transcript, "question": question})).strip()
        except Exception as exc:  # noqa: BLE001 - the LLM being down must not break follow-ups
            if not isinstance(exc, LLMEmptyAnswer):
                self._llm_failed()
            return ruled
        first_line = rewritten.splitlines()[0].strip() if rewritten else ""
        # a rewrite with no Chinese, or an essay instead of a question, is unusable
        if not re.search(r"[\u4e00-\u9fff]", first_line) or len(first_line) > 3 * len(ruled) + 20:
            return ruled
        # a model that echoes the history instead of rewriting drops the new group or the old topic
        if any(term not in normalize_query_text(first_line) for term in key_terms(ruled)):
            return ruled
        return first_line

    def _refusal(self, question: str, standalone: str, coverage: Coverage) -> str:
        if coverage.reason == "other_domain":
            missing = f"(这属于“{coverage.other_domain}”方面的问题,不在已收录的就业政策文件范围内)"
        elif coverage.reason == "solicitation":
            missing = "(本助手只依据政策文件答疑,不提供代写、代办等服务)"
        elif coverage.missing_places:
            missing = f"(文件未涉及“{'、'.join(coverage.missing_places)}”)"
        elif coverage.reason == "no_figure":
            missing = "(文件提到了相关内容,但没有写明具体的金额、比例或期限)"
        elif coverage.missing_terms:
            missing = f"(文件中没有出现“{'、'.join(coverage.missing_terms[:3])}”)"
        else:
            missing = ""
        text = self.prompts.refusal.format(missing=missing, looked_for=f"与“{standalone}”有关的规定")
        return f"{text}\n{coverage.referral}。" if coverage.referral else text

    def _extractive(self, standalone: str, hits: list[RetrievedChunk], coverage: Coverage) -> tuple[str, bool]:
        chosen = select_sentences(
            standalone, hits[: self.settings.max_context_chunks], coverage, self.retriever.embedding_cache,
            self.settings.max_sentences,
        )
        if not chosen:
            return "", False
        unsure = max(c.score for c in chosen) < _UNSURE_SCORE
        return compose(chosen, self.prompts.extractive, self.prompts.extractive_unsure, unsure), unsure

    def _llm_available(self) -> bool:
        return self.chat_model is not None and time.monotonic() >= self._llm_down_until

    def _llm_failed(self) -> None:
        self._llm_down_until = time.monotonic() + self.settings.llm_cooldown_s

    def _llm_tokens(self, chain, inputs: dict) -> Iterator[str]:
        """The LLM's answer token by token, within ``llm_deadline_s`` as a whole (the client's timeout only
        bounds the wait for each next chunk, so a trickling endpoint would otherwise hold a slot for minutes)."""
        deadline = time.monotonic() + self.settings.llm_deadline_s
        stream = chain.stream(inputs)
        produced = False
        try:
            for chunk in stream:
                # before anything else: chunks without text (keep-alives, reasoning deltas) must not dodge it
                if time.monotonic() > deadline:
                    raise LLMTooSlow(f"no complete answer within {self.settings.llm_deadline_s} s")
                token = chunk.content if isinstance(chunk.content, str) else ""
                if not token:
                    continue
                produced = produced or bool(token.strip())
                yield token
        finally:
            stream.close()  # drops the HTTP stream when we stop early
        if not produced:
            raise LLMEmptyAnswer()

    def _context(self, hits: list[RetrievedChunk]) -> str:
        """Numbered sources for the prompt, within the context budget (small local models have small windows)."""
        blocks, used = [], 0
        for hit in hits:
            if blocks and used + len(hit.chunk.text) > self.settings.max_context_chars:
                break
            used += len(hit.chunk.text)
            meta = hit.meta
            where = " | ".join(x for x in (meta.get("title", ""), meta.get("section", "")) if x)
            blocks.append(f"[{hit.rank}] {where}\n{hit.chunk.text}")
        return "\n\n".join(blocks)

    # ------------------------------------------------------------ public

    def stream(self, question: str, history: list[dict] | None = None, filters: Filters | None = None) -> Iterator[dict]:
        history = history or []
        limit = self.retriever.settings.max_question_chars
        if not question.strip():
            yield {"type": "final", "answer": Answer(question, question, EMPTY_QUESTION, True, self.backend)}
            return
        if len(question) > limit:
            text = f"问题太长了(超过 {limit} 字),请精简成一两句话再问;复杂情况可拨打12333咨询。"
            yield {"type": "final", "answer": Answer(question[:limit], question[:limit], text, True, self.backend)}
            return
        # a rewrite merges earlier turns into the question: it is held to the same length as a question
        standalone = self.standalone(question, history)[:limit]
        yield {"type": "standalone", "text": standalone}
        result = self.retriever.retrieve(standalone, filters=filters)
        coverage = assess(result, self.settings)
        hits = result.chunks
        if not coverage.covered:
            text = self._refusal(question, standalone, coverage)
            yield {"type": "final", "answer": Answer(question, standalone, text, True, self.backend, [], coverage=coverage)}
            return
        yield {"type": "sources", "sources": [hit.source_json() for hit in hits]}

        source_texts = [hit.chunk.text for hit in hits]
        notice = ""
        backend = self.backend
        text = ""
        if self.chat_model is not None and not self._llm_available():
            notice, backend = self.prompts.fallback_notice, "extractive"
            yield {"type": "fallback", "reason": "cooldown"}
        elif self.chat_model is not None:
            context = self._context(hits[: self.settings.max_context_chunks])
            try:
                for token in self._llm_tokens(self._generate, {"context": context, "question": standalone}):
                    text += token
                    yield {"type": "token", "text": token}
            except Exception as exc:  # noqa: BLE001 - any endpoint failure falls back to extractive
                if not isinstance(exc, LLMEmptyAnswer):
                    self._llm_failed()  # down, hung or too slow: spare the next callers the wait
                notice = self.prompts.fallback_notice
                backend, text = "extractive", ""
                yield {"type": "fallback", "reason": type(exc).__name__}

        if text:
            checked = check_answer(text, source_texts)
            if checked.cited:
                answer = Answer(question, standalone, checked.text, False, backend, hits, notice, coverage, checked.dropped)
                yield {"type": "final", "answer": answer}
                return
            # an LLM answer with no valid citation is not grounded (and the gate already found evidence, so a
            # "没有找到" from the model is not trusted either): show the sources' own words instead
            notice = "(提示:模型的回答缺少可核对的出处,以下改为文件原文摘录。)"
            backend = "extractive"

        text, _ = self._extractive(standalone, hits, coverage)
        if not text:
            refusal = self._refusal(question, standalone, coverage)
            yield {"type": "final", "answer": Answer(question, standalone, refusal, True, backend, [], notice, coverage)}
            return
        checked = check_answer(text, source_texts, from_model=False)
        yield {"type": "final", "answer": Answer(question, standalone, checked.text, False, backend, hits, notice,
                                                  coverage, checked.dropped)}

    def invoke(self, question: str, history: list[dict] | None = None, filters: Filters | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, filters):
            if event["type"] == "final":
                final = event["answer"]
        assert final is not None
        return final
