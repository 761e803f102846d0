"""Running the service's answers for the API: in worker threads, at most ``ui.concurrency`` at once.

The chat's Gradio queue allows that many answers at once; the API gets as many slots of its own.  Callers
beyond them wait without holding a thread.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable

import anyio

from assistant.answer.events import StreamEvent, Waiting
from assistant.retrieve.hybrid import Filters
from assistant.service import AssistantService

WAITING = Waiting()  # no event for a while: a stream sends a keep-alive so no proxy drops it


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

    async def events(self, question: str, history: list[dict], filters: Filters,
                     keepalive_s: float | None = None) -> AsyncIterator[StreamEvent]:
        """``service.ask_stream`` events, each step in a worker thread, with ``WAITING`` every ``keepalive_s``
        while a step takes longer (an LLM writing).  The stream is closed however it ends: a client that hangs
        up stops an LLM answer."""
        stream = await self.call(self.service.ask_stream, question, history=history, filters=filters)
        done, step = object(), None
        try:
            while True:
                step = asyncio.ensure_future(self.call(next, stream, done))
                while not (await asyncio.wait({step}, timeout=keepalive_s))[0]:
                    yield WAITING
                event, step = step.result(), None
                if event is done:
                    return
                yield event
        finally:
            with anyio.CancelScope(shield=True):
                if step is not None:  # a step still running in its thread must end before the stream is closed
                    await asyncio.wait({step})
                await anyio.to_thread.run_sync(stream.close)
