"""File -> chunks end to end: every format, the two seed documents, a batch with bad files, the CLI."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from opencc import OpenCC

from assistant.ingest.loaders import load_file
from assistant.ingest.models import IngestError
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import (
    CORPUS_DIR,
    PYTHON,
    REGULATION_TITLE,
    REPO_ROOT,
    encrypt_pdf,
    make_docx,
    make_pdf,
    make_regulation_pdf,
    make_settings,
)

CAPS = IngestSettings()
CJK = re.compile(r"[\u4e00-\u9fff]")
T2S = OpenCC("t2s")


def process(path: Path):
    return process_file(SourceFile(path, path.name), CAPS)


# ---------------------------------------------------------------- a regulation printed as PDF


@pytest.mark.parametrize("width, lines_per_page", [(24, 14), (19, 11), (31, 9)])
def test_regulation_pdf_one_article_per_chunk(tmp_path, width, lines_per_page):
    path = tmp_path / "banfa.pdf"
    expected = make_regulation_pdf(path, width=width, lines_per_page=lines_per_page)
    assert len({page for _, page, _ in expected.values()}) >= 2, "the layout must spread articles over pages"

    raw = "\n".join(p.text for p in load_file(path, path.name, CAPS).pages)
    broken = [text for _, _, text in expected.values() if text not in raw]
    assert broken, "some article must come out of the PDF broken over lines"

    processed = process(path)
    assert processed.doc.title == REGULATION_TITLE
    assert processed.doc.doc_type == "policy"
    got = {c.section.rsplit(" > ", 1)[-1]: c for c in processed.chunks}
    assert len(processed.chunks) == len(expected) == len(got)
    for article, (section, page, text) in expected.items():
        chunk = got[article]
        assert chunk.section == section
        assert chunk.page == page, article
        assert chunk.text == text  # joined back, no page number, no line break left
        assert chunk.indexed_text.startswith(f"【{REGULATION_TITLE} | {section}】\n")


def test_section_path_example_from_the_issue(tmp_path):
    expected = make_regulation_pdf(tmp_path / "banfa.pdf")
    chunk = next(c for c in process(tmp_path / "banfa.pdf").chunks if c.section.endswith("第四条"))
    assert chunk.section == "第二章 见习对象 > 第四条"
    assert chunk.page == expected["第四条"][1]


# ---------------------------------------------------------------- formats end to end

GUIDE_SIMPLIFIED = "示范市就业见习补贴办理指南\n一、补贴对象\n离校两年内未就业的高校毕业生可以参加就业见习。\n二、补贴标准\n见习补贴标准为每人每月1800元。\n"
GUIDE_TRADITIONAL = "示範市就業見習補貼辦理指南\n一、補貼對象\n離校兩年內未就業的高校畢業生可以參加就業見習。\n二、補貼標準\n見習補貼標準為每人每月1800元。\n"
GUIDE_CHUNKS = [
    ("一、补贴对象", "离校两年内未就业的高校毕业生可以参加就业见习。"),
    ("二、补贴标准", "见习补贴标准为每人每月1800元。"),
]


@pytest.mark.parametrize(
    "name, data",
    [
        ("gbk.txt", GUIDE_SIMPLIFIED.encode("gb18030")),
        ("big5.txt", GUIDE_TRADITIONAL.encode("big5")),
        ("bom.txt", b"\xef\xbb\xbf" + GUIDE_SIMPLIFIED.encode("utf-8")),
        ("crlf.txt", GUIDE_SIMPLIFIED.replace("\n", "\r\n").encode("gb18030")),
    ],
)
def test_encoded_text_files(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    processed = process(path)
    assert processed.doc.title == "示范市就业见习补贴办理指南"
    assert [(c.section, c.text) for c in processed.chunks] == GUIDE_CHUNKS
    for chunk in processed.chunks:
        assert T2S.convert(chunk.indexed_text) == chunk.indexed_text


def test_markdown_file(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "# 示范市见习补贴指南\n\n## 一、补贴对象\n\n- **离校两年内**未就业的高校毕业生;\n- 登记失业青年。\n\n"
        "## 二、补贴标准\n\n见习补贴标准为每人每月[1800元](https://example.invalid/bz)。\n",
        encoding="utf-8",
    )
    processed = process(path)
    assert processed.doc.title == "示范市见习补贴指南"
    assert [(c.section, c.text) for c in processed.chunks] == [
        ("一、补贴对象", "离校两年内未就业的高校毕业生;\n登记失业青年。"),
        ("二、补贴标准", "见习补贴标准为每人每月1800元。"),
    ]


def test_docx_file(tmp_path):
    path = make_docx(
        tmp_path / "biaozhun.docx",
        [
            ("heading", "示范市见习补贴标准", 1),
            ("heading", "一、补贴标准", 2),
            ("p", "见习补贴按月发放,标准如下表。"),
            ("table", [["对象", "标准"], ["高校毕业生", "每月1800元"], ["失业青年", "每月1600元"]]),
            ("heading", "二、办理时限", 2),
            ("p", "每季度首月办理。"),
        ],
    )
    processed = process(path)
    assert processed.doc.title == "示范市见习补贴标准"
    assert [(c.section, c.text) for c in processed.chunks] == [
        ("一、补贴标准", "见习补贴按月发放,标准如下表。\n对象 | 标准\n高校毕业生 | 每月1800元\n失业青年 | 每月1600元"),
        ("二、办理时限", "每季度首月办理。"),
    ]


NEWS = [
    "2099年3月18日,示范市2099年春季高校毕业生专场招聘会在示范市会展中心举行,326家用人单位提供岗位8640个。",
    "记者从示范市人社局获悉,参加招聘会的见习单位均为经认定的见习单位,见习期间享受见习补贴。",
    "下一场招聘会定于2099年4月15日举办,为退役军人专场招聘会。",
]
NEWS_PAGE = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>示范市春季专场招聘会举办_新闻中心_示范市人力资源和社会保障局</title>
<style>.content {{ line-height: 1.8; }} .sidebar {{ float: right; }}</style>
<script>var _hmt = _hmt || []; function track() {{ return "统计代码"; }}</script>
</head><body>
<header class="site-header"><div class="logo">示范市人力资源和社会保障局</div></header>
<nav class="top-nav"><a href="/">首页</a><a href="/xwzx/">新闻中心</a><a href="/zcwj/">政策文件</a></nav>
<div class="breadcrumb">当前位置:<a href="/">首页</a> &gt; <a href="/xwzx/">新闻中心</a> &gt; 工作动态</div>
<div class="main">
  <aside class="sidebar"><h3>热点专题</h3><ul><li><a>就业见习专栏</a></li><li><a>创业担保贷款</a></li></ul></aside>
  <div class="content">
    <h1>示范市2099年春季高校毕业生专场招聘会成功举办</h1>
    <div class="info">发布时间:2099-03-19 10:30 来源:示范市人社局 记者 张三 责任编辑:李四 字号:<a>大</a> <a>中</a> <a>小</a></div>
    {"".join(f"<p>{p}</p>" for p in NEWS)}
    <div class="share">分享到:微信 微博</div>
    <div class="prev-next">上一篇:示范市召开就业工作会议 下一篇:示范市开展就业援助月活动</div>
  </div>
</div>
<footer class="footer"><p>版权所有:示范市人力资源和社会保障局</p><p>示ICP备20990001号</p></footer>
<script>document.addEventListener("DOMContentLoaded", function () {{ console.log("页面加载"); }});</script>
</body></html>"""


