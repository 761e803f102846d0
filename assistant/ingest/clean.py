"""Repair and strip the defects real Chinese policy files carry.

Repairs: full-width ASCII, traditional characters, pinyin glued after
characters (``穩(wěn)``), characters lost as ``?``, doubled punctuation,
lines wrapped mid-sentence.  Strips: paywall notices and the advertisements
after them, solicitation, instructions aimed at an assistant, web furniture
and bylines.  Everything stripped is returned with its reason, never indexed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from collections.abc import Callable

from assistant.ingest.metadata import DOC_NUMBER, TITLE_WORDS
from assistant.ingest.models import TABLE_CELL_SEPARATOR, Page, Paragraph
from assistant.text.headings import opens_like_heading
from assistant.text.lexicon import general_cut, general_word_freq
from assistant.text.normalize import CJK_CHAR, INVISIBLE, fold_width, to_simplified
from assistant.text.patterns import matches, strip_hostile_sentences

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_BODY = rf"[a-zü{_TONED}]{{1,7}}"
# `穩(wěn)`: a syllable in parentheses right after a character (or after a `?` that lost one)
_PINYIN_ANNOTATION = re.compile(rf"(?<=[{CJK_CHAR}?])\(({_PINYIN_BODY})\)")
# `?jiǎng)`: the character and its opening parenthesis were both lost as one `?`
_LOST_WITH_PINYIN = re.compile(rf"\?\(?({_PINYIN_BODY})\)")
_QUESTION_WORDS = re.compile(r"(吗|呢|么|什么|怎|哪|几|多少|是否|能否|可否|如何|为何|谁|难道|岂)")

# Sentence punctuation that real files double by accident (`,,` `,。`).  Ellipses
# and dashes are doubled on purpose and are not in this set.
_SOFT = ",、"
_PUNCT_RUN = re.compile(r"[,、;:。!?]{2,}")
_TERMINAL = "。!?;:…\"”’」』)】"


@dataclass
class Removed:
    reason: str  # promotion / solicitation / instruction / boilerplate / byline / debris
    text: str


@dataclass
class CleanedDocument:
    paragraphs: list[Paragraph]
    removed: list[Removed] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # reporter, editor, origin, published


# ---------------------------------------------------------------- character level


@lru_cache(maxsize=1)
def _pinyin_tables() -> tuple[frozenset[str], dict[str, list[str]]]:
    """Valid toneless syllables, and toned syllable -> characters, from pypinyin's table."""
    from pypinyin.pinyin_dict import pinyin_dict

    syllables: set[str] = set()
    by_sound: dict[str, list[str]] = {}
    for code, readings in pinyin_dict.items():
        for reading in readings.split(","):
            syllables.add(_strip_tone(reading))
            by_sound.setdefault(reading, []).append(chr(code))
    return frozenset(syllables), by_sound


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", plain).replace("u\u0308", "ü")


def _is_syllable(text: str, require_tone: bool) -> bool:
    syllables, _ = _pinyin_tables()
    if require_tone and not any(c in _TONED for c in text):
        return False
    return _strip_tone(text) in syllables


def _guess_lost_char(syllable: str, before: str, after: str) -> str:
    """The character with this reading that forms the most frequent word with its neighbours, or ''."""
    _, by_sound = _pinyin_tables()
    freq = general_word_freq()
    best, best_score = "", 0
    for candidate in by_sound.get(syllable, []):
        simple = to_simplified(candidate)
        score = max(freq.get(to_simplified(before) + simple, 0), freq.get(simple + to_simplified(after), 0))
        if score > best_score:
            best, best_score = simple, score
    return best if best_score >= 50 else ""


