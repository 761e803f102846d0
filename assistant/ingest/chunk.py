"""Chunk cleaned paragraphs along the document's own structure.

Headings (第X章/节, 第X条, 一、, (一), 1., (1)) build a section path; an
article or a 问/答 pair is one unit and stays whole when it fits; other body
text is packed paragraph by paragraph within its section.  Oversized units are
split at sentence ends, then at clause ends, and only as a last resort at the
cap.  Every chunk carries its title and section path in its indexed text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from assistant.ingest.clean import split_sentences
from assistant.ingest.models import TABLE_CELL_SEPARATOR, Chunk, DocumentMeta, Paragraph, chunk_header

_NUM = r"[一二三四五六七八九十百零〇两\d]+"
# (level, pattern); lower level = outer
_HEADINGS = [
    (1, re.compile(rf"^第{_NUM}[编章](?=\s|$|[\u4e00-\u9fff])")),
    (1, re.compile(rf"^第{_NUM}部分")),
    (2, re.compile(rf"^第{_NUM}节(?=\s|$|[\u4e00-\u9fff])")),
    (4, re.compile(r"^[一二三四五六七八九十]+、")),
    (5, re.compile(r"^\([一二三四五六七八九十]+\)")),
    (6, re.compile(r"^\d{1,2}(\.|、)(?!\d)")),
    (7, re.compile(r"^(\(\d{1,2}\)|[①-⑳])")),
]
_ARTICLE = re.compile(rf"^第({_NUM})条")
# what follows `第X条` when it is a reference (`第九条的规定`, `第九条、第十条`, `第九条第二款`), not an article
_REFERENCE_AFTER = re.compile(r"^(的|规定|所|之|、|,|和|或|及|与|至|到|中|第[一二三四五六七八九十百零〇两\d]+[款项目])")
_SENTENCE_END = set("。;:!?…\"”’」』)】")  # a paragraph ending so is complete; the next line starts anew
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def article_number(numeral: str) -> int | None:
    """`第一百二十三条`'s number: Chinese numerals (with 十/百/千) or digits; None when unreadable."""
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


def _starts_article(text: str, last: int | None) -> bool:
    """Whether `第X条` at the start of a line opens article X: it continues the numbering (X just after the
    last article, or a first article, or 第一条 starting an annex) and is not a cross-reference that wrapped to a new line
    (`…依据本法第八条、` / `第九条的规定…`)."""
    found = _ARTICLE.match(text)
    if not found:
        return False
    if _REFERENCE_AFTER.match(text[found.end():]):
        return False
    number = article_number(found.group(1))
    # a gap of one or two (an article lost with a page) still continues the numbering
    return number is None or last is None or last < number <= last + 3 or number == 1
_QUESTION = re.compile(r"^(\d{1,3}[.、]\s*)?(问|Q)\s*[::]")
_ANSWER = re.compile(r"^(答|A)\s*[::]")
ARTICLE_LEVEL = 3
LIST_ITEM_LEVEL = 6
MAX_TITLE_IN_HEADER = 60
MAX_LABEL = 40


@dataclass
class _Block:
    section: tuple[str, ...]
    kind: str  # text / article / qa / heading
    paragraphs: list[Paragraph] = field(default_factory=list)
    # one id per heading on the path: two headings with the same words are still two sections
    ids: tuple[int, ...] = ()


def _heading_level(text: str) -> int | None:
    for level, pattern in _HEADINGS:
        if pattern.match(text):
            return level
    return None


def _label(text: str) -> str:
    """A heading's label for the section path: the heading sentence, shortened."""
    first = re.split(r"[。;!?]", text, maxsplit=1)[0]
    return first if len(first) <= MAX_LABEL else first[: MAX_LABEL - 1] + "…"


def _is_heading_only(text: str) -> bool:
    return len(text) <= 50 and len(split_sentences(text)) <= 1 and not text.endswith(("。", ";"))


