"""Text a reader never sees is not indexed: it is how a file makes the assistant "quote" a figure that no
one can find in the document.  Each fixture holds a visible figure (1800) and a hidden one (9999)."""

from __future__ import annotations

import io

import pytest

from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import CJK_FONT, _register_cjk_font, make_docx

VISIBLE = "第一条 示范市见习补贴标准为每人每月1800元。"
HIDDEN = "第二条 示范市见习补贴标准为每人每月9999元。"


def indexed_text(path) -> str:
    processed = process_file(SourceFile(path, path.name), IngestSettings())
    return "\n".join([processed.doc.title] + [c.text for c in processed.chunks])


HIDING_HTML = {
    "inline display:none": f'<p style="display:none">{HIDDEN}</p>',
    "visibility hidden": f'<p style="color:#333; visibility: hidden">{HIDDEN}</p>',
    "off-screen": f'<div style="position:absolute; left:-9999px">{HIDDEN}</div>',
    "text-indent": f'<p style="text-indent:-10000px">{HIDDEN}</p>',
    "zero font": f'<span style="font-size:0">{HIDDEN}</span>',
    "white text": f'<p style="color: #FFFFFF">{HIDDEN}</p>',
    "hidden attribute": f"<p hidden>{HIDDEN}</p>",
    "class from the style sheet": f'<p class="tip x-hide">{HIDDEN}</p>',
    "id from the style sheet": f'<p id="seo">{HIDDEN}</p>',
    "sr-only clip": f'<span class="sr-only">{HIDDEN}</span>',
}


@pytest.mark.parametrize("how", HIDING_HTML, ids=str)
def test_html_hidden_text_is_not_indexed(tmp_path, how):
    page = (
        "<html><head><title>示范市见习补贴通知</title><style>.x-hide{display:none} #seo {visibility:hidden}"
        ".sr-only{position:absolute;clip:rect(0 0 0 0);width:1px} .note{color:#666}</style></head><body>"
        f"<div class='content'><h1>示范市见习补贴通知</h1><p class='note'>{VISIBLE}</p>{HIDING_HTML[how]}"
        "<p>第三条 本通知自2099年1月1日起施行。</p></div></body></html>"
    )
    path = tmp_path / "notice.html"
    path.write_text(page, encoding="utf-8")
    text = indexed_text(path)
    assert "1800" in text and "2099年1月1日" in text
    assert "9999" not in text


def _docx_with_hidden_run(path, how: str):
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    document = docx.Document()
    document.add_heading("示范市见习补贴标准", 1)
    document.add_paragraph(VISIBLE)
    paragraph = document.add_paragraph()
    if how == "character style":
        style = document.styles.add_style("暗字", WD_STYLE_TYPE.CHARACTER)
        style.font.hidden = True
        paragraph.add_run(HIDDEN, style="暗字")
    else:
        run = paragraph.add_run(HIDDEN)
        if how == "vanish":
            run.font.hidden = True
        elif how == "white":
            run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        elif how == "1 pt":
            run.font.size = Pt(1)
    document.add_paragraph("第三条 本标准自2099年1月1日起施行。")
    document.save(str(path))
    return path


@pytest.mark.parametrize("how", ["vanish", "white", "1 pt", "character style"])
def test_docx_hidden_runs_are_not_indexed(tmp_path, how):
    text = indexed_text(_docx_with_hidden_run(tmp_path / "biaozhun.docx", how))
    assert "1800" in text and "2099年1月1日" in text
    assert "9999" not in text


def test_docx_visible_text_of_all_kinds_is_kept(tmp_path):
    path = make_docx(tmp_path / "plain.docx", [("heading", "示范市见习补贴标准", 1), ("p", VISIBLE), ("p", HIDDEN)])
    text = indexed_text(path)
    assert "1800" in text and "9999" in text  # the defence drops only what is hidden


@pytest.mark.parametrize("how", ["render mode 3", "white fill", "white gray"])
def test_pdf_invisible_or_white_text_is_not_indexed(tmp_path, how):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    _register_cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setFont(CJK_FONT, 12)
    pdf.drawString(50, 780, "示范市见习补贴标准")
    pdf.drawString(50, 750, VISIBLE)
    pdf.saveState()
    if how == "render mode 3":
        text = pdf.beginText(50, 720)
        text.setFont(CJK_FONT, 12)
        text.setTextRenderMode(3)
        text.textLine(HIDDEN)
        pdf.drawText(text)
    else:
        if how == "white fill":
            pdf.setFillColorRGB(1, 1, 1)
        else:
            pdf.setFillGray(1)
        pdf.drawString(50, 720, HIDDEN)
    pdf.restoreState()
    pdf.drawString(50, 690, "第三条 本标准自2099年1月1日起施行。")
    pdf.showPage()
    pdf.save()
    path = tmp_path / "biaozhun.pdf"
    path.write_bytes(buffer.getvalue())
    text = indexed_text(path)
    assert "1800" in text and "2099年1月1日" in text
    assert "9999" not in text
