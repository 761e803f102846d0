"""Query understanding: same normalisation as documents, colloquial synonyms from data, domain words kept whole."""

from __future__ import annotations

import pytest

from assistant.text.lexicon import domain_terms, known_word, tokenize
from assistant.text.normalize import normalize_query_text
from assistant.retrieve.query import parse_query, synonyms
from tests.conftest import CORPUS_DIR, FIXTURES_DIR, REALDOCS_DIR


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
    assert table["社保"] == ("社会保险",) and table["打零工"] == ("灵活就业",) and table["退伍"] == ("退役",)
    assert table["赔偿"] == ("经济补偿", "赔偿金", "赔偿")


def test_colloquial_words_meet_the_statutes_words():
    query = parse_query("老板把我辞退了能要赔偿吗")
    assert query.dense_text.startswith("用人单位把我辞退(解除劳动合同)了") and "经济补偿" in query.dense_text
    assert set(tokenize("用人单位 解除劳动合同 经济补偿 赔偿金")) <= set(query.tokens)
    # a colloquial word that is itself a statutory term stays, and gains the others
    wage = parse_query("加班费怎么算")
    assert "加班费" in wage.dense_text and set(tokenize("延长工作时间 工资报酬")) <= set(wage.tokens)


def _corpus_text() -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted(REALDOCS_DIR.glob("*.md"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8", errors="ignore") for p in sorted((FIXTURES_DIR / "shifan").iterdir())]
    return normalize_query_text("\n".join(texts))


@pytest.fixture(scope="module")
def corpus_text() -> str:
    return _corpus_text()


@pytest.mark.parametrize("colloquial", sorted(synonyms()))
def test_each_lexicon_entry_expands_to_words_documents_use(colloquial, corpus_text):
    """Every entry is exercised: asking with the colloquial word brings in its statutory terms, and each of
    those terms is a word documents use (found in the demo corpus, the 示范市 fixtures or the real labour
    documents) or a dictionary word — a misspelt or invented term fails here."""
    terms = synonyms()[colloquial]
    assert colloquial and terms and all(terms), colloquial
    query = parse_query(colloquial)
    assert (terms[0] if colloquial not in terms else colloquial) in query.dense_text, query
    for term in terms:
        assert set(tokenize(term)) <= set(query.tokens), (colloquial, term, query)
        known = term in corpus_text or term in domain_terms() or known_word(term)
        assert known, f"{colloquial}: '{term}' is neither in any document nor a dictionary word"


def test_domain_terms_stay_whole_and_parts_are_searchable():
    tokens = tokenize("企业申领一次性扩岗补助和职业技能提升补贴")
    assert "一次性扩岗补助" in tokens and "职业技能提升补贴" in tokens
    # domain terms inside longer ones are emitted too, so a query for 扩岗补助 meets 一次性扩岗补助
    assert "扩岗补助" in tokens and "技能提升补贴" in tokens
    assert "和" not in tokens  # stopwords dropped
