"""API keys and rate limits of the HTTP API.

Keys come only in ``Authorization: Bearer …`` (never a cookie or a query string, so a browser can never
send one on a user's behalf and the routes need no CSRF token).  Question routes are open (limited per
client address, like the chat) until ``api.keys`` is set; document routes need one of ``api.admin_keys``
and are off while it is empty.  Keys are compared in constant time, counted by fingerprint, and registered
with the log masking so no log line can show one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from fastapi import Request
from fastapi.security import HTTPBearer

from assistant.api.errors import ApiError
from assistant.privacy import register_secrets
from assistant.settings import Settings
from assistant.ui.ratelimit import RATE_LIMITED, RateLimiter, client_key

log = logging.getLogger(__name__)

FAILED_KEYS_PER_MINUTE = 20  # wrong keys from one address before it is told to wait

# for the OpenAPI document only: the guards below read the header themselves, before the body
QUESTION_KEY = HTTPBearer(scheme_name="QuestionKey", auto_error=False,
                          description="问答接口的密钥(ASSISTANT_API__KEYS);未设置时问答接口无需密钥")
ADMIN_KEY = HTTPBearer(scheme_name="AdminKey", auto_error=False,
                       description="文档管理接口的管理员密钥(ASSISTANT_API__ADMIN_KEYS)")

MISSING_KEY = "缺少 API 密钥:请在请求头中加入 Authorization: Bearer <密钥>。"
INVALID_KEY = "API 密钥无效。"
DOCUMENTS_OFF = "文档管理接口未启用:请在服务器上设置管理员密钥(环境变量 ASSISTANT_API__ADMIN_KEYS)后重启。"
TOO_MANY_WRONG_KEYS = "密钥错误次数过多,请一分钟后再试。"


def fingerprint(key: str) -> str:
    """A short, stable name for a key (rate-limit counters, logs), from which the key cannot be recovered."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _one_of(key: str, keys: tuple[str, ...]) -> bool:
    found = False
    for candidate in keys:  # every key is compared: the time taken tells nothing about which one is close
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


class KeyRing:
    def __init__(self, settings: Settings):
        api = settings.api
        self.admin_keys = tuple(k.get_secret_value() for k in api.admin_keys)
        self.question_keys = tuple(k.get_secret_value() for k in api.keys)
        self.key_limit = api.key_rate_limit_per_minute
        # per address on open routes, as the chat (the address a trusted proxy saw: assistant/ui/ratelimit.py)
        self.limiter = RateLimiter(settings.ui.rate_limit_per_minute, name="api")
        self._failures = RateLimiter(FAILED_KEYS_PER_MINUTE, name="api keys")
        register_secrets(self.admin_keys + self.question_keys)

    @property
    def documents_enabled(self) -> bool:
        return bool(self.admin_keys)

    @property
    def questions_need_key(self) -> bool:
        return bool(self.question_keys)

    def _checked_key(self, request: Request, keys: tuple[str, ...]) -> str:
        key = bearer_token(request)
        if key is not None and _one_of(key, keys):
            return key
        address = client_key(request)
        if not self._failures.allow(address):
            raise ApiError(429, "too_many_failed_keys", TOO_MANY_WRONG_KEYS,
                           headers={"Retry-After": str(self._failures.retry_after(address))})
        log.info("API request without a valid key from %s: %s %s", address, request.method, request.url.path)
        challenge = {"WWW-Authenticate": "Bearer"}
        if key is None:
            raise ApiError(401, "missing_api_key", MISSING_KEY, headers=challenge)
        raise ApiError(401, "invalid_api_key", INVALID_KEY, headers=challenge)

    async def question_guard(self, request: Request) -> None:
        """Question routes: a key when keys are configured (an admin key works too), then the caller's rate limit."""
        if self.questions_need_key:
            caller, limit = fingerprint(self._checked_key(request, self.question_keys + self.admin_keys)), self.key_limit
        else:
            caller, limit = client_key(request), None
        if not self.limiter.allow(caller, limit):
            raise ApiError(429, "rate_limited", RATE_LIMITED, headers={"Retry-After": str(self.limiter.retry_after(caller))})

    async def admin_guard(self, request: Request) -> None:
        if not self.documents_enabled:
            raise ApiError(403, "documents_api_disabled", DOCUMENTS_OFF)
        self._checked_key(request, self.admin_keys)


async def no_guard(request: Request) -> None:
    """Routes anyone may read (the API's description, its docs page, unknown paths)."""
