"""The quotable units of a chunk: the same texts for ingest (which embeds them ahead) and the answer path."""

from __future__ import annotations

from assistant.text.quotable import EMBEDDED_CHARS, MIN_SENTENCE, WHOLE_CHUNK_LIMIT, embedded_texts, quotables

ARTICLE = "第三条 见习补贴按每人每月1800元发放。见习期满留用的,另给予一次性奖励500元。"


def test_a_short_chunk_is_one_unit_whole_and_its_sentences_apart():
    assert [q.text for q in quotables(ARTICLE, WHOLE_CHUNK_LIMIT)] == [ARTICLE]
    assert [q.text for q in quotables(ARTICLE, 0)] == [
        "第三条 见习补贴按每人每月1800元发放。", "见习期满留用的,另给予一次性奖励500元。"]


def test_the_restated_question_is_dropped_and_the_answer_label_stripped():
    units = quotables("问:示范市见习补贴多少?\n答:每人每月1800元,按月发放。", 0)
    assert [q.text for q in units] == ["每人每月1800元,按月发放。"]


def test_a_table_row_comes_with_its_header_and_is_scored_without_it():
    (row,) = quotables("人员类别 | 补贴(元/人)\n持证残疾人 | 3000", 0)
    assert row.text == "人员类别 | 补贴(元/人)\n持证残疾人 | 3000"
    assert row.header == "人员类别 | 补贴(元/人)" and row.scored == row.embedded == "持证残疾人 | 3000"


def test_a_lead_in_keeps_its_list_items():
    (unit,) = quotables("申请见习补贴须提交以下材料:\n1.身份证复印件;\n2.见习协议。", 0)
    assert unit.text == "申请见习补贴须提交以下材料:\n1.身份证复印件;\n2.见习协议。"


def test_fragments_too_short_to_quote_are_left_out():
    assert all(len(q.text) >= MIN_SENTENCE for q in quotables("附则。" + ARTICLE, 0))
    assert "附则。" not in [q.text for q in quotables("附则。" + ARTICLE, 0)]


def test_embedded_texts_cover_both_ways_of_quoting_once_each_and_are_capped():
    texts = embedded_texts(ARTICLE)
    assert texts == [q.embedded for q in quotables(ARTICLE, 0)] + [ARTICLE]
    long = "。".join(f"第{k}项 示范市见习单位应当为见习人员购买人身意外伤害保险" for k in range(40)) + "。"
    assert max(map(len, embedded_texts("一句" * 200 + "。"))) == EMBEDDED_CHARS
    assert len(embedded_texts(long)) == len(set(embedded_texts(long)))
