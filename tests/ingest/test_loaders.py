"""Loaders: every supported format read from a real file, and every bad file refused with a reason."""

from __future__ import annotations

import os
import random
import re
import zipfile

import pytest

from assistant.ingest.loaders import decode_text, load_file, useful_title
from assistant.ingest.models import IngestError
from assistant.settings import IngestSettings
from tests.conftest import encrypt_pdf, make_docx, make_pdf, pdf_bytes, wrap_text

CAPS = IngestSettings()
CJK = re.compile(r"[\u4e00-\u9fff]")
FULL_COMMA, FULL_COLON, FULL_PERIOD = "\uff0c", "\uff1a", "\u3002"


def load(path):
    return load_file(path, path.name, CAPS)


def refused(path) -> IngestError:
    with pytest.raises(IngestError) as info:
        load(path)
    error = info.value
    assert CJK.search(error.message_zh), f"reason for users must be Chinese: {error.message_zh!r}"
    assert error.message_en and error.code
    return error


# ---------------------------------------------------------------- PDF


TABLE = [
    ("人员类别", "一次性补贴(元/人)", "补贴期限"),
    ("高校毕业生", "1500", "最长12个月"),
    ("登记失业青年", "1500", "最长12个月"),
    ("就业困难人员", "2000", "最长36个月"),
    ("退役军人", "2500", "最长24个月"),
    ("持证残疾人", "3000", "最长36个月"),
]


def test_pdf_table_rows_stay_together(tmp_path):
    """Plain extraction puts every cell on its own line; a lone "3000" could never be quoted or understood."""
    pdf = make_pdf(tmp_path / "table.pdf", [["示范市测试补贴标准", "各类人员的补贴标准见下表。", *TABLE, "以上标准自2099年起执行。"]])
    text = load(pdf).pages[0].text
    assert "人员类别 | 一次性补贴(元/人) | 补贴期限" in text
    assert "持证残疾人 | 3000 | 最长36个月" in text
    assert "各类人员的补贴标准见下表。" in text  # the prose around the table is unchanged


def test_pdf_table_row_is_quoted_with_its_header(tmp_path):
    from assistant.text.quotable import quotables

    pdf = make_pdf(tmp_path / "table.pdf", [["示范市测试补贴标准", *TABLE]])
    units = [unit.text for unit in quotables(load(pdf).pages[0].text, whole_limit=0)]
    assert "人员类别 | 一次性补贴(元/人) | 补贴期限\n持证残疾人 | 3000 | 最长36个月" in units


def test_pdf_pages_keep_their_numbers_and_chinese_text(tmp_path):
    pages = [
        ["示范市就业见习管理办法", "第一条 见习补贴按月发放。"],
        ["第二条 见习单位应当签订见习协议。"],
        ["第三条 本办法自2099年1月1日起施行。"],
    ]
    doc = load(make_pdf(tmp_path / "banfa.pdf", pages))
    assert [p.page for p in doc.pages] == [1, 2, 3]
    for page, lines in zip(doc.pages, pages):
        for line in lines:
            assert line in page.text


def test_pdf_lines_come_back_wrapped_mid_word(tmp_path):
    """The reason the cleaner must join lines: the loader returns them as printed."""
    text = "示范市对见习单位按每人每月1800元给予见习补贴"
    lines = wrap_text(text, 5)
    assert lines[0].endswith("见") and lines[1].startswith("习")
    doc = load(make_pdf(tmp_path / "wrapped.pdf", [lines]))
    assert "见\n习" in doc.pages[0].text


def test_pdf_title_from_metadata(tmp_path):
    doc = load(make_pdf(tmp_path / "t.pdf", [["第一条 见习补贴按月发放。"]], title="示范市就业见习管理办法"))
    assert doc.title_hint == "示范市就业见习管理办法"


def test_pdf_placeholder_title_is_ignored(tmp_path):
    """reportlab, Word and WPS write `untitled` / `Microsoft Word - x.doc` when the author set nothing."""
    doc = load(make_pdf(tmp_path / "t.pdf", [["第一条 见习补贴按月发放。"]]))
    assert doc.title_hint is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("untitled", None),
        ("(anonymous)", None),  # three real PDFs were cited as "(anonymous)"
        ("<untitled>", None),
        ("Microsoft Word - 附件1.doc", None),
        ("附件1.docx", None),
        ("无标题", None),
        ("   ", None),
        ("示范市就业见习管理办法", "示范市就业见习管理办法"),
        ("WPS使用说明", "WPS使用说明"),
        ("  示范市  见习办法 ", "示范市 见习办法"),
    ],
)
def test_useful_title(value, expected):
    assert useful_title(value) == expected


