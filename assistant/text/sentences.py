"""Sentence splitting for Chinese text: used to strip hostile sentences, chunk, select evidence and check quotes."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^。!?;!?]*[。!?;!?]+[”’\"」』)]*|[^。!?;!?]+$")


def split_sentences(text: str) -> list[str]:
    """Sentences ending in 。!?; (closing quotes stay with their sentence); a trailing fragment is one too."""
    return [s for s in _SENTENCE.findall(text) if s.strip()]
