"""The refusal gate on real retrievals from the fictional corpus."""

from __future__ import annotations

import pytest

from assistant.retrieve.threshold import assess


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("北京最低工资标准是多少", "place"),
        ("示范市住房公积金贷款最多能贷多少", "other_domain"),
        ("示范市2100年的失业保险金标准是多少", "year"),
        ("示范市灵活就业人员交养老保险的缴费基数是多少", "no_figure"),
        ("能帮我代写一份见习补贴申请吗", "solicitation"),
    ],
)
def test_out_of_scope_questions_are_refused_for_the_right_reason(shifan_service, question, reason):
    result = shifan_service.retrieve(question)
    assert assess(result, shifan_service.settings.answer).reason == reason


@pytest.mark.parametrize(
    "question",
    ["见习补贴每月多少钱", "失业金最长能领多久", "领失业金期间医保谁来交", "退役军人就业有什么补贴"],
)
def test_in_scope_questions_pass(shifan_service, question):
    coverage = assess(shifan_service.retrieve(question), shifan_service.settings.answer)
    assert coverage.covered, coverage


def test_other_office_refusal_names_the_right_hotline(shifan_service):
    coverage = assess(shifan_service.retrieve("个人所得税起征点是多少"), shifan_service.settings.answer)
    assert coverage.reason == "other_domain" and "12366" in coverage.referral


def test_cached_pos_tags_are_jieba_s():
    from assistant.retrieve.threshold import _posseg, _tagged, content_words

    question = "示范市灵活就业人员交养老保险的缴费基数是多少"
    fresh = [(pair.word, pair.flag) for pair in _posseg().cut(question)]
    assert list(_tagged(question)) == fresh and list(_tagged(question)) == fresh
    assert content_words(question) == content_words(question) and ("基数", "n") in content_words(question)
    assert _tagged.cache_info().maxsize is not None  # bounded
