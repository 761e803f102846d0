"""jieba tokenisation shared by the BM25 index and its queries.

A private jieba Tokenizer loads the domain dictionary so that terms such as
就业见习 or 一次性扩岗补助 stay whole; search-mode cutting also emits their
parts, so a query for 扩岗补助 still meets 一次性扩岗补助.
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache

from assistant.settings import DATA_DIR

# raise when tokenize() itself changes the tokens it emits: keyword indexes built before are rebuilt
TOKENIZER_REVISION = 1

_WORD = re.compile(r"[\w\u3400-\u9fff]")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer():
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


def tokenize(text: str) -> list[str]:
    """Lower-cased search-mode tokens, without punctuation and stopwords."""
    tokenizer = _tokenizer()
    with _lock:  # jieba's tokenizer is not thread-safe while it builds its caches
        pieces = list(tokenizer.cut_for_search(text))
    stop = stopwords()
    tokens = [p.lower() for p in (piece.strip() for piece in pieces) if p and _WORD.search(p) and p not in stop]
    # jieba's search mode only emits 2- and 3-character parts; add the domain terms nested in longer words
    for token in [t for t in tokens if len(t) >= 4]:
        tokens += [term for term in _nested_terms() if term != token and term in token]
    return tokens


@lru_cache(maxsize=1)
def _nested_terms() -> tuple[str, ...]:
    return tuple(term for term in domain_terms() if len(term) >= 4)


def domain_terms() -> list[str]:
    """The words of the domain dictionary, longest first."""
    words = [line.split()[0] for line in (DATA_DIR / "userdict.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(set(words), key=len, reverse=True)


@lru_cache(maxsize=1)
def tokenizer_version() -> str:
    """Names the tokens ``tokenize`` emits: its revision, jieba's version and the word lists' contents."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{TOKENIZER_REVISION}:{version('jieba')}".encode())
    for name in ("userdict.txt", "stopwords.txt"):
        digest.update((DATA_DIR / name).read_bytes())
    return digest.hexdigest()[:16]