def test_html_news_page(tmp_path):
    path = tmp_path / "zhaopinhui.html"
    path.write_text(NEWS_PAGE, encoding="utf-8")
    processed = process(path)
    body = "\n".join(c.text for c in processed.chunks)
    assert processed.doc.title == "示范市2099年春季高校毕业生专场招聘会成功举办"  # h1 over <title>
    assert body == "\n".join(NEWS)  # article kept whole, in order, the news lead included
    for furniture in ("首页", "热点专题", "当前位置", "分享到", "上一篇", "版权所有", "ICP", "统计代码", "页面加载", "line-height"):
        assert furniture not in "".join(c.indexed_text for c in processed.chunks)
    assert (processed.doc.reporter, processed.doc.editor, processed.doc.date) == ("张三", "李四", "2099-03-19")
    for name in ("张三", "李四", "责任编辑", "记者 张三"):
        assert name not in body
    assert processed.doc.doc_type == "news"


def test_html_byline_of_the_article_wins_over_one_elsewhere_on_the_page(tmp_path):
    page = NEWS_PAGE.replace(
        '<div class="main">', '<div class="main"><div class="list"><p>记者 王二</p><p>来源:示范市日报</p></div>'
    )
    path = tmp_path / "zhaopinhui.html"
    path.write_text(page, encoding="utf-8")
    processed = process(path)
    assert (processed.doc.reporter, processed.doc.issuer) == ("张三", "示范市人社局")
    assert all("王二" not in c.indexed_text and "示范市日报" not in c.indexed_text for c in processed.chunks)


