"""The chat at phone width (390 x 844): usable with a thumb, no sideways scrolling; an answer's sources right
under it (above the examples), and the document viewer readable at that width too."""

from __future__ import annotations

import re

import pytest

from tests.ui.conftest import SCREENSHOTS, ask_in_chat, bot_messages, open_chat, open_sources

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 390, 844
SLACK_PX = 2


def _scroll_width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def _inside_viewport(box: dict | None) -> bool:
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + SLACK_PX


def test_phone_width_chat_is_usable_without_horizontal_scroll(browser, chat_ready):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_chat(page, chat_ready.url)
        assert _scroll_width(page) <= WIDTH + SLACK_PX

        question = page.locator("#question textarea")
        send = page.locator("#send")
        for element in (question, send):
            element.scroll_into_view_if_needed()
            assert element.is_visible() and element.is_enabled()
            assert _inside_viewport(element.bounding_box()), element.bounding_box()
        assert question.bounding_box()["width"] >= 150  # room to read what one types
        assert send.bounding_box()["height"] >= 36  # a thumb-sized target

        question.tap()
        answer = ask_in_chat(page, "就业见习的规模会扩大吗?")
        assert re.search(r"\[\d\]", answer) and "见习" in answer
        bubble = bot_messages(page).last
        assert bubble.is_visible() and _inside_viewport(bubble.bounding_box()), bubble.bounding_box()
        cards = open_sources(page)  # right under the answer, not below the examples
        assert cards.count() >= 1 and _inside_viewport(cards.first.bounding_box())
        assert cards.first.bounding_box()["y"] < page.locator("#examples").bounding_box()["y"]
        # long passages and file names in the sources must wrap, not widen the page
        assert _scroll_width(page) <= WIDTH + SLACK_PX, _scroll_width(page)

        page.wait_for_timeout(500)  # for the screenshot: after the chat has scrolled itself to the end
        bot_messages(page).last.evaluate("b => b.scrollIntoView({block: 'start'})")  # the answer, then its sources
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "chat-mobile.png"), full_page=True)

        with page.context.expect_page() as opened:
            cards.first.get_by_role("link", name="查看原文位置").tap()
        viewer = opened.value
        viewer.locator("#passage").wait_for()
        assert _scroll_width(viewer) <= WIDTH + SLACK_PX, _scroll_width(viewer)
        assert _inside_viewport(viewer.locator("#passage").bounding_box())
    finally:
        context.close()
