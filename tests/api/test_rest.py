"""The REST routes of the served app over plain HTTP (httpx): ``/api/v1/ask`` and ``/api/v1/retrieve`` with the CLI's
JSON, ``/api/v1/documents`` with the admin key, and what bad requests get back."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.api.conftest import ADMIN_KEY, OPEN_RATE_LIMIT, QUESTION_KEY, UPLOAD_MB, UPLOAD_REQUEST_MB
from tests.conftest import CORPUS_DIR, SHIFAN_DIR, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

IN_SCOPE = "今年高校毕业生就业有哪些支持?"
OUT_OF_SCOPE = "北京最低工资标准是多少"
SHIFAN_FILE = SHIFAN_DIR / "shifan_jianxi_banfa.txt"  # fictional (示范市, 2099)
SHIFAN_QUESTION = "示范市就业见习补贴每人每月多少钱?"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
MB = 2**20


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and CHINESE.search(error["message"]), error
    assert "Traceback" not in response.text
    return error


def cited_doc_ids(answer: dict) -> set[str]:
    ranks = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    return {s["doc_id"] for s in answer["sources"] if s["rank"] in ranks}


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory, embeddings):
    """The service in process, over its own copy of the same demo corpus: what the CLI answers."""
    from assistant.service import AssistantService

    settings = make_settings(tmp_path_factory.mktemp("cli-demo"))
    for path in CORPUS_DIR.glob("*.txt"):
        shutil.copy2(path, settings.paths.corpus_dir / path.name)
    service = AssistantService(settings, embeddings=embeddings)
    assert not service.ingest().failed
    return service


def test_ask_and_retrieve_answer_exactly_the_cli_json(keyed_app, demo_service):
    from assistant.retrieve.hybrid import Filters

    history = [{"role": "user", "content": "稳就业会上对农民工有什么说法?"},
               {"role": "assistant", "content": "会议要求聚焦农民务工就业稳规模、强技能、提质量。"}]
    with keyed_app.http() as http:
        for question, turns in [(IN_SCOPE, []), ("那退役军人呢?", history), (OUT_OF_SCOPE, [])]:
            served = http.post("/api/v1/ask", json={"question": question, "history": turns})
            assert served.status_code == 200
            assert served.json() == demo_service.ask(question, history=turns).to_json()
        served = http.post("/api/v1/retrieve", json={"question": "失业金能领多久", "k": 3, "doc_type": "speech"}).json()
        cli = demo_service.retrieve("失业金能领多久", k=3, filters=Filters(doc_type="speech"))
        assert served == {"question": "失业金能领多久", "sources": [hit.source_json() for hit in cli.chunks]}
        assert len(served["sources"]) == 3


def test_a_sources_chunk_id_opens_its_passage_in_the_viewer(keyed_app):
    """An integrating system can link a cited source to the served app's viewer (``chunk_id``, added field)."""
    with keyed_app.http() as http:
        answer = http.post("/api/v1/ask", json={"question": IN_SCOPE}).json()
        source = next(s for s in answer["sources"] if s["doc_id"] in cited_doc_ids(answer))
        viewer = http.get(f"/documents/{source['doc_id']}/view", params={"chunk": source["chunk_id"]})
        assert viewer.status_code == 200 and "text/html" in viewer.headers["content-type"]
        assert source["text"][-40:] in viewer.text  # the cited passage is on the page
        assert http.get(f"/documents/{source['doc_id']}/view", params={"chunk": "0" * 24}).status_code == 404


def test_filters_by_type_and_region(keyed_app):
    with keyed_app.http(ADMIN_KEY) as admin:
        kinds = {d["doc_id"]: d["doc_type"] for d in admin.get("/api/v1/documents").json()["documents"]}
    assert sorted(kinds.values()) == ["news", "speech"]
    with keyed_app.http() as http:
        for kind in ("news", "speech"):
            sources = http.post("/api/v1/retrieve", json={"question": "就业", "doc_type": kind}).json()["sources"]
            assert sources and {kinds[s["doc_id"]] for s in sources} == {kind}
        elsewhere = {"question": IN_SCOPE, "region": "示范市"}  # no demo document is issued for it
        assert http.post("/api/v1/retrieve", json=elsewhere).json()["sources"] == []
        refused = http.post("/api/v1/ask", json=elsewhere).json()
        assert refused["refused"] is True and "12333" in refused["answer"]


