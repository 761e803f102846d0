"""The jieba lexicon: the one place jieba is loaded, configured and versioned.

Two dictionaries, for two questions:
- the **domain dictionary** (jieba's own plus assistant/data/userdict.txt), for tokens, parts of speech and
  word rarity in retrieval and answering, so that 就业见习 or 一次性扩岗补助 stay whole; search-mode cutting
  also emits their parts, so a query for 扩岗补助 still meets 一次性扩岗补助;
- jieba's **general dictionary** alone, for cleaning and decoding files (does a line read as ordinary words,
  does a line break cut a word, which decoding of a file is Chinese): these judge everyday text, and the domain
  words would make a header or a broken line look like words.

``lexicon_version`` names what ``tokenize`` emits; indexes built with another version are rebuilt.
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache
from pathlib import Path

from assistant.settings import DATA_DIR

# raise when tokenize() itself changes the tokens it emits: keyword indexes built before are rebuilt
TOKENIZER_REVISION = 1

_WORD = re.compile(r"[\w\u3400-\u9fff]")
# jieba's tokenizers are not thread-safe while they build their caches
_lock = threading.Lock()


# ---------------------------------------------------------------- domain dictionary


@lru_cache(maxsize=1)
def domain_tokenizer():
    """A private jieba Tokenizer with the domain dictionary loaded (its ``FREQ`` and ``total`` are read directly)."""
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.load_userdict(str(DATA_DIR / "userdict.txt"))
    return tokenizer


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    lines = (DATA_DIR / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def domain_terms() -> list[str]:
    """The words of the domain dictionary, longest first."""
    words = [line.split()[0] for line in (DATA_DIR / "userdict.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(set(words), key=len, reverse=True)


@lru_cache(maxsize=1)
def _nested_terms() -> tuple[str, ...]:
    return tuple(term for term in domain_terms() if len(term) >= 4)


def tokenize(text: str) -> list[str]:
    """Lower-cased search-mode tokens, without punctuation and stopwords: the keyword index's terms."""
    tokenizer = domain_tokenizer()
    with _lock:
        pieces = list(tokenizer.cut_for_search(text))
    stop = stopwords()
    tokens = [p.lower() for p in (piece.strip() for piece in pieces) if p and _WORD.search(p) and p not in stop]
    # jieba's search mode only emits 2- and 3-character parts; add the domain terms nested in longer words
    for token in [t for t in tokens if len(t) >= 4]:
        tokens += [term for term in _nested_terms() if term != token and term in token]
    return tokens


def cut(text: str) -> list[str]:
    """The domain dictionary's words of ``text`` in order, dictionary only (no HMM guesses), covering it whole."""
    with _lock:
        return domain_tokenizer().lcut(text, HMM=False)


def known_word(word: str) -> bool:
    """Whether the domain dictionary has the word with a frequency (not a fragment jieba glued together)."""
    return domain_tokenizer().FREQ.get(word, 0) > 0


@lru_cache(maxsize=1)
def _pos_tokenizer():
    import jieba.posseg

    return jieba.posseg.POSTokenizer(domain_tokenizer())


@lru_cache(maxsize=4096)
def pos_tagged(text: str) -> tuple[tuple[str, str], ...]:
    """jieba's (word, part of speech) pairs: tagging is slow (an HMM pass over unknown words), a question
    is tagged more than once per answer, and popular questions are asked again and again."""
    return tuple((pair.word, pair.flag) for pair in _pos_tokenizer().cut(text))


@lru_cache(maxsize=1)
def lexicon_version() -> str:
    """Names the tokens ``tokenize`` emits: its revision, jieba's version and the word lists' contents."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{TOKENIZER_REVISION}:{version('jieba')}".encode())
    for name in ("userdict.txt", "stopwords.txt"):
        digest.update((DATA_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- general dictionary


@lru_cache(maxsize=1)
def general_word_freq() -> dict[str, int]:
    """Word -> frequency in jieba's general dictionary (prefixes of words are kept with frequency 0)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.dt.check_initialized()
    return jieba.dt.FREQ


def general_cut(text: str) -> list[str]:
    """The general dictionary's words of ``text`` in order, dictionary only (no HMM guesses)."""
    general_word_freq()  # loads the dictionary
    import jieba

    return jieba.lcut(text, HMM=False)


@lru_cache(maxsize=1)
def common_hanzi() -> frozenset[str]:
    """Characters of the general dictionary's frequent words: a cheap model of everyday Chinese text."""
    import jieba

    chars: set[str] = set()
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            word, freq = line.split(" ", 2)[:2]
            if int(freq) >= 50:
                chars.update(word)
    return frozenset(chars)
