"""Office files: DOCX read straight from its XML, spreadsheets (XLSX, CSV), Word 97 (.doc, .wps) and OFD.

DOCX is parsed with lxml rather than python-docx: python-docx resolves every paragraph's style by
scanning all styles (a 62 KB file with many styles took 84 s), and it cannot tell hidden or white
runs from visible ones.  Text a reader does not see (``w:vanish``, white, 1 pt) is not indexed: it is
how a file makes the assistant "quote" a figure nobody can find in the document.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
import zlib
from dataclasses import dataclass

from assistant.ingest.budget import Budget
from assistant.ingest.models import TABLE_CELL_SEPARATOR, IngestError, LoadedDocument, Page
from assistant.settings import IngestSettings

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CHECK_EVERY = 200  # paragraphs or rows between two looks at the clock


def open_archive(data: bytes, kind: str, caps: IngestSettings) -> zipfile.ZipFile:
    """The zip container of a DOCX/XLSX/OFD, refused when damaged or when it expands past the cap."""
    from assistant.ingest.loaders import format_size

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise IngestError("damaged", f"{kind} 文件已损坏(不是有效的压缩包)", f"damaged {kind} (not a zip archive)") from exc
    uncompressed = sum(info.file_size for info in archive.infolist())
    if uncompressed > caps.max_docx_uncompressed_mb * 1024 * 1024:
        raise IngestError(
            "zip_bomb",
            f"{kind} 解压后过大({format_size(uncompressed)}),上限为 {caps.max_docx_uncompressed_mb:g} MB,已拒绝",
            f"{kind} expands to {format_size(uncompressed)} > {caps.max_docx_uncompressed_mb:g} MB; refused",
        )
    return archive


def parse_xml(raw: bytes):
    """XML from inside a document: no entities resolved, nothing fetched, no huge trees."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    return etree.fromstring(raw, parser)


# ---------------------------------------------------------------- DOCX


@dataclass
class _RunLook:
    """What decides whether a run is seen: each None until a style or the run itself sets it."""

    vanish: bool | None = None
    color: str | None = None
    size: int | None = None  # half-points

    def over(self, base: _RunLook) -> _RunLook:
        return _RunLook(
            self.vanish if self.vanish is not None else base.vanish,
            self.color if self.color is not None else base.color,
            self.size if self.size is not None else base.size,
        )

    @property
    def invisible(self) -> bool:
        return bool(self.vanish) or (self.color or "").upper() in ("FFFFFF", "WHITE") or (self.size is not None and self.size <= 2)


def _on(element) -> bool:
    return element is not None and element.get(f"{W}val", "true").lower() not in ("0", "false", "off")


def _look(rpr) -> _RunLook:
    if rpr is None:
        return _RunLook()
    vanish = rpr.find(f"{W}vanish")
    spec = rpr.find(f"{W}specVanish")
    color = rpr.find(f"{W}color")
    size = rpr.find(f"{W}sz")
    try:
        half_points = int(size.get(f"{W}val")) if size is not None else None
    except (TypeError, ValueError):
        half_points = None
    return _RunLook(
        True if (_on(vanish) or _on(spec)) else (False if vanish is not None else None),
        color.get(f"{W}val") if color is not None else None,
        half_points,
    )


class _Styles:
    """Style names and the run look each style gives, resolved along ``basedOn`` once per file."""

    def __init__(self, root):
        self._raw: dict[str, tuple[str, str | None, _RunLook]] = {}
        self.default = _RunLook()
        if root is None:
            return
        defaults = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        self.default = _look(defaults)
        for style in root.iter(f"{W}style"):
            style_id = style.get(f"{W}styleId") or ""
            name = style.find(f"{W}name")
            based = style.find(f"{W}basedOn")
            self._raw[style_id] = (
                (name.get(f"{W}val") if name is not None else style_id) or "",
                based.get(f"{W}val") if based is not None else None,
                _look(style.find(f"{W}rPr")),
            )
        self._resolved: dict[str, _RunLook] = {}

    def name(self, style_id: str | None) -> str:
        return self._raw.get(style_id or "", ("", None, None))[0]

    def look(self, style_id: str | None) -> _RunLook:
        if not style_id or style_id not in self._raw:
            return _RunLook()
        if style_id not in self._resolved:
            self._resolved[style_id] = _RunLook()  # a basedOn loop ends here
            chain, seen, current = [], set(), style_id
            while current in self._raw and current not in seen:
                seen.add(current)
                chain.append(self._raw[current][2])
                current = self._raw[current][1]
            look = _RunLook()
            for own in chain:  # nearest first
                look = look.over(own)
            self._resolved[style_id] = look
        return self._resolved[style_id]