def repair_characters(text: str, removed: list[Removed]) -> str:
    """Drop pinyin annotations, recover characters lost as `?` where the pinyin says which."""
    tone_marked = sum(1 for m in _PINYIN_ANNOTATION.finditer(text) if _is_syllable(m.group(1), True))
    # In a file full of annotations, toneless ones (`們(men)`) are debris too.
    require_tone = tone_marked < 3

    def lost(match: re.Match) -> str:
        syllable = match.group(1)
        if not _is_syllable(syllable, require_tone=False):
            return match.group(0)
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        guess = _guess_lost_char(syllable, before, after)
        if not guess:
            removed.append(Removed("debris", match.group(0)))
        return guess

    # right to left would see repaired neighbours; a single pass keeps offsets simple
    text = _LOST_WITH_PINYIN.sub(lost, text)

    def annotation(match: re.Match) -> str:
        return "" if _is_syllable(match.group(1), require_tone) else match.group(0)

    text = _PINYIN_ANNOTATION.sub(annotation, text)
    for debris in re.findall(rf"\ufffd+|(?<=[{CJK_CHAR}])\?{{2,}}(?=[{CJK_CHAR}])", text):
        removed.append(Removed("debris", debris))  # `??` runs and U+FFFD are always debris
    text = re.sub(rf"\ufffd+|(?<=[{CJK_CHAR}])\?{{2,}}(?=[{CJK_CHAR}])", "", text)

    if require_tone and not removed:
        return text  # no sign of encoding damage: every `?` is a question mark

    def lone_question_mark(match: re.Match) -> str:
        lead = text[max(0, match.start() - 40) : match.start()]
        lead = re.split(r"[。!?;\n]", lead)[-1]
        return match.group(0) if _QUESTION_WORDS.search(lead) else ""

    return re.sub(rf"(?<=[{CJK_CHAR}])\?(?=[{CJK_CHAR}])", lone_question_mark, text)


def fix_punctuation(text: str) -> str:
    """Collapse accidental punctuation runs: keep the strongest distinct marks, one comma at most."""

    def collapse(match: re.Match) -> str:
        run = match.group(0)
        strong = [c for c in run if c not in _SOFT]
        if strong:
            kept = []
            for c in strong:
                if not kept or kept[-1] != c:
                    kept.append(c)
            return "".join(kept)
        return "、" if "、" in run else ","

    text = _PUNCT_RUN.sub(collapse, text)
    return re.sub(r"^[,、;。]+", "", text, flags=re.M)


# ---------------------------------------------------------------- line level


def join_wrapped_lines(
    lines: list[Paragraph], hard_wrapped: bool, stands_alone: Callable[[str], bool] | None = None
) -> list[Paragraph]:
    """Join lines broken mid-sentence by a fixed line width (PDF, hard-wrapped text).

    A line is a continuation when the line before it is nearly full width and
    does not end a sentence, and it does not itself start a heading.  This also
    mends a paragraph that runs over a page break; it keeps its first page.
    A line for which ``stands_alone`` is true (a byline, web furniture) is
    never joined to a neighbour, so it can still be recognised and dropped alone;
    nor is a table row (cells joined by `` | ``): gluing rows merges their figures.
    """
    widths = sorted(len(line.text) for line in lines if line.text)
    if not hard_wrapped or len(widths) < 2:
        return lines
    width = _typical_width(widths)
    columns = _typical_width(sorted(display_width(line.text) for line in lines if line.text))
    alone = stands_alone or (lambda text: False)
    out: list[Paragraph] = []
    last = ""  # the previous line as printed, before any joining
    last_alone = False
    for line in lines:
        this_alone = bool(line.text) and alone(line.text)
        if (
            out
            and out[-1].text
            and line.text
            and (len(last) >= 0.7 * width or display_width(last) >= 0.7 * columns)
            and last[-1] not in _TERMINAL
            and not opens_like_heading(line.text)
            and not last_alone
            and not this_alone
            and TABLE_CELL_SEPARATOR not in last
            and TABLE_CELL_SEPARATOR not in line.text
        ):
            out[-1] = Paragraph(out[-1].text + line.text, out[-1].page)
        else:
            out.append(line)
        last, last_alone = line.text, this_alone
    return out




def join_broken_words(lines: list[Paragraph], stands_alone: Callable[[str], bool] | None = None) -> list[Paragraph]:
    """Join a line broken inside a word in text that is not hard-wrapped (`…申请技能提升补` / `贴。`).

    Lines of such a text are paragraphs, so only a clear mid-word break is mended:
    the line is a sentence under way (it holds a comma and ends on a character, not
    punctuation) and the dictionary reads a word across the break.  Headings, table
    rows and lines that stand alone are never joined; a blank line always separates.
    """
    alone = stands_alone or (lambda text: False)
    out: list[Paragraph] = []
    last = ""  # the previous line as printed, before any joining
    for line in lines:
        if out and out[-1].text and line.text and _breaks_a_word(last, line.text) and not alone(last) and not alone(line.text):
            out[-1] = Paragraph(out[-1].text + line.text, out[-1].page)
        else:
            out.append(line)
        last = line.text
    return out


_CJK_ONE = re.compile(rf"[{CJK_CHAR}]")


