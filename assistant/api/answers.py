"""Running the service's answers for the API: in worker threads, at most ``ui.concurrency`` at once.

The chat's Gradio queue allows that many answers at once; the API gets as many slots of its own.  Callers
beyond them wait without holding a thread.
"""

from __future__ import annotations

import functools
from typing import AsyncIterator, Callable

import anyio

from assistant.retrieve.hybrid import Filters
from assistant.service import AssistantService


class Answers:
    def __init__(self, service: AssistantService):
        self.service = service
        self._slots: anyio.CapacityLimiter | None = None

    def _limiter(self) -> anyio.CapacityLimiter:
        if self._slots is None:  # made in the event loop, at the first request
            self._slots = anyio.CapacityLimiter(self.service.settings.ui.concurrency)
        return self._slots

    async def call(self, fn: Callable, *args, **kwargs):
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=self._limiter())

    async def events(self, question: str, history: list[dict], filters: Filters) -> AsyncIterator[dict]:
        """``service.ask_stream`` events, each step in a worker thread; the stream is closed however it ends
        (a client that hangs up stops an LLM answer)."""
        stream = await self.call(self.service.ask_stream, question, history=history, filters=filters)
        done = object()
        try:
            while (event := await self.call(next, stream, done)) is not done:
                yield event
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stream.close)
