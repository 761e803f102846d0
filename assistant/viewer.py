"""What the document viewer shows: an indexed document's chunks, a passage among its neighbours, and a PDF
page as an image with the passage marked.

Only documents the index holds completely are shown (``AssistantService.document_path`` finds their file
inside the corpus folder); the page image is drawn here, so no document markup ever reaches a browser.
"""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

from assistant.index.store import PAGE_NONE, StoredChunk

HIGHLIGHT_RGBA = (255, 200, 0, 110)  # the marker over the cited passage on a page image
PAGE_SCALE = 1.6  # 72 dpi x 1.6: a page readable on a phone, ~150 KB as PNG
_PIECE = re.compile(r"[^。;;,,、::!?!?\s]{3,}")  # a passage cut where punctuation or breaks may differ
_PDFIUM = threading.Lock()  # pdfium is not thread-safe; the ingest's OCR holds its own documents


def chunk_json(chunk: StoredChunk) -> dict:
    """A chunk as the viewer and the console's chunk view show it."""
    page = chunk.metadata.get("page", PAGE_NONE)
    return {
        "chunk_id": chunk.chunk_id,
        "ordinal": int(chunk.metadata.get("ordinal", 0)),
        "section": chunk.metadata.get("section", ""),
        "page": None if page == PAGE_NONE else int(page),
        "text": chunk.text,
        "ocr": bool(chunk.metadata.get("ocr", False)),
    }


def passage_in(chunks: list[dict], chunk_id: str, around: int) -> dict | None:
    """The chunk ``chunk_id`` with up to ``around`` chunks before and after it (reading order)."""
    at = next((i for i, c in enumerate(chunks) if c["chunk_id"] == chunk_id), None)
    if at is None:
        return None
    return {"chunk": chunks[at], "before": chunks[max(0, at - around):at], "after": chunks[at + 1:at + 1 + around]}


def page_count(path: Path) -> int:
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(str(path))
        try:
            return len(document)
        finally:
            document.close()


def _squeezed(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace, and for each kept character its index in ``text``."""
    kept = [(i, c) for i, c in enumerate(text) if not c.isspace()]
    return "".join(c for _, c in kept), [i for i, _ in kept]


def passage_chars(page_text: str, passage: str) -> set[int]:
    """Indexes of ``page_text`` characters that belong to ``passage``: each piece of the passage (between
    punctuation, as wrapped lines and cleaning may have changed the breaks) found in the page's text."""
    squeezed, where = _squeezed(page_text)
    marked: set[int] = set()
    start = 0
    for piece in _PIECE.findall(passage):
        at = squeezed.find(piece, start)
        if at < 0:
            at = squeezed.find(piece)
            if at < 0:
                continue
        marked.update(where[at:at + len(piece)])
        start = at + len(piece)
    return marked


def page_png(path: Path, number: int, passage: str = "", scale: float = PAGE_SCALE) -> tuple[bytes, bool]:
    """Page ``number`` (from 1) of a PDF as PNG, with the characters of ``passage`` marked; and whether any
    were.  Raises ``IndexError`` for a page the file does not have."""
    import pypdfium2
    from PIL import Image, ImageDraw

    with _PDFIUM:
        document = pypdfium2.PdfDocument(str(path))
        try:
            if not 1 <= number <= len(document):
                raise IndexError(number)
            page = document[number - 1]
            try:
                image = page.render(scale=scale).to_pil().convert("RGBA")
                height = page.get_height()
                boxes = []
                if passage:
                    text_page = page.get_textpage()
                    try:
                        count = text_page.count_chars()
                        text = "".join(text_page.get_text_range(i, 1) or " " for i in range(count))
                        boxes = [text_page.get_charbox(i) for i in sorted(passage_chars(text, passage))]
                    finally:
                        text_page.close()
            finally:
                page.close()
        finally:
            document.close()
    if boxes:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        for left, bottom, right, top in boxes:  # PDF points, origin bottom-left
            draw.rectangle((left * scale - 1, (height - top) * scale - 2, right * scale + 1,
                            (height - bottom) * scale + 2), fill=HIGHLIGHT_RGBA)
        image = Image.alpha_composite(image, overlay)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), bool(boxes)
