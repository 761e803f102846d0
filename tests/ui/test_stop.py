"""Stop for a streamed LLM answer, in a real browser: the served app answers with the ``openai`` backend at the
real llama.cpp server (tests/conftest.py ``llama_server``), kept busy by another client so the answer is still
coming when 停止 is pressed."""

from __future__ import annotations

import time

import pytest

from tests.ui.conftest import desktop_tab, bot_messages, copy_demo_corpus, open_chat
from tests.ui.test_slow_llm import app_with_llm, competing

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_stop_ends_an_answer_still_streaming(tmp_path, llama_server, browser):
    root = tmp_path / "app"
    copy_demo_corpus(root)
    with app_with_llm(root, llama_server.api) as app:
        with desktop_tab(browser) as page:
            open_chat(page, app.url)
            with competing(llama_server) as busy:
                page.locator("#question textarea").fill("今年高校毕业生就业有哪些支持?")
                page.locator("#send").click()
                stop = page.locator("#stop")
                stop.wait_for(state="visible")  # shown only while an answer runs
                assert busy() and "正在查找" in bot_messages(page).last.inner_text()
                stop.click()
                bot_messages(page).last.filter(has_text="已停止回答").wait_for()
                stop.wait_for(state="hidden")
                shown = bot_messages(page).last.inner_text()
                time.sleep(3)  # nothing of the cancelled answer arrives later
                assert bot_messages(page).last.inner_text() == shown
                assert bot_messages(page).count() == 1 and page.locator("#send").is_enabled()
