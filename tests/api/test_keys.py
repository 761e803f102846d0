"""API keys in settings (environment, YAML) and in requests."""

from __future__ import annotations

import pytest

from assistant.api.keys import bearer_token, fingerprint
from assistant.settings import APISettings, Settings


def test_keys_come_comma_separated_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_API__ADMIN_KEYS", " admin-1, admin-2,, ")
    monkeypatch.setenv("ASSISTANT_API__KEYS", "question-1")
    monkeypatch.setenv("ASSISTANT_API__KEY_RATE_LIMIT_PER_MINUTE", "5")
    api = Settings().api
    assert [k.get_secret_value() for k in api.admin_keys] == ["admin-1", "admin-2"]
    assert [k.get_secret_value() for k in api.keys] == ["question-1"] and api.key_rate_limit_per_minute == 5
    assert "admin-1" not in repr(api) and "question-1" not in str(Settings())


def test_keys_may_be_a_list_in_yaml(tmp_path, monkeypatch):
    (tmp_path / "settings.yaml").write_text("api:\n  keys: [one, two]\n  model_id: zhengce\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_SETTINGS_FILE", str(tmp_path / "settings.yaml"))
    api = Settings().api
    assert [k.get_secret_value() for k in api.keys] == ["one", "two"] and api.model_id == "zhengce"
    assert APISettings().admin_keys == () and APISettings().keys == ()  # unset: documents off, questions open


class Request:
    def __init__(self, authorization: str | None):
        self.headers = {"authorization": authorization} if authorization is not None else {}


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic YWJj", None), ("Bearer", None), ("", None), (None, None),
])
def test_only_a_bearer_header_carries_a_key(header, token):
    assert bearer_token(Request(header)) == token


def test_fingerprints_name_keys_without_revealing_them():
    assert fingerprint("secret-key") == fingerprint("secret-key") != fingerprint("secret-key2")
    assert "secret" not in fingerprint("secret-key") and fingerprint("secret-key").startswith("key:")
