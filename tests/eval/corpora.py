"""Eval corpora built from Markdown originals: some files converted to PDF, DOCX, HTML and GBK text.

The real documents in ``../shared/realdocs`` are Markdown only; users bring PDFs, Word files, saved web
pages and GBK text.  ``build_corpus`` writes a copy of the source folder in which the files a plan names are
converted, so every loader is on the eval's path, and the rest are copied as found.  Output is
deterministic (fixed PDF and DOCX metadata and zip timestamps), so a content hash can tell a stale build.

``parse_markdown`` and ``articles`` read the originals' structure (``# 标题``, issuing lines,
``<!-- INFO END -->``, ``##`` headings, ``第X条`` articles, case sections); the converters and the check of
the eval set's gold annotations both use them.  These are test-side helpers: they need reportlab (a test
dependency) and the PDF/DOCX factories of ``tests/conftest.py``.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("pdf", "docx", "html", "gbk")
INFO_END = "<!-- INFO END -->"
ARTICLE = re.compile(r"^(第[一二三四五六七八九十百零〇]+条)")
_VERSION = re.compile(r"\((\d{4}-\d{2}-\d{2})\)$")
# a bare heading line inside a statute ("法律责任", "监察管辖与职责"): short, no sentence punctuation
_BARE_HEADING = re.compile(r"^[\u4e00-\u9fff]{2,14}$")

PDF_WIDTH = 38  # characters per line: what an A4 page at 11 pt holds, lines broken mid-word as in print
PDF_LINES_PER_PAGE = 36
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass
class Block:
    kind: str  # heading / p
    text: str
    level: int = 0


@dataclass
class SourceDoc:
    path: Path
    title: str
    meta: list[str] = field(default_factory=list)  # issuing lines between the title and INFO END
    blocks: list[Block] = field(default_factory=list)

    @property
    def version(self) -> str:
        """The date in the file name (`…(2018-11-22).md`), "" when it has none."""
        match = _VERSION.search(self.path.stem)
        return match.group(1) if match else ""


def parse_markdown(path: Path) -> SourceDoc:
    lines = path.read_text(encoding="utf-8").splitlines()
    title, meta, blocks, in_meta = "", [], [], True
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line == INFO_END:
            in_meta = False
            continue
        heading = re.match(r"^(#{1,6})\s+(.+)$", line)
        if heading and len(heading.group(1)) == 1 and not title:
            title = heading.group(2).strip()
            continue
        if in_meta and title and not heading:
            meta.append(line)
            continue
        in_meta = False
        if heading:
            blocks.append(Block("heading", heading.group(2).strip(), len(heading.group(1)) - 1))
        elif _BARE_HEADING.match(line) and not ARTICLE.match(line):
            blocks.append(Block("heading", line, 1))
        else:
            blocks.append(Block("p", line))
    if not title:
        raise ValueError(f"{path.name}: no '# 标题' line")
    return SourceDoc(path, title, meta, blocks)


def articles(doc: SourceDoc) -> dict[str, str]:
    """{label: text}: a statute's articles (`第二十三条`, with the paragraphs that follow it), a case's
    sections (`裁判结果`, the paragraphs under that heading); text before either is `序言`."""
    found: dict[str, list[str]] = {}
    current = "序言"
    for block in doc.blocks:
        if block.kind == "heading":
            if not any(ARTICLE.match(b) for b in found):  # cases: a section is a heading and its paragraphs
                current = block.text
            continue
        article = ARTICLE.match(block.text)
        if article:
            current = article.group(1)
        found.setdefault(current, []).append(block.text)
    return {label: "\n".join(parts) for label, parts in found.items()}


def load_sources(source_dir: Path) -> list[SourceDoc]:
    return [parse_markdown(path) for path in sorted(source_dir.glob("*.md")) if path.name != "README.md"]


# ---------------------------------------------------------------- converters


def _body_lines(doc: SourceDoc) -> list[str]:
    return [doc.title, *doc.meta, *(block.text for block in doc.blocks)]


def to_pdf(doc: SourceDoc) -> bytes:
    """A printed regulation: fixed measure, lines broken mid-word, page numbers at the foot."""
    from tests.conftest import make_wrapped_pdf

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "doc.pdf"
        make_wrapped_pdf(path, _body_lines(doc), width=PDF_WIDTH, lines_per_page=PDF_LINES_PER_PAGE, title=doc.title)
        return path.read_bytes()


def to_docx(doc: SourceDoc) -> bytes:
    """A Word file: the title in the Title style, chapters and sections as headings, one paragraph each."""
    from datetime import datetime

    import docx

    from tests.conftest import make_docx

    blocks = [("heading", doc.title, 0), *(("p", line) for line in doc.meta)]
    blocks += [("heading", b.text, b.level) if b.kind == "heading" else ("p", b.text) for b in doc.blocks]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "doc.docx"
        make_docx(path, blocks, title=doc.title)
        document = docx.Document(str(path))
    fixed = datetime(2000, 1, 1)
    document.core_properties.created = fixed
    document.core_properties.modified = fixed
    document.core_properties.last_printed = fixed
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry's timestamp fixed, so two builds give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def to_html(doc: SourceDoc) -> bytes:
    """A page as a government site serves it: navigation, the article in a content block, a footer."""
    body = [f"<h1>{html.escape(doc.title)}</h1>"]
    body += [f'<p class="info">{html.escape(line)}</p>' for line in doc.meta]
    for block in doc.blocks:
        tag = f"h{min(block.level + 1, 6)}" if block.kind == "heading" else "p"
        body.append(f"<{tag}>{html.escape(block.text)}</{tag}>")
    page = (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(doc.title)}_法律法规_样例政务网</title>\n</head>\n<body>\n"
        '<div class="nav"><a href="/">首页</a> &gt; <a href="/fg/">法律法规</a></div>\n'
        '<div class="article-content">\n' + "\n".join(body) + "\n</div>\n"
        '<div class="footer">样例政务网 版权所有 | 网站地图 | 联系我们</div>\n</body>\n</html>\n'
    )
    return page.encode("utf-8")


def to_gbk(doc: SourceDoc) -> bytes:
    """A plain-text file saved by a Windows editor: GBK, CRLF, a blank line between paragraphs."""
    text = "\r\n\r\n".join(_body_lines(doc)) + "\r\n"
    return text.encode("gbk")


CONVERTERS = {"pdf": (".pdf", to_pdf), "docx": (".docx", to_docx), "html": (".html", to_html), "gbk": (".txt", to_gbk)}

def build_corpus(source_dir: Path, target: Path, plan: dict[str, list[str]]) -> dict[str, str]:
    """Write ``source_dir``'s documents into ``target`` (a new folder), converting the files ``plan`` names
    ({format: [file name, …]}).  Returns {output file name: source file name}."""
    unknown = set(plan) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats in the conversion plan: {sorted(unknown)} (known: {FORMATS})")
    wanted = {name: fmt for fmt, names in plan.items() for name in names}
    sources = {path.name: path for path in sorted(source_dir.glob("*.md")) if path.name != "README.md"}
    missing = sorted(set(wanted) - set(sources))
    if missing:
        raise FileNotFoundError(f"files named in the conversion plan are not in {source_dir}: {missing}")
    target.mkdir(parents=True)
    produced = {}
    for name, path in sources.items():
        fmt = wanted.get(name)
        if fmt is None:
            shutil.copyfile(path, target / name)
            produced[name] = name
            continue
        suffix, convert = CONVERTERS[fmt]
        output = Path(name).with_suffix(suffix).name
        (target / output).write_bytes(convert(parse_markdown(path)))
        produced[output] = name
    return produced