def _breaks_a_word(before: str, after: str) -> bool:
    """True when ``before`` stops inside a sentence and the break cuts a word in two (`…提升补` / `贴。`)."""
    if (
        len(before) < 10
        or not _CJK_ONE.fullmatch(before[-1])
        or not _CJK_ONE.match(after[0])
        or not re.search(r"[,,;;、]", before)
        or opens_like_heading(after)
        or TABLE_CELL_SEPARATOR in before
        or TABLE_CELL_SEPARATOR in after
    ):
        return False
    head, tail = before[-6:], after[:6]
    joined = to_simplified(head + tail)
    if len(joined) != len(head + tail):
        joined = head + tail
    position = 0
    for word in general_cut(joined):
        if position < len(head) < position + len(word):
            return True  # the dictionary reads a word across the break
        position += len(word)
    return False


def _typical_width(sorted_lengths: list[int]) -> int:
    """The 90th percentile line length: the width a wrapped text is set to."""
    n = len(sorted_lengths)
    return sorted_lengths[int(n * 0.9) - 1] if n >= 10 else sorted_lengths[-1]


_FOLDED_MARKS = frozenset(",;:!?()")  # full-width in the file (two columns), half-width once folded


def display_width(text: str) -> int:
    """Columns a line took in a fixed-width editor: a hanzi or a Chinese punctuation mark two, ASCII one.

    Lines are measured after folding, which turned `,` `(` … half-width: they count as the two
    columns they took in the file.
    """
    return sum(2 if ch in _FOLDED_MARKS or unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def looks_hard_wrapped(lines: list[str]) -> bool:
    """True when most lines stop at one width, as in text saved from a PDF or an e-mail.

    The width is counted in characters, and also in columns: an editor wraps GBK text at a column
    (76, 80, 100), so a full line holding digits has more characters than one of hanzi only.
    """
    lengths = [len(line) for line in lines if line.strip()]
    if len(lengths) < 4:
        return False
    width = _typical_width(sorted(lengths))
    if 20 <= width <= 120:  # short lines of a similar length are a list, not a wrapped text
        near_full = sum(1 for n in lengths if n >= 0.85 * width)
        if near_full >= 0.5 * len(lengths):
            return True
    filled = [line.strip() for line in lines if line.strip()]
    width = _typical_width(sorted(display_width(line) for line in filled))
    if not 40 <= width <= 240:
        return False
    # lines that reach the margin (a wide character that did not fit ends one a column short) and stop
    # mid-sentence: a paragraph of a text set at that width goes on on the next line
    margin = [line for line in filled if width - 3 <= display_width(line) <= width]
    mid_sentence = sum(1 for line in margin if line[-1] not in _TERMINAL)
    return len(margin) >= max(3, 0.2 * len(filled)) and mid_sentence >= 0.7 * len(margin)


# ---------------------------------------------------------------- stripping


# A byline key at the start of the line or after a separator, then a colon or a space.
_BYLINE_PART = re.compile(
    r"(?:^|(?<=[\s|丨,,;;(\[【]))"
    r"(?P<key>本报记者|记者|通讯员|实习生|责任编辑|责编|编辑|审核|审校|校对|来源|稿源|发布时间|发布日期|作者)"
    r"(?P<sep>\s*[::]\s*|\s+)?"
)
_PERSON_NAME = re.compile(r"[\u4e00-\u9fff·]{2,5}|[A-Za-z][A-Za-z .\-]{1,30}")
_BYLINE_DATE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}")
_FONT_SIZE_WIDGET = re.compile(r"[【\[]?字[体号]\s*[::]?\s*[【\[]?\s*大\s*[】\]]?\s*[【\[]?\s*中\s*[】\]]?\s*[【\[]?\s*小\s*[】\]]?")
_BYLINE_KEYS = {
    "本报记者": "reporter",
    "记者": "reporter",
    "通讯员": "reporter",
    "实习生": "reporter",
    "作者": "reporter",
    "责任编辑": "editor",
    "责编": "editor",
    "编辑": "editor",
    "审核": "editor",
    "审校": "editor",
    "校对": "editor",
    "来源": "origin",
    "稿源": "origin",
    "发布时间": "published",
    "发布日期": "published",
}


