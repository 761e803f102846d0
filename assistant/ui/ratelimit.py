"""Per-client rate limit for the public chat: a sliding one-minute window per client address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

RATE_LIMITED = "您提问太频繁了,请稍等一分钟再试。紧急问题可拨打人社服务热线 12333。"


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count a request from ``client``; False once it made ``per_minute`` in the last 60 s."""
        if self.per_minute <= 0:
            return True
        now = self._clock()
        with self._lock:
            hits = self._hits[client]
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            return True


def client_key(request, trust_proxy: bool = False) -> str:
    """The caller's address; behind a trusted reverse proxy, the first X-Forwarded-For hop.

    The header is ignored unless ``trust_proxy`` is set, or any client could dodge the limit by forging it.
    """
    if request is None:
        return "local"
    forwarded = request.headers.get("x-forwarded-for", "") if trust_proxy and request.headers else ""
    if forwarded:
        return forwarded.split(",")[0].strip()
    return getattr(request.client, "host", None) or "unknown"
