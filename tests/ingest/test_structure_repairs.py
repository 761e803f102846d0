"""Structure repairs on real law layouts (../shared/realdocs, converted in the test): article numbering
continues a sequence, issuing information is metadata, markup never reaches a chunk, hard-wrapped GBK
text is joined."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import REALDOCS_DIR as REALDOCS
from tests.conftest import make_wrapped_pdf
SHANGHAI_2024 = REALDOCS / "上海市社会救助条例(2024-12-31).md"


def process(path):
    return process_file(SourceFile(path, path.name), IngestSettings())


def law_paragraphs(path: Path) -> tuple[str, list[str], list[str]]:
    """(title, issuing lines, body paragraphs) of a LawRefBook Markdown file."""
    head, body = path.read_text(encoding="utf-8").split("<!-- INFO END -->")
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    paragraphs = [re.sub(r"^#+\s*", "", line.strip()) for line in body.splitlines() if line.strip()]
    return lines[0].lstrip("# ").strip(), lines[1:], paragraphs


def test_markdown_law_file_keeps_no_markup_and_no_issuing_lines_in_its_chunks():
    processed = process(SHANGHAI_2024)
    texts = [c.text for c in processed.chunks]
    assert not any("<!--" in t or "INFO END" in t for t in texts)
    assert texts[0].startswith("第一条 为了加强社会救助")
    assert not any("常务委员会第十八次会议" in t for t in texts)  # now the document's dates and issuer
    assert processed.doc.revised == "2024-12-31" and processed.doc.promulgated == "2018-11-22"


def test_a_cross_reference_wrapped_to_the_start_of_a_line_is_not_an_article(tmp_path):
    paragraphs = [
        "示范市就业服务条例",
        "第一条 为了促进就业,制定本条例。",
        "第二条 用人单位招用人员,应当依法签订劳动合同。",
        "第三条 违反本条例第一条、",
        "第二条规定的,由人力资源社会保障部门责令改正。",  # the reference, set at the start of a line
        "第四条 本条例自2099年1月1日起施行。",
    ]
    path = tmp_path / "tiaoli.pdf"
    make_wrapped_pdf(path, paragraphs, width=40, page_numbers=False)
    processed = process(path)
    sections = [c.section for c in processed.chunks]
    assert sections == ["第一条", "第二条", "第三条", "第四条"]
    third = next(c.text for c in processed.chunks if c.section == "第三条")
    assert third == "第三条 违反本条例第一条、第二条规定的,由人力资源社会保障部门责令改正。"


def test_a_real_law_as_pdf_keeps_its_article_sequence(tmp_path):
    title, _, body = law_paragraphs(REALDOCS / "河南省就业促进条例(2009-03-26).md")
    path = tmp_path / "jiuye.pdf"
    make_wrapped_pdf(path, [title] + body, width=38, lines_per_page=40)
    processed = process(path)
    articles = [c.section.split(" > ")[-1] for c in processed.chunks if c.section.endswith("条")]
    numbers = [a for a in dict.fromkeys(articles)]
    expected = [p.split(" ", 1)[0].replace("\u3000", "") for p in body if re.match(r"^第[一二三四五六七八九十百]+条", p)]
    assert numbers == expected


def _columns(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def wrap_columns(text: str, columns: int) -> list[str]:
    """Break a paragraph at a column, as a GBK editor does: a hanzi or full-width mark takes two."""
    lines, line, used = [], "", 0
    for ch in text:
        if used + _columns(ch) > columns:
            lines.append(line)
            line, used = "", 0
        line, used = line + ch, used + _columns(ch)
    return lines + [line]


def test_hard_wrapped_gbk_text_is_joined(tmp_path):
    title, _, body = law_paragraphs(REALDOCS / "河南省就业促进条例(2009-03-26).md")
    lines = [title, ""]
    for paragraph in body:
        lines += wrap_columns(paragraph, 76)
    path = tmp_path / "jiuye.txt"
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    processed = process(path)
    for chunk in processed.chunks:
        assert not re.search(r"[^。;:!?)”]\n", chunk.text), chunk.text  # no line ends mid-sentence
    fifth = next(c.text for c in processed.chunks if c.section.endswith("第五条"))
    assert "县级以上人民政府人力资源行政部门具体负责本地的促进就业工作" in fifth