def parse_byline(line: str) -> dict[str, str] | None:
    """Metadata from a line made only of bylines (`记者 杨文  责任编辑:姚建`), else None.

    Each key needs a colon or a space before its value, except inside brackets
    (`(记者王五 通讯员赵六)`): `记者从示范市人社局获悉,…` and `记者手记` are text.
    People are names, a date is a date, a source is a short name.
    """
    stripped = _FONT_SIZE_WIDGET.sub(" ", line).strip()
    stripped = re.sub(r"(?<=\d)\s+\d{1,2}:\d{2}(:\d{2})?", "", stripped)  # `2099-03-19 10:30`
    if not stripped or len(stripped) > 100:
        return None
    bracketed = re.fullmatch(r"[((\[【]\s*(.*?)\s*[))\]】]", stripped)
    inner = bracketed.group(1) if bracketed else stripped
    parts = list(_BYLINE_PART.finditer(inner))
    if not parts or parts[0].start() != 0:
        return None
    found: dict[str, str] = {}
    for index, part in enumerate(parts):
        end = parts[index + 1].start() if index + 1 < len(parts) else len(inner)
        value, *others = re.split(r"\s*[|丨]\s*", inner[part.end() : end].strip(" \t|丨,,;;"))
        key = _BYLINE_KEYS[part.group("key")]
        if not value or (not part.group("sep") and not bracketed):
            return None
        for other in others:  # `来源:示范市人社局 | 2099-03-19`
            if not _BYLINE_DATE.match(other):
                return None
            found.setdefault("published", other)
        if key in ("reporter", "editor"):
            names = []
            for name in re.split(r"\s*[、,,]\s*", value):
                names += [name] if re.fullmatch(r"[A-Za-z][A-Za-z .\-]*", name) else name.split()
            if not names or not all(_PERSON_NAME.fullmatch(n) for n in names):
                return None
            value = "、".join(names)
        elif key == "published":
            if not _BYLINE_DATE.match(value) or len(value) > 20:
                return None
        elif len(value) > 30 or re.search(r"[。;!?,,]", value):
            return None
        found.setdefault(key, value)
    return found


# ---------------------------------------------------------------- document


def _looks_like_advert(text: str) -> bool:
    """A line after a paywall notice that is contact bait rather than a sentence of the document."""
    return matches("solicitation", text) or (len(text) <= 30 and not re.search(r"[。;]", text))


_CJK_GAP = re.compile(rf"(?<=[{CJK_CHAR}]) (?=[{CJK_CHAR}])")


def _unspace_letter_spaced(line: str) -> str:
    """`就 业 见 习` -> `就业见习`: undo the spaces some PDFs put between every character.

    Only a line where most characters stand apart is letter-spaced; a single
    space between words (`第一章 总则`, two issuers side by side) is kept.
    """
    gaps = len(_CJK_GAP.findall(line))
    if gaps >= 2 and gaps >= 0.5 * (len(re.findall(rf"[{CJK_CHAR}]", line)) - 1):
        return _CJK_GAP.sub("", line)
    return line


_EDGE_LINES = 4  # non-empty lines at a page's top and at its bottom that may be furniture
_PLAIN_NUMBER = re.compile(r"\d{1,4}")
_TABLE_GAPS = re.compile(r"[\s|丨]+")


def _is_page_number(line: str) -> bool:
    return bool(line) and len(line) <= 30 and matches("page_furniture", line)


def _repeat_key(line: str) -> str:
    """A line as compared with its repeats: layout gaps and table separators do not count."""
    return _TABLE_GAPS.sub("", line)


def _may_be_running(line: str, min_chars: int) -> bool:
    """A line short and bare enough to be a running header or footer, if it repeats.

    Never a heading of the document's structure (`第三条`, `一、`), never a sentence
    (one ending in `。;:!?`), never a line without words.
    """
    key = _repeat_key(line)
    return (
        min_chars <= len(key) <= 40
        and len(re.findall(rf"[{CJK_CHAR}A-Za-z]", key)) >= 2
        and key[-1] not in "。!?;:,、…"
        and not opens_like_heading(line)
        and _reads_as_words(key)
    )


def _reads_as_words(text: str) -> bool:
    """Chinese that reads as words (`示范市人社局 内部资料`), not a run of characters.

    Headers and footers are names and titles; a line of stray characters that
    happens to recur is not evidence of furniture.
    """
    hanzi = "".join(re.findall(rf"[{CJK_CHAR}]", to_simplified(text)))
    if not hanzi:
        return True
    if len(hanzi) < 4 or "?" in text or len(set(hanzi)) < 3 or len(set(hanzi)) < 0.5 * len(hanzi):
        return False  # a header is a name or a title, not a question or a run of one character
    freq = general_word_freq()
    covered: set[int] = set()
    for n in (2, 3, 4):
        for i in range(len(hanzi) - n + 1):
            if freq.get(hanzi[i : i + n], 0) >= 50:
                covered.update(range(i, i + n))
    return len(covered) >= 0.6 * len(hanzi)


