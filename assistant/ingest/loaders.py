"""Turn a file on disk into pages of raw text, or an IngestError saying why not.

Every loader checks the caps in settings before doing expensive work, and counts
characters and seconds while it parses (``Budget``), so a hostile file is refused
part-way instead of exhausting memory or time.  Text a reader would not see
(hidden HTML, invisible PDF text, hidden DOCX runs) is not extracted.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from assistant.ingest.budget import Budget
from assistant.ingest.clean import parse_byline
from assistant.ingest.models import TABLE_CELL_SEPARATOR, IngestError, LoadedDocument, Page
from assistant.settings import IngestSettings
from assistant.text.lexicon import common_hanzi, general_word_freq
from assistant.text.normalize import fold_width, to_simplified

CJK = re.compile(r"[\u3400-\u9fff]")
log = logging.getLogger(__name__)


def _loaders() -> dict:
    from assistant.ingest import office, ocr

    loaders = {
        ".pdf": _load_pdf,
        ".docx": office.load_docx,
        ".xlsx": office.load_xlsx,
        ".csv": office.load_csv,
        ".doc": office.load_doc,
        ".wps": office.load_doc,
        ".ofd": office.load_ofd,
        ".html": _load_html,
        ".htm": _load_html,
        ".md": _load_markdown,
    }
    loaders.update({ext: ocr.load_image for ext in ocr.IMAGE_EXTENSIONS})
    return loaders


def load_file(path: Path, source: str, caps: IngestSettings, budget: Budget | None = None) -> LoadedDocument:
    budget = budget or Budget(caps)
    ext = path.suffix.lower()
    if ext not in caps.supported_extensions:
        raise IngestError(
            "unsupported_type",
            f"不支持的文件类型“{ext or '无扩展名'}”,支持:{'、'.join(caps.supported_extensions)}",
            f"unsupported file type {ext or '(none)'}",
        )
    size = path.stat().st_size
    if size == 0:
        raise IngestError("empty", "文件为空(0 字节)", "empty file (0 bytes)")
    if size > caps.max_file_mb * 1024 * 1024:
        raise IngestError(
            "too_large",
            f"文件过大({format_size(size)}),上限为 {caps.max_file_mb:g} MB",
            f"file too large ({format_size(size)} > {caps.max_file_mb:g} MB)",
        )
    data = path.read_bytes()
    doc = _loaders().get(ext, _load_text)(data, source, caps, budget)
    if not any(p.text.strip() for p in doc.pages):
        raise IngestError("no_text", "文件中没有可提取的文字", "no extractable text")
    return doc


def format_size(n_bytes: int) -> str:
    """A size for messages; KB below 1 MB, so a small file over a small cap does not read `0.0 MB`."""
    if n_bytes < 1024 * 1024:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes / 1048576:.1f} MB"


_PLACEHOLDER_TITLES = re.compile(
    r"^(untitled|untitled document|无标题|无标题文档|未命名|document|title|标题|anonymous|unspecified|"
    r"(microsoft word|wps文字|wps)\s+-\s+.*|.*\.(docx?|wps|pdf|txt|rtf))$",
    re.I,
)


def useful_title(value: str) -> str | None:
    """A title from file properties, or None when it is a tool's placeholder (`untitled`, `Microsoft Word - x.doc`)."""
    value = re.sub(r"\s+", " ", value).strip()
    bare = value.strip("()()[]<>【】 ")  # `(anonymous)`, `<untitled>`
    if not value or _PLACEHOLDER_TITLES.match(bare) or not re.search(r"[\w\u3400-\u9fff]", value):
        return None
    return value


