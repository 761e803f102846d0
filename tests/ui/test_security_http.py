"""Issue 12 over real HTTP against the served app (``python app.py``): each defence, and the attack it stops.

``served_app`` runs with the defaults; ``hardened_app`` behind a "proxy" on loopback (X-Forwarded-For believed
from 127.0.0.1 only), so one test process can act as many clients.  The attacks reproduce the review's
findings: a page on another host of the same site driving the console, forged X-Forwarded-For, bodies of any
size, a history that stalls answering, Gradio's public upload route, login guessing.
"""

from __future__ import annotations

import json
import re
import socket
import time
from contextlib import closing

import httpx
import pytest
from gradio_client import Client, handle_file

from assistant.client_input import HISTORY_FORMAT_ZH
from assistant.ingest.pipeline import doc_id_for
from assistant.ui.ratelimit import RATE_LIMITED
from tests.ui.conftest import (
    HARDENED_RATE_LIMIT, LOCKED_USER, STAFF_PASSWORD, STAFF_USER, ServedApp, console_client, console_login,
)

pytestmark = pytest.mark.slow

EVIL = "https://evil.example.gov.cn"  # a sibling host: same site as the app's host name, another origin
HOST = "zhengce.example.gov.cn"  # the app as reached by a host name (every real deployment)
QUESTION = "今年高校毕业生就业有哪些支持?"


def _client(url: str, **options) -> Client:
    return Client(url, verbose=False, analytics_enabled=False, download_files=False, **options)


def _as(address: str) -> dict:
    """Headers of a request that the proxy on loopback forwards for ``address``."""
    return {"X-Forwarded-For": address}


def _audit(app: ServedApp) -> list[dict]:
    path = app.index_dir / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _ask_fn_index(url: str, headers: dict | None = None) -> int:
    config = httpx.get(f"{url}/config", headers=headers, timeout=10).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")


# ---------------------------------------------------------------- finding 1: the console driven from another page


@pytest.mark.parametrize("path", ["/config", "/admin/config", "/healthz", "/gradio_api/info"])
def test_no_foreign_origin_is_granted_cors_whatever_the_host(served_app, path):
    with httpx.Client(timeout=10) as http:
        for method, headers in (("GET", {}), ("OPTIONS", {"Access-Control-Request-Method": "POST"})):
            response = http.request(method, served_app.url + path, headers={"Origin": EVIL, "Host": HOST, **headers})
            granted = {k: v for k, v in response.headers.items() if k.startswith("access-control-allow")}
            assert "access-control-allow-origin" not in granted and "access-control-allow-credentials" not in granted, \
                (method, path, granted)


@pytest.mark.parametrize("path", ["/", "/admin/", "/healthz", "/documents/0000000000000000"])
def test_every_response_forbids_framing_and_sets_a_restrictive_csp(served_app, path):
    response = httpx.get(served_app.url + path, headers={"Accept": "text/html"}, timeout=10)
    assert response.headers["x-frame-options"] == "DENY"
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'" and csp["connect-src"] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'nonce-" in csp["script-src"]
    assert response.headers["x-content-type-options"] == "nosniff"
    if path == "/":  # every script of the page carries this response's nonce: nothing else can run
        nonce = re.search(r"'nonce-([^']+)'", csp["script-src"]).group(1)
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_a_document_handed_out_is_never_a_page_of_the_app(hardened_app, tmp_path):
    """An uploaded HTML notice opened through its 打开/下载原文 link is an attachment in a sandbox, its scripts
    untouched (never given the page nonce)."""
    page = tmp_path / "示范市网页通知.html"
    page.write_text("<html><head><title>示范市网页通知</title></head><body><script>alert(1)</script>"
                    "<p>【虚构测试材料】示范市网页通知:示范市白鹤计划补贴每人每月2222元。</p></body></html>", encoding="utf-8")
    with closing(console_client(hardened_app.console_url, STAFF_PASSWORD, user=STAFF_USER)) as staff:
        assert "已入库" in staff.predict([handle_file(str(page))], api_name="/upload")[0]
        doc_id = doc_id_for(f"uploads/{page.name}")
        response = httpx.get(f"{hardened_app.url}/documents/{doc_id}", timeout=10)
        staff.predict(doc_id, api_name="/delete")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    assert response.headers["content-security-policy"].endswith("; sandbox")
    assert "<script>alert(1)</script>" in response.text  # byte for byte, no nonce added


