"""The jieba lexicon: every domain-dictionary entry stays whole, every stopword is dropped, and the version
names the word lists."""

from __future__ import annotations

import pytest

from assistant.settings import DATA_DIR
from assistant.text import lexicon
from assistant.text.lexicon import cut, domain_terms, general_word_freq, known_word, pos_tagged, stopwords, tokenize


def _entries(name: str) -> list[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip()]


@pytest.mark.parametrize("term", _entries("userdict.txt"))
def test_every_domain_term_is_one_word_and_a_token(term):
    assert cut(term) == [term]
    assert known_word(term)
    assert term.lower() in tokenize(term) or term in stopwords()


def test_every_stopword_is_dropped_from_tokens():
    for word in stopwords():
        assert word not in tokenize(f"申请{word}补贴")


def test_domain_terms_are_the_userdict_longest_first():
    terms = domain_terms()
    assert set(terms) == set(_entries("userdict.txt"))
    assert [len(t) for t in terms] == sorted((len(t) for t in terms), reverse=True)


def test_a_domain_term_nested_in_a_longer_one_is_also_its_token():
    terms = domain_terms()
    nested = [(outer, inner) for outer in terms for inner in terms if inner != outer and len(inner) >= 4 and inner in outer]
    assert nested
    for outer, inner in nested:
        assert inner in tokenize(outer), (outer, inner)


def test_pos_tags_are_cached_and_name_nouns():
    tags = pos_tagged("灵活就业人员的缴费基数")
    assert tags == pos_tagged("灵活就业人员的缴费基数") and ("基数", "n") in tags


def test_the_general_dictionary_has_no_domain_words():
    """Cleaning judges everyday text with jieba's own dictionary: a domain-only word is not in it."""
    only_domain = [t for t in domain_terms() if not general_word_freq().get(t)]
    assert only_domain and all(known_word(t) for t in only_domain)


def test_the_version_names_the_word_lists(tmp_path, monkeypatch):
    before = lexicon.lexicon_version()
    for name in ("userdict.txt", "stopwords.txt"):
        (tmp_path / name).write_bytes((DATA_DIR / name).read_bytes())
    monkeypatch.setattr(lexicon, "DATA_DIR", tmp_path)
    lexicon.lexicon_version.cache_clear()
    try:
        assert lexicon.lexicon_version() == before
        with (tmp_path / "stopwords.txt").open("a", encoding="utf-8") as fh:
            fh.write("样例停用词\n")
        lexicon.lexicon_version.cache_clear()
        assert lexicon.lexicon_version() != before
    finally:
        lexicon.lexicon_version.cache_clear()
