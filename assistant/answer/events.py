"""What ``AnswerChain.stream`` yields, in order: ``Standalone``, then ``Sources``, ``Token``s or a ``Fallback``,
and always one ``Final`` last (a refusal goes from ``Standalone`` straight to ``Final``).

Events are read by attribute (``event.text``); ``event["type"]`` and ``event["text"]`` also work, so a caller
written against the earlier dict events (the chat UI, API clients of ``ask_stream``) reads them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from assistant.answer.chain import Answer


class StreamEvent:
    type: ClassVar[str]

    def __getitem__(self, key: str) -> Any:
        if key == "type":
            return self.type
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass(frozen=True)
class Standalone(StreamEvent):
    """The question as searched: a follow-up made standalone, requests to the assistant left out."""

    text: str
    type: ClassVar[str] = "standalone"


@dataclass(frozen=True)
class Sources(StreamEvent):
    """The evidence found, as ``RetrievedChunk.source_json`` shapes it (before any answer text)."""

    sources: list[dict] = field(default_factory=list)
    type: ClassVar[str] = "sources"


@dataclass(frozen=True)
class Token(StreamEvent):
    """A piece of an LLM's answer as it is written (not yet checked: ``Final`` holds the checked answer)."""

    text: str
    type: ClassVar[str] = "token"


@dataclass(frozen=True)
class Fallback(StreamEvent):
    """The LLM could not answer (``reason``: ``cooldown`` or the failure's type); the sources' words follow."""

    reason: str
    type: ClassVar[str] = "fallback"


@dataclass(frozen=True)
class Final(StreamEvent):
    """The answer, checked: the last event of every stream."""

    answer: Answer
    type: ClassVar[str] = "final"


@dataclass(frozen=True)
class Waiting(StreamEvent):
    """Nothing new for a while (an LLM still writing): a streaming API sends a keep-alive."""

    type: ClassVar[str] = "waiting"
