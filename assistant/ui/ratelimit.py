"""Per-caller limits: questions per minute for the public chat and the HTTP API, failed logins for the staff
console.

A caller is a client address (the chat, the open API) or an API key (``key:<fingerprint>``), which may have a
limit of its own.  A client address is the address as the server sees it.  Behind a reverse proxy, uvicorn replaces the proxy's address
with the client's from ``X-Forwarded-For``, and only when the request came from one of
``security.trusted_proxies`` (``serve`` passes the same list to uvicorn as ``forwarded_allow_ips``); the
header is never read here, so a client cannot pick its own address by forging it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict, deque

RATE_LIMITED = "您提问太频繁了,请稍等一分钟再试。紧急问题可拨打人社服务热线 12333。"
WINDOW_S = 60

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic, name: str = "questions"):
        self.per_minute = per_minute
        self.name = name
        self._clock = clock
        self._hits: dict[str, deque] = defaultdict(deque)
        self._noted: dict[str, float] = {}  # client -> when its refusal was last logged
        self._lock = threading.Lock()

    def allow(self, client: str, per_minute: int | None = None) -> bool:
        """Count a request from ``client``; False once it made its limit in the last 60 s.

        ``per_minute`` replaces the limiter's own limit for this call (an API key's limit); 0 means no limit.
        A refused client is logged once a minute in one line, however many calls it makes."""
        limit = self.per_minute if per_minute is None else per_minute
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            hits = self._hits[client]
            while hits and now - hits[0] >= WINDOW_S:
                hits.popleft()
            if len(hits) >= limit:
                if now - self._noted.get(client, -math.inf) >= WINDOW_S:
                    self._noted[client] = now
                    log.warning("rate limit (%s): %s made %d requests in a minute; refusing until it slows down",
                                self.name, client, len(hits))
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget clients that went quiet, so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= WINDOW_S]:
                    self._hits.pop(key, None)
                    self._noted.pop(key, None)
            return True

    def retry_after(self, client: str) -> int:
        """Whole seconds until ``client``'s oldest counted request leaves the window (at least 1)."""
        with self._lock:
            hits = self._hits.get(client)
            oldest = hits[0] if hits else self._clock()
        return max(1, math.ceil(WINDOW_S - (self._clock() - oldest)))


def client_key(request) -> str:
    """The caller's address as the server resolved it (see the module docstring for proxies)."""
    if request is None:
        return "local"
    return getattr(request.client, "host", None) or "unknown"


class LoginThrottle:
    """Failed staff logins, counted per client address and per account.

    A client with ``per_client`` failures in the window, or an account with ``per_account`` failures in a row,
    is refused (HTTP 429) until the window has passed; a successful login clears the account's count.  Checks
    happen before the password is looked at, so a refused guess costs nothing and learns nothing.
    """

    def __init__(self, per_client: int, per_account: int, window_s: float, clock=time.monotonic):
        self.per_client = per_client
        self.per_account = per_account
        self.window_s = window_s
        self._clock = clock
        self._client_failures: dict[str, deque] = defaultdict(deque)
        self._account_failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, account: str) -> int:
        """Seconds until ``client`` may try ``account`` again; 0 when it may now."""
        now = self._clock()
        with self._lock:
            failures = self._client_failures[client]
            while failures and now - failures[0] >= self.window_s:
                failures.popleft()
            waits = [0.0]
            if len(failures) >= self.per_client:
                waits.append(failures[0] + self.window_s - now)
            streak = self._account_failures.get(account, [])
            if len(streak) >= self.per_account:
                waits.append(streak[-1] + self.window_s - now)
            return max(0, math.ceil(max(waits)))

    def failed(self, client: str, account: str) -> bool:
        """Count a failure; True when it locked the account (its ``per_account``-th in a row)."""
        now = self._clock()
        with self._lock:
            self._client_failures[client].append(now)
            streak = [t for t in self._account_failures.get(account, []) if now - t < self.window_s]
            streak.append(now)
            self._account_failures[account] = streak[-self.per_account:]
            if len(self._client_failures) + len(self._account_failures) > 10_000:  # memory stays bounded
                self._forget_before(now - self.window_s)
            return len(streak) == self.per_account

    def _forget_before(self, moment: float) -> None:
        for key in [k for k, v in self._client_failures.items() if not v or v[-1] < moment]:
            del self._client_failures[key]
        for key in [k for k, v in self._account_failures.items() if not v or v[-1] < moment]:
            del self._account_failures[key]

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._account_failures.pop(account, None)