def test_html_title_tag_used_without_h1(tmp_path):
    path = tmp_path / "t.html"
    path.write_text(NEWS_PAGE.replace("<h1>", "<div>").replace("</h1>", "</div>"), encoding="utf-8")
    assert process(path).doc.title == "示范市春季专场招聘会举办"


# ---------------------------------------------------------------- the demo corpus

SEEDS = sorted(CORPUS_DIR.glob("*.txt"))
PINYIN_DEBRIS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")
TONE_MARKED = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]")
ADVERTS = ("预览阅读已结束", "代笔", "mooonya", "联系老师")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
DOUBLED = re.compile(r"[,、;:。!?\uff0c\uff1b\uff1a\uff01\uff1f]{2,}")
BYLINES = ("记者 杨文", "记者杨文", "责任编辑", "姚建")


def test_both_seeds_are_present():
    assert len(SEEDS) == 2


@pytest.fixture(scope="module", params=SEEDS, ids=lambda p: p.name[:12])
def seed(request):
    return process_file(SourceFile(request.param, request.param.name), CAPS)


def test_seed_has_clean_chunks(seed):
    assert len(seed.chunks) >= 3
    for chunk in seed.chunks:
        text = chunk.indexed_text
        assert not PINYIN_DEBRIS.search(text), text
        assert not TONE_MARKED.search(text), text
        assert not EMOJI.search(text), text
        assert not DOUBLED.search(text), DOUBLED.search(text).group(0)
        assert T2S.convert(text) == text, [c for c in text if T2S.convert(c) != c]
        for advert in ADVERTS:
            assert advert not in text
        for byline in BYLINES:
            assert byline not in text
        assert "??" not in text and "\ufffd" not in text
        assert len(text) <= CAPS.chunk_max_chars


def test_seed_text_survives(seed):
    """Cleaning must not eat the document: nearly all its characters reach the chunks."""
    raw = T2S.convert((CORPUS_DIR / seed.doc.source).read_text(encoding="utf-8"))
    raw_hanzi = len(CJK.findall(raw))
    headings = "".join({c.section for c in seed.chunks})  # folded into section paths, once each
    kept = len(CJK.findall(seed.doc.title + headings + "".join(c.text for c in seed.chunks)))
    stripped = sum(len(CJK.findall(r.text)) for r in seed.cleaned.removed)
    assert kept + stripped >= raw_hanzi * 0.99
    assert stripped <= 40


def test_news_seed_metadata():
    news = next(p for p in SEEDS if "新闻报道" in p.name)
    processed = process_file(SourceFile(news, news.name), CAPS)
    assert processed.doc.reporter == "杨文"
    assert processed.doc.editor == "姚建"
    assert processed.doc.doc_type == "news"
    assert processed.chunks[0].text.startswith("5月20日,全省稳就业工作推进会在太原召开。")


def test_speech_seed_structure():
    speech = next(p for p in SEEDS if "讲话" in p.name)
    processed = process_file(SourceFile(speech, speech.name), CAPS)
    assert processed.doc.doc_type == "speech"
    sections = {c.section for c in processed.chunks}
    assert {s.split(",")[0] for s in sections if s} == {"一、提高站位", "二、聚焦重点", "三、强化保障"}
    assert processed.chunks[-1].text.endswith("谢谢大家!")


# ---------------------------------------------------------------- a batch with bad files