def _edges(lines: list[str]) -> tuple[list[int], list[int]]:
    """Indexes of the first and of the last few non-empty lines, each counted from its edge."""
    filled = [i for i, line in enumerate(lines) if line]
    return filled[:_EDGE_LINES], filled[::-1][:_EDGE_LINES]


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Keys of lines at a page edge on at least half of the pages (and on two or more): running headers and footers.

    Pages identical throughout are not evidence: a line must recur on two pages or more
    whose other lines differ and hold some text (40 characters or more).
    """
    if len(pages) < 2:
        return set()
    seen: dict[str, set[int]] = {}
    for number, lines in enumerate(pages):
        top, bottom = _edges(lines)
        for i in {*top, *bottom}:
            if not _is_page_number(lines[i]) and _may_be_running(lines[i], 4):
                seen.setdefault(_repeat_key(lines[i]), set()).add(number)
    needed = max(2, (len(pages) + 1) // 2)

    def on_differing_pages(key: str, on: set[int]) -> bool:
        rests = {tuple(line for line in pages[n] if line and _repeat_key(line) != key) for n in on}
        return len({rest for rest in rests if sum(map(len, rest)) >= 40}) >= 2

    return {key for key, on in seen.items() if len(on) >= needed and on_differing_pages(key, on)}


def _is_title_line(line: str) -> bool:
    """A running line worth keeping once on page 1: the document's title, or the masthead carrying its 文号."""
    return bool(DOC_NUMBER.search(line) or (TITLE_WORDS.search(line) and not re.match(r"^\d{1,4}[年月]", line)))


def _drop_page_furniture(
    lines: list[str], removed: list[Removed], running: set[str] = frozenset(), first_page: bool = False
) -> tuple[list[str], list[str]]:
    """Drop page numbers (`— 3 —`, `第 3 页 共 9 页`) and running headers and footers from the edges of a page.

    Left in place they would be glued into the paragraph that runs over the page
    break.  Both may come in any order at either edge, as the text layer has them.
    A bare number (`3`) counts as a page number only when nothing but page numbers
    stands between it and the edge, and only one: inside the page it is a figure of a table.
    On the first page, the first running line that is the title (or the masthead
    with the 文号) is kept, for the metadata; it is returned to stand alone.
    Returns the kept lines and the running lines kept.
    """
    drop: set[int] = set()
    kept_running: list[str] = []
    for side, indexes in enumerate(_edges(lines)):
        only_numbers, numbers, plain = True, 0, 0
        for i in indexes:
            line = lines[i]
            if _is_page_number(line):
                is_plain = bool(_PLAIN_NUMBER.fullmatch(line))
                if numbers == 2 or (is_plain and (plain or not only_numbers)):
                    break  # a page has one number per edge (two lines at most: `第 3 页` / `共 9 页`)
                numbers, plain = numbers + 1, plain + is_plain
                drop.add(i)
            elif _repeat_key(line) in running:
                only_numbers = False
                if first_page and side == 0 and not kept_running and _is_title_line(line):
                    kept_running.append(line)
                    continue
                drop.add(i)
            else:
                break
    for i in sorted(drop):
        removed.append(Removed("boilerplate", lines[i]))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    while kept and not kept[-1]:
        kept.pop()
    return kept, kept_running


def _drop_unpaged_furniture(lines: list[str], removed: list[Removed]) -> list[str]:
    """Page furniture in a text without pages (TXT, Markdown saved from a paged file).

    A whole line that is a page marker (`第 1 页 共 2 页`, `- 3 -`, `Page 2 of 5`) goes.
    A short line that is not a heading and recurs unchanged three times or more,
    apart from each other, is a running header: it goes after its first occurrence.
    It must show where it runs: it opens the text (the title on every page) or it
    stands next to a page marker twice.  A label that recurs in the body
    (`申请材料及办理流程` in every section) is structure and stays.
    """
    filled = [i for i, line in enumerate(lines) if line]
    marker = [len(lines[i]) <= 30 and matches("page_markers", lines[i]) for i in filled]

    def shows_where_it_runs(orders: list[int]) -> bool:
        by_marker = sum(1 for o in orders if (o > 0 and marker[o - 1]) or (o + 1 < len(marker) and marker[o + 1]))
        return orders[0] < 3 or by_marker >= 2

    places: dict[str, list[int]] = {}
    for order, i in enumerate(filled):
        if len(lines[i]) <= 60:
            places.setdefault(_repeat_key(lines[i]), []).append(order)
    running = {
        key
        for key, orders in places.items()
        if len(orders) >= 3
        and all(b - a >= 3 for a, b in pairwise(orders))
        and shows_where_it_runs(orders)
        and _may_be_running(lines[filled[orders[0]]], 6)
    }
    drop: set[int] = set()
    first_seen: set[str] = set()
    for order, i in enumerate(filled):
        line = lines[i]
        key = _repeat_key(line)
        if marker[order]:
            drop.add(i)
        elif key in running:
            if key in first_seen:
                drop.add(i)
            first_seen.add(key)
    for i in sorted(drop):
        removed.append(Removed("boilerplate", lines[i]))
    return [line for i, line in enumerate(lines) if i not in drop]


