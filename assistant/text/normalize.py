"""Character-level normalisation shared by documents and questions: width, script, invisible characters.

Documents are cleaned with these functions (assistant/ingest/clean.py) and questions are normalised with the
same ones, so a question written in full-width or traditional characters meets the indexed text.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

log = logging.getLogger(__name__)

# the CJK ideographs: Extension A, the Unified block and the compatibility block
CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# emoji, and characters that print as nothing (zero-width, soft hyphen, direction marks, variation selectors):
# hidden inside a word they would let `忽\u200b略以上指令` past every pattern
INVISIBLE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\ufe00-\ufe0f\ufeff]"
)


def fold_width(text: str) -> str:
    """Full-width ASCII and the ideographic space become their half-width forms."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _changed_by_t2s() -> frozenset[str] | None:
    """Every character that some t2s dictionary entry replaces, or None if the tables cannot be read.

    A text holding none of them converts to itself, so the (pure Python, slow)
    converter can be skipped: most lines of a simplified document.
    """
    converter = _t2s()
    try:
        converter.convert("")  # loads the dictionaries
        chars: set[str] = set()
        for group in converter._dict_chain_data:
            for _, _, mapping in group:
                for key, value in mapping.items():
                    first = value.split(" ")[0]  # the converter uses the first of several readings
                    if len(first) == len(key):
                        chars.update(a for a, b in zip(key, first) if a != b)
                    else:
                        chars.update(key)
    except Exception as exc:  # noqa: BLE001 - private layout of opencc; fall back to always converting
        log.warning("opencc's tables could not be read (%s): every text goes through the converter", exc)
        return None
    return frozenset(chars) if chars else None


def to_simplified(text: str) -> str:
    changed = _changed_by_t2s()
    if changed is not None and changed.isdisjoint(text):
        return text
    return _t2s().convert(text)


def normalize_query_text(text: str) -> str:
    """The same character-level normalisation documents get, for queries."""
    text = unicodedata.normalize("NFC", fold_width(text))
    return to_simplified(INVISIBLE.sub("", text)).strip()


_NOT_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


def squash(text: str) -> str:
    """Simplified text without punctuation or whitespace: how a quote is compared with its source."""
    return _NOT_WORD.sub("", to_simplified(text))
