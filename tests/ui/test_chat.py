"""The public chat in a real browser: a cited answer with its sources, a refusal, 👍 feedback, 新对话."""

from __future__ import annotations

import re
import sqlite3
import time

import pytest

from tests.ui.conftest import SCREENSHOTS, ask_in_chat, bot_messages, open_chat, open_sources

pytestmark = pytest.mark.slow

SEED_QUESTION = "今年高校毕业生就业有哪些支持?"
OUT_OF_SCOPE = "北京最低工资标准是多少"


def test_answer_shows_citation_and_highlighted_sources(page, served_app):
    open_chat(page, served_app.url)
    answer = ask_in_chat(page, SEED_QUESTION, timing_key="send → first answer text (s)")

    assert re.search(r"\[\d\]", answer), answer  # a citation marker in the bubble
    assert "高校毕业生" in answer
    assert "没有找到依据" not in answer
    assert page.locator('#chatbot [data-testid="user"]').last.inner_text().strip() == SEED_QUESTION

    cards = open_sources(page)  # under the answer itself
    assert cards.count() >= 1
    assert cards.locator(".src-cited").count() >= 1  # the cited passage is flagged
    marks = cards.locator("mark")
    assert marks.count() >= 1
    assert {m.strip() for m in marks.all_inner_texts()} & {"高校毕业生", "毕业生", "就业", "支持"}

    link = cards.first.get_by_role("link", name="下载原文")
    href = link.evaluate("a => a.href")
    assert href.startswith(served_app.url + "/documents/")
    response = page.request.get(href)
    assert response.status == 200
    originals = {path.read_bytes() for path in served_app.corpus_dir.rglob("*.txt")}
    assert response.body() in originals  # the original file, byte for byte (the passage is its cleaned text)
    assert "attachment" in response.headers.get("content-disposition", "")

    page.wait_for_timeout(500)  # for the screenshot: after the chat has scrolled itself to the end
    bot_messages(page).last.evaluate("b => b.scrollIntoView({block: 'start'})")  # the answer, then its sources
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat.png"), full_page=True)


def test_out_of_scope_question_is_refused_with_hotline(page, served_app):
    open_chat(page, served_app.url)
    answer = ask_in_chat(page, OUT_OF_SCOPE)

    badge = bot_messages(page).last.locator("strong", has_text="已收录的文件中没有找到依据")
    assert badge.count() == 1
    assert "12333" in answer
    assert not re.search(r"\[\d\]", answer)
    assert bot_messages(page).last.locator(".src-card, details").count() == 0  # nothing was cited


def test_thumbs_up_stores_feedback_row(page, served_app):
    open_chat(page, served_app.url)
    ask_in_chat(page, SEED_QUESTION)
    database = served_app.index_dir / "feedback.sqlite3"

    def rows() -> list[tuple]:
        if not database.exists():
            return []
        with sqlite3.connect(database) as db:  # the app creates the file, then the table: wait for both
            if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='feedback'").fetchone():
                return []
            return db.execute("SELECT rating, question, source_ids, refused FROM feedback ORDER BY id").fetchall()

    before = len(rows())
    # 赞 under the zh-CN locale the tab uses (Gradio's English label is "Like")
    page.locator("#chatbot").get_by_role("button", name=re.compile(r"^(赞|Like)$")).last.click()
    deadline = time.monotonic() + 15
    while len(rows()) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    new = rows()[before:]
    assert len(new) == 1, new
    rating, question, source_ids, refused = new[0]
    assert (rating, question, refused) == ("up", SEED_QUESTION, 0)
    assert source_ids.startswith('["') and len(source_ids) > 4  # the cited documents' ids


def test_new_chat_clears_conversation_and_sources(page, served_app):
    open_chat(page, served_app.url)
    ask_in_chat(page, SEED_QUESTION)
    assert bot_messages(page).count() == 1
    assert bot_messages(page).last.locator(".src-card").count() >= 1

    page.locator("#new-chat").click()
    page.locator('#chatbot [data-testid="bot"], #chatbot [data-testid="user"]').first.wait_for(state="detached")
    assert page.locator('#chatbot [data-testid="bot"], #chatbot [data-testid="user"]').count() == 0
    assert page.locator("#question textarea").input_value() == ""

    # and the cleared chat still answers (no stale history or state)
    answer = ask_in_chat(page, OUT_OF_SCOPE)
    assert "没有找到依据" in answer
    assert bot_messages(page).count() == 1