# ---------------------------------------------------------------- plain text


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), GB18030/GBK or Big5, detected, not assumed."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if _looks_binary(data):
        raise IngestError("binary", "文件内容是二进制数据,不是文本", "binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((*_reading_scores(text), encoding, text))
    if not candidates:
        # a stray byte or a file cut mid-character: accept a reading with a few bad characters
        for encoding in ("gb18030", "big5"):
            text = data.decode(encoding, errors="replace")
            if text.count("\ufffd") <= max(2, len(text) // 100):
                candidates.append((*_reading_scores(text), encoding, text))
    if not candidates:
        raise IngestError(
            "unknown_encoding",
            "无法识别文本编码(支持 UTF-8、GBK/GB18030、Big5)",
            "cannot detect text encoding (tried UTF-8, GB18030, Big5)",
        )
    # Big5 bytes often decode as GB18030 too, into rare but valid characters: prefer
    # the reading whose characters form dictionary words, then the more common characters.
    candidates.sort(key=lambda c: (c[0] + c[1], c[0]), reverse=True)
    score, coverage, _, text = candidates[0]
    # random bytes in the GB2312 range decode to common characters that never form words
    if score < 0.5 or (coverage < 0.15 and sum(ord(c) > 127 for c in text[:20000]) >= 50):
        raise IngestError("binary", "文件内容无法解码为文字,可能不是文本文件", "content does not decode to text")
    return text


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) * 0.05


def _reading_scores(text: str, sample: int = 20000) -> tuple[float, float]:
    """(plausibility, word coverage) of one decoding, judged on its simplified form.

    Traditional characters are rare in the frequency model, so a correct Big5
    reading is only recognised after conversion to simplified.
    """
    simplified = to_simplified(text[:sample])
    return _plausibility(simplified), _word_coverage(simplified)


def _word_coverage(simplified: str) -> float:
    """Share of the non-ASCII letters that are hanzi in a two-character dictionary word.

    A wrong decoding yields kana, private-use and rare characters that form no words.
    """
    freq = general_word_freq()
    letters = [
        i
        for i, ch in enumerate(simplified)
        if ord(ch) > 127 and not ch.isspace() and not ("\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")
    ]
    if not letters:
        return 0.0
    covered: set[int] = set()
    for i, ch in enumerate(simplified):
        if CJK.match(ch) and freq.get(simplified[i : i + 2], 0) > 0:  # jieba keeps prefixes with frequency 0
            covered.update((i, i + 1))
    return len(covered.intersection(letters)) / len(letters)


def _plausibility(text: str) -> float:
    """Share of characters that are ASCII printable or common hanzi/punctuation."""
    if not text:
        return 0.0
    common = common_hanzi()
    good = sum(
        1
        for ch in text
        if (" " <= ch <= "~") or ch in "\n\r\t" or ch in common or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
    )
    return good / len(text)


def _load_text(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    return LoadedDocument(source=source, pages=[Page(budget.add(decode_text(data)))])


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_MD_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_MD_LIST = re.compile(r"^\s*[-*+]\s+", re.M)
_MD_QUOTE = re.compile(r"^\s*>\s?", re.M)


def _load_markdown(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    text = budget.add(decode_text(data))
    title = None
    first_heading = re.search(r"^\s{0,3}#\s+(.+)$", text, re.M)
    if first_heading:
        title = first_heading.group(1).strip()
    for pattern, repl in ((_MD_FENCE, ""), (_MD_LINK, r"\1"), (_MD_HEADING, ""), (_MD_QUOTE, ""), (_MD_LIST, "")):
        text = pattern.sub(repl, text)
    text = _MD_EMPHASIS.sub("", text)
    text = re.sub(r"^\s*([-*_]\s*){3,}$", "", text, flags=re.M)  # horizontal rules
    return LoadedDocument(source=source, pages=[Page(text)], title_hint=title)


# ---------------------------------------------------------------- PDF


# a table as pypdf's plain extraction gives it: one cell per line, many short lines in a row
_SHORT_LINE_RUN = re.compile(r"(?:^[^\n]{1,14}\n){8,}", re.MULTILINE)
_CELL_GAP = re.compile(r"(?<=\S) {2,}(?=\S)")


def _page_text(page) -> str:
    """The page's text; a page holding a table is re-read in layout mode so that each table row stays on
    one line, its cells joined by " | " as DOCX tables are (plain extraction puts every cell on its own
    line, and a lone "3000" cannot be quoted or understood)."""
    text = page.extract_text() or ""
    run = _SHORT_LINE_RUN.search(text + "\n")
    if run is None or sum(ch.isdigit() for ch in run.group(0)) < 4:
        return text
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception as exc:  # noqa: BLE001 - layout mode is best effort; the plain text is still good text
        log.info("table page kept in plain text: layout extraction failed (%s)", type(exc).__name__)
        return text
    lines = [_CELL_GAP.sub(TABLE_CELL_SEPARATOR, line.strip()) for line in layout.splitlines()]
    return "\n".join(line for line in lines if line)


# Operators that make text unseen: render mode 3 (invisible) or 7 (clip only), a white fill.
_UNSEEN_HINT = re.compile(
    rb"(?<![\d.])[37]\s+Tr\b|(?<![\d.])1(?:\.0*)?\s+g\b|(?<![\d.])1(?:\.0*)?\s+1(?:\.0*)?\s+1(?:\.0*)?\s+rg\b"
    rb"|(?<![\d.])0(?:\.0*)?\s+0(?:\.0*)?\s+0(?:\.0*)?\s+0(?:\.0*)?\s+k\b|\bscn?\b"
)
_SHOW_TEXT = (b"Tj", b"TJ", b"'", b'"')


def _is_white(operator: bytes, operands: list) -> bool:
    try:
        values = [float(v) for v in operands if not hasattr(v, "startswith")]
    except (TypeError, ValueError):
        return False
    if operator == b"k":
        return len(values) == 4 and all(v == 0 for v in values)
    return bool(values) and len(values) in (1, 3) and all(v == 1 for v in values)


def _drop_unseen_text(page, reader) -> int:
    """Remove text a reader never sees (invisible render mode, white fill) from the page's content.

    Text drawn that way is how a file plants words for a search engine, or an assistant, to find.
    Returns how many text-showing operations were dropped; the page is left alone when there were none.
    """
    from pypdf.generic import ContentStream

    contents = page.get_contents()
    if contents is None or not _UNSEEN_HINT.search(contents.get_data()):
        return 0
    stream = ContentStream(contents, reader)
    kept, dropped = [], 0
    mode, white, saved = 0, False, []
    for operands, operator in stream.operations:
        if operator == b"q":
            saved.append((mode, white))
        elif operator == b"Q" and saved:
            mode, white = saved.pop()
        elif operator == b"Tr" and operands:
            try:
                mode = int(operands[0])
            except (TypeError, ValueError):
                mode = 0
        elif operator in (b"g", b"rg", b"k", b"sc", b"scn"):
            white = _is_white(operator, operands)
        elif operator == b"cs":
            white = False
        elif operator in _SHOW_TEXT and (mode in (3, 7) or (white and mode in (0, 2, 4, 6))):
            dropped += 1
            if operator in (b"'", b'"'):
                kept.append(([], b"T*"))  # those two also move to the next line
            continue
        kept.append((operands, operator))
    if dropped:
        from pypdf.generic import NameObject

        stream.operations = kept
        page[NameObject("/Contents")] = stream  # in memory only: the reader's page, never written back
    return dropped


def _has_words(text: str) -> bool:
    return bool(CJK.search(text) or re.search(r"\w{3}", text))


def _has_image(page) -> bool:
    try:
        objects = page["/Resources"].get_object().get("/XObject")
        return bool(objects) and any(o.get_object().get("/Subtype") == "/Image" for o in objects.get_object().values())
    except (KeyError, AttributeError, TypeError):
        return False


def _load_pdf(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise IngestError("not_pdf", "文件扩展名是 .pdf,但内容不是 PDF", "not a PDF file (no %PDF header)")
    scanned: list[int] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # PDFs locked only against editing open with the empty user password
            try:
                ok = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises several types here
                ok = 0
            if not ok:
                raise IngestError("encrypted", "PDF 已加密,需要密码才能读取", "encrypted PDF (password required)")
        n_pages = len(reader.pages)
        if n_pages > caps.max_pdf_pages:
            raise IngestError(
                "too_many_pages",
                f"PDF 页数过多({n_pages} 页),上限为 {caps.max_pdf_pages} 页",
                f"too many pages ({n_pages} > {caps.max_pdf_pages})",
            )
        pages, hidden = [], 0
        for number, page in enumerate(reader.pages, start=1):
            hidden += _drop_unseen_text(page, reader)
            text = budget.add(_page_text(page))
            budget.progress(f"读取第 {number}/{n_pages} 页", number / n_pages)
            if not _has_words(text) and _has_image(page):
                scanned.append(number)
            pages.append(Page(text, page=number))
        title = None
        if reader.metadata and reader.metadata.title:
            title = useful_title(str(reader.metadata.title))
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise IngestError("encrypted", "PDF 已加密,需要密码才能读取", "encrypted PDF") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types (NotImplementedError for unknown filters, limits …)
        raise IngestError("damaged", f"PDF 文件已损坏或不完整:{exc}", f"damaged or truncated PDF: {exc}") from exc
    if n_pages == 0:
        raise IngestError("damaged", "PDF 文件已损坏:没有任何页面", "damaged PDF: no pages")
    if scanned and caps.max_ocr_pages > 0:
        from assistant.ingest.ocr import ocr_pdf_pages

        for number, text in ocr_pdf_pages(data, scanned, caps, budget).items():
            pages[number - 1] = Page(text, page=number, ocr=True)
    if not any(_has_words(p.text) for p in pages):
        off = caps.max_ocr_pages <= 0
        raise IngestError(
            "needs_ocr",
            "PDF 没有文字层(可能是扫描件)," + ("文字识别(OCR)已关闭" if off else "文字识别(OCR)也没有识别出文字"),
            "PDF has no text layer (scanned?); " + ("OCR is off" if off else "OCR recognised no text"),
        )
    extra = {"hidden": str(hidden)} if hidden else {}
    return LoadedDocument(source=source, pages=pages, title_hint=title, extra=extra, laid_out=True)


# ---------------------------------------------------------------- DOCX


# ---------------------------------------------------------------- HTML

_BOILERPLATE_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button", "select")
_BOILERPLATE_ATTR = re.compile(
    r"nav|menu|breadcrumb|crumb|footer|foot|sidebar|side-bar|share|copyright|related|comment|toolbar|topbar|header|banner|login|search|pager|position|location",
    re.I,
)
_CONTENT_ATTR = re.compile(r"article|content|TRS_Editor|main|detail|text|zoom|body", re.I)
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table", "blockquote", "pre")


def _load_html(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    from bs4 import BeautifulSoup

    raw = _decode_html(data)
    if _max_tag_depth(raw, caps.max_html_depth) > caps.max_html_depth:
        raise IngestError(
            "html_too_deep",
            f"HTML 嵌套层级过深,上限为 {caps.max_html_depth} 层,已拒绝",
            f"HTML nested too deeply (more than {caps.max_html_depth} levels); refused",
        )
    try:
        soup = BeautifulSoup(raw, "lxml")
    except RecursionError as exc:
        raise IngestError("html_too_deep", "HTML 嵌套层级过深,已拒绝", "HTML nested too deeply") from exc
    title = None
    if soup.title and soup.title.string:
        # `正文标题_栏目_网站名` / `标题 - 网站名`; a hyphen inside the title (`2099-2100年`) stays
        title = re.split(r"\s*[_|丨]\s*|\s+[-–—]+\s+", soup.title.string.strip())[0].strip() or None
    hidden_classes, hidden_ids = _hidden_selectors(soup)
    for tag in soup(_BOILERPLATE_TAGS):
        tag.decompose()
    for number, tag in enumerate(soup.find_all(True)):
        # not `tag.decomposed`: on a tag never decomposed bs4 looks `_decomposed` up as a child tag, a search of
        # the whole subtree per tag (a 60 KB page of nested <dd> took 94 s)
        if vars(tag).get("_decomposed") or tag.name in ("html", "body"):
            continue
        if number % 500 == 0:
            budget.check()
        if _is_hidden(tag, hidden_classes, hidden_ids):
            tag.decompose()  # a reader never sees it: not indexed, not a title
            continue
        if tag.name in ("article", "main"):
            continue
        attrs = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
        if attrs and _BOILERPLATE_ATTR.search(attrs) and not _CONTENT_ATTR.search(attrs):
            tag.decompose()
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    root = soup.find("article") or soup.find("main") or _densest_block(soup) or soup.body or soup
    lines = [line.strip() for line in _block_text(root).splitlines()]
    # The byline (记者/责任编辑/来源) often sits just outside the article body: keep it,
    # after the body (whose own byline wins), for the cleaner to read as metadata and drop.
    inside = set(lines)
    bylines = [
        line
        for line in (raw.strip() for raw in _block_text(soup.body or soup).splitlines())
        if line and line not in inside and parse_byline(to_simplified(fold_width(line))) is not None
    ]
    text = budget.add("\n".join([*lines, "", *dict.fromkeys(bylines)]))
    return LoadedDocument(source=source, pages=[Page(text)], title_hint=title)


# Declarations that hide an element: not displayed, invisible, zero-sized, transparent or white text,
# or placed far off-screen (`left:-9999px`, `text-indent:-9999px`), or clipped to nothing (`.sr-only`).
_HIDING = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(hidden|collapse)|opacity\s*:\s*0(\.0*)?\s*(;|$|!)"
    r"|font-size\s*:\s*0(\.0*)?\s*(px|pt|em|rem|%)?\s*(;|$|!)"
    r"|(?<![-\w])color\s*:\s*(#fff\b|#ffffff\b|white\b|transparent\b|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*[,)]|rgba\([^)]*,\s*0(\.0*)?\s*\))"
    r"|(left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\d{3,}(\.\d+)?\s*(px|pt|em|rem)"
    r"|clip\s*:\s*rect\(\s*0[^)]*\)|clip-path\s*:\s*inset\(\s*50%"
    r"|(?<![-\w])(height|max-height)\s*:\s*0(px)?\s*(;|$|!)[^}]*overflow\s*:\s*hidden",
    re.I,
)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def _hidden_selectors(soup) -> tuple[set[str], set[str]]:
    """Classes and ids that the page's own style sheets hide (simple `.x` / `#y` / `tag.x` selectors)."""
    classes: set[str] = set()
    ids: set[str] = set()
    for style in soup.find_all("style"):
        css = re.sub(r"/\*.*?\*/", "", style.get_text(), flags=re.S)
        for selectors, declarations in _CSS_RULE.findall(css):
            if not _HIDING.search(declarations):
                continue
            for selector in selectors.split(","):
                last = selector.strip().split()[-1] if selector.strip() else ""
                if re.search(r"[:\[]", last):
                    continue  # `a:hover`, `[data-x]`: states and attributes are not judged
                classes.update(re.findall(r"\.([\w-]+)", last))
                ids.update(re.findall(r"#([\w-]+)", last))
    return classes, ids


def _is_hidden(tag, hidden_classes: set[str], hidden_ids: set[str]) -> bool:
    attrs = tag.attrs or {}
    if "hidden" in attrs or tag.name == "template" or (tag.name == "input" and str(attrs.get("type", "")).lower() == "hidden"):
        return True
    style = attrs.get("style")
    if style and _HIDING.search(str(style)):
        return True
    classes = attrs.get("class") or []
    return bool((hidden_classes and hidden_classes.intersection(classes)) or (attrs.get("id") in hidden_ids))


def _block_text(root) -> str:
    """The text under ``root`` with a line break around every block element and at `<br>`.

    Iterative and read-only: no recursion on deep trees, no quadratic tree edits on long ones.
    """
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    parts: list[str] = []
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, Tag):
            block = node.name in _BLOCK_TAGS
            if leaving:
                if block:
                    parts.append("\n")
                continue
            if node.name == "br":
                parts.append("\n")
                continue
            if block:
                parts.append("\n")
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(str(node))
    return "".join(parts)


def _decode_html(data: bytes) -> str:
    head = data[:2048].decode("ascii", errors="ignore")
    declared = re.search(r"charset=[\"']?([\w-]+)", head, re.I)
    if declared:
        encoding = declared.group(1).lower()
        if encoding in ("gb2312", "gbk"):
            encoding = "gb18030"
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data)


_VOID_TAGS = frozenset(
    {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "wbr", "source", "param", "track", "embed", "keygen"}
)
_SCOPE_TAGS = frozenset({"html", "body", "table", "td", "th", "caption", "button", "object", "marquee", "template"})
_CLOSES_P = frozenset(
    {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset",
     "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "main",
     "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "ul", "li", "dd", "dt"}
)
# An opening tag closes a still-open element whose end tag HTML lets authors omit
# (`<p>a<p>b`, `<li>`, `<td>`): (tags it closes, tags that bound the search).
_TABLE = {"table", "html", "template"}
_IMPLIED_END = {
    "p": ({"p"}, _SCOPE_TAGS),
    "li": ({"li"}, {"ul", "ol", "menu"} | _SCOPE_TAGS),
    "dt": ({"dt", "dd"}, {"dl"} | _SCOPE_TAGS),
    "dd": ({"dt", "dd"}, {"dl"} | _SCOPE_TAGS),
    "td": ({"td", "th"}, {"tr"} | _TABLE),
    "th": ({"td", "th"}, {"tr"} | _TABLE),
    "tr": ({"tr"}, {"thead", "tbody", "tfoot"} | _TABLE),
    "thead": ({"thead", "tbody", "tfoot"}, _TABLE),
    "tbody": ({"thead", "tbody", "tfoot"}, _TABLE),
    "tfoot": ({"thead", "tbody", "tfoot"}, _TABLE),
    "option": ({"option"}, {"select", "datalist", "optgroup"} | _SCOPE_TAGS),
    "optgroup": ({"optgroup", "option"}, {"select"} | _SCOPE_TAGS),
    "rt": ({"rt", "rp"}, {"ruby"} | _SCOPE_TAGS),
    "rp": ({"rt", "rp"}, {"ruby"} | _SCOPE_TAGS),
}
_RAW_TEXT = re.compile(r"<!--.*?(-->|$)|<(script|style|textarea|title)\b[^>]*>.*?(</\2\s*>|$)", re.I | re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")


def _max_tag_depth(html: str, limit: int) -> int:
    """Nesting depth of the raw tags, before any parser recurses into them.

    Follows HTML's omitted end tags, so a page of unclosed `<p>` or `<li>` is
    flat, as a browser sees it.  Stops counting once ``limit`` is passed.
    """
    html = _RAW_TEXT.sub(" ", html)
    stack: list[str] = []
    peak = 0

    def close(names: set[str], bounds: set[str]) -> None:
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] in names:
                del stack[i:]
                return
            if stack[i] in bounds:
                return

    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        name = name.lower()
        if name in _VOID_TAGS or self_closing:
            continue
        if closing:
            close({name}, set())  # a stray end tag with no open element is ignored
            continue
        if name in _CLOSES_P:
            close(*_IMPLIED_END["p"])
        if name in _IMPLIED_END:
            close(*_IMPLIED_END[name])
        stack.append(name)
        peak = max(peak, len(stack))
        if peak > limit:
            break
    return peak


def _densest_block(soup):
    """The element holding the most Chinese text directly in its paragraphs."""
    best, best_score = None, 0
    for tag in soup.find_all(["div", "td", "section"]):
        score = sum(len(CJK.findall(p.get_text())) for p in tag.find_all("p", recursive=False))
        attrs = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
        if _CONTENT_ATTR.search(attrs):
            score *= 1.5
        if score > best_score:
            best, best_score = tag, score
    return best
