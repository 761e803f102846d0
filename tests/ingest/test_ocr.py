"""Scanned pages and photos are read by OCR (RapidOCR's packaged PP-OCR models), offline, page by page.

Pages are real images: the fictional 示范市 regulation drawn with a CJK font (Debian's WenQuanYi Zen
Hei), put in a PDF as images only (a scan), or photographed (turned, noisy, JPEG).
"""

from __future__ import annotations

import difflib
import json
import subprocess
import textwrap

import pytest

from assistant.ingest.models import OCR_NOTICE, IngestError
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import PYTHON, REGULATION, REGULATION_TITLE, phone_photo, scanned_pdf_bytes, text_image, wrap_text

pytestmark = pytest.mark.slow  # OCR takes 1-3 s a page on the shared cores

LINE_CHARS = 34


def regulation_lines(articles: slice = slice(None)) -> list[str]:
    lines = [REGULATION_TITLE]
    for text, _ in REGULATION[articles]:
        lines += wrap_text(text.replace(" ", " "), LINE_CHARS)
    return lines


def process(path, **caps):
    return process_file(SourceFile(path, path.name), IngestSettings(**caps))


def similarity(expected: str, got: str) -> float:
    return difflib.SequenceMatcher(None, expected, got, autojunk=False).ratio()


def test_image_only_pdf_is_read_page_by_page_and_its_articles_found(tmp_path):
    first, second = regulation_lines(slice(0, 5)), regulation_lines(slice(5, None))[1:]
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf_bytes([text_image(first), text_image(second)]))

    processed = process(path)

    articles = {c.section.split(" > ")[-1]: c for c in processed.chunks if "条" in c.section}
    # OCR loses the space after 第一条 (`第一条为规范…`): the articles are still found, each whole
    assert {"第一条", "第二条", "第三条", "第四条", "第五条", "第六条", "第七条", "第八条"} <= set(articles)
    assert "一千八百元" in articles["第七条"].text and articles["第七条"].page == 2
    assert articles["第一条"].page == 1 and articles["第一条"].section.replace(" ", "").startswith("第一章总则")
    assert processed.doc.title == REGULATION_TITLE and processed.doc.ocr_pages == "1,2"
    assert all(c.ocr for c in processed.chunks)
    expected = "".join(text.split(" ", 1)[1] for text, chapter in REGULATION if chapter)
    got = "".join(c.text for c in processed.chunks)
    assert similarity(expected, got) > 0.95


def test_a_phone_photo_is_read(tmp_path):
    path = tmp_path / "notice.jpg"
    path.write_bytes(phone_photo(text_image(regulation_lines(slice(7, 11)))))

    processed = process(path)

    text = "\n".join(c.text for c in processed.chunks)
    assert "每人每月一千八百元" in text and "2099年1月1日" in text
    assert processed.doc.ocr_pages == "all" and all(c.ocr and c.page is None for c in processed.chunks)


def test_a_mixed_pdf_reads_its_text_layer_and_recognises_only_the_scanned_page(tmp_path):
    path = tmp_path / "mixed.pdf"
    typed = ["示范市就业见习管理办法", "第一条 见习补贴由示范市人力资源和社会保障局发放。"]
    path.write_bytes(scanned_pdf_bytes([text_image([]), text_image(regulation_lines(slice(8, 10))[1:])],
                                       text_pages={0: typed}))

    processed = process(path)

    assert processed.doc.ocr_pages == "2"
    by_page = {c.page: c for c in processed.chunks}
    assert not by_page[1].ocr and "人力资源和社会保障局发放" in by_page[1].text
    assert by_page[2].ocr and "一千八百元" in by_page[2].text


def test_ocr_page_cap_and_off_switch_give_clear_messages(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf_bytes([text_image(regulation_lines(slice(0, 2)))] * 2))
    with pytest.raises(IngestError) as capped:
        process(path, max_ocr_pages=1)
    assert capped.value.code == "too_many_pages"
    assert capped.value.message_zh == "需要文字识别的扫描页过多(2 页),上限为 1 页"
    with pytest.raises(IngestError) as off:
        process(path, max_ocr_pages=0)
    assert off.value.code == "needs_ocr" and "文字识别(OCR)已关闭" in off.value.message_zh


def test_ocr_time_budget_stops_with_a_message(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf_bytes([text_image(regulation_lines(slice(0, 2)))] * 3))
    with pytest.raises(IngestError) as slow:
        process(path, max_seconds_per_file=0.5)
    assert slow.value.code == "too_slow"
    assert slow.value.message_zh.startswith("文件处理超时") and "上限为 0.5 秒" in slow.value.message_zh


def test_ocr_runs_with_the_network_cut_off(tmp_path):
    """No socket can connect in the child: the packaged models are used, nothing is fetched."""
    path = tmp_path / "photo.png"
    text_image(regulation_lines(slice(8, 10))).save(path)
    script = textwrap.dedent(f"""
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled by the test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from pathlib import Path
        from assistant.ingest.pipeline import SourceFile, process_file
        from assistant.settings import IngestSettings
        processed = process_file(SourceFile(Path({str(path)!r}), "photo.png"), IngestSettings())
        print("\\n".join(c.text for c in processed.chunks))
    """)
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "一千八百元" in done.stdout and "network disabled" not in done.stderr


def test_the_source_says_it_was_recognised_from_a_scan(tmp_path, settings_for, embeddings):
    """Through the service and the CLI's JSON: the passage carries the OCR flag and the notice."""
    from assistant.service import AssistantService
    from assistant.ui.render import sources_html

    settings = settings_for(tmp_path)
    text_image(regulation_lines(slice(7, 11))).save(settings.paths.corpus_dir / "jianxi_scan.png")
    service = AssistantService(settings, embeddings=embeddings)
    assert not service.ingest().failed

    answer = service.ask("示范市见习补贴每月多少钱?").to_json()
    assert not answer["refused"] and "一千八百元" in answer["answer"]
    source = answer["sources"][0]
    assert source["ocr"] is True and source["ocr_notice"] == OCR_NOTICE == "扫描件识别文字,请以原件为准"
    assert OCR_NOTICE in sources_html(answer, [])

    cli = subprocess.run([PYTHON, "-m", "assistant", "retrieve", "见习补贴标准", "--json",
                          "--index-dir", str(settings.paths.index_dir)], capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    first = json.loads(cli.stdout.splitlines()[0])["sources"][0]
    assert first["ocr"] is True and first["ocr_notice"] == OCR_NOTICE
    assert {"date", "issuer"} <= set(first)
