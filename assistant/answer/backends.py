"""Answer backends: the ``AnswerBackend`` interface, and the LLM one behind LangChain's chat-model interface.

``extractive`` (assistant/answer/extractive.py) quotes the sources and is what every other backend falls back
to.  ``openai``: any OpenAI-compatible endpoint (vLLM, Ollama, Xinference, DeepSeek, DashScope, llama.cpp's
server).  ``llamacpp``: a local GGUF file through llama-cpp-python (the optional ``llamacpp`` extra).  Both LLM
backends are one ``LLMBackend`` over a LangChain chat model; ``assistant/components.py`` builds a backend by name.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Protocol
from collections.abc import Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from pydantic import ConfigDict

from assistant.answer.prompts import Prompts
from assistant.settings import AnswerSettings
from assistant.text.patterns import strip_hostile

if TYPE_CHECKING:
    from assistant.retrieve.hybrid import RetrievedChunk
    from assistant.retrieve.threshold import Coverage

log = logging.getLogger(__name__)


class AnswerBackend(Protocol):
    """What writes the answer once the gate found evidence; the chain checks whatever it writes."""

    name: str
    from_model: bool  # a model writes (streamed as tokens, checked as a model's) rather than the sources' words

    def available(self) -> bool:
        """False while the backend is known to be down (the chain answers extractively without trying)."""

    def rewrite(self, question: str, history: list[dict]) -> str | None:
        """The follow-up ``question`` rewritten to stand alone, or None (the chain keeps its slot rewrite)."""

    def answer(self, question: str, hits: list[RetrievedChunk], coverage: Coverage) -> Iterator[str]:
        """The answer in pieces; raises when the backend fails (the chain then falls back, with a log line)."""


class LLMTooSlow(RuntimeError):
    """The LLM's answer did not complete within ``llm_deadline_s``."""


class LLMEmptyAnswer(RuntimeError):
    """The LLM answered with no text (the endpoint works; the model said nothing)."""


class LLMBackend:
    """An LLM through LangChain (LCEL: prompt | chat model), within a deadline, skipped for a while after a failure."""

    from_model = True

    def __init__(self, name: str, chat_model: BaseChatModel, settings: AnswerSettings, prompts: Prompts):
        self.name = name
        self.chat_model = chat_model
        self.settings = settings
        self._condense = ChatPromptTemplate.from_messages([("human", prompts.condense)]) | chat_model
        # no output parser in either chain: a parser drains the whole HTTP response when the stream is closed
        # early, which would defeat the answer deadline (see _tokens)
        self._generate = ChatPromptTemplate.from_messages([("system", prompts.system), ("human", prompts.answer)]) | chat_model
        # after a failure the LLM is skipped for a while: a down endpoint must not cost every caller a timeout
        self._down_until = 0.0

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def rewrite(self, question: str, history: list[dict]) -> str | None:
        transcript = "\n".join(f"{'用户' if t.get('role') == 'user' else '助手'}:{t.get('content', '')}" for t in history[-6:])
        try:
            rewritten = "".join(self._tokens(self._condense, {"history": transcript, "question": question})).strip()
        except Exception as exc:  # noqa: BLE001 - the LLM being down must not break follow-ups
            log.warning("%s backend could not rewrite the follow-up (%s): keeping the rule-based rewrite",
                        self.name, type(exc).__name__)
            return None
        return rewritten.splitlines()[0].strip() if rewritten else None

    def answer(self, question: str, hits: list[RetrievedChunk], coverage: Coverage) -> Iterator[str]:
        context = self._context(hits[: self.settings.max_context_chunks])
        yield from self._tokens(self._generate, {"context": context, "question": question})

    def _tokens(self, chain, inputs: dict) -> Iterator[str]:
        """The LLM's answer token by token, within ``llm_deadline_s`` as a whole (the client's timeout only
        bounds the wait for each next chunk, so a trickling endpoint would otherwise hold a slot for minutes).
        A failure other than an empty answer starts the cool-down: down, hung or too slow, spare the next
        callers the wait."""
        deadline = time.monotonic() + self.settings.llm_deadline_s
        produced = False
        try:
            stream = chain.stream(inputs)
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
        except Exception:  # not GeneratorExit: a caller that stops reading is no failure of the endpoint
            self._down_until = time.monotonic() + self.settings.llm_cooldown_s
            raise
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
            # the last guard before the model: an instruction the cleaning missed (an index built before a
            # pattern was added) never reaches the prompt
            blocks.append(f"[{hit.rank}] {where}\n{strip_hostile(hit.chunk.text)}")
        return "\n\n".join(blocks)


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in-process with llama-cpp-python's chat completion."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 512
    temperature: float = 0.1
    client: Any = None

    def model_post_init(self, __context: Any) -> None:
        from llama_cpp import Llama

        self.client = Llama(model_path=self.model_path, n_ctx=self.n_ctx, verbose=False)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @staticmethod
    def _to_openai(messages: list[BaseMessage]) -> list[dict]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> ChatResult:
        result = self.client.create_chat_completion(
            messages=self._to_openai(messages), max_tokens=self.max_tokens, temperature=self.temperature, stop=stop
        )
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs
    ) -> Iterator[ChatGenerationChunk]:
        for part in self.client.create_chat_completion(
            messages=self._to_openai(messages),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=stop,
            stream=True,
        ):
            delta = part["choices"][0]["delta"].get("content")
            if delta:
                if run_manager:
                    run_manager.on_llm_new_token(delta)
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta))


def _openai_chat(settings: AnswerSettings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        model=settings.openai_model,
        timeout=settings.openai_timeout_s,
        max_retries=0,
        temperature=settings.temperature,
        # Not ``max_tokens=``: langchain-openai sends that as ``max_completion_tokens``, which
        # llama.cpp's server (and other OpenAI-compatible servers) ignore, so the cap was lost
        # and generation ran on to the context limit. Every compatible server reads ``max_tokens``.
        extra_body={"max_tokens": settings.max_tokens},
        streaming=True,
    )


def _llamacpp_chat(settings: AnswerSettings) -> BaseChatModel:
    if not settings.llamacpp_model_path:
        raise ValueError("llamacpp 后端需要设置 ASSISTANT_ANSWER__LLAMACPP_MODEL_PATH(GGUF 模型文件路径)")
    return LlamaCppChat(
        model_path=settings.llamacpp_model_path,
        n_ctx=settings.llamacpp_n_ctx,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
    )


CHAT_MODELS = {"openai": _openai_chat, "llamacpp": _llamacpp_chat}


def make_chat_model(settings: AnswerSettings, backend: str | None = None) -> BaseChatModel:
    """The LangChain chat model of an LLM backend (default: the configured one)."""
    backend = backend or settings.backend
    if backend not in CHAT_MODELS:
        raise ValueError(f"{backend!r} is not an LLM answer backend (LLM backends: {', '.join(CHAT_MODELS)})")
    return CHAT_MODELS[backend](settings)
