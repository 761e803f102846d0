"""Documents as they really are, in a real browser: a scanned notice is answered from and its source card
says the text was recognised from a scan (with the issuer and date); staff upload an FAQ spreadsheet through
the console and the chat answers from its row."""

from __future__ import annotations


import pytest

from tests.conftest import REGULATION, REGULATION_TITLE, stop_process, text_image, wrap_text
from tests.ingest.test_sheets import FAQ, write_xlsx
from tests.ui.conftest import desktop_tab, ask_in_chat, choose_files, launch_app, login_console, open_chat, open_sources, staff_password

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scanned_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("scanned")
    (root / "corpus").mkdir()
    lines = [REGULATION_TITLE] + [line for text, _ in REGULATION[7:] for line in wrap_text(text, 34)]
    lines += ["示范市人力资源和社会保障局", "2098年12月1日"]
    text_image(lines).save(root / "corpus" / "jianxi_scan.png")
    app = launch_app(root, staff_password())
    try:
        yield app
    finally:
        stop_process(app.process, timeout=15)


def test_a_scanned_source_card_carries_the_ocr_notice(browser, scanned_app):
    with desktop_tab(browser) as page:
        open_chat(page, scanned_app.url)
        answer = ask_in_chat(page, "示范市见习补贴每月多少钱?")
        assert "一千八百元" in answer and "没有找到依据" not in answer
        card = open_sources(page).first
        assert "扫描件识别文字,请以原件为准" in card.locator(".src-ocr").inner_text()
        facts = card.locator(".src-facts").inner_text()
        assert "示范市人力资源和社会保障局" in facts and "2098-12-01" in facts


def test_staff_upload_an_faq_spreadsheet_and_the_chat_answers_from_its_row(browser, scanned_app, tmp_path):
    # without FAQ's 见习补贴 row: the app is shared with the scan's test, whose question that row would answer
    rows = [(q, a) for q, a, topic in FAQ if topic != "就业见习"]
    sheet = write_xlsx(tmp_path / "示范市政策问答.xlsx", {"问答": [["问题", "答复"]] + [list(row) for row in rows]})
    with desktop_tab(browser) as page:
        login_console(page, scanned_app)
        choose_files(page, sheet)
        page.locator("#upload-button").click()
        result = page.locator("#upload-results", has_text="已入库")
        result.wait_for(timeout=60_000)
        assert f"{sheet.name}:已入库({len(rows)} 个片段)" in result.inner_text()

        open_chat(page, scanned_app.url)
        answer = ask_in_chat(page, "创业担保贷款最高能贷多少?")
        assert "30万元" in answer and "没有找到依据" not in answer
        card = open_sources(page).first
        assert "创业担保贷款最高能贷多少" in card.inner_text()
