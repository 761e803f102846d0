"""Staff accounts for the console: scrypt password hashes, a minimum strength, constant-time checks.

Accounts come from settings: ``security.staff_accounts`` (user -> hash made by
``python -m assistant hash-password``) and, for a single account, ``ui.admin_user`` / ``ui.admin_password``
(plain text in the environment, hashed in memory at start).  No password is kept in memory in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from assistant.settings import DATA_DIR, Settings

SCHEME = "scrypt"
# 16 MiB and ~50 ms per check on one core: cheap for a login, slow for a guesser holding a copy of the hashes
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class AccountError(ValueError):
    """An account setting that cannot be used; the message, in Chinese, says which and why."""


@lru_cache(maxsize=1)
def common_words() -> tuple[str, ...]:
    lines = (DATA_DIR / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    return tuple(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def _classes(password: str) -> int:
    """Kinds of characters used; Chinese characters count twice (thousands of them, not 26 or 10)."""
    chinese = any("\u2e80" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in password)
    return sum((
        any(c.islower() and c.isascii() for c in password),
        any(c.isupper() and c.isascii() for c in password),
        any(c.isdigit() for c in password),
        any(c.isascii() and not c.isalnum() for c in password),
    )) + 2 * chinese


def password_problem(password: str, user: str, min_length: int) -> str | None:
    """Why ``password`` is too weak for ``user`` (Chinese), or None."""
    lowered = password.lower()
    if len(password) < min_length:
        return f"至少需要 {min_length} 个字符(现为 {len(password)} 个)"
    if _classes(password) < 2:
        return "需要包含至少两类字符(小写字母、大写字母、数字、符号或汉字)"
    if len(set(password)) < 6:
        return "重复的字符太多"
    if len(user) >= 3 and user.lower() in lowered:
        return "不能包含用户名"
    word = next((w for w in common_words() if w in lowered), None)
    if word:
        return f"不能包含“{word}”这类常见词"
    return None


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encode = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != SCHEME:
        raise ValueError(scheme)
    return int(n), int(r), int(p), base64.b64decode(salt), base64.b64decode(digest)


def verify_password(stored: str, password: str) -> bool:
    n, r, p, salt, digest = _parse(stored)
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * n * r * p + 2**20)
    return hmac.compare_digest(candidate, digest)


class StaffAccounts:
    def __init__(self, hashes: dict[str, str]):
        self._hashes = dict(hashes)
        self._dummy = hash_password(os.urandom(16).hex())  # unknown users cost the same time as known ones

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffAccounts:
        """The configured accounts; raises ``AccountError`` for a weak password or a malformed hash."""
        ui, security = settings.ui, settings.security
        hashes: dict[str, str] = {}
        for user, stored in security.staff_accounts.items():
            try:
                _parse(stored)
            except (ValueError, TypeError):
                raise AccountError(
                    f"员工账号“{user}”的密码不是 scrypt 散列(请用 python -m assistant hash-password 生成)"
                ) from None
            hashes[user.strip()] = stored
        if ui.admin_password:
            problem = password_problem(ui.admin_password, ui.admin_user, security.min_password_length)
            if problem:
                raise AccountError(f"管理员密码(ASSISTANT_UI__ADMIN_PASSWORD)太弱:{problem}。请换一个更强的密码后重启")
            hashes.setdefault(ui.admin_user, hash_password(ui.admin_password))
        return cls(hashes)

    def __bool__(self) -> bool:
        return bool(self._hashes)

    @property
    def users(self) -> list[str]:
        return sorted(self._hashes)

    def verify(self, user: str, password: str) -> bool:
        stored = self._hashes.get(user)
        matched = verify_password(stored or self._dummy, password)
        return matched and stored is not None
