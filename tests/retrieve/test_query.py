"""Query understanding: same normalisation as documents, colloquial synonyms from data, domain words kept whole."""

from __future__ import annotations

from assistant.index.tokenize import tokenize
from assistant.retrieve.query import parse_query, synonyms


def test_traditional_and_full_width_queries_are_normalised():
    query = parse_query("見習補貼2099年標準?")
    assert query.normalized == "见习补贴2099年标准?"


def test_colloquial_words_gain_policy_terms():
    query = parse_query("失业金能领多久")
    assert query.expansions["失业金"] == "失业保险金"
    assert "失业保险金" in query.dense_text
    assert "失业保险金" in query.tokens


def test_synonyms_come_from_the_data_file():
    table = synonyms()
    assert table["社保"] == "社会保险" and table["打零工"] == "灵活就业" and table["退伍"] == "退役"


def test_domain_terms_stay_whole_and_parts_are_searchable():
    tokens = tokenize("企业申领一次性扩岗补助和职业技能提升补贴")
    assert "一次性扩岗补助" in tokens and "职业技能提升补贴" in tokens
    # domain terms inside longer ones are emitted too, so a query for 扩岗补助 meets 一次性扩岗补助
    assert "扩岗补助" in tokens and "技能提升补贴" in tokens
    assert "和" not in tokens  # stopwords dropped
