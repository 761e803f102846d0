"""Every size cap, set small in the settings and crossed by one real file or question.

Just over a cap, a file is refused with a stable code and a Chinese message
that names the limit and its configured value, while the rest of its batch is
indexed; a file right at the cap is accepted.  Text is fictional (示范市).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import pytest

from assistant.service import AssistantService
from assistant.uploads import UploadRejected, stage_upload
from tests.conftest import make_docx, make_pdf

PARAGRAPH = "示范市对离校未就业高校毕业生参加就业见习的,按每人每月1800元给予见习补贴。"
OTHER_MD = "# 示范市见习指南\n\n## 一、对象\n\n离校两年内未就业的高校毕业生可以申请参加就业见习。\n"
MB = 1024 * 1024


def text_of(chars: int) -> str:
    """Fictional policy text of exactly ``chars`` characters."""
    line = PARAGRAPH + "\n"
    return (line * (chars // len(line) + 1))[:chars]


def utf8_text(n_bytes: int) -> bytes:
    """UTF-8 policy text of exactly ``n_bytes`` bytes: whole paragraphs, padded with line breaks."""
    line = (PARAGRAPH + "\n").encode("utf-8")
    data = line * (n_bytes // len(line))
    return data + b"\n" * (n_bytes - len(data))


def nested_html(depth: int) -> str:
    """A page whose tags nest ``depth`` levels deep: html, body, divs, then the paragraph."""
    divs = depth - 3
    return "<html><body>" + "<div>" * divs + f"<p>{PARAGRAPH}</p>" + "</div>" * divs + "</body></html>"


def uncompressed_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


# Each builder writes over.<ext> (just over the cap) and under.<ext> (at the cap) and returns the cap.


def build_file_size(folder: Path) -> float:
    cap_mb = 0.01
    limit = int(cap_mb * MB)
    (folder / "over.txt").write_bytes(utf8_text(limit + 1))
    (folder / "under.txt").write_bytes(utf8_text(limit))
    return cap_mb


def build_pdf_pages(folder: Path) -> int:
    make_pdf(folder / "over.pdf", [[PARAGRAPH]] * 3)
    make_pdf(folder / "under.pdf", [[PARAGRAPH]] * 2)
    return 2


def build_chars(folder: Path) -> int:
    (folder / "over.txt").write_text(text_of(1001), encoding="utf-8")
    (folder / "under.txt").write_text(text_of(1000), encoding="utf-8")
    return 1000


def build_docx_expansion(folder: Path) -> float:
    under = make_docx(folder / "under.docx", [("heading", "示范市见习补贴标准", 1), ("p", PARAGRAPH)])
    over = make_docx(folder / "over.docx", [("heading", "示范市见习补贴标准", 1), ("p", PARAGRAPH), ("p", PARAGRAPH)])
    assert uncompressed_size(over) > uncompressed_size(under)
    return uncompressed_size(under) / MB


def build_html_depth(folder: Path) -> int:
    (folder / "over.html").write_text(nested_html(13), encoding="utf-8")
    (folder / "under.html").write_text(nested_html(12), encoding="utf-8")
    return 12


@dataclass
class Cap:
    setting: str  # field of IngestSettings
    ext: str
    build: Callable[[Path], float]
    code: str
    names: str  # how the Chinese message names what is limited
    unit: str

    def __str__(self) -> str:
        return self.setting


CAPS = [
    Cap("max_file_mb", ".txt", build_file_size, "too_large", "文件过大", "MB"),
    Cap("max_pdf_pages", ".pdf", build_pdf_pages, "too_many_pages", "PDF 页数过多", "页"),
    Cap("max_chars_per_file", ".txt", build_chars, "too_many_chars", "提取出的文字过多", "字"),
    Cap("max_docx_uncompressed_mb", ".docx", build_docx_expansion, "zip_bomb", "DOCX 解压后过大", "MB"),
    Cap("max_html_depth", ".html", build_html_depth, "html_too_deep", "HTML 嵌套层级过深", "层"),
]


@pytest.mark.parametrize("cap", CAPS, ids=str)
def test_file_over_a_cap_is_refused_and_the_rest_of_the_batch_indexed(cap, tmp_path, settings_for, make_index):
    folder = tmp_path / "batch"
    folder.mkdir()
    value = cap.build(folder)
    (folder / "other.md").write_text(OTHER_MD, encoding="utf-8")
    report = make_index(settings_for(tmp_path, **{cap.setting: value})).sync([folder])

    files = {Path(f.source).name: f for f in report.files}
    over = files[f"over{cap.ext}"]
    assert (over.status, over.code, over.chunks) == ("failed", cap.code, 0)
    assert over.reason_zh.startswith(cap.names), over.reason_zh
    assert f"上限为 {value:g} {cap.unit}" in over.reason_zh, over.reason_zh
    assert f"{value:g}" in over.reason_en
    for name in (f"under{cap.ext}", "other.md"):
        assert files[name].status == "indexed" and files[name].chunks > 0, files[name]


# ---------------------------------------------------------------- services with one setting changed


@pytest.fixture
def service_with(tmp_path, settings_for, embeddings):
    """``service_with(section, **values)`` -> an AssistantService whose settings section has those values."""

    def factory(section: str, **values) -> AssistantService:
        settings = settings_for(tmp_path)
        changed = getattr(settings, section).model_copy(update=values)
        return AssistantService(settings.model_copy(update={section: changed}), embeddings=embeddings)

    return factory


def test_upload_over_the_cap_is_refused_and_the_others_indexed(service_with):
    service = service_with("ui", max_upload_mb=0.01)
    limit = int(0.01 * MB)
    uploads = [("over.txt", utf8_text(limit + 1)), ("under.txt", utf8_text(limit)), ("other.md", OTHER_MD.encode())]

    report, refused = service.upload(uploads)

    assert [str(r) for r in refused] == ["文件“over.txt”过大(10.2 KB),上限为 0.01 MB,已拒绝"]
    assert [(r.code, r.name) for r in refused] == [("too_large", "over.txt")]
    assert {Path(f.source).name: f.status for f in report.files} == {"under.txt": "indexed", "other.md": "indexed"}
    corpus = Path(service.settings.paths.corpus_dir)
    assert not any(corpus.rglob("over.txt"))
    with pytest.raises(UploadRejected) as info:
        stage_upload(corpus, "over.txt", utf8_text(limit + 1), 0.01)
    assert info.value.code == "too_large"


@pytest.fixture
def short_question_service(service_with):
    """Questions capped at 20 characters, over an index of one fictional guide."""
    service = service_with("retrieval", max_question_chars=20)
    (Path(service.settings.paths.corpus_dir) / "guide.txt").write_text(text_of(200), encoding="utf-8")
    assert not service.ingest().failed
    return service


def test_question_over_the_cap_gets_a_message_naming_the_limit(short_question_service):
    question = "示范市高校毕业生就业见习补贴每月发多少钱?"
    assert len(question) == 21
    answer = short_question_service.ask(question)
    assert answer.text == "问题太长了(超过 20 字),请精简成一两句话再问;复杂情况可拨打12333咨询。"
    assert answer.refused and answer.sources == []


def test_question_at_the_cap_is_answered(short_question_service):
    question = "示范市毕业生的就业见习补贴每月发多少钱?"
    assert len(question) == 20
    answer = short_question_service.ask(question)
    assert "太长" not in answer.text and answer.question == question
    assert not answer.refused and "1800" in answer.text
