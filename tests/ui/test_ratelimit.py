"""Per-client limits (unit level; the served app uses the same classes, tests/ui/test_security_http.py)."""

from __future__ import annotations

import logging

from assistant.ui.ratelimit import WINDOW_S, LoginThrottle, RateLimiter, client_key


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


def test_client_key_is_the_address_the_server_resolved():
    """X-Forwarded-For is never read here: uvicorn applies it, and only from a trusted proxy (test_security_http)."""

    class Request:
        headers = {"x-forwarded-for": "10.1.2.3, 127.0.0.1"}
        client = type("C", (), {"host": "127.0.0.1"})()

    assert client_key(Request()) == "127.0.0.1"
    assert client_key(None) == "local"


def test_a_refused_client_is_logged_once_a_minute_in_one_line(caplog):
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    with caplog.at_level(logging.WARNING, logger="assistant.ui.ratelimit"):
        results = [limiter.allow("203.0.113.9") for _ in range(30)]
        clock.now = 61.0
        results += [limiter.allow("203.0.113.9") for _ in range(3)]
    assert results.count(True) == 4
    lines = [r for r in caplog.records if r.name == "assistant.ui.ratelimit"]
    assert len(lines) == 2, [r.getMessage() for r in lines]  # one per minute in which it was refused
    assert all(r.exc_info is None and "\n" not in r.getMessage() and "203.0.113.9" in r.getMessage() for r in lines)


def test_login_throttle_per_client_and_per_account():
    clock = Clock()
    throttle = LoginThrottle(per_client=4, per_account=3, window_s=900, clock=clock)
    assert throttle.retry_after("a", "wang") == 0
    assert [throttle.failed("a", "wang") for _ in range(3)] == [False, False, True]  # the third locks it
    assert throttle.retry_after("b", "wang") == 900  # locked for every client
    assert throttle.retry_after("a", "li") == 0  # client a has 3 failures of its 4
    throttle.failed("a", "li")
    assert throttle.retry_after("a", "zhao") == 900  # client a is over its limit, whatever account it tries
    assert throttle.retry_after("c", "li") == 0
    clock.now = 901
    assert throttle.retry_after("a", "wang") == 0 and throttle.retry_after("b", "wang") == 0
    throttle.failed("b", "li")
    throttle.succeeded("li")  # a good password clears the account's streak
    assert [throttle.failed("b", "li") for _ in range(2)] == [False, False]