def test_encrypted_pdf_is_refused(tmp_path):
    plain = make_pdf(tmp_path / "plain.pdf", [["第一条 见习补贴按月发放。"]])
    locked = encrypt_pdf(plain, tmp_path / "locked.pdf", user_password="secret")
    assert refused(locked).code == "encrypted"


def test_pdf_locked_only_against_editing_is_read(tmp_path):
    """Empty user password + owner password: anyone may open it, so it must be indexed."""
    plain = make_pdf(tmp_path / "plain.pdf", [["第一条 见习补贴按月发放。"]])
    locked = encrypt_pdf(plain, tmp_path / "owner.pdf", user_password="", owner_password="owner-secret")
    assert b"/Encrypt" in locked.read_bytes()
    doc = load(locked)
    assert "见习补贴按月发放" in doc.pages[0].text


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_damaged(tmp_path, fraction):
    data = pdf_bytes([["第一条 见习补贴按月发放。"] * 20, ["第二条 见习协议。"] * 20])
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: int(len(data) * fraction)])
    assert refused(path).code == "damaged"


def test_text_named_pdf_is_refused(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("示范市就业见习管理办法(这其实是文本文件)", encoding="utf-8")
    assert refused(path).code == "not_pdf"


@pytest.mark.slow  # a subprocess loading the model, or a model import: ~5-25 s
def test_scanned_pdf_needs_ocr(tmp_path):
    path = make_pdf(tmp_path / "scan.pdf", [[], []], image_only=True)
    assert b"/Image" in path.read_bytes()
    error = refused(path)
    assert error.code == "needs_ocr"
    assert "OCR" in error.message_zh


# ---------------------------------------------------------------- plain text and encodings

NOTICE = (
    "示范市就业见习补贴办理指南\n"
    f"一、补贴对象{FULL_COLON}离校两年内未就业的高校毕业生{FULL_COMMA}可以参加就业见习{FULL_PERIOD}\n"
    f"二、补贴标准{FULL_COLON}见习补贴标准为每人每月1800元{FULL_PERIOD}\n"
)
NOTICE_TRADITIONAL = (
    "示範市就業見習補貼辦理指南\n"
    f"一、補貼對象{FULL_COLON}離校兩年內未就業的高校畢業生{FULL_COMMA}可以參加就業見習{FULL_PERIOD}\n"
    f"二、補貼標準{FULL_COLON}見習補貼標準為每人每月1800元{FULL_PERIOD}\n"
)


def test_gbk_text(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(NOTICE.encode("gb18030"))
    assert load(path).pages[0].text == NOTICE


def test_big5_text_is_decoded_not_garbled(tmp_path):
    path = tmp_path / "big5.txt"
    path.write_bytes(NOTICE_TRADITIONAL.encode("big5"))
    assert load(path).pages[0].text == NOTICE_TRADITIONAL


@pytest.mark.parametrize(
    "text",
    ["見習補貼", "創業擔保貸款申請", "第一條 總則", "穩崗返還", "申請人應當在創業", "2099年4月15日在示範市"],
)
def test_short_big5_text_is_not_mistaken_for_gbk(text):
    """Big5 bytes usually decode as GB18030 too, into rare characters; short files were misread."""
    assert decode_text(text.encode("big5")) == text


@pytest.mark.parametrize("text", ["见习补贴", "第一条 总则", "示范市人社局", "高校毕业生就业见习"])
def test_short_gbk_text(text):
    assert decode_text(text.encode("gb18030")) == text


def test_utf8_bom_is_dropped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + NOTICE.encode("utf-8"))
    text = load(path).pages[0].text
    assert "\ufeff" not in text
    assert text.startswith("示范市就业见习补贴办理指南")


def test_gbk_text_with_a_stray_byte_still_loads(tmp_path):
    data = NOTICE.encode("gb18030")
    cut = data.index("补贴标准".encode("gb18030"))
    path = tmp_path / "stray.txt"
    path.write_bytes(data[:cut] + b"\xff" + data[cut:] + "示范".encode("gb18030")[:-1])  # and cut mid-character
    text = load(path).pages[0].text
    assert "离校两年内未就业的高校毕业生" in text
    assert "见习补贴标准为每人每月1800元" in text


def test_empty_txt(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert refused(path).code == "empty"


def test_whitespace_only_txt(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\u3000\t\n", encoding="utf-8")
    assert refused(path).code == "no_text"


def test_binary_junk_named_txt(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes(random.Random(7).randbytes(4096))
    assert refused(path).code == "binary"


def test_gb2312_range_noise_is_not_taken_for_text(tmp_path):
    """Random bytes in the GB2312 range decode to common characters without a single word among them."""
    rng = random.Random(3)
    noise = bytes(rng.randrange(0xB0, 0xD8) if i % 2 == 0 else rng.randrange(0xA1, 0xFF) for i in range(4000))
    noise.decode("gb18030")  # valid GB18030 all the same
    path = tmp_path / "noise.txt"
    path.write_bytes(noise)
    assert refused(path).code in ("binary", "unknown_encoding")


@pytest.mark.parametrize("name", ["slides.pptx", "data.xyz", "README"])
def test_unknown_extension(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not really")
    error = refused(path)
    assert error.code == "unsupported_type"


# ---------------------------------------------------------------- Markdown


def test_markdown_syntax_is_removed_and_title_read(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "# 示范市见习补贴指南\n\n"
        "## 一、补贴对象\n\n"
        "- **离校两年内**未就业的高校毕业生\n"
        "- 登记失业青年\n\n"
        "## 二、办理渠道\n\n"
        "1. 登录[示范市人社网](https://example.invalid/sf)办理\n\n"
        "> 注:本指南为虚构测试材料。\n\n"
        "```\n代码块不是正文\n```\n"
        "---\n",
        encoding="utf-8",
    )
    doc = load(path)
    text = doc.pages[0].text
    assert doc.title_hint == "示范市见习补贴指南"
    assert "离校两年内未就业的高校毕业生" in text
    assert "登录示范市人社网办理" in text
    assert "注:本指南为虚构测试材料。" in text
    for syntax in ("#", "**", "](", "https://", "```", "- 登记", "> 注"):
        assert syntax not in text


# ---------------------------------------------------------------- DOCX


def test_docx_headings_paragraphs_and_table(tmp_path):
    path = make_docx(
        tmp_path / "biaozhun.docx",
        [
            ("heading", "示范市见习补贴标准", 1),
            ("heading", "一、补贴标准", 2),
            ("p", "见习补贴按月发放。"),
            ("table", [["对象", "标准"], ["高校毕业生", "每月1800元"], ["失业青年", "每月1600元"]]),
            ("heading", "二、办理时限", 2),
            ("p", "每季度首月办理。"),
        ],
    )
    doc = load(path)
    lines = doc.pages[0].text.splitlines()
    assert doc.title_hint == "示范市见习补贴标准"
    assert "高校毕业生 | 每月1800元" in lines and "失业青年 | 每月1600元" in lines
    assert lines.index("一、补贴标准") < lines.index("见习补贴按月发放。") < lines.index("对象 | 标准")
    assert lines.index("失业青年 | 每月1600元") < lines.index("二、办理时限")


def test_docx_core_title_wins_over_heading(tmp_path):
    path = make_docx(tmp_path / "t.docx", [("heading", "一、总则", 1), ("p", "正文。")], title="示范市见习办法")
    assert load(path).title_hint == "示范市见习办法"


def test_zero_byte_docx(tmp_path):
    path = tmp_path / "zero.docx"
    path.write_bytes(b"")
    assert refused(path).code == "empty"


def test_random_bytes_docx(tmp_path):
    path = tmp_path / "corrupt.docx"
    path.write_bytes(os.urandom(3000))
    assert refused(path).code == "damaged"


def test_zip_without_document_docx(tmp_path):
    path = tmp_path / "notword.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "示范市")
    assert refused(path).code == "damaged"


def test_truncated_docx(tmp_path):
    good = make_docx(tmp_path / "good.docx", [("p", "见习补贴按月发放。" * 50)])
    path = tmp_path / "cut.docx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert refused(path).code == "damaged"


# ---------------------------------------------------------------- HTML

ARTICLE = [
    "为鼓励用人单位吸纳青年参加就业见习,示范市对见习单位给予见习补贴,现将2099年申领事项说明如下。",
    "见习补贴标准为每人每月1800元,由见习单位按季度向所在区公共就业服务机构申领。",
    "见习单位留用见习人员并签订一年以上劳动合同的,另按每人2000元给予一次性留用奖励。",
]
BOILERPLATE = ["首页", "办事服务", "您现在的位置", "栏目导航", "社会保险", "打印本页", "版权所有", "ICP备", "统计脚本", "页面加载完成", "font-size"]


def gov_page(title_tag: str, with_h1: bool = True) -> str:
    """An old-style government page: table layout, no semantic tags, byline outside the body div."""
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE)
    h1 = '<h1 class="title">示范市就业见习补贴申领说明</h1>' if with_h1 else ""
    return f"""<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{title_tag}</title>
<style>.left{{float:left}} body{{font-size:14px}}</style>
<script type="text/javascript">var siteName = "示范市人社局统计脚本"; if (a < b) {{ document.write("<div>"); }}</script>
</head><body>
<div class="top"><span>示范市人力资源和社会保障局欢迎您</span></div>
<div id="nav"><ul><li><a href="/">首页</a><li><a href="/bsfw/">办事服务</a></ul></div>
<div class="crumbs">您现在的位置:<a href="/">首页</a> &gt; 政策解读</div>
<table width="1000"><tr>
<td class="left" width="240"><div class="lm">栏目导航</div><ul><li>就业创业<li>社会保险<li>劳动关系</ul>
<td class="right_content">
{h1}
<div class="xx">来源:示范市人社局 作者:王五 责任编辑:赵六 发布日期:2099-05-06 【字体:大 中 小】</div>
<div class="TRS_Editor">{paragraphs}</div>
<div class="fx">【打印本页】【关闭窗口】</div>
</table>
<div class="bottom"><p>主办单位:示范市人力资源和社会保障局 版权所有</p><p>示ICP备20990002号</p></div>
<script>window.onload=function(){{console.log("页面加载完成")}}</script>
</body></html>"""


def test_html_table_layout_page_keeps_article_and_byline_only(tmp_path):
    path = tmp_path / "shuoming.html"
    path.write_bytes(gov_page("示范市就业见习补贴申领说明_政策解读_示范市人力资源和社会保障局").encode("gb18030"))
    doc = load(path)
    text = doc.pages[0].text
    assert doc.title_hint == "示范市就业见习补贴申领说明"
    for paragraph in ARTICLE:
        assert paragraph in text
    for furniture in BOILERPLATE:
        assert furniture not in text
    assert "作者:王五" in text  # outside the body div, kept for the cleaner to read as metadata


def test_html_title_tag_when_there_is_no_h1(tmp_path):
    path = tmp_path / "t.html"
    path.write_bytes(gov_page("示范市2099-2100年就业见习计划 - 示范市人社局", with_h1=False).encode("gb18030"))
    assert load(path).title_hint == "示范市2099-2100年就业见习计划"


@pytest.mark.parametrize(
    "opening, closing",
    [("<div>", "</div>"), ("<span>", ""), ("<b><i>", ""), ("<table><tr><td>", "")],
)
def test_html_nested_ten_thousand_levels_is_refused(tmp_path, opening, closing):
    path = tmp_path / "deep.html"
    path.write_text(f"<html><body>{opening * 10000}示范市{closing * 10000}</body></html>", encoding="utf-8")
    assert refused(path).code == "html_too_deep"


@pytest.mark.parametrize(
    "body",
    [
        "".join(f"<p>第{i}段:见习补贴按月发放。" for i in range(800)),  # <p> without </p>
        "<ul>" + "".join(f"<li>示范市链接{i}" for i in range(800)) + "</ul><p>见习补贴按月发放。</p>",
        "<table>" + "".join(f"<tr><td>第{i}项<td>见习补贴按月发放。" for i in range(800)) + "</table>",
        "<div>" * 300 + "见习补贴按月发放。" + "</div>" * 300,
    ],
    ids=["unclosed-p", "unclosed-li", "unclosed-td", "300-levels"],
)
def test_html_with_omitted_end_tags_is_not_too_deep(tmp_path, body):
    """Browsers close `<p>`, `<li>`, `<td>` implicitly; a long page written that way is flat, not deep."""
    path = tmp_path / "flat.html"
    path.write_text(f"<html><head><title>示范市见习</title></head><body>{body}</body></html>", encoding="utf-8")
    doc = load(path)
    assert "见习补贴按月发放。" in doc.pages[0].text
