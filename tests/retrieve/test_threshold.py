"""The answer / hedge / refuse decision on real retrievals from the fictional corpus."""

from __future__ import annotations

import pytest

from assistant.retrieve.threshold import assess


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("北京最低工资标准是多少", "place"),
        ("示范市住房公积金贷款最多能贷多少", "other_domain"),
        ("示范市2100年的失业保险金标准是多少", "year"),
        ("2098年示范市见习补贴每月多少钱?", "year"),
        ("能帮我代写一份见习补贴申请吗", "solicitation"),
        ("多少钱", "unclear"),  # names nothing: no figure answers it
        ("《示范市养老保险条例》第三条怎么规定的", "no_such_document"),
        ("示范市高校毕业生就业见习管理办法第九十九条", "no_such_article"),
    ],
)
def test_out_of_scope_questions_are_refused_for_the_right_reason(shifan_service, question, reason):
    result = shifan_service.retrieve(question)
    coverage = assess(result, shifan_service.settings.answer)
    assert (coverage.outcome, coverage.reason) == ("refuse", reason), coverage


def test_a_named_article_leads_and_a_missing_one_says_how_many_there_are(shifan_service):
    named = shifan_service.retrieve("示范市高校毕业生就业见习管理办法第五条")
    assert named.target.article == 5 and named.target.article_found
    assert named.chunks[0].meta["section"].endswith("第五条")
    assert named.target.doc_ids and {hit.meta["doc_id"] for hit in named.chunks} == set(named.target.doc_ids)
    missing = assess(shifan_service.retrieve("示范市高校毕业生就业见习管理办法第九十九条"), shifan_service.settings.answer)
    assert missing.article == 99 and missing.last_article >= 5


@pytest.mark.parametrize(
    "question",
    ["见习补贴每月多少钱", "失业金最长能领多久", "领失业金期间医保谁来交", "退役军人就业有什么补贴",
     "2099年示范市见习补贴每月多少钱?"],
)
def test_in_scope_questions_pass(shifan_service, question):
    coverage = assess(shifan_service.retrieve(question), shifan_service.settings.answer)
    assert coverage.covered, coverage


def test_other_office_refusal_names_the_right_hotline(shifan_service):
    coverage = assess(shifan_service.retrieve("个人所得税起征点是多少"), shifan_service.settings.answer)
    assert coverage.reason == "other_domain" and "12366" in coverage.referral


def test_cached_pos_tags_are_jieba_s():
    from assistant.retrieve.query import content_words
    from assistant.text.lexicon import _pos_tokenizer, pos_tagged

    question = "示范市灵活就业人员交养老保险的缴费基数是多少"
    fresh = [(pair.word, pair.flag) for pair in _pos_tokenizer().cut(question)]
    assert list(pos_tagged(question)) == fresh and list(pos_tagged(question)) == fresh
    assert content_words(question) == content_words(question) and ("基数", "n") in content_words(question)
    assert pos_tagged.cache_info().maxsize is not None  # bounded


# ---------------------------------------------------------------- the amount check (no_figure)


@pytest.mark.parametrize(
    "question",
    [
        "示范市灵活就业人员交养老保险的缴费基数是多少",  # the documents speak of it, give no 基数
        "见习单位的带教老师每月补贴比例是多少",  # a ratio is asked; the 补贴 figures nearby are 元
        "讲话里说要加大资金投入,具体投多少钱",  # the topic is in the earlier clause; no sentence gives it a sum
    ],
)
def test_amount_questions_without_a_figure_of_the_asked_kind_are_hedged(shifan_service, question):
    """Not refused: the documents do speak of it; the answer quotes them and says the figure is not stated."""
    coverage = assess(shifan_service.retrieve(question), shifan_service.settings.answer)
    assert (coverage.outcome, coverage.reason) == ("hedge", "not_stated"), coverage


@pytest.mark.parametrize(
    "question",
    [
        "考了个中级电工证能补多少钱",  # the text says 中级工(四级)证书 … 1500元
        "见习一般能干几个月",  # 能干 is not the topic; 见习期限一般为3至12个月
        "下回招聘会是哪天",  # a date question is answered by a date
    ],
)
def test_amount_questions_worded_loosely_pass(shifan_service, question):
    coverage = assess(shifan_service.retrieve(question), shifan_service.settings.answer)
    assert coverage.covered, coverage


