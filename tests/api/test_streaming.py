"""What a streaming API client is shown: sentence pieces, and LLM tokens gated by the answer guards."""

from __future__ import annotations

import pytest

from assistant.api.streaming import SentenceGate, pieces

SOURCES = ["见习单位应当为见习人员购买人身意外伤害保险。", "见习补贴标准为每人每月1800元。"]


@pytest.mark.parametrize("text", [
    "根据已收录文件的原文,相关规定如下:\n• 第一句[1]。\n• 第二句;第三句[2]。\n以上内容摘自文件原文。",
    "没有句号的一段话",
    "",
    "问句?“引号。”\n\n空行之后",
])
def test_pieces_join_back_to_the_text(text):
    parts = pieces(text)
    assert "".join(parts) == text
    assert all(parts)


def test_pieces_are_sentences():
    assert pieces("第一句[1]。第二句[2]!\n第三行") == ["第一句[1]。", "第二句[2]!\n", "第三行"]


def feed_all(gate: SentenceGate, tokens: list[str]) -> list[str]:
    return [text for text in (gate.feed(token) for token in tokens) if text]


def test_a_sentence_is_sent_once_complete_and_cited():
    gate = SentenceGate(SOURCES)
    sent = feed_all(gate, ["见习单位应当", "购买意外伤害保险", "[1]", "。", "补贴为每人每月", "1800元[2]", "。"])
    assert sent == ["见习单位应当购买意外伤害保险[1]。", "补贴为每人每月1800元[2]。"]
    assert gate.finish("见习单位应当购买意外伤害保险[1]。补贴为每人每月1800元[2]。") == []


def test_nothing_is_sent_before_the_answer_cites_a_source():
    gate = SentenceGate(SOURCES)
    assert feed_all(gate, ["我来回答", "这个问题。", "根据规定"]) == []
    assert feed_all(gate, [",见习单位应当购买保险[1]。"]) == ["我来回答这个问题。根据规定,见习单位应当购买保险[1]。"]


def test_a_sentence_with_a_figure_its_source_lacks_is_never_sent():
    gate = SentenceGate(SOURCES)
    sent = feed_all(gate, ["见习单位应当购买保险[1]。", "补贴为每人每月", "9999元[2]。", "具体以当地规定为准[1]。"])
    assert "".join(sent) == "见习单位应当购买保险[1]。具体以当地规定为准[1]。"
    assert not any("9999" in text for text in sent)


def test_token_size_does_not_change_what_is_sent():
    """Character by character (as small models stream Chinese) or a sentence at a time: the same text."""
    from assistant.answer.citations import check_answer

    answer = "根据规定,“见习单位应当购买保险。”[1]\n补贴为每人每月9999元[2]。\n\n补贴按月发放[2]!其余以当地为准。"
    by_char, by_sentence = SentenceGate(SOURCES), SentenceGate(SOURCES)
    sent_by_char = "".join(feed_all(by_char, list(answer)))
    sent_by_sentence = "".join(feed_all(by_sentence, pieces(answer)))
    assert sent_by_char == sent_by_sentence == check_answer(answer, SOURCES).text
    assert "9999" not in sent_by_char


def test_markers_that_point_nowhere_are_removed_before_sending():
    gate = SentenceGate(SOURCES)
    assert feed_all(gate, ["见习单位应当购买保险[1][7]。"]) == ["见习单位应当购买保险[1]。"]


def test_the_final_answer_completes_what_was_sent():
    gate = SentenceGate(SOURCES)
    feed_all(gate, ["见习单位应当购买保险[1]。", "补贴按月"])
    assert gate.finish("见习单位应当购买保险[1]。补贴按月发放[2]。") == ["补贴按月发放[2]。"]
    assert gate.sent == "见习单位应当购买保险[1]。补贴按月发放[2]。"


def test_a_replaced_answer_follows_what_was_sent_after_its_notice():
    """The LLM failed after one cited sentence: the chain answers from the sources' own words instead."""
    gate = SentenceGate(SOURCES)
    feed_all(gate, ["见习单位应当购买保险[1]。", "然后"])
    notice = "(提示:大模型服务暂时不可用,以下为从文件原文中直接摘录的答案。)"
    final = "根据已收录文件的原文:\n• 见习补贴标准为每人每月1800元[2]。"
    rest = gate.finish(final, notice)
    assert "".join(rest) == f"\n\n{notice}\n{final}"
    assert gate.sent == "见习单位应当购买保险[1]。" + "".join(rest)


def test_an_extractive_answer_is_sent_in_pieces():
    gate = SentenceGate([])
    final = "根据已收录文件的原文:\n• 第一句[1]。\n• 第二句[2]。\n如需确认,可拨打12333。"
    rest = gate.finish(final)
    assert len(rest) == 4 and "".join(rest) == final


def test_a_slow_step_sends_keep_alive_comments(api_client_for, monkeypatch):
    """While the answer takes long (an LLM writing, a sentence held back), the stream stays busy."""
    import time

    import assistant.api.openai_compat as openai_compat

    monkeypatch.setattr(openai_compat, "KEEPALIVE_S", 0.2)
    client = api_client_for()
    real = client.app_service.ask_stream

    def slow(*args, **kwargs):
        for event in real(*args, **kwargs):
            if event["type"] == "final":
                time.sleep(1.0)
            yield event

    monkeypatch.setattr(client.app_service, "ask_stream", slow)
    body = {"model": "employment-policy-assistant", "stream": True,
            "messages": [{"role": "user", "content": "示范市见习补贴每人每月多少钱?"}]}
    lines = client.post("/v1/chat/completions", json=body).text.splitlines()
    data = [line for line in lines if line.startswith("data: ")]
    assert lines.count(": keep-alive") >= 2
    assert data[-1] == "data: [DONE]" and '"finish_reason": "stop"' in data[-2]
