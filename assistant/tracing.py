"""Stage timings of one request, for benchmarks and diagnosis; off unless a caller collects them.

Code marks its stages with ``with span("retrieve.keyword"):``.  Nothing is recorded (one context-variable
read per span) until a caller wraps a request in ``with collect() as trace:``; then every span inside it,
in the same thread or task, is appended to ``trace``::

    with collect() as trace:
        service.ask(question)
    trace.totals()   # {"retrieve": 0.012, "retrieve.dense": 0.007, ...} seconds by span name

Spans nest; ``trace.top_level()`` sums only the outermost ones, so a caller can tell what its spans do
not cover.  Span names are dotted by stage (``index.…``, ``retrieve.…``, ``answer.…``).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from time import perf_counter
from collections.abc import Iterator


@dataclass
class Trace:
    spans: list[tuple[str, float, int]] = field(default_factory=list)  # (name, seconds, depth), in end order
    depth: int = 0

    def totals(self) -> dict[str, float]:
        """Seconds by span name, summed over every span of that name."""
        out: dict[str, float] = {}
        for name, seconds, _ in self.spans:
            out[name] = out.get(name, 0.0) + seconds
        return out

    def top_level(self) -> float:
        return sum(seconds for _, seconds, depth in self.spans if depth == 0)


_current: ContextVar[Trace | None] = ContextVar("assistant_trace", default=None)


class _Span:
    __slots__ = ("name", "trace", "started")

    def __init__(self, name: str, trace: Trace):
        self.name, self.trace = name, trace

    def __enter__(self) -> _Span:
        self.trace.depth += 1
        self.started = perf_counter()
        return self

    def __exit__(self, *exc) -> bool:
        elapsed = perf_counter() - self.started
        self.trace.depth -= 1
        self.trace.spans.append((self.name, elapsed, self.trace.depth))
        return False


class _NoSpan:
    __slots__ = ()

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exc) -> bool:
        return False


_NO_SPAN = _NoSpan()


def span(name: str) -> _Span | _NoSpan:
    """A timed stage when a trace is being collected, else a shared no-op."""
    trace = _current.get()
    return _NO_SPAN if trace is None else _Span(name, trace)


@contextmanager
def collect() -> Iterator[Trace]:
    """Record the spans of everything run inside the block (this thread or task only)."""
    trace = Trace()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)