def test_upload_is_answered_and_cited_then_deleted_and_no_longer_cited(keyed_app):
    with keyed_app.http() as http, keyed_app.http(ADMIN_KEY) as admin:
        before = http.post("/api/v1/ask", json={"question": SHIFAN_QUESTION}).json()
        assert before["refused"] is True and "12333" in before["answer"]

        files = [("file", (SHIFAN_FILE.name, SHIFAN_FILE.read_bytes(), "text/plain")),
                 ("file", ("大文件.txt", b"a" * (UPLOAD_MB * MB + 1), "text/plain")),
                 ("file", ("程序.exe", b"MZ\x90\x00", "application/octet-stream"))]
        uploaded = admin.post("/api/v1/documents", files=files)
        assert uploaded.status_code == 200, uploaded.text
        results = {r["source"].rsplit("/", 1)[-1]: r for r in uploaded.json()["files"]}
        assert results[SHIFAN_FILE.name]["status"] == "indexed" and results[SHIFAN_FILE.name]["chunks"] > 0
        assert results["大文件.txt"]["status"] == "failed" and results["大文件.txt"]["code"] == "too_large"
        assert f"{UPLOAD_MB:g} MB" in results["大文件.txt"]["reason_zh"]
        assert results["程序.exe"]["status"] in ("failed", "skipped") and results["程序.exe"]["reason_zh"]
        assert uploaded.json()["summary"]["indexed"] == 1

        listed = admin.get("/api/v1/documents").json()["documents"]
        doc_id = next(d["doc_id"] for d in listed if d["source"].endswith(SHIFAN_FILE.name))

        answer = http.post("/api/v1/ask", json={"question": SHIFAN_QUESTION}).json()
        assert answer["refused"] is False and "1800元" in answer["answer"] and doc_id in cited_doc_ids(answer)
        regional = http.post("/api/v1/retrieve", json={"question": SHIFAN_QUESTION, "region": "示范市"}).json()
        assert regional["sources"] and {s["doc_id"] for s in regional["sources"]} == {doc_id}

        deleted = admin.delete(f"/api/v1/documents/{doc_id}")
        assert deleted.status_code == 200 and deleted.json() == {"doc_id": doc_id, "deleted": True}
        assert doc_id not in {d["doc_id"] for d in admin.get("/api/v1/documents").json()["documents"]}
        after = http.post("/api/v1/ask", json={"question": SHIFAN_QUESTION}).json()
        assert doc_id not in {s["doc_id"] for s in after["sources"]} and after["refused"] is True
        error_of(admin.delete(f"/api/v1/documents/{doc_id}"), 404, "document_not_found")
    assert not any(keyed_app.app.corpus_dir.rglob(SHIFAN_FILE.name))  # its file went too


def test_document_routes_need_an_admin_key(keyed_app):
    upload = {"files": [("file", ("示范市通知.txt", "示范市测试".encode(), "text/plain"))]}
    for key, code in [(None, "missing_api_key"), (QUESTION_KEY, "invalid_api_key"), ("guess", "invalid_api_key")]:
        with keyed_app.http(key) as http:
            error_of(http.get("/api/v1/documents"), 401, code)
            error_of(http.post("/api/v1/documents", **upload), 401, code)
            error_of(http.delete("/api/v1/documents/0000000000000000"), 401, code)
    with keyed_app.http("another-admin-key") as admin:  # any of the comma-separated admin keys
        assert admin.get("/api/v1/documents").status_code == 200
    assert not any(keyed_app.app.corpus_dir.rglob("示范市通知.txt"))


def test_an_upload_request_over_its_cap_is_refused_whole(keyed_app):
    files = [("file", (f"part{n}.txt", b"a" * (MB - 1024), "text/plain")) for n in range(UPLOAD_REQUEST_MB + 1)]
    with keyed_app.http(ADMIN_KEY) as admin:
        error = error_of(admin.post("/api/v1/documents", files=files), 413, "body_too_large")
    assert f"{UPLOAD_REQUEST_MB} MB" in error["message"]
    assert not any(keyed_app.app.corpus_dir.rglob("part0.txt"))


def test_oversized_bodies_are_refused(keyed_app):
    big = '{"question": "' + "就" * 100_000 + '"}'  # 300 KB of UTF-8, over the 256 KB cap
    with keyed_app.http() as http:
        error = error_of(http.post("/api/v1/ask", content=big, headers={"Content-Type": "application/json"}),
                         413, "body_too_large")
        assert "256 KB" in error["message"]

        def chunked():  # no Content-Length: counted as it arrives
            for _ in range(30):
                yield ("就" * 4000).encode()

        error_of(http.post("/v1/chat/completions", content=chunked(), headers={"Content-Type": "application/json"}),
                 413, "body_too_large")
        assert http.post("/api/v1/ask", json={"question": IN_SCOPE}).status_code == 200  # and the server goes on


