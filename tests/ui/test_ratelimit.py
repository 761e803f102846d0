"""The public chat's per-client rate limit (unit level; the served app uses the same class)."""

from __future__ import annotations

from assistant.ui.ratelimit import WINDOW_S, RateLimiter, client_key


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_limit_per_client_in_a_sliding_minute():
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # another client is not affected
    clock.now = 59.9
    assert not limiter.allow("a")
    clock.now = 60.1
    assert limiter.allow("a")


def test_a_caller_may_have_a_limit_of_its_own():
    """An API key's limit (api.key_rate_limit_per_minute) replaces the limiter's for that caller."""
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.allow("key:abc", per_minute=1) for _ in range(2)] == [True, False]
    assert all(limiter.allow("key:def", per_minute=0) for _ in range(10))  # 0: no limit for that caller
    assert [limiter.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]


def test_retry_after_counts_down_to_the_oldest_request_leaving_the_window():
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    limiter.allow("a")
    clock.now = 20.0
    limiter.allow("a")
    assert not limiter.allow("a") and limiter.retry_after("a") == 40
    clock.now = 59.5
    assert limiter.retry_after("a") == 1
    assert limiter.retry_after("never-seen") == WINDOW_S


def test_zero_disables_the_limit():
    limiter = RateLimiter(0)
    assert all(limiter.allow("a") for _ in range(100))


def test_client_key_prefers_the_proxy_header():
    class Request:
        headers = {"x-forwarded-for": "10.1.2.3, 127.0.0.1"}
        client = type("C", (), {"host": "127.0.0.1"})()

    assert client_key(Request(), trust_proxy=True) == "10.1.2.3"
    assert client_key(Request()) == "127.0.0.1"  # a forged header is ignored unless the proxy is trusted
    assert client_key(None) == "local"
