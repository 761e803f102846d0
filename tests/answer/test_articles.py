"""Article-level extractive answers: 《title》第X条, the answering sentence first, the article quoted."""

from __future__ import annotations

import pytest

from assistant.answer.chain import AnswerChain
from assistant.answer.citations import MARKER, citation_validity
from assistant.answer.prompts import Prompts

# Fictional: 示范省 and 样例市 do not exist.
PROVINCE_RULES = """示范省失业保险条例
第一章 总则
第一条 为了保障失业人员失业期间的基本生活,制定本条例。
第二条 本省行政区域内的用人单位及其职工依照本条例参加失业保险。
第二章 失业保险待遇
第十条 失业人员累计缴费时间满一年不足五年的,领取失业保险金的期限最长为十二个月;累计缴费时间满五年不足十年的,领取失业保险金的期限最长为十八个月;累计缴费时间十年以上的,领取失业保险金的期限最长为二十四个月。
第十一条 失业保险金按照当地最低工资标准的百分之八十确定。
第十二条 失业人员在领取失业保险金期间患病就医的,可以按照规定申领医疗补助金。
"""
NATIONAL_RULES = """示范职业培训办法
第一条 为了规范职业培训,制定本办法。
第二条 职业培训机构应当与学员签订培训协议,明确培训内容、期限和费用。
第三条 用人单位应当按照职工工资总额的百分之一点五提取职工教育经费。
"""


@pytest.fixture
def settings(settings_for, tmp_path):
    """示范省 is fictional, so the gazetteer does not know it: listed as a local place, its regulation is local."""
    return settings_for(tmp_path, local_places=("示范省",))


@pytest.fixture
def chain(settings, retriever_over):
    retriever = retriever_over({"shifan_sheng_shiye.txt": PROVINCE_RULES, "shifan_peixun.txt": NATIONAL_RULES})
    return AnswerChain(retriever, settings.answer, Prompts.load(settings.paths.prompts_dir))


def _region_of(chain, title):
    docs = chain.retriever.index.complete_documents().values()
    return next(meta["region"] for meta in docs if meta["title"] == title)


def test_a_figure_question_opens_with_the_figure_and_quotes_the_article(chain):
    answer = chain.invoke("失业金最长能领多久?缴费满五年不足十年的")
    assert not answer.refused and answer.outcome == "answer"
    assert "《示范省失业保险条例》第十条" in answer.text
    quoted = [line for line in answer.text.splitlines() if line.startswith("> ")]
    assert quoted and quoted[0].startswith("> 第十条")
    assert "十八个月" in answer.text.split("依据")[0] or "十八个月" in quoted[0]
    valid, total = citation_validity(answer.text, [hit.chunk.text for hit in answer.sources])
    assert total and valid == total


def test_a_local_regulation_is_labelled_with_its_region(chain):
    region = _region_of(chain, "示范省失业保险条例")
    answer = chain.invoke("失业保险金按什么标准发")
    assert region and f"(地方规定·{region})" in answer.text, answer.text
    national = chain.invoke("职工教育经费按工资总额的多少提取")
    assert "《示范职业培训办法》第三条" in national.text and "地方规定" not in national.text.split("依据")[1]


def test_a_named_article_is_quoted_whole_and_unmarked(chain):
    answer = chain.invoke("示范省失业保险条例第十二条是怎么规定的")
    assert answer.sources[0].meta["section"].endswith("第十二条")
    assert "《示范省失业保险条例》第十二条" in answer.text and "**" not in answer.text
    assert [int(n) for n in MARKER.findall(answer.text)] == [1]


def test_an_article_that_does_not_exist_is_refused_as_such(chain):
    answer = chain.invoke("示范省失业保险条例第九十九条是怎么规定的")
    assert answer.refused and answer.to_json()["reason"] == "no_such_article"
    assert "第99条" in answer.text and "共12条" in answer.text and not answer.sources


def test_a_long_article_is_quoted_by_the_paragraph_that_answers(settings, retriever_over):
    filler = "".join(f"({n})按照规定办理第{n}项相关手续,提交相应材料;" for n in range(1, 20))
    long_rule = f"示范省就业服务条例\n第五条 公共就业服务机构应当提供下列服务:\n{filler}\n" \
                "失业人员办理失业登记后,可以在登记之日起三十日内申领求职补贴。\n"
    retriever = retriever_over({"long.txt": long_rule})
    chain = AnswerChain(retriever, settings.answer, Prompts.load(settings.paths.prompts_dir))
    answer = chain.invoke("失业登记后多少天内能申领求职补贴")
    assert "三十日" in answer.text and "……" in answer.text
    assert "第19项" not in answer.text  # the list the question does not ask about is left out