@pytest.mark.parametrize(("path", "body", "status", "code", "mentions"), [
    ("/api/v1/ask", "{not json", 400, "invalid_json", "JSON"),
    ("/api/v1/ask", "[1, 2]", 400, "invalid_body", "JSON 对象"),
    ("/api/v1/ask", "{}", 422, "invalid_request", "question:缺少这个字段"),
    ("/api/v1/ask", '{"question": 12}', 422, "invalid_request", "question:类型不对"),
    ("/api/v1/ask", '{"question": "   "}', 400, "empty_question", "不能为空"),
    ("/api/v1/ask", '{"question": "就业", "history": [{"role": "robot", "content": "x"}]}', 422, "invalid_request",
     "history[0].role"),
    ("/api/v1/ask", '{"question": "就业", "doc_type": "law"}', 422, "invalid_request", "'policy'"),
    ("/api/v1/ask", '{"question": "就业", "date_from": "去年"}', 422, "invalid_request", "date_from:格式不对"),
    ("/api/v1/retrieve", '{"question": "就业", "k": 0}', 422, "invalid_request", "k:不能小于 1"),
    ("/api/v1/retrieve", '{"question": "' + "就" * 10_001 + '"}', 422, "invalid_request", "最多 10000 字"),
    ("/v1/chat/completions", '{"model": "employment-policy-assistant", "messages": "你好"}', 422, "invalid_request",
     "messages:类型不对"),
])
def test_malformed_bodies_get_a_code_and_a_chinese_message(keyed_app, path, body, status, code, mentions):
    with keyed_app.http() as http:
        response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert mentions in error_of(response, status, code)["message"]


def test_unknown_routes_and_methods_answer_in_the_api_shape(keyed_app):
    with keyed_app.http() as http:
        error_of(http.get("/api/v1/nothing-here"), 404, "not_found")
        error_of(http.post("/v1/embeddings", json={}), 404, "not_found")
        wrong = http.get("/v1/chat/completions")
        error_of(wrong, 405, "method_not_allowed")
        assert wrong.headers["allow"] == "POST"


def test_a_long_question_gets_the_chats_own_answer(keyed_app):
    with keyed_app.http() as http:
        answer = http.post("/api/v1/ask", json={"question": "就业" * 300}).json()
    assert answer["refused"] is True and "问题太长了" in answer["answer"] and "12333" in answer["answer"]


def test_keys_never_reach_the_log(keyed_app):
    with keyed_app.http("a-wrong-key-for-the-log-test") as http:
        assert http.get("/v1/models").status_code == 401
    log = keyed_app.app.log_path.read_text(encoding="utf-8", errors="replace")
    assert "without a valid key" in log  # the refusal was logged, without the key
    for secret in (QUESTION_KEY, ADMIN_KEY, "another-admin-key", "a-wrong-key-for-the-log-test"):
        assert secret not in log


# ---------------------------------------------------------------- no keys set


def test_without_keys_questions_are_open_and_documents_off(open_app):
    with open_app.http(key=None) as http:
        answer = http.post("/api/v1/ask", json={"question": IN_SCOPE})
        assert answer.status_code == 200 and answer.json()["refused"] is False
        for response in (http.get("/api/v1/documents"),
                         http.post("/api/v1/documents", files=[("file", ("a.txt", b"x", "text/plain"))]),
                         http.delete("/api/v1/documents/0000000000000000")):
            assert "ASSISTANT_API__ADMIN_KEYS" in error_of(response, 403, "documents_api_disabled")["message"]
    with open_app.http(key="any-key") as http:
        error_of(http.get("/api/v1/documents"), 403, "documents_api_disabled")


def test_without_keys_the_public_limit_applies_per_address(open_app):
    """Last of the open app's tests: it spends the address's budget for the minute."""
    with open_app.http(key=None) as http:
        statuses = []
        for _ in range(OPEN_RATE_LIMIT + 1):
            statuses.append(http.post("/api/v1/retrieve", json={"question": "就业"}).status_code)
            if statuses[-1] == 429:
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {200}, statuses
        limited = http.post("/v1/chat/completions", json={"model": "employment-policy-assistant",
                                                          "messages": [{"role": "user", "content": "就业"}]})
        error = error_of(limited, 429, "rate_limited")
        assert "12333" in error["message"] and 1 <= int(limited.headers["retry-after"]) <= 60
