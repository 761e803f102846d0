"""Plain data passed between the ingest stages and on to the index."""

from __future__ import annotations

from dataclasses import dataclass, field


# the cells of one table row, as the loaders write them on one line (DOCX and PDF tables alike)
from assistant.text.quotable import TABLE_CELL_SEPARATOR  # noqa: F401 - where ingest finds it
# shown with every passage recognised by OCR from a scan or a photo
OCR_NOTICE = "扫描件识别文字,请以原件为准"


class IngestError(Exception):
    """A file that cannot be ingested, with a reason a user can act on.

    ``code`` is stable for programs; ``message_zh`` is what the UI shows.
    """

    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass
class Page:
    """Text of one page (PDF) or of the whole file (page is None)."""

    text: str
    page: int | None = None
    ocr: bool = False  # recognised from an image (a scanned page, a photo), not read from a text layer


@dataclass
class LoadedDocument:
    source: str  # path relative to the corpus root, with forward slashes
    pages: list[Page]
    title_hint: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    laid_out: bool = False  # lines as set on a page (PDF, OCR): wrapped at a width, to be joined


@dataclass
class Paragraph:
    text: str
    page: int | None = None


@dataclass
class DocumentMeta:
    doc_id: str
    title: str
    source: str
    content_hash: str
    doc_type: str = ""  # speech / news / policy / qa, or "" when unknown
    issuer: str = ""
    doc_number: str = ""
    date: str = ""  # ISO yyyy-mm-dd when known
    region: str = ""
    reporter: str = ""
    editor: str = ""
    promulgated: str = ""  # ISO date the text was adopted or first issued (通过/发布/公布)
    effective: str = ""  # ISO date it took or takes effect (施行)
    revised: str = ""  # ISO date of the latest revision (修订/修正), '' when never revised
    validity: str = ""  # 'repealed' when the text itself says so; the index adds 'superseded' (versions)
    repeals: str = ""  # titles of documents this one says it repeals or replaces, one a line
    ocr_pages: str = ""  # pages recognised by OCR: '1,3' or 'all' (an image file); '' when none
    pipeline: str = ""  # fingerprint of the ingest pipeline that wrote the chunks (ingest/fingerprint.py)

    def as_metadata(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Chunk:
    chunk_id: str
    doc: DocumentMeta
    section: str  # heading path joined with " > "
    text: str  # cleaned body, what is cited and shown
    page: int | None
    ordinal: int

    @property
    def ocr(self) -> bool:
        """Whether this chunk's text was recognised from a scan or photo (its page, or the whole file)."""
        pages = self.doc.ocr_pages
        return pages == "all" or (self.page is not None and str(self.page) in pages.split(","))

    @property
    def header(self) -> str:
        return chunk_header(self.doc.title, self.section)

    @property
    def indexed_text(self) -> str:
        """What is embedded and BM25-indexed: the body with its title and heading path."""
        return f"{self.header}\n{self.text}"


def chunk_header(title: str, section: str) -> str:
    return f"【{title}{' | ' + section if section else ''}】"


@dataclass
class FileReport:
    source: str
    status: str  # indexed / unchanged / failed / skipped / removed
    chunks: int = 0
    code: str = ""
    reason_zh: str = ""
    reason_en: str = ""
    title: str = ""
    note_zh: str = ""  # for staff, beside the status (an upload saved under another name)
