"""Per-caller rate limit for the public chat and the HTTP API: a sliding one-minute window per caller.

A caller is a client address (the chat, the open API) or an API key (``key:<fingerprint>``), which may
have a limit of its own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

RATE_LIMITED = "您提问太频繁了,请稍等一分钟再试。紧急问题可拨打人社服务热线 12333。"
WINDOW_S = 60


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str, per_minute: int | None = None) -> bool:
        """Count a request from ``client``; False once it made its limit in the last 60 s.

        ``per_minute`` replaces the limiter's own limit for this call (an API key's limit); 0 means no limit.
        """
        limit = self.per_minute if per_minute is None else per_minute
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            hits = self._hits[client]
            while hits and now - hits[0] >= WINDOW_S:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    def retry_after(self, client: str) -> int:
        """Whole seconds until ``client``'s oldest counted request leaves the window (at least 1)."""
        with self._lock:
            hits = self._hits.get(client)
            oldest = hits[0] if hits else self._clock()
        return max(1, math.ceil(WINDOW_S - (self._clock() - oldest)))


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
