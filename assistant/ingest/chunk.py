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

from assistant.ingest.models import TABLE_CELL_SEPARATOR, Chunk, DocumentMeta, Paragraph, chunk_header
from assistant.text.headings import (
    ANSWER_TURN,
    ARTICLE_LEVEL,
    ARTICLE_START,
    LIST_ITEM_LEVEL,
    QUESTION_TURN,
    REFERENCE_AFTER,
    heading_level,
    numeral_value,
)
from assistant.text.sentences import split_sentences

_SENTENCE_END = set("。;:!?…\"”’」』)】")  # a paragraph ending so is complete; the next line starts anew


def _starts_article(text: str, last: int | None) -> bool:
    """Whether `第X条` at the start of a line opens article X: it continues the numbering (X just after the
    last article, or a first article, or 第一条 starting an annex) and is not a cross-reference that wrapped to a new line
    (`…依据本法第八条、` / `第九条的规定…`)."""
    found = ARTICLE_START.match(text)
    if not found:
        return False
    if REFERENCE_AFTER.match(text[found.end():]):
        return False
    number = numeral_value(found.group(1))
    # a gap of one or two (an article lost with a page) still continues the numbering
    return number is None or last is None or last < number <= last + 3 or number == 1


MAX_TITLE_IN_HEADER = 60
MAX_LABEL = 40


@dataclass
class _Block:
    section: tuple[str, ...]
    kind: str  # text / article / qa / heading
    paragraphs: list[Paragraph] = field(default_factory=list)
    # one id per heading on the path: two headings with the same words are still two sections
    ids: tuple[int, ...] = ()


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
        level = heading_level(text)
        if (
            ARTICLE_START.match(text)
            and unit is not None
            and unit.kind == "article"
            and unit.paragraphs[-1].text[-1:] not in _SENTENCE_END
            and not _starts_article(text, last_article)
        ):
            # a cross-reference wrapped to the start of a line: the sentence goes on in the open article
            previous = unit.paragraphs[-1]
            unit.paragraphs[-1] = Paragraph(previous.text + text, previous.page)
            continue
        if ARTICLE_START.match(text):
            push(ARTICLE_LEVEL, "第" + ARTICLE_START.match(text).group(1) + "条")
            last_article = numeral_value(ARTICLE_START.match(text).group(1)) or last_article
            unit = _Block(path(), "article", [paragraph], ids())
            blocks.append(unit)
            continue
        if QUESTION_TURN.match(text):
            while stack and stack[-1][0] >= ARTICLE_LEVEL:
                stack.pop()
            unit = _Block(path() + (_label(QUESTION_TURN.sub("问:", text)),), "qa", [paragraph], ids() + (next(counter),))
            blocks.append(unit)
            continue
        if unit is not None and (level is None or level > 4 or ANSWER_TURN.match(text)):
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