GOOD_FILES = {"banfa.pdf", "owner_locked.pdf", "gbk.txt", "big5.txt", "guide.md", "biaozhun.docx", "news.html"}
BAD_FILES = {
    "truncated.pdf": ("failed", "damaged"),
    "locked.pdf": ("failed", "encrypted"),
    "fake.pdf": ("failed", "not_pdf"),
    "scanned.pdf": ("failed", "needs_ocr"),
    "empty.txt": ("failed", "empty"),
    "zero.docx": ("failed", "empty"),
    "corrupt.docx": ("failed", "damaged"),
    "junk.txt": ("failed", "binary"),
    "deep.html": ("failed", "html_too_deep"),
    "sheet.xlsx": ("failed", "damaged"),  # a zip with no worksheet in it
    "slides.pptx": ("skipped", "unsupported_type"),
    "notes.xyz": ("skipped", "unsupported_type"),
}


def build_batch(folder: Path) -> None:
    """Good files of every format next to every kind of bad file."""
    folder.mkdir(parents=True)
    make_regulation_pdf(folder / "banfa.pdf")
    plain = make_pdf(folder.parent / "plain.pdf", [["示范市见习单位认定办法", "第一条 见习单位应当依法登记。"]])
    encrypt_pdf(plain, folder / "owner_locked.pdf", user_password="", owner_password="owner")
    encrypt_pdf(plain, folder / "locked.pdf", user_password="secret")
    data = plain.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (folder / "fake.pdf").write_text("这是一个改了扩展名的文本文件。", encoding="utf-8")
    make_pdf(folder / "scanned.pdf", [[]], image_only=True)
    (folder / "gbk.txt").write_bytes(GUIDE_SIMPLIFIED.encode("gb18030"))
    (folder / "big5.txt").write_bytes(GUIDE_TRADITIONAL.replace("辦理指南", "申領須知").encode("big5"))
    (folder / "guide.md").write_text("# 示范市见习指南\n\n## 一、对象\n\n离校两年内未就业的高校毕业生。\n", encoding="utf-8")
    make_docx(folder / "biaozhun.docx", [("heading", "示范市见习补贴标准", 1), ("p", "见习补贴每月1800元。")])
    (folder / "news.html").write_text(NEWS_PAGE, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "zero.docx").write_bytes(b"")
    (folder / "corrupt.docx").write_bytes(random.Random(1).randbytes(2048))
    (folder / "junk.txt").write_bytes(random.Random(2).randbytes(2048))
    (folder / "deep.html").write_text("<html><body>" + "<div>" * 10000 + "示范市" + "</div>" * 10000, encoding="utf-8")
    with zipfile.ZipFile(folder / "sheet.xlsx", "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04 not read")
    (folder / "notes.xyz").write_text("示范市", encoding="utf-8")
    assert {p.name for p in folder.iterdir()} == GOOD_FILES | set(BAD_FILES)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, embeddings):
    """One sync of a folder holding good files, bad files and both seeds."""
    from assistant.index.policy_index import PolicyIndex

    root = tmp_path_factory.mktemp("batch")
    folder = root / "batch"
    build_batch(folder)
    for seed_file in SEEDS:
        shutil.copy(seed_file, folder / seed_file.name)
    index = PolicyIndex(make_settings(root), embeddings=embeddings)
    report = index.sync([folder])
    return index, {Path(f.source).name: f for f in report.files}, report


def test_batch_reports_every_bad_file_by_name_with_a_reason(batch):
    _, files, report = batch
    for name, (status, code) in BAD_FILES.items():
        entry = files[name]
        assert (entry.status, entry.code) == (status, code), name
        assert CJK.search(entry.reason_zh), entry.reason_zh
        assert entry.reason_en
        assert entry.chunks == 0
    assert report.failed
    summary = report.summary()
    assert summary["failed"] == sum(1 for s, _ in BAD_FILES.values() if s == "failed")
    assert summary["skipped"] == sum(1 for s, _ in BAD_FILES.values() if s == "skipped")


def test_batch_still_indexes_the_good_files(batch):
    index, files, report = batch
    good = GOOD_FILES | {p.name for p in SEEDS}
    for name in good:
        assert files[name].status == "indexed", (name, files[name])
        assert files[name].chunks > 0
    assert report.summary()["ok"] == len(good)
    assert index.store.count() == report.chunks == sum(files[n].chunks for n in good)
    sources = {Path(meta["source"]).name for meta in index.complete_documents().values()}
    assert sources == good


