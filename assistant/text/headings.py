"""The heading grammar of Chinese policy texts: 第X编/章/节/条, 一、, (一), 1., (1), ①, 问:/答:.

One grammar, read three ways: chunking builds section paths from its levels (``heading_level``), cleaning
never glues a line that opens like a heading onto the line before it (``opens_like_heading``), and metadata
ends the issuing header and rules out a title where a heading mark opens the text (``opens_with_heading_mark``).  Article references in questions and
answers (`第十八条`, `第三点`) use the same numerals.
"""

from __future__ import annotations

import re

# a numeral as policy texts and questions write it: 一百零二, 两, 102
NUMERAL = r"[一二三四五六七八九十百千零〇两\d]+"
_ORDINAL = r"[一二三四五六七八九十]+"  # the small Chinese ordinals of list items: 一、 (三)
# a chapter heading is followed by its name or stands alone (第一章 总则, 第一章总则), not by punctuation or a
# digit as a reference is (第一章、第二章)
_WORD_END = r"(?=\s|$|[\u4e00-\u9fff])"

ARTICLE_LEVEL = 3
LIST_ITEM_LEVEL = 6

# (level, pattern at the start of a paragraph); a lower level is an outer heading
LEVELS: list[tuple[int, re.Pattern]] = [
    (1, re.compile(rf"^第{NUMERAL}[编章]{_WORD_END}")),
    (1, re.compile(rf"^第{NUMERAL}部分")),
    (2, re.compile(rf"^第{NUMERAL}节{_WORD_END}")),
    (4, re.compile(rf"^{_ORDINAL}、")),
    (5, re.compile(rf"^\({_ORDINAL}\)")),
    (LIST_ITEM_LEVEL, re.compile(r"^\d{1,2}(\.|、)(?!\d)")),
    (7, re.compile(r"^(\(\d{1,2}\)|[①-⑳])")),
]
# 第X条 at the start of a paragraph (level ARTICLE_LEVEL); group 1 is its numeral
ARTICLE_START = re.compile(rf"^第({NUMERAL})条")
# 第X条 anywhere (a question naming an article); group 1 is its numeral
ARTICLE_MENTION = re.compile(rf"第({NUMERAL})条")
# what follows `第X条` when it is a reference (`第九条的规定`, `第九条、第十条`, `第九条第二款`), not an article
REFERENCE_AFTER = re.compile(rf"^(的|规定|所|之|、|,|和|或|及|与|至|到|中|第{NUMERAL}[款项目])")
QUESTION_TURN = re.compile(r"^(\d{1,3}[.、]\s*)?(问|Q)\s*[::]")
ANSWER_TURN = re.compile(r"^(答|A)\s*[::]")

# Looser than the levels (no word boundary, any number with a point, 附件): keeping a line apart by mistake
# costs nothing, gluing a heading onto the sentence before it buries it.
_OPENS_LIKE_HEADING = re.compile(
    rf"^\s*(第{NUMERAL}[章节条编部分]|{_ORDINAL}、|\({_ORDINAL}\)|\d+[.、]|\(\d+\)|[①-⑳]|问[::]|答[::]|附件)"
)
# The marks of structure a document's opening lines (title, issuer, date) never start with.
_HEADING_MARK = re.compile(rf"^(第{NUMERAL}[章节条]|{_ORDINAL}、|\(|\d+[.、])")

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def heading_level(text: str) -> int | None:
    """The level of the heading ``text`` opens with (not articles: see ``ARTICLE_START``), else None."""
    for level, pattern in LEVELS:
        if pattern.match(text):
            return level
    return None


def opens_like_heading(line: str) -> bool:
    """Whether the line opens like a heading, list item, Q&A turn or annex: it starts a paragraph of its own."""
    return bool(_OPENS_LIKE_HEADING.match(line))


def opens_with_heading_mark(text: str) -> bool:
    """Whether the text opens with a chapter/article, a list number or a parenthesis: not a title, not the
    issuing header (metadata)."""
    return bool(_HEADING_MARK.match(text))


def numeral_value(numeral: str) -> int | None:
    """`一百二十三` / `123` -> 123: Chinese numerals (with 十/百/千) or digits; None when unreadable."""
    if numeral.isdigit():
        return int(numeral)
    total, current = 0, 0
    for ch in numeral:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in "十百千":
            total += (current or 1) * {"十": 10, "百": 100, "千": 1000}[ch]
            current = 0
        else:
            return None
    return total + current