_RUN_CONTAINERS = {f"{W}{name}" for name in ("hyperlink", "ins", "smartTag", "sdt", "sdtContent", "fldSimple", "customXml", "moveTo")}


def _runs(paragraph):
    """The runs of a paragraph in order, through hyperlinks, insertions and content controls (not deletions)."""
    for child in paragraph:
        if child.tag == f"{W}r":
            yield child
        elif child.tag in _RUN_CONTAINERS:
            yield from _runs(child)


def _run_text(run) -> str:
    parts = []
    for child in run:
        tag = child.tag
        if tag == f"{W}t":
            parts.append(child.text or "")
        elif tag in (f"{W}tab", f"{W}ptab"):
            parts.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


class _DocxReader:
    def __init__(self, styles: _Styles, budget: Budget):
        self.styles = styles
        self.budget = budget
        self.paragraphs = 0
        self.hidden = 0  # runs left out because a reader would not see them

    def paragraph(self, p) -> tuple[str, str]:
        """(visible text, style name) of a paragraph."""
        ppr = p.find(f"{W}pPr")
        style_el = ppr.find(f"{W}pStyle") if ppr is not None else None
        style_id = style_el.get(f"{W}val") if style_el is not None else None
        base = self.styles.look(style_id).over(self.styles.default)
        parts = []
        for run in _runs(p):
            rpr = run.find(f"{W}rPr")
            char_style = rpr.find(f"{W}rStyle") if rpr is not None else None
            look = _look(rpr).over(self.styles.look(char_style.get(f"{W}val") if char_style is not None else None)).over(base)
            text = _run_text(run)
            if look.invisible:
                self.hidden += bool(text.strip())
                continue
            parts.append(text)
        self.paragraphs += 1
        if self.paragraphs % _CHECK_EVERY == 0:
            self.budget.check()
        return self.budget.add("".join(parts).strip()), self.styles.name(style_id)

    def cell(self, tc) -> str:
        texts = []
        for child in tc:
            if child.tag == f"{W}p":
                texts.append(self.paragraph(child)[0])
            elif child.tag == f"{W}tbl":  # a table in a cell: its rows, flattened
                texts += self.table(child)
            elif child.tag in _RUN_CONTAINERS:
                texts += [self.paragraph(p)[0] for p in child.iter(f"{W}p")]
        return " ".join(t for t in texts if t)

    def table(self, tbl) -> list[str]:
        """One line per row, cells joined by the separator; a vertically merged cell repeats its text."""
        rows: list[str] = []
        above: dict[int, str] = {}  # grid column -> text of the last cell that started there
        for tr in tbl.iter(f"{W}tr"):
            if tr.getparent() is not tbl:
                continue  # rows of a nested table are read with their cell
            cells, column = [], 0
            for tc in tr.findall(f"{W}tc"):
                pr = tc.find(f"{W}tcPr")
                span_el = pr.find(f"{W}gridSpan") if pr is not None else None
                merge = pr.find(f"{W}vMerge") if pr is not None else None
                try:
                    span = max(1, int(span_el.get(f"{W}val"))) if span_el is not None else 1
                except (TypeError, ValueError):
                    span = 1
                if merge is not None and merge.get(f"{W}val", "continue") == "continue":
                    value = above.get(column, "")
                else:
                    value = self.cell(tc)
                    above[column] = value
                if value and (not cells or cells[-1] != value):
                    cells.append(value)
                column += span
            rows.append(TABLE_CELL_SEPARATOR.join(cells))
        return rows

    def body(self, element, lines: list[str], headings: list[str]) -> None:
        for block in element:
            if block.tag == f"{W}p":
                text, style = self.paragraph(block)
                if text and style.lower() in ("title", "heading 1", "标题", "标题 1"):
                    headings.append(text)
                lines.append(text)
            elif block.tag == f"{W}tbl":
                lines += self.table(block)
            elif block.tag in _RUN_CONTAINERS:  # content controls around whole paragraphs
                self.body(block, lines, headings)


