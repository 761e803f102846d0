"""A conversation through the page, as a job seeker has it: follow-ups (two and more, a place switch, a greeting
in between), a reload that keeps it, the list of past conversations, regenerate, a vote after Gradio's clear,
the Markdown export, and Gradio's own strings in Chinese for an English browser."""

from __future__ import annotations

import re
import sqlite3
import time

import pytest

from tests.ui.conftest import desktop_tab, ANSWER_DONE, ANSWER_TIMEOUT_MS, ask_in_chat, bot_messages, open_chat

pytestmark = pytest.mark.slow

FIRST = "今年高校毕业生就业有哪些支持?"


def user_messages(page):
    return page.locator('#chatbot [data-testid="user"]')


def feedback_rows(app) -> list[tuple]:
    database = app.index_dir / "feedback.sqlite3"
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='feedback'").fetchone():
            return []
        return db.execute("SELECT id, rating, question FROM feedback ORDER BY id").fetchall()


def wait_rows(app, count: int) -> list[tuple]:
    deadline = time.monotonic() + 15
    while len(rows := feedback_rows(app)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return rows


def saved_in_browser(page, question: str, turns: int) -> None:
    """Wait until the conversation that begins with ``question`` is saved with ``turns`` questions (the list of
    past conversations shows it once the browser's storage has it; it is saved right after each answer)."""
    if not page.locator("#history-list").is_visible():
        page.locator("#history").get_by_text("历史对话").click()
    page.locator("#history-list label", has_text=f"{question[:10]}").filter(
        has_text=f"({turns} 问").wait_for()


def test_follow_ups_a_place_switch_and_a_greeting_then_a_reload(page, served_app):
    open_chat(page, served_app.url)
    first = ask_in_chat(page, FIRST)
    assert "高校毕业生" in first and re.search(r"\[\d\]", first)
    veterans = ask_in_chat(page, "那退役军人呢?")
    assert "退役军人" in veterans and "没有找到依据" not in veterans, veterans
    migrants = ask_in_chat(page, "那农民工呢?")
    assert "没有找到依据" not in migrants and "农民" in migrants, migrants
    assert "{'" not in migrants and "'type'" not in migrants  # never Gradio's message parts as text
    # a greeting in between is answered as one, not merged into the thread and refused
    page.locator("#question textarea").fill("你好")
    page.locator("#send").click()
    greeting = bot_messages(page).nth(3)
    greeting.filter(has_text="就业政策问答助手").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "没有找到依据" not in greeting.inner_text()
    assert bot_messages(page).count() == 4
    saved_in_browser(page, FIRST, turns=4)

    page.reload()
    page.locator("#question textarea").wait_for(state="visible")
    bot_messages(page).nth(3).wait_for()  # the conversation is back, from the browser's storage
    assert [t.strip() for t in user_messages(page).all_inner_texts()] == [FIRST, "那退役军人呢?", "那农民工呢?", "你好"]
    assert "退役军人" in bot_messages(page).nth(1).inner_text()
    # and it goes on where it was: a follow-up after the reload still follows the thread
    after = ask_in_chat(page, "那零就业家庭呢?")
    assert "零就业家庭" in after and "没有找到依据" not in after, after
    # a place switch: the documents are Shanxi's; the same question for Beijing is refused, naming Beijing
    beijing = ask_in_chat(page, "那北京呢?")
    assert "没有找到依据" in beijing and "北京" in beijing and "零就业家庭" in beijing, beijing


def test_past_conversations_can_be_reopened_and_deleted(page, served_app):
    open_chat(page, served_app.url)
    ask_in_chat(page, "零就业家庭有什么帮扶?")
    page.locator("#new-chat").click()
    user_messages(page).first.wait_for(state="detached")
    ask_in_chat(page, "就业见习的规模会扩大吗?")

    page.locator("#history").get_by_text("历史对话").click()
    listed = page.locator("#history-list label")
    listed.filter(has_text="零就业家庭有什么帮扶").wait_for()
    assert listed.filter(has_text="就业见习的规模会扩大吗").count() == 1
    listed.filter(has_text="零就业家庭有什么帮扶").click()
    user_messages(page).filter(has_text="零就业家庭有什么帮扶?").wait_for()
    assert user_messages(page).count() == 1 and "零就业家庭" in bot_messages(page).last.inner_text()

    page.locator("#delete-chat").click()
    listed.filter(has_text="零就业家庭有什么帮扶").wait_for(state="detached")
    assert user_messages(page).count() == 0
    page.reload()
    page.locator("#history").get_by_text("历史对话").click()
    page.locator("#history-list label", has_text="就业见习的规模会扩大吗").wait_for()
    assert page.locator("#history-list label", has_text="零就业家庭有什么帮扶").count() == 0


def test_regenerate_answers_the_last_question_again_and_votes_go_to_the_new_answer(page, served_app):
    open_chat(page, served_app.url)
    ask_in_chat(page, "职业技能培训怎么开展?")
    first_text = bot_messages(page).last.inner_text()
    page.locator("#regenerate").click()
    # the same bubble is answered again: first the placeholder, then the answer
    page.wait_for_function("""() => {
        const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
        return bots.length === 1 && !bots[0].innerText.includes('正在查找');
    }""", timeout=ANSWER_TIMEOUT_MS)
    bot_messages(page).last.filter(has_text=re.compile(ANSWER_DONE)).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert user_messages(page).count() == 1 and bot_messages(page).count() == 1
    assert bot_messages(page).last.inner_text() == first_text  # the extractive answer is the same again

    before = len(feedback_rows(served_app))
    page.locator("#chatbot").get_by_role("button", name=re.compile(r"^(踩|Dislike)$")).last.click()
    page.locator("#feedback-note", has_text="没帮助").wait_for()  # the note is beside the buttons, no accordion
    rows = wait_rows(served_app, before + 1)
    assert rows[before:][0][1:] == ("down", "职业技能培训怎么开展?")


def test_a_vote_after_gradios_clear_goes_to_the_answer_shown(page, served_app):
    open_chat(page, served_app.url)
    ask_in_chat(page, "零就业家庭有什么帮扶?")
    page.locator("#question textarea").fill("未发出的草稿")
    page.locator("#chatbot").get_by_role("button", name=re.compile("清除|清空|Clear")).click()
    user_messages(page).first.wait_for(state="detached")  # Gradio clears the bubbles in the page at once
    # the server's reset of the conversation, which also empties the input, has run
    page.wait_for_function("() => document.querySelector('#question textarea').value === ''")
    ask_in_chat(page, "退役军人就业有什么支持?")
    before = len(feedback_rows(served_app))
    page.locator("#chatbot").get_by_role("button", name=re.compile(r"^(赞|Like)$")).last.click()
    page.locator("#feedback-note", has_text="有帮助").wait_for()
    rows = wait_rows(served_app, before + 1)
    assert [r[1:] for r in rows[before:]] == [("up", "退役军人就业有什么支持?")]  # not the cleared answer

    page.locator("#feedback-comment textarea").fill("说得很清楚")
    page.locator("#feedback-send").click()
    page.locator("#feedback-note", has_text="已收到您的意见").wait_for()


def test_the_conversation_exports_as_markdown(page, served_app, tmp_path):
    open_chat(page, served_app.url)
    answer = ask_in_chat(page, "零就业家庭有什么帮扶?")
    with page.expect_download() as download:
        page.locator("#export").click()
    path = tmp_path / "export.md"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".md")
    assert text.startswith("# 就业政策问答助手") and "## 1. 零就业家庭有什么帮扶?" in text
    assert "零就业家庭动态清零" in text and "《" in text and "12333" in text
    assert "<details" not in text and "src-card" not in text  # the answer and its sources, not the page's markup
    assert "零就业家庭" in answer


def test_gradios_own_strings_are_chinese_in_an_english_browser(browser, chat_ready):
    with desktop_tab(browser, locale="en-US") as page:
        open_chat(page, chat_ready.url)
        assert page.evaluate("navigator.language") == "zh-CN"
        footer = page.locator("footer").inner_text()
        assert "使用 Gradio 构建" in footer and "Built with" not in footer, footer
        ask_in_chat(page, "零就业家庭有什么帮扶?")
        assert page.locator("#chatbot").get_by_role("button", name=re.compile(r"^赞$")).count() >= 1
        assert page.locator("#chatbot").get_by_role("button", name=re.compile(r"^Like$")).count() == 0

        page.goto(chat_ready.url + "/admin/")  # the console's login form
        page.get_by_label("用户名").wait_for()
        assert page.get_by_role("button", name="登录").count() == 1
        assert page.get_by_text("Username").count() == 0
