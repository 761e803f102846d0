"""Staff accounts: scrypt hashes from settings, a minimum strength checked at start, constant-time checks."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from assistant.accounts import AccountError, StaffAccounts, common_words, hash_password, password_problem, verify_password
from assistant.settings import SecuritySettings, Settings, UISettings
from tests.conftest import PYTHON, REPO_ROOT

STRONG = "Shifan-Staff-2099"


def settings_with(password: str | None = None, user: str = "admin", accounts: dict | None = None) -> Settings:
    return Settings(ui=UISettings(admin_user=user, admin_password=password),
                    security=SecuritySettings(staff_accounts=accounts or {}))


def test_hash_verifies_only_its_password_and_is_salted():
    stored = hash_password(STRONG)
    assert stored.startswith("scrypt$") and STRONG not in stored
    assert verify_password(stored, STRONG) and not verify_password(stored, STRONG + "x")
    assert hash_password(STRONG) != stored  # a new salt each time


@pytest.mark.parametrize("password, reason", [
    ("Short-1", "至少需要 12 个字符"),
    ("abcdefghijklmnop", "至少两类字符"),
    ("aaaaaaAAAAAA", "重复的字符太多"),
    ("Admin-2099-shifan", "常见词"),  # "admin" is the user name too; the user check comes first
    ("wang-Shifan-2099", "不能包含用户名"),
])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    user = "wang" if "wang" in password else "staff"
    assert reason in (password_problem(password, user, 12) or "")


@pytest.mark.parametrize("word", common_words())
def test_every_common_word_makes_a_password_weak(word):
    assert password_problem(f"Zq{word}#Xy81Lm", "staff", 12) == f"不能包含“{word}”这类常见词"


def test_strong_passwords_pass():
    assert password_problem(STRONG, "admin", 12) is None
    assert password_problem("示范市人社局值班室密码第七版", "admin", 12) is None  # Chinese passphrases count


def test_accounts_from_settings_hash_the_admin_password_and_take_staff_hashes():
    accounts = StaffAccounts.from_settings(settings_with(STRONG, accounts={"wang": hash_password("Wang-Li-Shifan-77")}))
    assert accounts.users == ["admin", "wang"]
    assert accounts.verify("admin", STRONG) and accounts.verify("wang", "Wang-Li-Shifan-77")
    assert not accounts.verify("wang", STRONG) and not accounts.verify("nobody", STRONG)
    assert not StaffAccounts.from_settings(settings_with(None))  # no account: the console stays off


def test_a_weak_admin_password_or_a_plain_text_staff_entry_stops_the_start():
    with pytest.raises(AccountError, match="管理员密码.*太弱.*至少需要 12 个字符"):
        StaffAccounts.from_settings(settings_with("admin123"))
    with pytest.raises(AccountError, match="wang.*scrypt"):
        StaffAccounts.from_settings(settings_with(accounts={"wang": "plain-text-password"}))


def test_an_unknown_user_costs_as_long_as_a_wrong_password():
    """No timing oracle for which user names exist: both run one scrypt.

    The two are timed in turn and each keeps its fastest call: load on a shared machine only ever adds time,
    so it cannot make one look cheaper than the other (an unknown user that skipped scrypt would cost almost nothing)."""
    accounts = StaffAccounts.from_settings(settings_with(STRONG))

    def seconds(user: str) -> float:
        started = time.perf_counter()
        accounts.verify(user, "wrong-password-1")
        return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(5):
        known.append(seconds("admin"))
        unknown.append(seconds("nobody"))
    assert 0.3 < min(unknown) / min(known) < 3, (known, unknown)


def test_hash_password_command_prints_a_settings_entry():
    done = subprocess.run([PYTHON, "-m", "assistant", "hash-password", "--user", "wang"], cwd=REPO_ROOT,
                          input="Li-Shifan-Staff-42\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)
    assert list(entry) == ["wang"] and verify_password(entry["wang"], "Li-Shifan-Staff-42")
    weak = subprocess.run([PYTHON, "-m", "assistant", "hash-password", "--user", "wang"], cwd=REPO_ROOT,
                          input="wang12345678\n", capture_output=True, text=True, timeout=60)
    assert weak.returncode == 2 and "不能包含用户名" in weak.stderr and not weak.stdout