def test_console_cookies_are_strict_on_the_console_path(served_app):
    with httpx.Client(timeout=30) as http:
        login = http.post(f"{served_app.url}/admin/login", data={"username": "admin", "password": served_app.password})
    cookies = login.headers.get_list("set-cookie")
    assert len(cookies) == 3, cookies  # Gradio's two login cookies and the CSRF token
    for cookie in cookies:
        attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
        assert "samesite=strict" in cookie.lower() and "path=/admin" in cookie.lower() and "max-age" in attributes
        assert ("httponly" in attributes) == (not cookie.startswith("assistant-csrf="))


def test_state_changing_console_calls_need_the_sessions_csrf_token(served_app):
    url = served_app.url
    join = {"data": ["海鸥"], "fn_index": 0, "session_hash": "csrftest01", "event_data": None, "trigger_id": None}
    with closing(console_login(url, served_app.password)) as staff, closing(console_login(url, served_app.password)) as other:
        token = staff.headers.pop("X-CSRF-Token")
        # what a forged request can send: the session cookie (a browser attaches it), no valid token
        assert staff.post(f"{url}/admin/gradio_api/queue/join", json=join).status_code == 403
        assert staff.post(f"{url}/admin/gradio_api/queue/join", json=join,
                          headers={"X-CSRF-Token": other.headers["X-CSRF-Token"]}).status_code == 403  # another session's
        refused = staff.post(f"{url}/admin/gradio_api/upload", files={"files": ("假通知.txt", "示范市".encode())})
        assert refused.status_code == 403 and "安全令牌" in refused.json()["detail"]
        # from a page on another host of the site, even with the token, the browser's headers give it away
        for headers in ({"Origin": EVIL}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"}):
            assert staff.post(f"{url}/admin/gradio_api/queue/join", json=join,
                              headers={"X-CSRF-Token": token, **headers}).status_code == 403, headers
        # the same call from the console page itself goes through
        staff.headers["X-CSRF-Token"] = token
        same_origin = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
        assert staff.post(f"{url}/admin/gradio_api/queue/join", json=join, headers=same_origin).status_code == 200
    # Gradio leaves /cancel open; no state-changing console call is open without a session
    assert httpx.post(f"{url}/admin/gradio_api/cancel", json={"session_hash": "x", "fn_index": 0, "event_id": "y"},
                      timeout=10).status_code == 401


def test_logout_is_a_post_with_the_token_and_ends_the_session(served_app):
    url = served_app.url
    with closing(console_login(url, served_app.password)) as staff:
        assert staff.get(f"{url}/admin/logout").status_code == 405  # an <img src=…/logout> cannot log anyone out
        assert staff.get(f"{url}/admin/config").status_code == 200
        token = staff.headers.pop("X-CSRF-Token")
        assert staff.post(f"{url}/admin/logout").status_code == 403
        logout = staff.post(f"{url}/admin/logout", headers={"X-CSRF-Token": token})
        assert logout.status_code == 204
        assert all("max-age=0" in c.lower() for c in logout.headers.get_list("set-cookie"))
        staff.cookies.clear()
        staff.headers["X-CSRF-Token"] = token
    with httpx.Client(timeout=10) as replay:  # the old cookie, replayed, opens nothing any more
        old = {k: v for k, v in logout.request.headers.items() if k == "cookie"}
        assert replay.get(f"{url}/admin/config", headers=old).status_code == 401
    assert [e["action"] for e in _audit(served_app)][-2:] == ["login", "logout"]


# ---------------------------------------------------------------- findings 3, 8: history and bodies


def _long_history(turns: int = 300, chars: int = 110) -> str:
    """Follow-up after follow-up ("那么…"): the old rule-based rewrite merged every one into the next, so its
    work grew with the square of the history."""
    body = "示范市高校毕业生见习补贴怎么申请需要什么材料" * (chars // 22 + 1)
    return json.dumps([{"role": "user", "content": f"那么{i}" + body[:chars]} for i in range(turns)],
                      ensure_ascii=False)


def test_a_history_of_hundreds_of_long_turns_costs_about_what_one_turn_costs(served_app):
    """The review's 212 KB history cost 54 s (11 s of CPU here, benchmarks/HOSTILE.md): the service now reads
    its last turns only and the rewritten question is capped.  Loose, for a loaded machine: three times what
    the same follow-up costs with one turn, or 5 s, whichever is more (the figures are in benchmarks/)."""
    history = _long_history()
    request = json.dumps({"data": ["那退役军人呢?", history, "", ""]})  # as gradio_client sends it
    assert 200_000 < len(request) < 230_000  # the review's 212 KB, under the body limit: the answering path
    with closing(_client(served_app.url + "/")) as client:
        client.predict(QUESTION, "[]", "", "", api_name="/ask")  # warm: the first question loads what it needs
        started = time.perf_counter()
        client.predict("那退役军人呢?", json.dumps([{"role": "user", "content": QUESTION}]), "", "", api_name="/ask")
        plain = time.perf_counter() - started
        started = time.perf_counter()
        answer = client.predict("那退役军人呢?", history, "", "", api_name="/ask")
        seconds = time.perf_counter() - started
    assert answer["answer"] and len(answer["standalone_question"]) <= 500
    print(f"follow-up with a {len(request) / 1024:.0f} KB history: {seconds:.2f} s (with one turn: {plain:.2f} s)")
    assert seconds < max(5.0, 3 * plain), (seconds, plain)


def test_a_malformed_history_gets_a_chinese_error_without_internals(served_app):
    with closing(_client(served_app.url + "/")) as client:
        with pytest.raises(Exception) as refused:
            client.predict(QUESTION, '[{"role": "user", "content": ', "", "", api_name="/ask")
    message = str(refused.value)
    assert HISTORY_FORMAT_ZH in message and "Expecting" not in message and "Traceback" not in message
    assert "JSONDecodeError" not in served_app.log_tail(20_000)


def test_bodies_over_the_limit_are_refused_before_they_are_read(served_app):
    big = json.dumps({"data": ["问" * (1024 * 1024), "[]", "", ""]}, ensure_ascii=False).encode()
    with httpx.Client(timeout=30) as http:
        response = http.post(f"{served_app.url}/gradio_api/call/ask", content=big,
                             headers={"content-type": "application/json"})
        assert response.status_code == 413 and "请求内容过大" in response.json()["detail"]

        def chunks():  # no Content-Length: counted as it arrives
            for start in range(0, len(big), 64 * 1024):
                yield big[start:start + 64 * 1024]

        chunked = http.post(f"{served_app.url}/gradio_api/call/ask", content=chunks(),
                            headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert http.post(f"{served_app.url}/admin/login", content=big).status_code == 413  # every route
    # a 200 MB question: the answer comes from the headers alone, not one byte of body is sent
    port = int(served_app.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 209715200\r\n\r\n")
        assert raw.recv(200).startswith(b"HTTP/1.1 413")


# ---------------------------------------------------------------- finding 9: robustness of Gradio's routes


def test_bad_calls_get_4xx_not_500(served_app):
    url = served_app.url
    with httpx.Client(timeout=10) as http:
        for body in ({"data": ["x"], "fn_index": 9999, "session_hash": "abcdef1234"},
                     {"data": ["x"], "fn_index": True, "session_hash": "abcdef1234"},
                     {"data": ["x"], "fn_index": 0, "session_hash": "../../etc"},
                     [1, 2], "not json"):
            response = http.post(f"{url}/gradio_api/queue/join", content=json.dumps(body),
                                 headers={"content-type": "application/json"})
            assert 400 <= response.status_code < 500, (body, response.status_code)
        assert http.post(f"{url}/gradio_api/call/nonexistent", json={"data": []}).status_code == 404
        assert http.post(f"{url}/gradio_api/call/v2/nonexistent", json={}).status_code == 404
    assert "FnIndexInferError" not in served_app.log_tail(20_000) and "KeyError" not in served_app.log_tail(20_000)


def test_a_forged_forwarded_for_is_ignored_without_a_trusted_proxy(served_app):
    """With the defaults, uvicorn believes X-Forwarded-For from nobody (its own default trusts loopback)."""
    response = httpx.post(f"{served_app.url}/admin/login", data={"username": "forger", "password": "x"},
                          headers=_as("198.51.100.200"), timeout=30)
    assert response.status_code == 400
    entry = [e for e in _audit(served_app) if e["actor"] == "forger"][-1]
    assert entry["client"] == "127.0.0.1" and entry["outcome"] == "failed"


# ---------------------------------------------------------------- finding 6: the rate limit and proxies


def test_the_rate_limit_keys_on_the_address_the_trusted_proxy_saw(hardened_app):
    url = hardened_app.url
    client_a, client_b = "198.51.100.10", "198.51.100.11"
    answered = []
    for i in range(HARDENED_RATE_LIMIT + 3):
        # a client that prepends forged hops is still the address the proxy appended last
        headers = _as(f"10.{i}.0.1, {client_a}")
        with closing(_client(url + "/", headers=headers)) as client:
            try:
                client.predict("北京最低工资标准是多少", "[]", "", "", api_name="/ask")
                answered.append(True)
            except Exception as exc:  # noqa: BLE001 - the refusal arrives as the client's error
                assert RATE_LIMITED in str(exc)
                answered.append(False)
    assert answered == [True] * HARDENED_RATE_LIMIT + [False] * 3
    with closing(_client(url + "/", headers=_as(client_b))) as other:  # another client is not held up
        assert other.predict("北京最低工资标准是多少", "[]", "", "", api_name="/ask")["refused"]
    log = hardened_app.log_tail(50_000)
    lines = [line for line in log.splitlines() if "rate limit" in line and client_a in line]
    assert len(lines) == 1, lines  # three refusals, one short line
    assert "Traceback" not in log


# ---------------------------------------------------------------- finding 5: login


def test_logins_are_throttled_per_client_and_accounts_lock_after_failures(hardened_app):
    console = hardened_app.console_url

    def login(user: str, password: str, client: str) -> httpx.Response:
        return httpx.post(f"{console}/admin/login", data={"username": user, "password": password},
                          headers=_as(client), timeout=30)

    # one client guessing: 4 failures, then refused without a look at the password, even the right one
    started = time.perf_counter()
    assert [login(f"guess{i}", "wrong-password", "203.0.113.1").status_code for i in range(4)] == [400] * 4
    guessing = 4 / (time.perf_counter() - started)
    throttled = login("admin", hardened_app.password, "203.0.113.1")
    assert throttled.status_code == 429 and "登录失败次数过多" in throttled.json()["detail"]
    assert int(throttled.headers["retry-after"]) > 800
    assert login("admin", hardened_app.password, "203.0.113.2").status_code == 200  # another client may

    # an account guessed at from several clients: locked after 3 failures, for every client
    assert [login(LOCKED_USER, "wrong-password", f"203.0.113.{n}").status_code for n in (10, 11, 12)] == [400] * 3
    locked = login(LOCKED_USER, "Li-Zhao-Shifan-2099", "203.0.113.13")
    assert locked.status_code == 429
    print(f"login: {guessing:.1f} failed guesses/s until the client limit (4), then 429 for 15 min")

    entries = [e for e in _audit(hardened_app) if e["action"] == "login"]
    outcomes = [(e["actor"], e["client"], e["outcome"]) for e in entries]
    assert ("guess0", "203.0.113.1", "failed") in outcomes and ("admin", "203.0.113.1", "throttled") in outcomes
    assert ("admin", "203.0.113.2", "ok") in outcomes and (LOCKED_USER, "203.0.113.12", "locked") in outcomes
    assert (LOCKED_USER, "203.0.113.13", "throttled") in outcomes
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", e["time"]) for e in entries)


def test_the_audit_log_masks_numbers_typed_into_the_login_form(hardened_app):
    response = httpx.post(f"{hardened_app.console_url}/admin/login", timeout=30, headers=_as("203.0.113.40"),
                          data={"username": "11010519491231002X", "password": "x"})
    assert response.status_code == 400
    text = (hardened_app.index_dir / "audit.log").read_text(encoding="utf-8")
    assert "11010519491231002X" not in text and "110105***********X" in text


def test_a_session_ends_after_being_idle(hardened_app):
    console = hardened_app.console_url
    with closing(console_login(console, hardened_app.password, headers=_as("203.0.113.50"))) as staff:
        assert staff.get(f"{console}/admin/config").status_code == 200
        time.sleep(16)  # the hardened app's sessions end after 15 s without an action
        assert staff.get(f"{console}/admin/config").status_code == 401
        assert staff.post(f"{console}/admin/gradio_api/queue/join", json={"data": []}).status_code == 401
    assert any(e["action"] == "session_expired" and e["client"] == "203.0.113.50" for e in _audit(hardened_app))


def test_the_console_is_served_only_on_its_own_port(hardened_app):
    assert hardened_app.console_url != hardened_app.url
    public = httpx.get(f"{hardened_app.url}/admin/", timeout=10)
    assert public.status_code == 404 and "不在此地址" in public.json()["detail"]
    assert httpx.post(f"{hardened_app.url}/admin/login", data={"username": "admin", "password": hardened_app.password},
                      timeout=30).status_code == 404
    assert httpx.get(f"{hardened_app.console_url}/admin/", timeout=10).status_code == 200
    assert httpx.get(f"{hardened_app.console_url}/healthz", timeout=10).json()["status"] == "ok"
    assert httpx.get(f"{hardened_app.console_url}/", timeout=10, follow_redirects=False).headers["location"] == "/admin/"


# ---------------------------------------------------------------- finding 9: the live stream of a session


def test_a_sessions_answer_stream_belongs_to_the_client_that_asked(hardened_app):
    url = hardened_app.url
    owner, stranger = _as("198.51.100.60"), _as("198.51.100.61")
    fn_index = _ask_fn_index(url, owner)
    join = {"data": ["北京最低工资标准是多少", "[]", "", ""], "fn_index": fn_index, "session_hash": "owned0session",
            "event_data": None, "trigger_id": None}
    with httpx.Client(timeout=30) as http:
        assert http.post(f"{url}/gradio_api/queue/join", json=join, headers=stranger).status_code == 200
        # the stranger joined first, so the session is theirs; the "owner" can neither join nor listen in
        assert http.post(f"{url}/gradio_api/queue/join", json=join, headers=owner).status_code == 403
        assert http.get(f"{url}/gradio_api/queue/data", params={"session_hash": "owned0session"},
                        headers=owner).status_code == 403
        with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": "owned0session"},
                         headers=stranger) as stream:
            assert stream.status_code == 200
            received = ""
            for chunk in stream.iter_text():
                received += chunk
                if "process_completed" in received:
                    break
    assert "没有找到" in json.loads(received.split("data: ")[-1].strip())["output"]["data"][0]["answer"]


# ---------------------------------------------------------------- finding 7: files anyone could create or fetch


def _temp_files(app: ServedApp) -> set:
    folder = app.root / "gradio-tmp"
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_the_public_upload_route_is_closed_and_creates_nothing(hardened_app):
    before = _temp_files(hardened_app)
    files = [("files", (f"x{i}.txt", b"", "text/plain")) for i in range(1000)]
    response = httpx.post(f"{hardened_app.url}/gradio_api/upload", files=files, headers=_as("198.51.100.70"), timeout=30)
    assert response.status_code == 403 and "不接受文件上传" in response.json()["detail"]
    assert _temp_files(hardened_app) == before
    # nor does the server fetch URLs for anyone (Gradio's file route would, for any public address)
    assert httpx.get(f"{hardened_app.url}/gradio_api/file=https://example.com/x.png", timeout=10).status_code == 403


def test_a_console_upload_leaves_no_temp_copy_and_a_deleted_document_is_gone(hardened_app, tmp_path):
    notice = tmp_path / "示范市临时通知.txt"
    notice.write_text("【虚构测试材料】示范市临时通知\n第一条 示范市白鹭计划补贴每人每月4321元。", encoding="utf-8")
    with closing(console_client(hardened_app.console_url, STAFF_PASSWORD, user=STAFF_USER,
                                headers=_as("203.0.113.80"))) as staff:
        result = staff.predict([handle_file(str(notice))], api_name="/upload")
        assert "已入库" in result[0]
        assert not [p for p in _temp_files(hardened_app) if p.name == notice.name]  # Gradio's copy is gone
        doc_id = doc_id_for(f"uploads/{notice.name}")
        assert httpx.get(f"{hardened_app.url}/documents/{doc_id}", timeout=10).status_code == 200
        staff.predict(doc_id, api_name="/delete")
    assert httpx.get(f"{hardened_app.url}/documents/{doc_id}", timeout=10).status_code == 404
    assert not (hardened_app.corpus_dir / "uploads" / notice.name).exists()
    # (gradio_client logs in without its extra headers, so the login is audited from the loopback address)
    actions = [(e["actor"], e["action"]) for e in _audit(hardened_app) if e["client"] == "203.0.113.80"]
    assert actions == [(STAFF_USER, "upload"), (STAFF_USER, "delete")]
    upload = next(e for e in _audit(hardened_app) if e["action"] == "upload" and e["client"] == "203.0.113.80")
    assert upload["files"] == [f"uploads/{notice.name}:indexed"]


def test_a_same_name_upload_keeps_both_documents_and_says_so(hardened_app, tmp_path):
    first, second = tmp_path / "a" / "示范市同名通知.txt", tmp_path / "b" / "示范市同名通知.txt"
    for path, figure in ((first, 1111), (second, 2222)):
        path.parent.mkdir()
        path.write_text(f"【虚构测试材料】示范市同名通知\n第一条 示范市青鸟计划补贴每人每月{figure}元。", encoding="utf-8")
    with closing(console_client(hardened_app.console_url, STAFF_PASSWORD, user=STAFF_USER,
                                headers=_as("203.0.113.81"))) as staff:
        assert "已入库" in staff.predict([handle_file(str(first))], api_name="/upload")[0]
        again = staff.predict([handle_file(str(first))], api_name="/upload")[0]
        assert "内容相同,未重复上传" in again
        kept = staff.predict([handle_file(str(second))], api_name="/upload")[0]
        assert "另存为“示范市同名通知_2.txt”" in kept
        for name, figure in (("示范市同名通知.txt", "1111"), ("示范市同名通知_2.txt", "2222")):  # both served
            doc_id = doc_id_for(f"uploads/{name}")
            assert figure in httpx.get(f"{hardened_app.url}/documents/{doc_id}", timeout=10).text
            staff.predict(doc_id, api_name="/delete")
    assert not list((hardened_app.corpus_dir / "uploads").glob("示范市同名通知*"))
