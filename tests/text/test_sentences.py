"""Sentence splitting."""

from __future__ import annotations

from assistant.text.sentences import split_sentences


def test_sentences_keep_their_marks_and_closing_quotes():
    text = "申请人应当提交材料。“逾期不予受理。”可以补正吗?可以;限期五日 最后一句"
    assert split_sentences(text) == ["申请人应当提交材料。", "“逾期不予受理。”", "可以补正吗?", "可以;", "限期五日 最后一句"]


def test_blank_text_has_no_sentences():
    assert split_sentences("  ") == []
