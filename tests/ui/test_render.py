"""Text from documents, models and users is shown as text in the chat bubble (unit level; the browser test in
tests/ui/test_security_browser.py checks what Gradio really renders)."""

from __future__ import annotations

import html as html_module
import re

import pytest
from markdown_it import MarkdownIt

from assistant.ui.render import answer_markdown, escape_markdown

HOSTILE = [
    '<form action="https://evil.example/collect"><input name="身份证号" placeholder="请输入身份证号"></form>',
    '<img src="https://tracker.example/pixel.gif">',
    '<a href="https://evil.example">点击领取补贴</a>',
    "[点击领取补贴](https://evil.example/phish)",
    "![](https://tracker.example/pixel.gif)",
    "<https://evil.example/auto>",
    "[1](https://evil.example/cite) [2]: https://evil.example/ref",
    "[领取][r]\n\n[r]: https://evil.example/ref",
    "**加粗** `代码` ~~删除~~\n# 标题",
    "<script>alert(1)</script><svg onload=alert(1)>",
    "&lt;form&gt; 已转义的实体",
]


def rendered(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(escape_markdown(text))


PRESENTATIONAL = {"p", "strong", "em", "blockquote", "br"}  # what an answer's own Markdown makes; none is live


@pytest.mark.parametrize("text", HOSTILE)
def test_nothing_from_a_document_becomes_live_markup(text):
    html = rendered(text)
    assert set(re.findall(r"<([a-z0-9]+)", html)) <= PRESENTATIONAL, html


def test_text_reads_as_typed():
    for text in HOSTILE:
        if "**" in text:
            continue  # bold marks are kept as Markdown (an article's answering sentence)
        shown = re.sub(r"</?p>", "", rendered(text))
        assert html_module.unescape(shown).split() == text.split(), (text, shown)


def test_an_articles_quote_keeps_its_markdown_and_loses_the_documents():
    answer = ("依据:\n《示范市就业见习管理办法》第七条:\n> 第七条 **见习补贴每人每月1800元**,<img src=https://t.example/p>"
              "详见 https://phish.example [1]。")
    html = rendered(answer)
    assert "<blockquote>" in html and "<strong>见习补贴每人每月1800元</strong>" in html
    assert "<img" not in html and "href" not in html


def test_citation_markers_stay_literal_and_cannot_become_links():
    assert escape_markdown("补贴每月1800元[1],最长6个月[2][3]。") == "补贴每月1800元[1],最长6个月[2][3]。"
    assert "href" not in rendered("见[1](https://evil.example)。")
    assert "href" not in rendered("[1]: https://evil.example\n\n见[1]。")


def test_bare_urls_and_e_mails_are_broken_for_autolinking():
    escaped = escape_markdown("访问 https://evil.example 或 www.evil.example,邮件 a@evil.example")
    assert "https://" not in escaped and "www." not in escaped and "@" not in escaped


def test_only_the_apps_own_markup_is_live_in_the_bubble():
    answer = {"answer": "<b>假</b>通知 [1]", "notice": "<img src=x>", "refused": False, "sources": [{}]}
    html = MarkdownIt("commonmark", {"html": True}).render(answer_markdown(answer))
    assert "<sub>共引用 1 处文件原文" in html and "<blockquote>" in html  # ours
    assert "<b>" not in html and "<img" not in html  # theirs, as text