def load_docx(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    from lxml import etree

    from assistant.ingest.loaders import useful_title

    archive = open_archive(data, "DOCX", caps)
    names = set(archive.namelist())
    if "word/document.xml" not in names:
        raise IngestError("damaged", "DOCX 文件已损坏(缺少正文)", "damaged DOCX (no word/document.xml)")
    try:
        document = parse_xml(archive.read("word/document.xml"))
        styles = _Styles(parse_xml(archive.read("word/styles.xml")) if "word/styles.xml" in names else None)
        core = parse_xml(archive.read("docProps/core.xml")) if "docProps/core.xml" in names else None
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError) as exc:
        raise IngestError("damaged", f"DOCX 文件已损坏:{exc}", f"damaged DOCX: {exc}") from exc
    body = document.find(f"{W}body")
    if body is None:
        raise IngestError("damaged", "DOCX 文件已损坏(缺少正文)", "damaged DOCX (no body)")
    reader = _DocxReader(styles, budget)
    lines: list[str] = []
    headings: list[str] = []
    reader.body(body, lines, headings)
    title = None
    if core is not None:
        found = core.find("{http://purl.org/dc/elements/1.1/}title")
        title = useful_title(found.text or "") if found is not None else None
    if title is None and headings:
        title = headings[0]
    extra = {"hidden": str(reader.hidden)} if reader.hidden else {}
    return LoadedDocument(source=source, pages=[Page("\n".join(lines))], title_hint=title, extra=extra)


# ---------------------------------------------------------------- spreadsheets

_QUESTION_HEADER = re.compile(r"^(问题|提问|常见问题|咨询问题|咨询内容|问|Q|question)", re.I)
_ANSWER_HEADER = re.compile(r"^(答案|回答|答复|解答|答|回复|政策解答|A|answer)", re.I)
_ASKS = re.compile(r"[??]\s*$|(吗|呢|如何|怎么|怎样|多少|哪些|哪里|是否|能否|可否|可以.*吗|什么|多久|几)")


def _sheet_rows(rows, budget: Budget) -> list[list[str]]:
    """Rows as lists of trimmed cell strings, trailing empty cells and empty rows dropped."""
    out = []
    for number, row in enumerate(rows, start=1):
        cells = ["" if v is None else re.sub(r"\s+", " ", str(v)).strip() for v in row]
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            budget.add("".join(cells))
            out.append(cells)
        if number % _CHECK_EVERY == 0:
            budget.check()
    return out


def faq_columns(rows: list[list[str]]) -> tuple[int, int, bool] | None:
    """(question column, answer column, first row is a header) of an FAQ sheet, else None.

    By header words (问题 / 答复 …), else by shape: a column whose cells ask (end in ?, or hold
    吗/如何/多少 …) followed by a column of longer text.
    """
    if len(rows) < 2:
        return None
    header = rows[0]
    asks = [i for i, h in enumerate(header) if _QUESTION_HEADER.match(h) and len(h) <= 12]
    answers = [i for i, h in enumerate(header) if _ANSWER_HEADER.match(h) and len(h) <= 12]
    if asks and answers and asks[0] != answers[0]:
        return asks[0], answers[0], True
    body = rows[1:] if len(rows) > 2 else rows
    width = max(len(r) for r in body)
    for column in range(width - 1):
        questions = [r[column] for r in body if len(r) > column and r[column]]
        replies = [r[column + 1] for r in body if len(r) > column + 1 and r[column + 1]]
        if len(questions) < 2 or len(replies) < 0.8 * len(questions):
            continue
        asking = sum(1 for q in questions if _ASKS.search(q)) / len(questions)
        longer = sum(len(a) for a in replies) / len(replies) > sum(len(q) for q in questions) / len(questions)
        if asking >= 0.6 and longer:
            header_row = not _ASKS.search(rows[0][column] if rows[0] else "") and len(rows) > 2
            return column, column + 1, header_row
    return None


