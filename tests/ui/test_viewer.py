"""The document viewer in a real browser: a citation [n] in an answer opens its passage in the document, on the
PDF page it is printed on, marked there; the article's neighbours and section path, and the file to download.
Only indexed documents are served, and nothing from a document is live."""

from __future__ import annotations

import io
import re

import pytest

from tests.ui.conftest import desktop_tab, SCREENSHOTS, ask_in_chat, bot_messages, open_chat, open_sources

pytestmark = pytest.mark.slow

QUESTION = "示范市见习补贴每月多少钱?"


def marked_pixels(png: bytes) -> int:
    """Pixels of the viewer's yellow marker (over white paper or black text) on a page image."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(((r > 200) & (g > 150) & (g < 235) & (b < 150)).sum())


def test_a_citation_opens_the_cited_page_with_the_passage_marked(browser, regulation_app):
    app, expected = regulation_app
    _, page_number, _ = expected["第七条"]
    assert page_number > 1  # the test means something only if the passage is not on the first page
    with desktop_tab(browser) as page:
        open_chat(page, app.url)
        answer = ask_in_chat(page, QUESTION)
        assert "一千八百元" in answer, answer
        citation = bot_messages(page).last.get_by_role("link", name=re.compile(r"^\[\d\]$")).first
        with page.context.expect_page() as opened:
            citation.click()  # the [n] in the answer itself
        viewer = opened.value
        viewer.wait_for_load_state()
        assert "/view?chunk=" in viewer.url and viewer.url.endswith("#passage")

        assert "示范市就业见习管理办法" in viewer.locator("h1").inner_text()
        where = viewer.locator("#section-path").inner_text()
        assert "第三章 见习单位与补贴" in where and "第七条" in where and f"第{page_number}页" in where, where
        assert "一千八百元" in viewer.locator("#passage mark").inner_text()
        neighbours = viewer.locator(".chunk.neighbour").all_inner_texts()
        assert any("第六条" in n for n in neighbours) and any("第八条" in n for n in neighbours), neighbours

        image = viewer.locator("#page-image")
        assert f"/pages/{page_number}?chunk=" in image.get_attribute("src")
        viewer.wait_for_function("document.querySelector('#page-image').naturalWidth > 0")
        shown = viewer.request.get(app.url + image.get_attribute("src"))
        assert shown.status == 200 and shown.headers["content-type"] == "image/png"
        assert shown.headers["x-passage-marked"] == "1"
        assert marked_pixels(shown.body()) > 2000  # the passage's lines are marked
        unmarked = viewer.request.get(app.url + image.get_attribute("src").split("?")[0])
        assert marked_pixels(unmarked.body()) < 50  # the same page without a passage: no marker

        download = viewer.locator("#download").get_attribute("href")
        response = viewer.request.get(app.url + download)
        assert response.status == 200 and response.body().startswith(b"%PDF")
        assert "attachment" in response.headers["content-disposition"]

        viewer.get_by_role("link", name="上一页").click()
        viewer.locator("figcaption", has_text=f"原文第 {page_number - 1} 页").wait_for()
        assert "引用的段落不在此页" in viewer.locator("figcaption").inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        viewer.go_back()
        viewer.locator("#page-image").wait_for()
        viewer.wait_for_function("document.querySelector('#page-image').naturalWidth > 0")
        viewer.evaluate("window.scrollTo(0, 0)")
        viewer.screenshot(path=str(SCREENSHOTS / "viewer.png"), full_page=False)

        # the source card under the answer leads to the same place
        card = open_sources(page).filter(has_text="第七条").first
        assert app.url + card.get_by_role("link", name="查看原文位置").get_attribute("href") == viewer.url


def test_the_viewer_serves_only_indexed_documents(browser, regulation_app):
    app, _ = regulation_app
    context = browser.new_context()
    try:
        request = context.request
        for path in ("/documents/0000000000000000/view", "/documents/..%2F..%2Fetc%2Fpasswd/view",
                     "/documents/0000000000000000/pages/1", "/documents/x/view?chunk=%3Cscript%3E"):
            response = request.get(app.url + path)
            assert response.status == 404, path
            assert "<script>" not in response.text().replace('<script nonce="', "")
        assert request.get(app.url + "/healthz").json()["documents"] >= 1  # while the app does serve documents
    finally:
        context.close()
