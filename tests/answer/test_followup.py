"""Rule-based follow-up rewriting (the no-LLM path)."""

from __future__ import annotations

from assistant.answer.followup import looks_like_follow_up, rule_based_rewrite

GRADUATES = [
    {"role": "user", "content": "高校毕业生在示范市就业有哪些扶持?"},
    {"role": "assistant", "content": "离校2年内的高校毕业生……"},
]


def test_group_swap():
    assert rule_based_rewrite("那退役军人呢?", GRADUATES) == "退役军人在示范市就业有哪些扶持?"


def test_traditional_follow_up():
    assert rule_based_rewrite("那退伍軍人呢?", GRADUATES) == "退伍军人在示范市就业有哪些扶持?"


def test_new_aspect_keeps_the_old_topic():
    history = [{"role": "user", "content": "见习补贴每月多少钱"}]
    rewritten = rule_based_rewrite("能领多久?", history)
    assert "见习补贴" in rewritten and "多久" in rewritten


def test_chained_follow_ups_use_the_latest_topic():
    history = GRADUATES + [{"role": "user", "content": "那退役军人呢?"}, {"role": "assistant", "content": "……"}]
    assert rule_based_rewrite("那农民工呢?", history) == "农民工在示范市就业有哪些扶持?"


def test_standalone_questions_are_left_alone():
    question = "创业担保贷款个人最高能贷多少钱?"
    assert not looks_like_follow_up(question)
    assert rule_based_rewrite(question, GRADUATES) == question