def sheet_lines(name: str, rows: list[list[str]], several: bool) -> list[str]:
    """An FAQ sheet as 问:/答: pairs (one Q&A chunk per row); any other sheet as table rows under their header."""
    found = faq_columns(rows)
    lines = [name] if several and name else []
    if found is None:
        lines += [TABLE_CELL_SEPARATOR.join(c for c in row if c) for row in rows]
        return lines
    question, answer, has_header = found
    header = rows[0] if has_header else []
    for row in rows[1:] if has_header else rows:
        ask = row[question] if len(row) > question else ""
        reply = row[answer] if len(row) > answer else ""
        if not ask or not reply:
            continue
        lines += [f"问:{ask}", f"答:{reply}"]
        for index, value in enumerate(row):  # other columns (分类, 政策依据 …) stay with their answer
            if index not in (question, answer) and value:
                label = header[index] if index < len(header) and header[index] else ""
                lines.append(f"{label}:{value}" if label else value)
    return lines


def load_xlsx(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    import openpyxl

    open_archive(data, "XLSX", caps)  # refuses a zip bomb before openpyxl expands it
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on damaged files
        raise IngestError("damaged", f"XLSX 文件已损坏:{exc}", f"damaged XLSX: {exc}") from exc
    try:
        sheets = [(sheet.title, _sheet_rows(sheet.iter_rows(values_only=True), budget)) for sheet in book.worksheets
                  if getattr(sheet, "sheet_state", "visible") == "visible"]  # a hidden sheet is not shown to readers
        title = book.properties.title if book.properties else None
    finally:
        book.close()
    from assistant.ingest.loaders import useful_title

    lines: list[str] = []
    filled = [(name, rows) for name, rows in sheets if rows]
    for name, rows in filled:
        lines += sheet_lines(name, rows, several=len(filled) > 1)
        lines.append("")
    return LoadedDocument(source=source, pages=[Page("\n".join(lines))], title_hint=useful_title(title or "") or _stem(source))


def load_csv(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    from assistant.ingest.loaders import decode_text

    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = _sheet_rows(csv.reader(io.StringIO(text), dialect), budget)
    return LoadedDocument(source=source, pages=[Page("\n".join(sheet_lines("", rows, several=False)))], title_hint=_stem(source))


def _stem(source: str) -> str | None:
    """A spreadsheet's title when its properties have none: the file's name (its first row is a header, not a title)."""
    from pathlib import PurePosixPath

    from assistant.ingest.loaders import useful_title

    return useful_title(re.sub(r"[_\-]+", " ", PurePosixPath(source).stem))


# ---------------------------------------------------------------- Word 97, WPS, OFD

SAVE_AS = "请用 Word 或 WPS 打开后另存为 PDF 或 DOCX 再导入"


def load_doc(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    """Word 97-2003 (and WPS files saved in that format) through Debian's antiword, if installed."""
    kind = "WPS" if source.lower().endswith(".wps") else "DOC"
    if not data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # the OLE2 container Word 97 and WPS use
        raise IngestError("unsupported_format", f"{kind} 文件不是可识别的 Word 97-2003 格式,{SAVE_AS}",
                          f"{kind} file is not in Word 97-2003 (OLE2) format; save it as PDF or DOCX")
    antiword = shutil.which("antiword")
    if antiword is None:
        raise IngestError("tool_missing", f"未安装读取 .{kind.lower()} 文件所需的 antiword 工具,{SAVE_AS}",
                          "antiword is not installed; save the file as PDF or DOCX")
    try:
        done = subprocess.run(
            [antiword, "-w", "0", "-m", "UTF-8.txt", "-"], input=data, capture_output=True,
            timeout=max(1.0, budget.seconds_left), check=False,
        )
    except subprocess.TimeoutExpired:
        budget.check()
        raise IngestError("too_slow", "读取文件超时,已停止", "antiword took too long") from None
    if done.returncode != 0 or not done.stdout.strip():
        reason = done.stderr.decode("utf-8", "replace").strip()[:200]
        raise IngestError("damaged", f"无法读取该 {kind} 文件({reason or '没有文字'}),{SAVE_AS}",
                          f"antiword could not read the file: {reason}")
    text = budget.add(done.stdout.decode("utf-8", "replace"))
    # antiword marks a table cell boundary with `|` and a picture with `[pic]`
    lines = []
    for line in text.splitlines():
        line = line.replace("[pic]", "").rstrip()
        if line.startswith("|") and line.endswith("|"):
            line = TABLE_CELL_SEPARATOR.join(c.strip() for c in line.strip("|").split("|") if c.strip())
        lines.append(line)
    return LoadedDocument(source=source, pages=[Page("\n".join(lines))])


_OFD_NS = "{http://www.ofdspec.org/2016}"


def _ofd_path(base: str, location: str) -> str:
    """A path inside the OFD container: absolute (`/Doc_0/…`) or relative to the referring file's folder."""
    import posixpath

    location = location.strip().replace("\\", "/")
    joined = location.lstrip("/") if location.startswith("/") else posixpath.join(posixpath.dirname(base), location)
    return posixpath.normpath(joined)


def _numbers(value: str | None) -> list[float]:
    try:
        return [float(v) for v in (value or "").split()]
    except ValueError:
        return []


def _ofd_page_lines(content) -> list[str]:
    """Text objects of one page as printed lines: codes at the same height joined left to right."""
    codes: list[tuple[float, float, str]] = []
    for obj in content.iter(f"{_OFD_NS}TextObject"):
        if obj.get("Visible", "true").lower() == "false":
            continue
        fill = obj.find(f"{_OFD_NS}FillColor")
        if fill is not None and _numbers(fill.get("Value")) in ([255.0, 255.0, 255.0], [255.0]):
            continue  # white text: unseen
        if fill is not None and fill.get("Alpha") == "0":
            continue
        box = _numbers(obj.get("Boundary")) or [0.0, 0.0]
        for code in obj.findall(f"{_OFD_NS}TextCode"):
            x = float(code.get("X", 0) or 0) + box[0]
            y = float(code.get("Y", 0) or 0) + box[1]
            if code.text:
                codes.append((round(y, 1), x, code.text))
    lines: list[list[tuple[float, float, str]]] = []
    for code in sorted(codes):
        if lines and abs(lines[-1][0][0] - code[0]) <= 1.0:
            lines[-1].append(code)
        else:
            lines.append([code])
    return ["".join(text for _, _, text in sorted(line, key=lambda c: c[1])) for line in lines]


def load_ofd(data: bytes, source: str, caps: IngestSettings, budget: Budget) -> LoadedDocument:
    """OFD (GB/T 33190) read from its XML: each page's text objects, in page order.

    No OFD library qualified (easyofd needs the AGPL PyMuPDF; ofdreader 0.1.0 ships no code), and
    the standard's text layer is plain XML, so it is read here.  A page made only of images (a scan
    saved as OFD) has no text to read: the message asks for a PDF.
    """
    from lxml import etree

    archive = open_archive(data, "OFD", caps)
    try:
        root = parse_xml(archive.read("OFD.xml"))
        body = root.find(f"{_OFD_NS}DocBody")
        doc_root = body.findtext(f"{_OFD_NS}DocRoot") if body is not None else None
        if not doc_root:
            raise KeyError("DocRoot")
        document_path = _ofd_path("OFD.xml", doc_root)
        document = parse_xml(archive.read(document_path))
        title = body.findtext(f"{_OFD_NS}DocInfo/{_OFD_NS}Title")
        pages = []
        entries = document.findall(f"{_OFD_NS}Pages/{_OFD_NS}Page")
        if len(entries) > caps.max_pdf_pages:
            raise IngestError("too_many_pages", f"OFD 页数过多({len(entries)} 页),上限为 {caps.max_pdf_pages} 页",
                              f"too many pages ({len(entries)} > {caps.max_pdf_pages})")
        for number, entry in enumerate(entries, start=1):
            budget.check()
            content = parse_xml(archive.read(_ofd_path(document_path, entry.get("BaseLoc", ""))))
            pages.append(Page(budget.add("\n".join(_ofd_page_lines(content))), page=number))
    except IngestError:
        raise
    except (KeyError, etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, AttributeError, OSError) as exc:
        raise IngestError("damaged", f"OFD 文件已损坏或结构无法识别({exc}),请另存为 PDF 后再导入",
                          f"damaged or unreadable OFD: {exc}") from exc
    if not any(p.text.strip() for p in pages):
        raise IngestError("needs_ocr", "OFD 文件中没有文字层(可能是扫描件),请另存为 PDF 后再导入",
                          "OFD has no text layer; save it as PDF")
    from assistant.ingest.loaders import useful_title

    return LoadedDocument(source=source, pages=pages, title_hint=useful_title(title or ""), laid_out=True)
