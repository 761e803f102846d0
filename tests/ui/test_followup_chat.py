"""A conversation in a real browser: a greeting is answered politely (no refusal, no sources), and a
follow-up keeps the thread of the question before it."""

from __future__ import annotations

import pytest

from tests.ui.conftest import ask_in_chat, bot_messages, open_chat

pytestmark = pytest.mark.slow


def test_greeting_then_a_question_then_a_follow_up(page, served_app):
    open_chat(page, served_app.url)
    page.locator("#question textarea").fill("你好")
    page.locator("#send").click()
    greeting = bot_messages(page).first.filter(has_text="就业政策问答助手")
    greeting.wait_for(timeout=60_000)
    assert "没有找到依据" not in greeting.inner_text() and "12333" not in greeting.inner_text()
    assert greeting.locator(".src-card").count() == 0  # nothing was looked up

    ask_in_chat(page, "稳就业推进会对高校毕业生有什么安排?")
    answer = ask_in_chat(page, "那农民工呢?")
    assert "没有找到依据" not in answer
    assert "农民务工" in answer  # the migrant workers' passage, not the graduates' again
    assert bot_messages(page).last.locator(".src-card").count() >= 1
