"""The slot-based follow-up rewrite (the no-LLM path, and the check on the LLM's rewrite)."""

from __future__ import annotations

import pytest

from assistant.answer import followup
from assistant.retrieve.places import asked_places, not_places
from assistant.answer.followup import (
    RECENT_USER_TURNS,
    agrees,
    looks_like_follow_up,
    parse,
    rule_based_rewrite,
    small_talk,
    strip_small_talk,
    terms,
    thread,
)


def users(*turns: str) -> list[dict]:
    history = []
    for turn in turns:
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": "(回答略)"}]
    return history


# ---------------------------------------------------------------- the vocabularies, entry by entry


def _entries():
    for plural in ("groups", "employers", "topics", "asked"):
        kind = "asked" if plural == "asked" else plural.rstrip("s")
        for canonical, aliases in terms()[plural].items():
            for surface in [canonical, *(aliases or [])]:
                yield kind, canonical, str(surface)


@pytest.mark.parametrize(("kind", "canonical", "surface"), list(_entries()), ids=lambda v: str(v))
def test_every_vocabulary_entry_is_read_as_its_slot(kind, canonical, surface):
    (slot,) = parse(surface).slots
    assert (slot.kind, slot.value) == (kind, canonical)


@pytest.mark.parametrize("law", terms()["documents"])
def test_every_named_law_is_a_document(law):
    assert parse(f"{law}第三条怎么规定的").values() == {"document": law, "article": "第三条"}


@pytest.mark.parametrize("word", sorted(not_places()))
def test_words_that_end_like_places_are_not_places(word):
    assert "place" not in parse(f"{word}建设中有什么要求").values()
    assert not asked_places(f"{word}建设中有什么要求")


@pytest.mark.parametrize(("kind", "phrase"), [(k, p) for k, ps in terms()["small_talk"].items() for p in ps])
def test_every_small_talk_phrase_is_small_talk(kind, phrase):
    assert small_talk(phrase) == kind
    assert small_talk(f"{phrase}!") == kind


@pytest.mark.parametrize("head", terms()["heads"])
def test_every_head_noun_is_taken_over_by_a_bare_modifier(head):
    assert rule_based_rewrite("那税务呢?", users(f"先行区建设中财政{head}要做什么?")) == f"先行区建设中税务{head}要做什么?"


def test_a_surface_appears_under_one_slot_only():
    seen: dict[str, str] = {}
    for _kind, canonical, surface in _entries():
        assert seen.setdefault(surface, canonical) == canonical, surface


# ---------------------------------------------------------------- slots of single questions


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("郑州市农民工失业金能领多久?", {"place": "郑州市", "group": "农民工", "topic": "失业保险金", "asked": "多久"}),
        ("我在郑州市打工的,被辞退了怎么办", {"place": "郑州市", "group": "农民工", "topic": "解除劳动合同", "asked": "怎么申请"}),
        ("高校毕业生在示范市就业有哪些扶持?", {"group": "高校毕业生", "place": "示范市", "asked": "是什么"}),
        ("《河南省失业保险条例》第二十一条讲的什么?", {"document": "河南省失业保险条例", "article": "第二十一条"}),
        ("请问河南省失业保险条例第十条", {"document": "河南省失业保险条例", "article": "第十条"}),
        ("中小微企业稳岗返还比例", {"employer": "中小微企业", "topic": "稳岗返还", "asked": "多少"}),
        ("先行区建设中教育部门要做什么?", {"employer": "教育部门"}),
        ("劳务派遣工加班费找谁要", {"group": "劳务派遣工", "topic": "加班费", "asked": "找谁"}),
    ],
)
def test_slots_of_a_question(question, expected):
    assert parse(question).values() == expected


# ---------------------------------------------------------------- follow-ups


