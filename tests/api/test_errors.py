"""Keys, limits and errors of the API routes, in process (the API router alone over the 示范市 index), for the
settings the served apps do not have: a per-key limit, a failing index, an unexpected exception.

The served app's own errors (bodies, keys, routes) are in test_rest.py and test_openai_compat.py.
"""

from __future__ import annotations

import re

import pytest

from assistant.index.store import IndexUnavailable

MODEL = "employment-policy-assistant"
QUESTION = "示范市见习补贴每人每月多少钱?"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def chat(question: str = QUESTION, **extra) -> dict:
    return {"model": MODEL, "messages": [{"role": "user", "content": question}], **extra}


def assert_error(response, status: int, code: str) -> dict:
    """The API's error shape: the status, a stable code, a Chinese message, no trace or exception text."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and CHINESE.search(error["message"]), error
    assert "Traceback" not in response.text and "Error(" not in response.text
    return error


def test_each_key_has_its_own_rate_limit(api_client_for):
    client = api_client_for(api={"keys": "key-one,key-two", "key_rate_limit_per_minute": 2})
    one, two = {"Authorization": "Bearer key-one"}, {"Authorization": "Bearer key-two"}
    assert [client.get("/v1/models", headers=one).status_code for _ in range(2)] == [200, 200]
    limited = client.post("/v1/chat/completions", json=chat(), headers=one)
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert client.get("/v1/models", headers=two).status_code == 200  # another key is not affected
    assert_error(client.get("/v1/models"), 401, "missing_api_key")


def test_an_admin_key_also_opens_the_question_routes(api_client_for):
    client = api_client_for(api={"keys": "question-key", "admin_keys": "admin-key"})
    assert client.get("/v1/models", headers={"Authorization": "Bearer admin-key"}).status_code == 200
    assert client.get("/api/v1/documents", headers={"Authorization": "Bearer question-key"}).status_code == 401
    assert client.get("/api/v1/documents", headers={"Authorization": "Bearer admin-key"}).status_code == 200


def test_wrong_keys_from_one_address_are_slowed_down(api_client_for):
    from assistant.api.keys import FAILED_KEYS_PER_MINUTE

    client = api_client_for(api={"keys": "right-key"})
    wrong = {"Authorization": "Bearer wrong-key"}
    statuses = [client.get("/v1/models", headers=wrong).status_code for _ in range(FAILED_KEYS_PER_MINUTE)]
    assert statuses == [401] * FAILED_KEYS_PER_MINUTE
    assert_error(client.get("/v1/models", headers=wrong), 429, "too_many_failed_keys")


def test_the_public_limit_applies_per_address_on_open_routes(api_client_for):
    client = api_client_for(ui={"rate_limit_per_minute": 2})
    assert [client.post("/api/v1/retrieve", json={"question": QUESTION}).status_code for _ in range(2)] == [200, 200]
    assert_error(client.post("/api/v1/ask", json={"question": QUESTION}), 429, "rate_limited")


def test_an_unreadable_index_is_a_503_and_a_failure_a_500_without_details(api_client_for, monkeypatch):
    client = api_client_for()
    service = client.app_service

    def unavailable(*args, **kwargs):
        raise IndexUnavailable("Chroma server at 10.0.0.1:8000 is down")

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail: /srv/secret/path")

    monkeypatch.setattr(service, "ask", unavailable)
    monkeypatch.setattr(service, "ask_stream", unavailable)
    for response in (client.post("/api/v1/ask", json={"question": QUESTION}),
                     client.post("/v1/chat/completions", json=chat()),
                     client.post("/v1/chat/completions", json=chat(stream=True))):
        error = assert_error(response, 503, "index_unavailable")
        assert "12333" in error["message"] and "10.0.0.1" not in response.text

    monkeypatch.setattr(service, "retrieve", broken)
    response = client.post("/api/v1/retrieve", json={"question": QUESTION})
    assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and "RuntimeError" not in response.text


def test_a_failure_mid_stream_ends_the_stream_with_an_error_event(api_client_for, monkeypatch):
    client = api_client_for()
    service = client.app_service
    real = service.ask_stream

    def failing_after_retrieval(*args, **kwargs):
        for event in real(*args, **kwargs):
            if event["type"] == "final":
                raise RuntimeError("internal detail")
            yield event

    monkeypatch.setattr(service, "ask_stream", failing_after_retrieval)
    response = client.post("/v1/chat/completions", json=chat(stream=True))
    assert response.status_code == 200  # the stream had started
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]" and '"code": "internal_error"' in events[-2]
    assert "internal detail" not in response.text


def test_sources_can_be_listed_in_the_message_for_front_ends(api_client_for):
    client = api_client_for(api={"sources_in_content": True})
    completion = client.post("/v1/chat/completions", json=chat()).json()
    content = completion["choices"][0]["message"]["content"]
    answer, listed = content.split("\n\n出处:\n")
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer)})
    assert cited and [int(line[1:line.index("]")]) for line in listed.splitlines()] == cited
    titles = {s["rank"]: s["title"] for s in completion["sources"]}
    assert all(titles[n] in listed for n in cited)

    streamed = client.post("/v1/chat/completions", json=chat(stream=True)).text
    assert "出处:" in streamed


@pytest.mark.parametrize(("body", "status", "code", "names"), [
    ({"model": MODEL, "messages": []}, 422, "invalid_request", "messages"),
    ({"model": MODEL, "messages": [{"role": "robot", "content": "你好"}]}, 422, "invalid_request", "messages[0].role"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     422, "invalid_request", "只支持文字内容"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好"}]},
     400, "last_message_not_user", "role 为 user"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "  "}]}, 400, "empty_question", "不能为空"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "你好"}]}, 404, "model_not_found", MODEL),
    ({"model": MODEL, "messages": [{"role": "user", "content": "你好"}], "doc_type": "law"}, 422, "invalid_request",
     "doc_type"),
    ({"messages": [{"role": "user", "content": "你好"}]}, 422, "invalid_request", "model:缺少这个字段"),
])
def test_malformed_chat_requests_are_named_in_chinese(api_client_for, body, status, code, names):
    error = assert_error(api_client_for().post("/v1/chat/completions", json=body), status, code)
    assert names in error["message"]


def test_text_parts_are_read_as_text(api_client_for):
    """Open WebUI and LangChain may send content as a list of text parts."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]}
    completion = api_client_for().post("/v1/chat/completions", json=body).json()
    assert completion["standalone_question"] == QUESTION and not completion["refused"]
