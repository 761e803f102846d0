"""A browser session that types ID-card, phone and bank-card numbers: nothing the served app writes keeps them.

The app gets its own folder (index, feedback database, log, Gradio's temp files), so after the session
every byte it wrote can be searched.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest
from gradio_client import Client

from tests.conftest import stop_process
from tests.test_privacy import BANK, ID_CARD, MASKED, PHONE, TYPED
from tests.ui.conftest import ask_in_chat, copy_demo_corpus, launch_app, open_chat, staff_password

pytestmark = pytest.mark.slow


def test_typed_personal_numbers_never_reach_disk(tmp_path, browser):
    root = tmp_path / "app"
    copy_demo_corpus(root)
    app = launch_app(root, staff_password(), {"GRADIO_TEMP_DIR": str(root / "gradio-tmp")})
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_chat(page, app.url)
        ask_in_chat(page, TYPED)
        page.locator("#chatbot").get_by_role("button", name=re.compile(r"^(踩|Dislike)$")).last.click()
        page.locator("#feedback-comment textarea").fill(f"我的银行卡是{BANK},请回电{PHONE}")
        page.locator("#feedback-send").click()
        page.locator("#feedback-note", has_text="已收到您的意见").wait_for()
        context.close()
        with closing(Client(app.url + "/", verbose=False)) as api:
            api.predict(f"身份证{ID_CARD}的人能领失业金吗", "[]", "", "", api_name="/ask")
            api.predict("超长问题" * 200 + PHONE, "[]", "", "", api_name="/ask")
    finally:
        stop_process(app.process, timeout=15)

    written = {path: path.read_bytes() for path in root.rglob("*") if path.is_file() and "corpus" not in path.parts}
    assert any(path.name == "feedback.sqlite3" for path in written) and any(p.name == "app.log" for p in written)
    for number in (ID_CARD, PHONE, BANK):
        leaks = [str(path.relative_to(root)) for path, data in written.items()
                 if number.encode() in data or number.encode("utf-16-le") in data]
        assert not leaks, f"{number} written to {leaks}"
    with sqlite3.connect(root / "index" / "feedback.sqlite3") as db:
        question, comment = db.execute("SELECT question, comment FROM feedback").fetchone()
    assert MASKED[0] in question and MASKED[1] in question  # the session really was recorded, masked
    assert MASKED[2] in comment and MASKED[1] in comment
    print(f"searched {len(written)} files ({sum(len(d) for d in written.values()) / 1e6:.1f} MB) the app wrote")