def structure(paragraphs: list[Paragraph]) -> list[_Block]:
    """Group paragraphs into blocks under a section path.

    A heading on a line of its own becomes a ``heading`` block; ``chunk_document``
    decides whether the section paths below it carry its words or it stays body text.
    """
    stack: list[tuple[int, str, int]] = []
    blocks: list[_Block] = []
    unit: _Block | None = None  # an open article or Q&A pair absorbs its sub-items
    counter = iter(range(1, 1 << 62))

    def path() -> tuple[str, ...]:
        return tuple(label for _, label, _ in stack)

    def ids() -> tuple[int, ...]:
        return tuple(uid for _, _, uid in stack)

    def push(level: int, label: str) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, label, next(counter)))

    last_article: int | None = None
    for paragraph in paragraphs:
        text = paragraph.text
        level = _heading_level(text)
        if (
            _ARTICLE.match(text)
            and unit is not None
            and unit.kind == "article"
            and unit.paragraphs[-1].text[-1:] not in _SENTENCE_END
            and not _starts_article(text, last_article)
        ):
            # a cross-reference wrapped to the start of a line: the sentence goes on in the open article
            previous = unit.paragraphs[-1]
            unit.paragraphs[-1] = Paragraph(previous.text + text, previous.page)
            continue
        if _ARTICLE.match(text):
            push(ARTICLE_LEVEL, "第" + _ARTICLE.match(text).group(1) + "条")
            last_article = article_number(_ARTICLE.match(text).group(1)) or last_article
            unit = _Block(path(), "article", [paragraph], ids())
            blocks.append(unit)
            continue
        if _QUESTION.match(text):
            while stack and stack[-1][0] >= ARTICLE_LEVEL:
                stack.pop()
            unit = _Block(path() + (_label(_QUESTION.sub("问:", text)),), "qa", [paragraph], ids() + (next(counter),))
            blocks.append(unit)
            continue
        if unit is not None and (level is None or level > 4 or _ANSWER.match(text)):
            if not (unit.kind == "article" and level is not None and level <= 2):
                unit.paragraphs.append(paragraph)
                continue
        if level is not None and level >= LIST_ITEM_LEVEL and not _is_heading_only(text):
            level = None  # `1. …;` is an item of the list it stands in, not a heading
        if level is not None:
            unit = None
            push(level, _label(text))
            if _is_heading_only(text):
                blocks.append(_Block(path(), "heading", [paragraph], ids()))
                continue
        unit = None
        if blocks and blocks[-1].kind == "text" and blocks[-1].ids == ids():
            blocks[-1].paragraphs.append(paragraph)
        else:
            blocks.append(_Block(path(), "text", [paragraph], ids()))
    return blocks


def _fold_bare_headings(blocks: list[_Block], shown: list[str]) -> list[_Block]:
    """Drop a heading line from the body when every block below it shows it in its section.

    ``shown`` is each block's section as it will be printed (possibly shortened).
    A heading whose words would not all be shown (a long label, a path cut to fit
    the cap) stays body text, at the top of its own section.
    """
    kept: list[_Block] = []
    for index, block in enumerate(blocks):
        if block.kind == "heading":
            text = block.paragraphs[0].text
            label = block.section[-1] if block.section else ""
            below = index + 1  # the blocks under this heading follow it, up to the first one outside
            while below < len(blocks) and blocks[below].ids[: len(block.ids)] == block.ids:
                below += 1
            whole = label in (text, text.rstrip("?!?!"))
            if below > index + 1 and whole and all(label in shown[j] for j in range(index + 1, below)):
                continue
            block.kind = "text"
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if following is not None and following.kind == "text" and following.ids == block.ids:
                following.paragraphs.insert(0, block.paragraphs[0])
                continue
        kept.append(block)
    return kept


