"""Costs are bounded while a file is parsed, not after: the two slow files of the issue, the character cap
crossed part-way, the time budget, and links leading out of the corpus."""

from __future__ import annotations

import os
import time

import pytest

from assistant.ingest import loaders
from assistant.ingest.models import IngestError
from assistant.ingest.pipeline import SourceFile, discover, process_file
from assistant.settings import IngestSettings
from tests.conftest import make_pdf


def process(path, **caps):
    return process_file(SourceFile(path, path.name), IngestSettings(**caps))


def many_styles_docx(path, styles: int = 300, paragraphs: int = 3000):
    """What made python-docx take 84 s: many styles (each paragraph's style was looked up by a scan of all)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    for i in range(styles):
        document.styles.add_style(f"示范样式{i}", WD_STYLE_TYPE.PARAGRAPH)
    for i in range(paragraphs):
        document.add_paragraph(f"({i % 9 + 1})示范市第{i}项补贴标准为每人每月{1000 + i}元。", style=f"示范样式{i % styles}")
    document.save(str(path))
    return path


def nested_dd_html(levels: int = 2000) -> str:
    """What took 94 s: <dd><div> nested thousands deep by lxml (a browser closes each <dd> instead)."""
    return "<html><body><dl>" + "<dt>问<dd><div>示范市补贴标准每月1800元" * levels + "</dl></body></html>"


@pytest.mark.slow
def test_a_docx_with_many_styles_is_read_in_seconds(tmp_path):
    path = many_styles_docx(tmp_path / "styles.docx")
    started = time.monotonic()
    processed = process(path)
    assert time.monotonic() - started < 30  # loose: python-docx needed minutes for this file
    assert "每人每月3999元" in "\n".join(c.text for c in processed.chunks)


@pytest.mark.slow
def test_html_of_nested_dd_is_read_in_seconds(tmp_path):
    path = tmp_path / "dd.html"
    path.write_text(nested_dd_html(), encoding="utf-8")
    started = time.monotonic()
    processed = process(path)
    assert time.monotonic() - started < 30  # loose: 94 s before
    assert processed.chunks


def test_the_character_cap_stops_a_pdf_part_way(tmp_path, monkeypatch):
    path = make_pdf(tmp_path / "long.pdf", [["示范市见习补贴标准为每人每月1800元。" * 3]] * 40)
    read = []
    original = loaders._page_text
    monkeypatch.setattr(loaders, "_page_text", lambda page: read.append(1) or original(page))
    with pytest.raises(IngestError) as capped:
        process(path, max_chars_per_file=300)
    assert capped.value.code == "too_many_chars" and "上限为 300 字" in capped.value.message_zh
    assert len(read) < 10  # stopped when the cap was crossed, not after all 40 pages


def test_the_time_budget_stops_a_file_with_a_message(tmp_path):
    path = tmp_path / "dd.html"
    path.write_text(nested_dd_html(3000), encoding="utf-8")
    with pytest.raises(IngestError) as slow:
        process(path, max_seconds_per_file=0.01)
    assert slow.value.code == "too_slow"
    assert slow.value.message_zh.startswith("文件处理超时") and "上限为 0.01 秒" in slow.value.message_zh


def test_links_leading_out_of_the_corpus_are_not_followed(tmp_path, settings_for, make_index):
    settings = settings_for(tmp_path)
    corpus = settings.paths.corpus_dir
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("示范市内部资料:见习补贴标准为每人每月9999元。", encoding="utf-8")
    (outside / "folder").mkdir()
    (outside / "folder" / "more.txt").write_text("示范市内部资料:创业贷款最高9999万元。", encoding="utf-8")
    (corpus / "guide.txt").write_text("示范市见习指南\n见习补贴标准为每人每月1800元。", encoding="utf-8")
    (corpus / "inside.txt").symlink_to(corpus / "guide.txt")  # a link within the corpus is fine
    os.symlink(outside / "secret.txt", corpus / "secret.txt")
    os.symlink(outside / "folder", corpus / "linked")

    assert {f.source for f in discover([corpus], corpus)} == {"guide.txt", "inside.txt", "secret.txt"}
    report = make_index(settings).sync([corpus])
    files = {f.source: f for f in report.files}
    assert files["secret.txt"].status == "failed" and files["secret.txt"].code == "link_outside"
    assert "语料目录之外" in files["secret.txt"].reason_zh
    assert files["guide.txt"].status == files["inside.txt"].status == "indexed"
