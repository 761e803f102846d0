"""Word 97 (.doc, and .wps saved in that format) through Debian's antiword, and OFD read from its XML.

The .doc fixture was made once with LibreOffice from a DOCX of fictional text (tests/fixtures/formats);
OFD files are written here the way GB/T 33190 lays them out (a zip of XML parts).
"""

from __future__ import annotations

import shutil
import zipfile

import pytest

from assistant.ingest.models import TABLE_CELL_SEPARATOR, IngestError
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import FIXTURES_DIR

DOC = FIXTURES_DIR / "formats" / "shifan_doc.doc"
needs_antiword = pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword is installed by scripts/install_tools.sh")


def process(path, **caps):
    return process_file(SourceFile(path, path.name), IngestSettings(**caps))


@needs_antiword
@pytest.mark.parametrize("name", ["shifan.doc", "shifan.wps"])
def test_word_97_file_is_read_with_its_articles_and_table(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(DOC.read_bytes())  # a .wps saved by WPS in the Word 97 format is the same container
    processed = process(path)
    articles = {c.section.split(" > ")[-1]: c.text for c in processed.chunks}
    assert processed.doc.title == "示范市灵活就业社会保险补贴办法"
    assert "每人每月300元" in articles["第二条"] and "2099年1月1日" in articles["第三条"]
    assert any(f"社会保险补贴{TABLE_CELL_SEPARATOR}每人每月300元" in c.text for c in processed.chunks)


def test_without_antiword_a_doc_gets_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    path = tmp_path / "shifan.doc"
    path.write_bytes(DOC.read_bytes())
    with pytest.raises(IngestError) as missing:
        process(path)
    assert missing.value.code == "tool_missing"
    assert "antiword" in missing.value.message_zh and "另存为 PDF 或 DOCX" in missing.value.message_zh


def test_a_doc_that_is_not_word_97_asks_to_save_as_pdf_or_docx(tmp_path):
    path = tmp_path / "new.wps"
    path.write_bytes(b"PK\x03\x04 a newer WPS format")
    with pytest.raises(IngestError) as unknown:
        process(path)
    assert unknown.value.code == "unsupported_format" and "另存为 PDF 或 DOCX" in unknown.value.message_zh


OFD_NS = "http://www.ofdspec.org/2016"


def text_object(x: float, y: float, text: str, fill: str | None = None) -> str:
    color = f'<ofd:FillColor Value="{fill}"/>' if fill else ""
    return (f'<ofd:TextObject ID="1" Boundary="{x} {y} 180 6" Font="1" Size="4">{color}'
            f'<ofd:TextCode X="0" Y="4">{text}</ofd:TextCode></ofd:TextObject>')


def write_ofd(path, pages: list[list[str]], title: str = "示范市就业见习补贴发放通知"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("OFD.xml", f'<ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0"><ofd:DocBody><ofd:DocInfo>'
                                    f'<ofd:Title>{title}</ofd:Title></ofd:DocInfo>'
                                    f'<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        entries = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
        archive.writestr("Doc_0/Document.xml", f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:Pages>{entries}</ofd:Pages></ofd:Document>')
        for i, objects in enumerate(pages):
            archive.writestr(f"Doc_0/Pages/Page_{i}/Content.xml",
                             f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer ID="1">{"".join(objects)}'
                             f'</ofd:Layer></ofd:Content></ofd:Page>')
    return path


def test_ofd_pages_are_read_in_order_and_white_text_is_not(tmp_path):
    page_one = [text_object(20, 30, "示范市就业见习补贴发放通知"),
                text_object(20, 50, "一、见习补贴标准为每人每月1800元,"),
                text_object(20, 58, "由见习单位按月申领。"),
                text_object(20, 66, "见习补贴标准为每人每月9999元。", fill="255 255 255")]
    page_two = [text_object(20, 30, "二、见习期限最长12个月。")]
    processed = process(write_ofd(tmp_path / "tongzhi.ofd", [page_one, page_two]))
    text = "\n".join(c.text for c in processed.chunks)
    assert processed.doc.title == "示范市就业见习补贴发放通知"
    assert "每人每月1800元,由见习单位按月申领" in text  # a line wrapped at the page width, joined again
    assert "9999" not in text
    assert {c.page for c in processed.chunks} == {1, 2}


def test_a_damaged_ofd_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "broken.ofd"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD")
    with pytest.raises(IngestError) as damaged:
        process(path)
    assert damaged.value.code == "damaged" and "请另存为 PDF" in damaged.value.message_zh
