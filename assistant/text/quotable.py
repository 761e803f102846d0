"""What can be quoted from a chunk: the units an answer scores and cites.

Shared by the answer path (which scores each unit against the question) and ingest (which embeds each
unit ahead of time, assistant/index/sentence_vectors.py), so both see exactly the same texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TABLE_CELL_SEPARATOR = " | "
MIN_SENTENCE = 8  # shorter units (a bare label, a stray number) are never quoted
WHOLE_CHUNK_LIMIT = 260  # the extractive answer quotes a chunk this short whole
EMBEDDED_CHARS = 300  # what of a unit is embedded
_LIST_ITEM = re.compile(r"^\s*(\d{1,2}[.、]|\(\d{1,2}\)|\([一二三四五六七八九十]+\)|[①-⑳]|[一二三四五六七八九十]+是)")
# Answers quote whole sentences: `;` separates the items of one rule and stays inside.
_FULL_STOP = re.compile(r"[^。!?!?]*[。!?!?]+[”’\"」』)]*|[^。!?!?]+$")


@dataclass(frozen=True)
class Quotable:
    position: int  # order within the chunk
    text: str  # what is quoted
    header: str = ""  # a table row's header row
    body: str = ""  # what is scored, when not the whole text (a table row without its header)

    @property
    def scored(self) -> str:
        return self.body or self.text

    @property
    def embedded(self) -> str:
        return self.scored[:EMBEDDED_CHARS]


def _units(chunk_text: str, whole_limit: int) -> list[str]:
    """All of a short chunk (an article, a Q&A answer, whose conditions and figures belong together), else
    its sentences, where a sentence ending in ':' keeps the list items that follow it, and a table row
    (cells joined by " | ") comes with the table's header row, which names its columns and units."""
    lines = [line.strip() for line in chunk_text.split("\n") if line.strip() and not re.match(r"^问[::]", line.strip())]
    body = "\n".join(lines)
    if 0 < len(body) <= whole_limit:
        return [body]
    units: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if TABLE_CELL_SEPARATOR in line and index + 1 < len(lines) and TABLE_CELL_SEPARATOR in lines[index + 1]:
            header = line
            index += 1
            while index < len(lines) and TABLE_CELL_SEPARATOR in lines[index]:
                units.append(f"{header}\n{lines[index]}")
                index += 1
            continue
        if line.endswith(":") and index + 1 < len(lines) and _LIST_ITEM.match(lines[index + 1]):
            items = [line]
            index += 1
            while index < len(lines) and _LIST_ITEM.match(lines[index]):
                items.append(lines[index])
                index += 1
            units.append("\n".join(items))
            continue
        units.extend(s.strip() for s in _FULL_STOP.findall(line) if s.strip())
        index += 1
    return units


def _strip_label(sentence: str) -> str:
    """`问:…?` lines restate the question; answers read better without the `答:` label."""
    return re.sub(r"^(答[::]\s*|\d{1,2}[.、]\s*)", "", sentence)


def quotables(chunk_text: str, whole_limit: int) -> list[Quotable]:
    """The chunk's quotable units; ``whole_limit``: a chunk this short is one unit (0: always sentences)."""
    found: list[Quotable] = []
    for position, unit in enumerate(_units(chunk_text, whole_limit)):
        text = _strip_label(unit)
        if len(text) < MIN_SENTENCE:
            continue
        header, _, row = text.partition("\n")
        if row and TABLE_CELL_SEPARATOR in header:
            found.append(Quotable(position, text, header=header, body=row))
        else:
            found.append(Quotable(position, text))
    return found


def embedded_texts(chunk_text: str) -> list[str]:
    """Every text the answer path may embed for this chunk (its sentences, and the whole of a short one)."""
    texts = [q.embedded for limit in (0, WHOLE_CHUNK_LIMIT) for q in quotables(chunk_text, limit)]
    return list(dict.fromkeys(texts))