@pytest.mark.parametrize(
    ("question", "evidence", "topic"),
    [
        ("公益性岗位能干几年", "", "公益性岗位"),
        ("医保报销比例是多少", "", "报销"),
        ("示范市最低工资标准是多少", "", "最低工资"),
        ("讲话说要加大资金投入,具体投多少钱", "", "资金投入"),
        ("见习能拿多少钱一个月", "见习单位", "见习"),
        ("考了个中级电工证能补多少钱", "", "中级电工证"),
        ("见习期间单位每个月至少得给我发多少钱", "", ""),  # who pays is not what: no noun names the thing
        ("多少钱", "", ""),
        ("工伤认定申请要在多长时间内提出", "", "工伤"),  # a duration phrase is what is asked, not the topic
    ],
)
def test_what_an_amount_is_asked_about(question, evidence, topic):
    from assistant.retrieve.query import asks_amount
    from assistant.retrieve.threshold import _asked_about

    assert _asked_about(question, asks_amount(question).start(), evidence) == topic


@pytest.mark.parametrize("question", ["最低工资标准由谁来定", "失业保险金标准由哪个部门确定", "加班费怎么算"])
def test_questions_about_who_or_how_are_not_amount_questions(question):
    from assistant.retrieve.query import asks_amount

    assert asks_amount(question) is None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("返乡创业能补多少钱", "money"),
        ("医保报销比例是多少", "ratio"),
        ("公益性岗位能干几年", "duration"),
        ("申请见习要多大年龄", "age"),
        ("招聘会是哪天", "date"),
        ("一年能领几次", ""),
        ("失业保险金标准是多少", "money+ratio"),  # 标准 may be a sum or a share of 最低工资
        ("单位要按工资的多大比例缴费", "ratio"),  # 多大 before 比例 is not an age
    ],
)
def test_kind_of_figure_asked(question, kind):
    from assistant.retrieve.query import amount_kind

    assert amount_kind(question) == kind


@pytest.mark.parametrize(
    ("sentence", "term", "expected"),
    [
        ("(一)返乡入乡创业一次性补贴为每户5000元。", "返乡创业", True),
        ("取得中级工(四级)证书的补贴1500元。", "中级电工证", True),
        ("公益性岗位安置期限最长不超过3年。", "公益性岗位", True),
        ("在本市依法参加失业保险并足额缴费满12个月的企业。", "失业保险金", False),  # the head 金 is missing
        ("按实际缴费额的2/3给予补贴。", "缴费基数", False),
    ],
)
def test_mentions_tolerates_inserted_characters_not_a_different_head(sentence, term, expected):
    from assistant.retrieve.threshold import mentions

    assert mentions(sentence, term) is expected


def _hits(*texts, title="", section=""):
    from types import SimpleNamespace

    return [SimpleNamespace(chunk=SimpleNamespace(text=t), meta={"title": title, "section": section}) for t in texts]


def test_dates_and_years_are_not_amounts():
    from assistant.retrieve.threshold import _figure_for

    speech = _hits("5月20日,推进会在太原召开。要加大资金投入,2099年设立专项资金。")
    assert not _figure_for("资金投入", speech, "")
    assert not _figure_for("资金投入", speech, "money")
    assert _figure_for("推进会", speech, "date")
    assert not _figure_for("政策", _hits("本办法自2099年1月1日起施行,有效期3年。"), "")  # 政策 not named
    assert _figure_for("办法", _hits("本办法自2099年1月1日起施行,有效期3年。"), "duration")  # 3年 is a span


def test_the_figure_must_be_of_the_asked_kind():
    from assistant.retrieve.threshold import _figure_for

    insurance = _hits("基本医疗保险每人每月补贴160元。", "中小微企业按上年度实际缴纳失业保险费的60%返还。")
    assert _figure_for("医保", insurance, "money")  # 医保 -> 医疗保险 (synonym)
    assert not _figure_for("医保", insurance, "ratio")
    assert not _figure_for("医保", insurance, "duration")
    table = _hits("人员类别\n一次性吸纳就业补贴(元/人)\n退役军人\n2500")
    assert _figure_for("退役军人", table, "money")  # the unit is in the table's header


def test_a_heading_names_what_its_answer_is_about():
    from assistant.retrieve.threshold import _figure_for

    answer = _hits("答:取得初级工(五级)证书的补贴1000元。", section="问:技能提升补贴发多少钱")
    assert _figure_for("技能提升补贴", answer, "money")
    assert not _figure_for("创业担保贷款", answer, "money")


def test_a_year_must_be_the_leading_document_s_not_any_evidence_s(settings, retriever_over):
    """Another document mentioning 2098 does not make the 2099 rule an answer about 2098."""
    retriever = retriever_over({
        "fanxiang.txt": "示范市2099年返乡创业补贴通知\n一、返乡入乡创业一次性补贴为每户5000元。\n二、2099年1月1日起执行。",
        "xina.txt": "示范市吸纳就业补贴通知\n一、吸纳高校毕业生的,每人补贴1500元。\n二、2098年发布的原标准(每人1000元)同时废止。",
    })

    def decision(question: str):
        return assess(retriever.retrieve(question), settings.answer)

    assert decision("2098年示范市返乡创业补贴标准是多少?").reason == "year"
    assert decision("2099年示范市返乡创业补贴标准是多少?").covered