def _pieces(text: str, budget: int) -> list[str]:
    """Split one paragraph into pieces within budget: sentences, then clauses, then hard cuts."""
    if len(text) <= budget:
        return [text]
    out: list[str] = []
    for sentence in split_sentences(text):
        if len(sentence) <= budget:
            out.append(sentence)
            continue
        clauses = re.findall(r"[^,,、]*[,,、]+|[^,,、]+$", sentence)
        for clause in clauses:
            while len(clause) > budget:
                out.append(clause[:budget])
                clause = clause[budget:]
            if clause:
                out.append(clause)
    return _pack([Paragraph(p) for p in out], budget, sep="")


def _pack(paragraphs: list[Paragraph], budget: int, sep: str = "\n") -> list[str]:
    """Greedy packing of consecutive pieces up to the budget."""
    out: list[str] = []
    current = ""
    for paragraph in paragraphs:
        piece = paragraph.text
        if current and len(current) + len(sep) + len(piece) <= budget:
            current += sep + piece
        else:
            if current:
                out.append(current)
            current = piece
    if current:
        out.append(current)
    return out


def _pack_with_pages(paragraphs: list[Paragraph], budget: int) -> list[tuple[str, int | None]]:
    """Pack paragraphs (splitting oversized ones) and remember each chunk's first page."""
    pieces: list[Paragraph] = []
    for paragraph in paragraphs:
        pieces += [Paragraph(p, paragraph.page) for p in _pieces(paragraph.text, budget)]
    out: list[tuple[str, int | None]] = []
    current: list[Paragraph] = []
    length = 0
    header: Paragraph | None = None  # the first row of the table being packed: it names the columns
    previous = ""
    for piece in pieces:
        is_row = TABLE_CELL_SEPARATOR in piece.text
        if is_row and TABLE_CELL_SEPARATOR not in previous:
            header = piece
        elif not is_row:
            header = None
        if current and length + 1 + len(piece.text) > budget:
            out.append(("\n".join(p.text for p in current), current[0].page))
            current, length = [], 0
            if header is not None and header is not piece and len(header.text) + 1 + len(piece.text) <= budget:
                current, length = [header], len(header.text)  # a table split over chunks keeps its header rows
        length += len(piece.text) + (1 if current else 0)
        current.append(piece)
        previous = piece.text
    if current:
        out.append(("\n".join(p.text for p in current), current[0].page))
    return out


def _section_text(section: tuple[str, ...], budget: int) -> str:
    text = " > ".join(section)
    return text if len(text) <= budget else "…" + text[-(budget - 1) :]


def chunk_document(doc: DocumentMeta, paragraphs: list[Paragraph], max_chars: int) -> list[Chunk]:
    """Chunks whose indexed text (header + body) never exceeds ``max_chars``.

    Title and section path each get at most a quarter of the cap in the header,
    so at least half of every chunk is body text, whatever the cap.
    """
    if max_chars < 40:
        raise ValueError(f"max_chars {max_chars} leaves no room for a header and text")
    title_budget = min(MAX_TITLE_IN_HEADER, max_chars // 4)
    title = doc.title if len(doc.title) <= title_budget else doc.title[: title_budget - 1] + "…"
    header_doc = DocumentMeta(**{**doc.__dict__, "title": title})
    chunks: list[Chunk] = []
    section_budget = max_chars // 4
    blocks = structure(paragraphs)
    blocks = _fold_bare_headings(blocks, [_section_text(b.section, section_budget) for b in blocks])
    for block in blocks:
        section = _section_text(block.section, section_budget)
        budget = max_chars - len(chunk_header(title, section)) - 1
        for text, page in _pack_with_pages(block.paragraphs, budget):
            ordinal = len(chunks)
            digest = hashlib.sha256(f"{doc.doc_id}\x00{ordinal}\x00{section}\x00{text}".encode()).hexdigest()[:24]
            chunks.append(Chunk(digest, header_doc, section, text, page, ordinal))
    return chunks
