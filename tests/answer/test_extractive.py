"""The quoting backend keeps to the group of people asked about (fictional sentences of 示范市)."""

from assistant.answer.extractive import of_the_asked_group
from assistant.retrieve.evidence import Candidate

SENTENCES = [
    "示范市支持高校毕业生自主创业,给予一次性创业补贴。",
    "示范市拓宽退役军人就业渠道,退役士兵创业的给予场地支持。",
    "示范市鼓励返乡创业农民工创办小微企业。",
    "示范市推动以创新创业促进就业。",
    "用人单位应当保障劳动者的合法权益。",
]


def _candidates(texts=SENTENCES):
    return [Candidate(text, source_rank=1, position=i) for i, text in enumerate(texts)]


def _texts(candidates):
    return [c.text for c in candidates]


def test_sentences_about_other_groups_give_way_to_the_asked_group():
    kept = _texts(of_the_asked_group("退役军人想创业,政府有啥支持?", _candidates()))
    assert kept == [SENTENCES[1], SENTENCES[3], SENTENCES[4]]  # no group, or the asked one (as 退役士兵 too)


def test_a_narrower_group_counts_as_the_group_asked():
    kept = _texts(of_the_asked_group("农民工创业有什么支持?", _candidates()))
    assert SENTENCES[2] in kept and SENTENCES[0] not in kept and SENTENCES[1] not in kept


def test_nothing_is_dropped_when_no_sentence_speaks_of_the_group_asked():
    candidates = _candidates([SENTENCES[0], SENTENCES[3]])
    assert of_the_asked_group("残疾人创业有什么支持?", candidates) == candidates


def test_a_question_naming_no_group_or_only_workers_keeps_every_sentence():
    candidates = _candidates()
    assert of_the_asked_group("创业有什么支持?", candidates) == candidates
    assert of_the_asked_group("劳动者创业有什么支持?", candidates) == candidates
