"""The staff console at /admin in a real browser: log in, upload a PDF, see the chat cite it, delete it.

The PDF is fictional (示范市, a made-up 蓝鲸计划 and the figure 2468), so nothing
in the demo corpus can answer its question once it is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.conftest import pdf_bytes
from tests.ui.conftest import desktop_tab, SCREENSHOTS, ask_in_chat, bot_messages, choose_files, login_console, open_chat, open_sources

pytestmark = pytest.mark.slow

TITLE = "示范市蓝鲸计划实施办法"
FILENAME = "示范市蓝鲸计划.pdf"
FIGURE = "2468"
QUESTION = "示范市蓝鲸计划补贴每月多少钱?"
PAGES = [[
    TITLE,
    "第一条 示范市蓝鲸计划面向离校两年内未就业的高校毕业生。",
    f"第二条 示范市蓝鲸计划补贴每人每月{FIGURE}元,最长发放六个月。",
    "第三条 申请蓝鲸计划补贴,由本人向示范市人力资源和社会保障局提出。",
]]


@dataclass
class Uploaded:
    chunks: int
    doc_id: str


@pytest.fixture(scope="module")
def uploaded(browser, chat_ready, tmp_path_factory) -> Uploaded:
    """Upload the PDF through the console, as staff do; check the result line and the documents table."""
    app = chat_ready
    pdf = tmp_path_factory.mktemp("upload") / FILENAME
    pdf.write_bytes(pdf_bytes(PAGES, title=TITLE))
    with desktop_tab(browser) as page:
        login_console(page, app)
        choose_files(page, pdf)
        page.locator("#upload-button").click()
        result = page.locator("#upload-results", has_text="已入库")
        result.wait_for(timeout=60_000)
        line = result.inner_text()
        match = re.search(re.escape(FILENAME) + r":已入库\((\d+) 个片段\)", line)
        assert match, line
        chunks = int(match.group(1))
        assert chunks >= 1

        page.get_by_role("tab", name="文件列表").click()
        row = page.locator("#documents-table [role=row]", has_text=TITLE)
        row.wait_for()
        cells = [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
        assert cells[0] == TITLE and cells[3] == str(chunks) and cells[4] == f"uploads/{FILENAME}", cells
        doc_id = cells[5]
        assert re.fullmatch(r"[0-9a-f]{16}", doc_id), cells
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "console.png"), full_page=True)
    assert (app.corpus_dir / "uploads" / FILENAME).read_bytes() == pdf.read_bytes()
    return Uploaded(chunks=chunks, doc_id=doc_id)


def test_uploaded_pdf_is_cited_in_chat(page, served_app, uploaded):
    open_chat(page, served_app.url)
    answer = ask_in_chat(page, QUESTION)

    assert FIGURE in answer, answer
    assert re.search(r"\[\d\]", answer)
    card = open_sources(page).filter(has_text=TITLE).first
    assert card.locator(".src-cited").count() == 1
    assert FIGURE in card.locator(".src-text").inner_text()
    href = card.get_by_role("link", name="下载原文").evaluate("a => a.href")
    assert href == f"{served_app.url}/documents/{uploaded.doc_id}"
    response = page.request.get(href)
    assert response.status == 200 and response.body().startswith(b"%PDF")


def test_deleted_document_is_no_longer_cited(page, served_app, uploaded):
    login_console(page, served_app)
    page.get_by_role("tab", name="文件列表").click()
    page.locator("#documents-table [role=row]", has_text=TITLE).wait_for()

    choice = page.locator("#delete-choice input")
    assert choice.input_value() == ""  # nothing is pre-selected for deletion
    choice.click()
    choice.fill("蓝鲸")
    page.get_by_role("option", name=re.compile(TITLE)).click()
    assert TITLE in choice.input_value()
    page.locator("#delete-button").click()
    page.locator("#action-result", has_text="已删除").wait_for()
    page.locator("#documents-table [role=row]", has_text=TITLE).wait_for(state="detached")
    document_rows = page.locator("#documents-table [role=row]").filter(has=page.locator("[role=gridcell]"))
    assert document_rows.count() == 2  # the two demo documents remain
    assert page.request.get(f"{served_app.url}/documents/{uploaded.doc_id}").status == 404

    open_chat(page, served_app.url)
    answer = ask_in_chat(page, QUESTION)
    assert FIGURE not in answer, answer
    assert bot_messages(page).last.locator(".src-card", has_text=TITLE).count() == 0
    assert FIGURE not in bot_messages(page).last.text_content()
