"""Starts (issue 12, findings 4, 5, 9): a rejected upload in the corpus never delays serving and is read
once; a weak admin password stops the start with a clear message; nothing phones home."""

from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from gradio_client import Client

from assistant.ingest.pipeline import doc_id_for
from tests.conftest import PYTHON, REPO_ROOT, stop_process
from tests.ui.conftest import (
    console_client, copy_demo_corpus, health, launch_app, staff_password, wait_for_indexing,
)

pytestmark = pytest.mark.slow

BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> a damaged file"
NETWORK_HOOK = '''
import os, sys

_LOG = os.environ["NETWORK_AUDIT_LOG"]
_LOCAL = ("127.", "::1", "localhost", "0.0.0.0")


def _note(what):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(what + "\\n")


def _hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple) and not str(args[1][0]).startswith(_LOCAL):
        _note(f"connect {args[1]}")
    elif event == "socket.getaddrinfo" and args[0] and not str(args[0]).startswith(_LOCAL):
        _note(f"resolve {args[0]}")


sys.addaudithook(_hook)
'''


def _big_notice(path: Path, code: int) -> None:
    """A fictional notice long enough that indexing it takes seconds."""
    body = "\n".join(f"第{k}条 示范市第{k}片区苗圃春季种植银杏树{k + 10}棵、香樟树{k + 20}棵,秋季修剪枝叶并记录长势。"
                     for k in range(1, 600))
    path.write_text(f"【虚构测试材料】示范市苗圃通知\n第0条 本通知规定的苗圃养护补助为每亩{code}元。\n{body}",
                    encoding="utf-8")


def _start_log(app) -> str:
    """What the latest start printed (the log is appended to by every start)."""
    text = app.log_path.read_text(encoding="utf-8", errors="replace")
    return text[text.rfind("就业政策问答助手:http"):] if "就业政策问答助手:http" in text else text


def test_rejected_uploads_never_delay_serving_and_are_read_once(tmp_path):
    root = tmp_path / "app"
    copy_demo_corpus(root)
    password = staff_password()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(NETWORK_HOOK, encoding="utf-8")
    network_log = tmp_path / "network.log"
    watched = {"PYTHONPATH": f"{hook}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               "NETWORK_AUDIT_LOG": str(network_log), "GRADIO_ANALYTICS_ENABLED": "True"}

    # 1. the first start indexes the demo corpus, and connects to nothing but loopback, even with Gradio's
    #    telemetry switched on in the environment (app.py switches it off)
    app = launch_app(root, password, watched)
    try:
        with closing(Client(app.url + "/", verbose=False, analytics_enabled=False)) as chat:
            assert chat.predict("今年高校毕业生就业有哪些支持?", "[]", "", "", api_name="/ask")["sources"]
        time.sleep(3)  # telemetry threads start after the app is up
    finally:
        stop_process(app.process, timeout=15)
    assert not network_log.exists(), network_log.read_text(encoding="utf-8")
    # the hook is live: a lookup of a remote name in a process with the same environment is noted
    probe = subprocess.run([PYTHON, "-c", "import socket\ntry: socket.getaddrinfo('example.com', 443)\nexcept OSError: pass"],
                           env={**os.environ, **watched}, cwd=REPO_ROOT, timeout=60)
    assert probe.returncode == 0 and "resolve example.com" in network_log.read_text(encoding="utf-8")

    # 2. a damaged upload and a long one wait in the uploads folder (a kill, an older version, a copy by hand)
    uploads = root / "corpus" / "uploads"
    uploads.mkdir()
    (uploads / "坏.pdf").write_bytes(BROKEN_PDF)
    _big_notice(uploads / "示范市苗圃通知.txt", 7319)
    app = launch_app(root, password)
    try:
        first = health(app)
        assert first["status"] == "ok" and first["documents"] == 2  # serving what is indexed, at once
        assert first["indexing"]["state"] == "running", first
        done = wait_for_indexing(app)["indexing"]
        assert done["state"] == "done" and done["indexed"] == 1 and done["failed"] == 1, done
        assert "uploads/坏.pdf" in _start_log(app)
        with closing(Client(app.url + "/", verbose=False)) as chat:
            answer = chat.predict("示范市苗圃通知规定的苗圃养护补助每亩多少钱?", "[]", "", "", api_name="/ask")
        assert "7319" in answer["answer"]
    finally:
        stop_process(app.process, timeout=15)

    # 3. the next start reads neither again; staff see the failure and remove it
    app = launch_app(root, password)
    try:
        again = wait_for_indexing(app)["indexing"]
        assert again["state"] == "done" and again["indexed"] == 0 and again["failed"] == 0, again
        assert "坏.pdf" not in _start_log(app)
        with closing(console_client(app.console_url, password)) as staff:
            message, table, _ = staff.predict(doc_id_for("uploads/坏.pdf"), api_name="/remove_failed")
        assert message == "已移除该记录。" and not table["data"]
        assert not (uploads / "坏.pdf").exists()
    finally:
        stop_process(app.process, timeout=15)

    # 4. with too little free disk, a start used to refuse to run at all; now it serves and says why it could
    #    not finish
    _big_notice(uploads / "示范市苗圃通知二.txt", 7320)
    app = launch_app(root, password, {"ASSISTANT_INGEST__MIN_FREE_DISK_MB": "100000000"})
    try:
        state = wait_for_indexing(app)
        assert state["status"] == "ok" and state["documents"] == 3
        assert state["indexing"]["state"] == "failed" and "磁盘空间不足" in state["indexing"]["reason"]
    finally:
        stop_process(app.process, timeout=15)


def test_a_weak_admin_password_stops_the_start_with_the_reason(tmp_path):
    env = {**os.environ, "ASSISTANT_UI__ADMIN_PASSWORD": "admin123", "ASSISTANT_PATHS__INDEX_DIR": str(tmp_path / "i"),
           "ASSISTANT_PATHS__CORPUS_DIR": str(tmp_path / "c"), "ASSISTANT_SETTINGS_FILE": str(tmp_path / "none.yaml")}
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "无法启动:管理员密码(ASSISTANT_UI__ADMIN_PASSWORD)太弱:至少需要 12 个字符" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "i").exists()  # refused before anything was opened or indexed
    print(f"weak password refused in {time.perf_counter() - started:.1f} s")


def test_settings_accounts_are_json_in_the_environment(tmp_path):
    """The README's form of ASSISTANT_SECURITY__STAFF_ACCOUNTS is what the settings read."""
    from assistant.accounts import hash_password
    from assistant.settings import Settings

    stored = hash_password("Wang-Li-Shifan-2099")
    os.environ["ASSISTANT_SECURITY__STAFF_ACCOUNTS"] = json.dumps({"wang": stored})
    os.environ["ASSISTANT_SECURITY__TRUSTED_PROXIES"] = '["10.0.0.5", "10.1.0.0/16"]'
    try:
        settings = Settings()
    finally:
        del os.environ["ASSISTANT_SECURITY__STAFF_ACCOUNTS"], os.environ["ASSISTANT_SECURITY__TRUSTED_PROXIES"]
    assert settings.security.staff_accounts == {"wang": stored}
    assert settings.security.trusted_proxies == ["10.0.0.5", "10.1.0.0/16"]
