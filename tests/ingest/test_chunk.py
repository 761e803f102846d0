"""Chunker: the document's own structure decides the chunks, and no chunk passes the cap."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from assistant.ingest.chunk import chunk_document
from assistant.ingest.models import DocumentMeta, Paragraph

HANZI = re.compile(r"[\u4e00-\u9fff]")


def doc(title: str = "示范市就业见习管理办法") -> DocumentMeta:
    return DocumentMeta(doc_id="d1", title=title, source="banfa.txt", content_hash="h")


def paragraphs(*texts: str, page: int | None = None) -> list[Paragraph]:
    return [Paragraph(t, page) for t in texts]


def hanzi_lost(source: list[Paragraph], chunks) -> Counter:
    want = Counter(HANZI.findall("".join(p.text for p in source)))
    return want - Counter(HANZI.findall("".join(c.indexed_text for c in chunks)))


REGULATION = paragraphs(
    "第一章 总则",
    "第一条 为规范示范市就业见习工作,制定本办法。",
    "第二条 本办法适用于示范市行政区域内的就业见习活动。",
    "第二章 见习对象",
    "第三条 下列人员可以参加就业见习:",
    "(一)离校两年内未就业的高校毕业生;",
    "(二)十六至二十四周岁的登记失业青年。",
    "第四条 每名见习人员只能享受一次见习补贴。",
)


def test_one_article_per_chunk_with_chapter_in_the_section():
    chunks = chunk_document(doc(), REGULATION, 500)
    assert [c.section for c in chunks] == [
        "第一章 总则 > 第一条",
        "第一章 总则 > 第二条",
        "第二章 见习对象 > 第三条",
        "第二章 见习对象 > 第四条",
    ]
    assert chunks[2].text == "第三条 下列人员可以参加就业见习:\n(一)离校两年内未就业的高校毕业生;\n(二)十六至二十四周岁的登记失业青年。"
    assert all("第一章" not in c.text and "第二章" not in c.text for c in chunks)


def test_indexed_text_carries_title_and_section():
    chunk = chunk_document(doc(), REGULATION, 500)[3]
    assert chunk.indexed_text == "【示范市就业见习管理办法 | 第二章 见习对象 > 第四条】\n第四条 每名见习人员只能享受一次见习补贴。"


def test_question_and_answer_stay_together():
    source = paragraphs(
        "问:见习补贴标准是多少?",
        "答:每人每月1800元。",
        "问:见习期限多长?",
        "答:3至12个月。",
        "其中高校毕业生可以适当延长。",
    )
    chunks = chunk_document(doc("示范市见习政策问答"), source, 500)
    assert [c.text for c in chunks] == [
        "问:见习补贴标准是多少?\n答:每人每月1800元。",
        "问:见习期限多长?\n答:3至12个月。\n其中高校毕业生可以适当延长。",
    ]
    assert chunks[0].section == "问:见习补贴标准是多少"


def test_numbered_headings_nest():
    source = paragraphs(
        "一、创业担保贷款",
        "(一)贷款额度",
        "个人创业担保贷款最高额度为30万元。",
        "(二)贷款期限",
        "贷款期限最长不超过3年。",
        "二、创业补贴",
        "首次创业的给予一次性创业补贴5000元。",
    )
    chunks = chunk_document(doc(), source, 500)
    assert [(c.section, c.text) for c in chunks] == [
        ("一、创业担保贷款 > (一)贷款额度", "个人创业担保贷款最高额度为30万元。"),
        ("一、创业担保贷款 > (二)贷款期限", "贷款期限最长不超过3年。"),
        ("二、创业补贴", "首次创业的给予一次性创业补贴5000元。"),
    ]


def test_list_items_with_sentences_stay_in_their_section():
    source = paragraphs(
        "一、申请材料",
        "1. 一次性创业补贴申请表;",
        "2. 申请人身份证件;",
        "3. 营业执照。",
    )
    chunks = chunk_document(doc(), source, 500)
    assert len(chunks) == 1
    assert chunks[0].section == "一、申请材料"
    assert chunks[0].text == "1. 一次性创业补贴申请表;\n2. 申请人身份证件;\n3. 营业执照。"


def test_chunks_keep_the_page_they_start_on():
    source = [
        Paragraph("第一条 为规范示范市就业见习工作,制定本办法。", 1),
        Paragraph("第二条 本办法适用于示范市。", 2),
        Paragraph("第三条 本办法自2099年1月1日起施行。", 3),
    ]
    assert [c.page for c in chunk_document(doc(), source, 500)] == [1, 2, 3]


@pytest.mark.parametrize("cap", [80, 120, 200, 500])
def test_long_article_is_split_under_the_cap_without_losing_text(cap):
    article = "第五条 " + "见习单位应当按月向见习人员发放基本生活费,标准不低于本市最低工资标准。" * 20
    unpunctuated = "见习补贴" * 200  # no sentence or clause end anywhere: cut at the cap
    source = paragraphs("第一章 总则", article, unpunctuated)
    chunks = chunk_document(doc(), source, cap)
    assert len(chunks) > 2
    assert all(len(c.indexed_text) <= cap for c in chunks)
    assert not hanzi_lost(source, chunks)


def test_long_title_and_deep_path_still_fit_the_cap():
    source = paragraphs(
        "第一编 总则",
        "第一章 一般规定",
        "第一节 适用范围",
        "一、适用对象",
        "(一)高校毕业生",
        "1. 离校两年内",
        "(1)未就业的毕业生",
        "见习补贴标准为每人每月1800元。",
    )
    chunks = chunk_document(doc("示范市" * 40), source, 80)
    assert chunks and all(len(c.indexed_text) <= 80 for c in chunks)


def test_chunk_ids_are_unique_and_stable():
    first = chunk_document(doc(), REGULATION, 500)
    again = chunk_document(doc(), REGULATION, 500)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    assert [c.ordinal for c in first] == list(range(len(first)))


def test_long_heading_keeps_its_words():
    """A heading line longer than a section label may hold must stay in the text, not be cut to `…`."""
    heading = "一、关于进一步做好示范市高校毕业生和失业青年就业见习补贴申领发放工作的有关事项说明"
    source = paragraphs(heading, "见习补贴按月发放。")
    chunks = chunk_document(doc(), source, 500)
    assert "…" in chunks[0].section
    assert chunks[0].text == heading + "\n见习补贴按月发放。"
    assert not hanzi_lost(source, chunks)


@pytest.mark.parametrize("cap", [80, 100, 150])
def test_headings_cut_from_a_long_path_stay_in_the_text(cap):
    """A small cap shortens the printed section path; the headings it drops must then be body text."""
    source = paragraphs(
        "第一章 示范市高校毕业生就业见习",
        "第一节 见习单位的认定与管理",
        "一、见习单位的认定条件",
        "(一)依法登记并正常经营一年以上",
        "见习补贴标准为每人每月1800元。",
    )
    chunks = chunk_document(doc(), source, cap)
    assert not hanzi_lost(source, chunks)
    assert all(len(c.indexed_text) <= cap for c in chunks)


def test_repeated_heading_is_not_swallowed():
    source = paragraphs("第一章 总则", "第一章 总则", "第一条 本办法适用于示范市。")
    chunks = chunk_document(doc(), source, 500)
    assert not hanzi_lost(source, chunks)
    assert chunks[-1].section == "第一章 总则 > 第一条"