def _stands_alone(line: str) -> bool:
    """A line that is recognised and dropped on its own: it must not be joined into a paragraph."""
    if len(line) > 100:
        return False
    text = fix_punctuation(to_simplified(line))
    return (
        matches("truncation_markers", text)
        or (len(text) <= 60 and matches("web_boilerplate", text))
        or parse_byline(text) is not None
    )


_MARKUP_COMMENT = re.compile(r"<!--.*?-->", re.S)


def clean_pages(pages: list[Page], from_pdf: bool = False) -> CleanedDocument:
    """Clean every page and return paragraphs that keep their page numbers."""
    removed: list[Removed] = []
    meta: dict[str, str] = {}
    lines: list[Paragraph] = []
    split_pages: list[list[str]] = []
    for page in pages:
        text = unicodedata.normalize("NFC", fold_width(page.text)).replace("\r\n", "\n").replace("\r", "\n")
        text = _MARKUP_COMMENT.sub("", text)  # `<!-- INFO END -->` of Markdown law files: never body text
        text = INVISIBLE.sub("", repair_characters(text, removed))
        page_lines = [re.sub(r"[ \t]+", " ", raw).strip() for raw in text.split("\n")]
        while page_lines and not page_lines[-1]:
            page_lines.pop()  # a page's trailing blank line is not a paragraph break
        split_pages.append(page_lines)
    running = _running_lines([lines_ for page, lines_ in zip(pages, split_pages) if page.page is not None])
    kept_alone: set[str] = set()
    first_paged = True
    for page, page_lines in zip(pages, split_pages):
        if page.page is not None:
            page_lines, kept = _drop_page_furniture(page_lines, removed, running, first_page=first_paged)
            kept_alone.update(_unspace_letter_spaced(k) if from_pdf else k for k in kept)
            first_paged = False
        else:
            page_lines = _drop_unpaged_furniture(page_lines, removed)
        for line in page_lines:
            if from_pdf:
                line = _unspace_letter_spaced(line)
            lines.append(Paragraph(line, page.page))
    hard_wrapped = from_pdf or looks_hard_wrapped([line.text for line in lines])

    def stands_alone(text: str) -> bool:
        return text in kept_alone or _stands_alone(text)

    if hard_wrapped:
        lines = join_wrapped_lines(lines, hard_wrapped, stands_alone)
    else:
        lines = join_broken_words(lines, stands_alone)

    paragraphs: list[Paragraph] = []
    in_advert = False
    for line in lines:
        if not line.text:
            continue
        text = fix_punctuation(to_simplified(line.text))
        if matches("truncation_markers", text):
            removed.append(Removed("promotion", text))  # a paywall notice ...
            in_advert = True
            continue
        if in_advert:
            if _looks_like_advert(text):
                removed.append(Removed("promotion", text))  # ... and the advert after it
                continue
            in_advert = False
        byline = parse_byline(text)
        if byline is not None:
            for key, value in byline.items():
                meta.setdefault(key, value)
            removed.append(Removed("byline", text))
            continue
        if len(text) <= 60 and matches("web_boilerplate", text):
            removed.append(Removed("boilerplate", text))
            continue
        text, dropped = strip_hostile_sentences(text)
        removed.extend(Removed(kind, sentence) for kind, sentence in dropped)
        text = fix_punctuation(text)
        if re.search(rf"[{CJK_CHAR}A-Za-z0-9]", text):
            paragraphs.append(Paragraph(text, line.page))
    return CleanedDocument(paragraphs=paragraphs, removed=removed, meta=meta)