CONVERSATIONS = [
    # (history of user turns, follow-up, standalone question)
    (["高校毕业生在示范市就业有哪些扶持?"], "那退役军人呢?", "退役军人在示范市就业有哪些扶持?"),
    (["高校毕业生在示范市就业有哪些扶持?"], "那退伍軍人呢?", "退伍军人在示范市就业有哪些扶持?"),
    (["稳就业会上对农民工有什么说法?"], "那退伍的呢?", "稳就业会上对退役军人有什么说法?"),
    (["高校毕业生在示范市就业有哪些扶持?", "那退役军人呢?"], "那农民工呢?", "农民工在示范市就业有哪些扶持?"),
    (["先行区建设中教育部门要做什么?"], "財政部門呢?", "先行区建设中财政部门要做什么?"),
    (["先行区建设中财政部门要做什么?"], "那税务那边呢?", "先行区建设中税务部门要做什么?"),
    (["稳岗返还大型企业按什么比例返?"], "中小微企业呢?", "稳岗返还中小微企业按什么比例返?"),
    (["我考了中级工证书能领多少补贴?"], "那高级工呢?", "我考了高级工证书能领多少补贴?"),
    (["毕业生开个体户能领多少一次性创业补贴?"], "那我要是开公司呢?", "毕业生开公司能领多少一次性创业补贴?"),
    (["我交了6年失业保险,失业金能领多久?"], "要是交满12年了呢?", "我交了12年失业保险,失业金能领多久?"),
    (["见习期满后单位留用见习人员有奖励吗?"], "要是留用率到了八成呢?", "如果留用率到了八成,见习期满后单位留用见习人员有奖励吗?"),
    (["见习补贴每月多少钱"], "能领多久?", "见习补贴能领多久"),
    (["郑州市农民工失业保险金能领多久?"], "那怎么申请?", "郑州市农民工失业保险金怎么申请?"),
    (["全省稳就业工作推进会是谁主持的?"], "通报情况的又是谁?", "全省稳就业工作推进会通报情况的又是谁?"),
    (["失业后要满足哪些条件才能领取失业保险金?", "好的", "那能领多久?"], "每月发多少?", "失业保险金每月发多少"),
    (["河南省失业保险金能领多久?"], "那郑州呢?", "郑州失业保险金能领多久?"),
    (["《郑州市失业保险条例》里失业金能领多久?"], "那在上海呢?", "上海失业金能领多久?"),
    (["《河南省失业保险条例》第五条讲的什么?"], "第十条呢?", "《河南省失业保险条例》第十条讲的什么?"),
    (["《河南省失业保险条例》里失业保险金按什么标准发?"], "那《郑州市失业保险条例》呢?", "《郑州市失业保险条例》里失业保险金按什么标准发?"),
    (["《上海市劳动合同条例》里竞业限制最长多久?"], "那试用期呢?", "《上海市劳动合同条例》里试用期最长多久?"),
    (["郑州市劳务派遣工工伤怎么认定?"], "那加班费呢?", "郑州市劳务派遣工加班费怎么认定?"),
    (["一次性创业补贴标准是多少?"], "那退役军人呢?", "退役军人一次性创业补贴标准是多少?"),
    (["高校毕业生首次就业有什么一次性补贴?", "谢谢"], "好的,那退役军人呢?", "退役军人首次就业有什么一次性补贴?"),
    (["你好", "失业金能领多久?"], "那农民工呢?", "农民工失业金能领多久?"),
]


@pytest.mark.parametrize(("turns", "question", "standalone"), CONVERSATIONS, ids=[c[1] + "|" + c[0][-1] for c in CONVERSATIONS])
def test_a_follow_up_replaces_only_what_it_changes(turns, question, standalone):
    assert rule_based_rewrite(question, users(*turns)) == standalone


@pytest.mark.parametrize(
    "question",
    ["创业担保贷款个人最高能贷多少钱?", "《上海市劳动合同条例》对试用期怎么规定?", "郑州市失业保险金最长能领多久?"],
)
def test_a_new_question_stands_alone(question):
    assert not looks_like_follow_up(question)
    assert rule_based_rewrite(question, users("高校毕业生在示范市就业有哪些扶持?")) == question


def test_small_talk_is_never_merged():
    assert rule_based_rewrite("谢谢", users("失业金能领多久?")) == "谢谢"
    assert strip_small_talk("好的,那退役军人呢?") == "那退役军人呢?"
    assert strip_small_talk("失业金能领多久?谢谢!") == "失业金能领多久?"
    assert small_talk("可以吗?") == "" and small_talk("你好,失业金能领多久") == ""
    assert not looks_like_follow_up("你好")


def test_a_point_of_the_previous_answer_is_resolved():
    history = [
        {"role": "user", "content": "讲话里建设先行区要抓的四项具体工作是什么?"},
        {"role": "assistant", "content": "一是强化政策支持,二是优化公共服务,三是加强技能培训,四是创新工作机制。"},
    ]
    standalone = thread("第三点具体讲的啥?", history)
    assert "技能培训" in standalone.text and "第三点" not in standalone.text


def test_only_the_last_turns_are_read(monkeypatch):
    """Work is bounded: a 2,000-turn history costs what its last turns cost, and older turns do not leak in."""
    calls = []
    real_parse = followup.parse
    monkeypatch.setattr(followup, "parse", lambda text: calls.append(text) or real_parse(text))
    recent = ["失业保险金能领多久?", "那农民工呢?"]
    short = rule_based_rewrite("那怎么申请?", users(*recent))
    short_calls = len(calls)
    calls.clear()
    long_history = users(*(["北京的高校毕业生创业补贴有多少?"] * 1000), *recent)
    assert rule_based_rewrite("那怎么申请?", long_history) == short == "农民工失业保险金怎么申请?"
    assert len(calls) <= short_calls + 2 * RECENT_USER_TURNS
    assert not any("北京" in text for text in calls[-short_calls:])


def test_a_malformed_history_is_read_as_far_as_it_goes():
    history = [None, {"role": "user"}, {"role": "user", "content": None}, "x", {"role": "user", "content": "失业金能领多久?"}]
    assert rule_based_rewrite("那农民工呢?", history) == "农民工失业金能领多久?"


def test_another_rewrite_must_keep_the_same_slots():
    ruled = thread("那退役军人呢?", users("高校毕业生在示范市就业有哪些扶持?"))
    assert agrees("示范市的退役军人就业有哪些扶持政策?", ruled)
    assert not agrees("示范市高校毕业生和退役军人就业有哪些扶持?", ruled)  # the old group mixed in
    assert not agrees("退役军人就业有哪些扶持?", ruled)  # the place lost
