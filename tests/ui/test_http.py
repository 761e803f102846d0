"""The served app over plain HTTP (no browser): the console refuses strangers, the public /ask API answers."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest
from gradio_client import Client

from tests.ui.conftest import console_login

pytestmark = pytest.mark.slow

ANSWER_KEYS = {"question", "answer", "refused", "backend", "sources"}


def _client(url: str, **options) -> Client:
    """A gradio_client that phones nowhere; close it, or its heartbeat keeps the server's shutdown waiting."""
    return Client(url, verbose=False, analytics_enabled=False, download_files=False, **options)


def test_console_api_refuses_unauthenticated_calls(served_app):
    admin = served_app.url + "/admin"
    with pytest.raises(Exception, match="(?i)credentials|login|auth"):
        _client(admin + "/")
    with httpx.Client(timeout=10) as http:
        join = {"data": [None], "fn_index": 1, "session_hash": "stranger", "event_data": None, "trigger_id": None}
        assert http.post(f"{admin}/gradio_api/queue/join", json=join).status_code == 401
        for endpoint in ("delete", "rebuild", "upload", "retrieval_test"):
            response = http.post(f"{admin}/gradio_api/call/{endpoint}", json={"data": [None]})
            assert response.status_code == 401, (endpoint, response.status_code)
        files = {"files": ("x.txt", "示范市".encode(), "text/plain")}
        assert http.post(f"{admin}/gradio_api/upload", files=files).status_code == 401
        assert http.get(f"{admin}/config").status_code == 401

    with pytest.raises(Exception, match="(?i)credentials|login|auth|password"):
        _client(admin + "/", auth=("admin", served_app.password + "-wrong"))
    # the refusals above are about the login, not a wrong address: with the password the same API opens
    with closing(_client(admin + "/", auth=("admin", served_app.password))) as staff:
        endpoints = staff.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/upload", "/delete", "/rebuild", "/retrieval_test"} <= set(endpoints)


def test_public_ask_api_returns_answer_json(served_app):
    with closing(_client(served_app.url + "/")) as client:
        answer = client.predict("今年高校毕业生就业有哪些支持?", "[]", "", "", api_name="/ask")
        assert ANSWER_KEYS <= set(answer)
        assert answer["question"] == "今年高校毕业生就业有哪些支持?"
        assert answer["refused"] is False and answer["backend"] == "extractive"
        assert answer["sources"] and {"rank", "doc_id", "title", "text"} <= set(answer["sources"][0])
        assert "[1]" in answer["answer"]

        history = '[{"role": "user", "content": "今年高校毕业生就业有哪些支持?"}, {"role": "assistant", "content": "……"}]'
        refused = client.predict("北京最低工资标准是多少", history, "", "", api_name="/ask")
        assert ANSWER_KEYS <= set(refused)
        assert refused["refused"] is True and refused["sources"] == [] and "12333" in refused["answer"]


def test_public_app_takes_no_uploads_and_serves_only_indexed_files(served_app):
    with httpx.Client(timeout=10) as http:
        files = {"files": ("big.bin", b"\0" * 4096, "application/octet-stream")}
        assert http.post(f"{served_app.url}/gradio_api/upload", files=files).status_code == 403
        assert http.get(f"{served_app.url}/documents/0000000000000000").status_code == 404
        assert http.get(f"{served_app.url}/documents/..%2F..%2Fapp.py").status_code == 404
        health = http.get(f"{served_app.url}/healthz").json()
        assert health["status"] == "ok" and health["documents"] >= 2


def test_console_upload_over_the_size_cap_is_stopped_at_the_door(served_app):
    """Gradio would store any upload in its temp folder before the console's handler sees it."""
    from assistant.settings import UISettings

    cap = int(UISettings().max_upload_mb * 2**20)  # the served app runs with the default
    admin = served_app.url + "/admin"
    with closing(console_login(served_app.url, served_app.password)) as http:
        small = {"files": ("示范市.txt", "示范市测试".encode(), "text/plain")}
        assert http.post(f"{admin}/gradio_api/upload", files=small).status_code == 200
        big = {"files": ("big.txt", b"a" * (cap + 1024), "text/plain")}
        assert http.post(f"{admin}/gradio_api/upload", files=big).status_code == 413


def test_start_up_prints_only_the_products_own_lines(served_app):
    """Third-party libraries log at WARNING: bm25s sets its own logger to DEBUG when imported, and its
    "Building index from tokens" line used to appear at every start and after every upload."""
    log = served_app.log_path.read_text(encoding="utf-8")
    assert "已收录" in log  # the product's own start-up lines are there
    assert " DEBUG " not in log and "Building index" not in log, log
    assert "Deprecat" not in log, log