def test_batch_index_holds_seed_metadata_not_bylines(batch):
    index, _, _ = batch
    documents = {Path(m["source"]).name: m for m in index.complete_documents().values()}
    news = documents[next(p.name for p in SEEDS if "新闻报道" in p.name)]
    assert (news["reporter"], news["editor"]) == ("杨文", "姚建")
    html = documents["news.html"]
    assert (html["reporter"], html["editor"]) == ("张三", "李四")
    for chunk in index.store.iter_chunks():
        assert "杨文" not in chunk.text and "姚建" not in chunk.text and "责任编辑" not in chunk.text


def test_batch_pdf_chunks_carry_pages(batch):
    index, _, _ = batch
    pages = {
        c.metadata["section"]: c.metadata["page"]
        for c in index.store.iter_chunks()
        if c.metadata["source"].endswith("banfa.pdf")
    }
    assert pages["第二章 见习对象 > 第四条"] >= 1
    assert max(pages.values()) >= 2


def test_second_sync_leaves_unchanged_files_alone(batch):
    index, files, _ = batch
    folder = Path(index.settings.paths.index_dir).parent / "batch"
    again = {Path(f.source).name: f for f in index.sync([folder]).files}
    for name, entry in files.items():
        if entry.status == "indexed":
            assert again[name].status == "unchanged"
            assert again[name].chunks == entry.chunks
        else:
            assert (again[name].status, again[name].code) == (entry.status, entry.code)


# ---------------------------------------------------------------- the CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [PYTHON, "-m", "assistant", "ingest", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


SUMMARY = re.compile(r"files ok: (\d+).*failed: (\d+), skipped: (\d+).*chunks indexed: (\d+)")


@pytest.mark.slow
def test_cli_ingest_reports_failures_and_exits_non_zero(tmp_path):
    folder = tmp_path / "batch"
    build_batch(folder)
    result = run_cli(str(folder), "--index-dir", str(tmp_path / "index"))
    assert result.returncode != 0, result.stdout + result.stderr
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    ok, failed, skipped, chunks = map(int, summary.groups())
    assert (ok, failed, skipped) == (
        len(GOOD_FILES),
        sum(1 for s, _ in BAD_FILES.values() if s == "failed"),
        sum(1 for s, _ in BAD_FILES.values() if s == "skipped"),
    )
    assert chunks > 0
    lines = result.stdout.splitlines()
    for name, (status, code) in BAD_FILES.items():
        line = next((line for line in lines if name in line and status in line), None)
        assert line is not None, f"{name} missing from the CLI output:\n{result.stdout}"
        assert f"[{code}]" in line and CJK.search(line.split(f"[{code}]", 1)[1])


@pytest.mark.slow
def test_cli_ingest_clean_folder_exits_zero(tmp_path):
    folder = tmp_path / "clean"
    folder.mkdir()
    make_regulation_pdf(folder / "banfa.pdf")
    (folder / "gbk.txt").write_bytes(GUIDE_SIMPLIFIED.encode("gb18030"))
    result = run_cli(str(folder), "--index-dir", str(tmp_path / "index"))
    assert result.returncode == 0, result.stdout + result.stderr
    ok, failed, skipped, chunks = map(int, SUMMARY.search(result.stdout).groups())
    assert (ok, failed, skipped) == (2, 0, 0)
    assert chunks == 8 + len(GUIDE_CHUNKS)


def test_process_file_raises_for_a_document_that_cleans_to_nothing(tmp_path):
    path = tmp_path / "ad.txt"
    path.write_text("预览阅读已结束,若您需要全文或代笔。\n请点击联系老师", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        process(path)
    assert info.value.code == "no_text"


def test_a_labelled_publication_date_on_a_shared_line_is_the_document_date(tmp_path):
    path = tmp_path / "gonggao.md"
    path.write_text("# 示范市公益性岗位招聘公告\n\n**发布单位:** 示范市就业服务中心   **发布日期:** 2099年7月20日\n\n"
                    "一、岗位数量。本次招聘公益性岗位20个,自2099年8月1日起报名。\n", encoding="utf-8")
    assert process(path).doc.date == "2099-07-20"  # not the 8月1日 inside a sentence
