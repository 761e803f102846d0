"""Guards every answer passes through: markers, solicitation, unsupported figures."""

from __future__ import annotations

from assistant.answer.citations import check_answer, citation_validity, normalize_markers

SOURCES = [
    "第十三条 见习单位按每人每月1800元的标准申领见习补贴。",
    "个人创业担保贷款最高额度为30万元。",
]


def test_markers_pointing_nowhere_are_removed_and_variants_unified():
    assert normalize_markers("补贴1800元[1][3]。贷款30万元【2】。", 2) == "补贴1800元[1]。贷款30万元[2]。"
    assert normalize_markers("见[1,2]和[0]", 2) == "见[1][2]和"


def test_solicitation_and_contacts_never_reach_the_user():
    text = "见习补贴每月1800元[1]。加微信 abc12345 代办补贴,包过。也可拨打13912345678咨询。"
    checked = check_answer(text, SOURCES)
    assert "微信" not in checked.text and "13912345678" not in checked.text
    assert "1800元[1]" in checked.text and len(checked.dropped) == 2


def test_hotline_12333_is_allowed():
    assert "12333" in check_answer("详情请拨打12333咨询。", SOURCES).text


def test_a_figure_its_source_does_not_contain_is_dropped():
    checked = check_answer("见习补贴每月2000元[1]。贷款最高30万元[2]。", SOURCES)
    assert "2000元" not in checked.text and "30万元[2]" in checked.text
    assert checked.cited == [2]
    assert any("2000元" in d for d in checked.dropped)


def test_citation_validity_counts_sentences_contained_in_their_source():
    answer = "• 第十三条 见习单位按每人每月1800元的标准申领见习补贴[1]。\n• 个人创业担保贷款最高额度为50万元[2]。"
    assert citation_validity(answer, SOURCES) == (1, 2)


def test_figures_are_compared_by_value_not_as_substrings():
    """Issue 10: '每月1,900元' passed against a source saying 2900元; '1800元' was dropped against '一千八百元'."""
    wrong = check_answer("见习补贴每月1,900元[1]。", ["见习补贴标准为每人每月2900元。"])
    assert wrong.text == "" and "1900元" in wrong.dropped[0]
    right = check_answer("见习补贴每月1800元[1]。", ["见习补贴标准为每人每月一千八百元。"])
    assert right.text == "见习补贴每月1800元[1]。" and right.dropped == []
    assert check_answer("最长可领取二十四个月[1]。", ["最长领取24个月。"]).dropped == []
    assert check_answer("最长可领取24年[1]。", ["最长领取24个月。"]).dropped  # same number, other unit


def test_a_documents_own_numbering_is_never_a_citation():
    """'(3)' or '(3)' in a quoted source is the document's item number, not a pointer to source 3."""
    sources = ["第五条 有下列情形之一的,可以申请补贴:(3)离校两年内未就业的;(4)登记失业的。", "其他", "第三份"]
    quoted = "• 第五条 有下列情形之一的,可以申请补贴:(3)离校两年内未就业的[1];"
    assert check_answer(quoted, sources, from_model=False).text == quoted
    assert check_answer(quoted, sources, from_model=False).cited == [1]
    assert normalize_markers("见(3)和(2)项[1]。", 3) == "见(3)和(2)项[1]。"  # a model quoting them too
    assert check_answer("【3】第三份[2]。", sources, from_model=False).text == "【3】第三份[2]。"
