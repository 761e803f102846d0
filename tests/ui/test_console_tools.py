"""The staff console in a real browser, over the fictional 示范市 regulation (a PDF of several pages): a progress
bar that moves inside one long file with the controls off meanwhile, failed files with their reason, the chunks
of a document as indexed, the retrieval test saying what the chat would do, and the feedback screen with its
CSV export.  The chat's status line and filters follow what the console adds."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import make_pdf
from tests.ui.conftest import desktop_tab, remove_failed_upload, ANSWER_TIMEOUT_MS, SCREENSHOTS, ask_in_chat, login_console, open_chat

pytestmark = pytest.mark.slow

LONG_TITLE = "示范市样例县职业培训补贴操作规程"
WATCH_PROGRESS = """() => {
    window.progressSeen = [];
    window.controlsOff = false;
    setInterval(() => {
        const text = document.body.innerText;
        const found = text.match(/第 \\d+\\/\\d+ 个文件[^\\n]*?(读取第 \\d+\\/\\d+ 页|生成向量 \\d+\\/\\d+ 个片段|生成句子向量 \\d+\\/\\d+ 句)/);
        if (found && !window.progressSeen.includes(found[1])) window.progressSeen.push(found[1]);
        if (document.querySelector('#upload-button').disabled) window.controlsOff = true;
    }, 30);
}"""


def long_pdf(path):
    """A fictional 60-page rule book, one article a page, so reading and embedding it take a while."""
    pages = [[LONG_TITLE] if n == 1 else [] for n in range(1, 61)]
    for n, lines in enumerate(pages, start=1):
        lines += [f"第{n}条 样例县第{n}类职业培训补贴的申领,由培训机构在结业后三十日内向样例县人社局提出。",
                  f"培训补贴按第{n}类标准执行,具体标准以样例县当年公布的目录为准,不得重复申领。",
                  "申领材料包括培训合格证书、身份证明和培训机构出具的收费票据等。"]
    return make_pdf(path, pages, title=LONG_TITLE)


@pytest.fixture
def staff(browser, regulation_app):
    with desktop_tab(browser) as page:
        login_console(page, regulation_app[0])
        yield page


def test_upload_shows_progress_inside_the_file_and_the_chat_follows(staff, regulation_app, tmp_path, browser):
    app, _ = regulation_app
    chat = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    open_chat(chat, app.url)
    assert "已收录 **1**" not in chat.locator("#status-line").inner_text()  # Markdown is rendered
    assert re.search(r"已收录\s*1\s*份文件", chat.locator("#status-line").inner_text())
    assert "usem3" not in chat.locator("#status-line").inner_text()  # citizens see no model ids

    assert "usem3" in staff.locator("#staff-status").inner_text()  # staff see everything
    pdf = long_pdf(tmp_path / "样例县职业培训补贴.pdf")
    staff.locator("#upload-files input[type=file]").set_input_files(str(pdf))
    staff.locator("#upload-files", has_text=pdf.name).wait_for()
    staff.evaluate(WATCH_PROGRESS)
    staff.locator("#upload-button").click()
    staff.locator("#upload-results", has_text="已入库").wait_for(timeout=ANSWER_TIMEOUT_MS * 2)
    seen = staff.evaluate("window.progressSeen")
    assert any(s.startswith("读取第") for s in seen) and len(seen) >= 2, seen  # pages, then chunks: it moves
    assert staff.evaluate("window.controlsOff"), "the upload button stayed clickable while the upload ran"
    assert staff.locator("#upload-button").is_enabled()  # and is back once it is done
    print("progress steps seen:", seen)

    # the chat's status line and type filter follow the index without a restart
    chat.reload()
    chat.locator("#status-line").filter(has_text=re.compile(r"已收录\s*2\s*份文件")).wait_for()
    chat.context.close()


def test_a_failed_upload_is_listed_with_its_reason_and_removable(staff, tmp_path):
    broken = tmp_path / "示范市缺页的通知.pdf"
    broken.write_bytes(b"%PDF-1.4\n% cut off in transit")
    staff.locator("#upload-files input[type=file]").set_input_files(str(broken))
    staff.locator("#upload-files", has_text=broken.name).wait_for()
    staff.locator("#upload-button").click()
    staff.locator("#upload-results", has_text=broken.name).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "❌" in staff.locator("#upload-results").inner_text() and "失败" in staff.locator("#upload-results").inner_text()
    staff.get_by_role("tab", name="上传失败的文件").click()
    row = staff.locator("#failed-table [role=row]", has_text=broken.name)
    row.wait_for()
    reason = row.locator("[role=gridcell]").nth(1).inner_text().strip()
    assert reason and "PDF" in reason, reason  # the reason, in Chinese
    remove_failed_upload(staff, "缺页", "示范市缺页的通知")
    row.wait_for(state="detached")


def test_the_chunk_view_shows_a_document_as_indexed(staff, regulation_app):
    _, expected = regulation_app
    staff.get_by_role("tab", name="片段查看").click()
    choice = staff.locator("#chunks-choice input")
    choice.click()
    choice.fill("见习管理办法")
    staff.get_by_role("option", name=re.compile("示范市就业见习管理办法")).click()
    rows = staff.locator("#chunks-table [role=row]").filter(has=staff.locator("[role=gridcell]"))
    rows.filter(has_text="第七条").first.wait_for()
    seventh = [c.strip() for c in rows.filter(has_text="第七条").first.locator("[role=gridcell]").all_inner_texts()]
    path, page_number, _ = expected["第七条"]
    assert seventh[1] == path and seventh[2] == str(page_number), seventh
    assert "一千八百元" in seventh[4] and seventh[3] == str(len(seventh[4])), seventh
    assert rows.count() >= len(expected)


def test_the_retrieval_test_says_what_the_chat_would_do(staff):
    staff.get_by_role("tab", name="检索测试").click()
    staff.locator("#probe-question textarea").fill("示范市见习补贴每月多少钱?")
    staff.locator("#probe-button").click()
    verdict = staff.locator("#probe-verdict", has_text="问答会怎样回应")
    verdict.wait_for()
    assert "会直接回答" in verdict.inner_text(), verdict.inner_text()
    table = staff.locator("#probe-results")
    table.locator("[role=gridcell]", has_text="最相关").first.wait_for()
    cells = table.locator("[role=gridcell]").all_inner_texts()
    assert not any(re.fullmatch(r"0\.\d+", c.strip()) for c in cells), cells  # relevance in words, no raw scores
    assert any(c.strip() == "是" for c in cells)  # which passages the answer cites

    staff.locator("#probe-question textarea").fill("北京最低工资标准是多少")
    staff.locator("#probe-button").click()
    staff.locator("#probe-verdict", has_text="会拒答").wait_for()
    assert "地方" in staff.locator("#probe-verdict").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    staff.locator("#probe-question textarea").fill("示范市见习补贴每月多少钱?")
    staff.locator("#probe-button").click()
    staff.locator("#probe-verdict", has_text="会直接回答").wait_for()
    staff.screenshot(path=str(SCREENSHOTS / "console-probe.png"), full_page=True)


def test_feedback_is_listed_filtered_and_exported(staff, regulation_app, browser):
    app, _ = regulation_app
    question = "示范市见习补贴每月多少钱?"
    chat = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    open_chat(chat, app.url)
    ask_in_chat(chat, question)
    chat.locator("#chatbot").get_by_role("button", name=re.compile(r"^赞$")).last.click()
    chat.locator("#feedback-note", has_text="有帮助").wait_for()
    chat.locator("#feedback-comment textarea").fill("=HYPERLINK(\"//evil.example\") 写得清楚")
    chat.locator("#feedback-send").click()
    chat.locator("#feedback-note", has_text="已收到您的意见").wait_for()
    chat.context.close()

    staff.reload()
    staff.locator("#upload-button").wait_for()
    staff.get_by_role("tab", name="用户反馈").click()
    row = staff.locator("#feedback-table [role=row]", has_text=question).first
    row.wait_for()
    text = row.inner_text()
    assert "👍 有帮助" in text and "《示范市就业见习管理办法》" in text and "写得清楚" in text, text
    staff.locator("#feedback-filter").get_by_text("👎 没帮助").click()
    row.wait_for(state="detached")
    staff.locator("#feedback-filter").get_by_text("全部").click()
    row.wait_for()

    staff.locator("#feedback-export").click()
    link = staff.locator("#feedback-file a").first
    link.wait_for()
    response = staff.request.get(link.get_attribute("href"))
    assert response.status == 200
    rows = list(csv.reader(io.StringIO(response.body().decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "评价", "问题"]
    ours = [r for r in rows[1:] if r[2] == question]
    assert ours and ours[0][1] == "👍 有帮助" and "《示范市就业见习管理办法》" in ours[0][5]
    assert ours[0][4].startswith("'=HYPERLINK")  # a spreadsheet shows it as text, never runs it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    staff.screenshot(path=str(SCREENSHOTS / "console-feedback.png"), full_page=True)
