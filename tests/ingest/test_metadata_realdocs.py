"""Metadata read from the text of 39 real documents (../shared/realdocs), and of some of them converted to
PDF, DOCX and HTML in the test: title, dates, issuer, region and status, against what each header says
(tests/ingest/realdocs_expected.py).  The figures per field are printed by benchmarks/bench_ingest.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import REALDOCS_DIR, make_docx, make_wrapped_pdf
from tests.ingest.realdocs_expected import FIELDS, expected

EXPECTED = expected()


def facts(path: Path, name: str | None = None) -> dict[str, str]:
    doc = process_file(SourceFile(path, name or path.name), IngestSettings()).doc
    return {field: getattr(doc, field) for field in FIELDS}


def test_every_realdoc_has_an_expectation():
    stems = {p.stem for p in REALDOCS_DIR.glob("*.md") if p.name != "README.md"}
    assert stems == set(EXPECTED) and len(stems) == 39


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_markdown_metadata(stem):
    assert facts(REALDOCS_DIR / f"{stem}.md") == EXPECTED[stem]


def as_blocks(stem: str) -> tuple[str, list[str], list[str]]:
    """(title, issuing lines, body paragraphs) of a LawRefBook Markdown file, markup removed."""
    head, body = (REALDOCS_DIR / f"{stem}.md").read_text(encoding="utf-8").split("<!-- INFO END -->")
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    paragraphs = [re.sub(r"^#+\s*", "", line.strip()) for line in body.splitlines() if line.strip()]
    return lines[0].lstrip("# ").strip(), lines[1:], paragraphs


CONVERTED = [
    "上海市社会救助条例(2024-12-31)",
    "关于工资总额组成的规定(1990-01-01)",
    "宁波市职业技能培训条例(2016-04-20)",
    "职业病防治法(2018-12-29)",
    "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（三）(2010-09-13)",
    "山东省人力资源市场条例(2015-07-24)",
]


@pytest.mark.parametrize("stem", CONVERTED)
@pytest.mark.parametrize("kind", ["pdf", "docx", "html"])
def test_converted_metadata(tmp_path, stem, kind):
    title, issuing, body = as_blocks(stem)
    path = tmp_path / f"law.{kind}"
    if kind == "pdf":  # set at 38 characters a line, 40 lines a page, the file's metadata title left empty
        make_wrapped_pdf(path, [title, *issuing, *body], width=38, lines_per_page=40, page_numbers=True)
    elif kind == "docx":
        make_docx(path, [("heading", title, 1), *[("p", line) for line in issuing], *[("p", p) for p in body]])
    else:
        paragraphs = "".join(f"<p>{line}</p>" for line in [*issuing, *body])
        path.write_text(f"<html><head><title>{title}_法律法规库</title></head><body><div class='content'>"
                        f"<h1>{title}</h1>{paragraphs}</div></body></html>", encoding="utf-8")
    assert facts(path) == EXPECTED[stem]
