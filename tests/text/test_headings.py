"""The heading grammar: each kind of heading at its level, and the three readings of it."""

from __future__ import annotations

import pytest

from assistant.text.headings import (
    ARTICLE_LEVEL,
    ARTICLE_MENTION,
    ARTICLE_START,
    REFERENCE_AFTER,
    heading_level,
    numeral_value,
    opens_like_heading,
    opens_with_heading_mark,
)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("第一编 总则", 1),
        ("第三章 就业服务", 1),
        ("第三章就业服务", 1),
        ("第二部分 申领条件", 1),
        ("第一节 一般规定", 2),
        ("一、适用范围", 4),
        ("(三)补贴标准", 5),
        ("2. 申请材料", 6),
        ("2、申请材料", 6),
        ("(1)身份证", 7),
        ("①身份证", 7),
    ],
)
def test_each_heading_kind_has_its_level(line, level):
    assert heading_level(line) == level
    assert opens_like_heading(line)  # a heading is never glued onto the line before it


@pytest.mark.parametrize("line", ["第三章、第四章的规定", "12.5万元", "2024年起施行", "就业见习补贴", "第十八条 失业人员"])
def test_text_that_is_not_a_section_heading_has_no_level(line):
    assert heading_level(line) is None


def test_articles_are_read_apart_from_the_levels():
    found = ARTICLE_START.match("第一百零二条 用人单位应当")
    assert found and numeral_value(found.group(1)) == 102 and ARTICLE_LEVEL == 3
    assert REFERENCE_AFTER.match("的规定") and REFERENCE_AFTER.match("第二款") and not REFERENCE_AFTER.match(" 用人单位")
    assert numeral_value(ARTICLE_MENTION.search("劳动合同法第四十七条怎么算").group(1)) == 47


@pytest.mark.parametrize("line", ["问:怎么申请?", "答:到窗口办理。", "附件1 申请表", "12.5万元以下的部分"])
def test_looser_openers_keep_a_line_apart(line):
    assert opens_like_heading(line) and heading_level(line) is None


def test_a_heading_mark_rules_out_a_title():
    assert opens_with_heading_mark("第一章 总则") and opens_with_heading_mark("一、总体要求") and opens_with_heading_mark("(2099年修订)")
    assert not opens_with_heading_mark("示范市就业见习管理办法")


@pytest.mark.parametrize(
    ("numeral", "value"), [("十", 10), ("十五", 15), ("二十", 20), ("一百零二", 102), ("两百", 200), ("一千零一", 1001), ("47", 47)]
)
def test_numerals(numeral, value):
    assert numeral_value(numeral) == value


def test_an_unreadable_numeral_is_none():
    assert numeral_value("三x") is None
