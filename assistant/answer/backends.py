"""Chat models for the LLM backends, behind LangChain's chat-model interface.

``openai``: any OpenAI-compatible endpoint (vLLM, Ollama, Xinference, DeepSeek,
DashScope, llama.cpp's server).  ``llamacpp``: a local GGUF file through
llama-cpp-python (the optional ``llamacpp`` extra).
"""

from __future__ import annotations

from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from assistant.settings import AnswerSettings


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


def make_chat_model(settings: AnswerSettings, backend: str | None = None) -> BaseChatModel | None:
    """The chat model for ``backend`` (default: the configured one); None for extractive."""
    backend = backend or settings.backend
    if backend == "extractive":
        return None
    if backend == "openai":
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
    if backend == "llamacpp":
        if not settings.llamacpp_model_path:
            raise ValueError("llamacpp 后端需要设置 ASSISTANT_ANSWER__LLAMACPP_MODEL_PATH(GGUF 模型文件路径)")
        return LlamaCppChat(
            model_path=settings.llamacpp_model_path,
            n_ctx=settings.llamacpp_n_ctx,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )
    raise ValueError(f"unknown answer backend {backend!r}")
