"""Upload names from staff browsers are hostile until proven otherwise: nothing may land outside corpus/uploads."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.uploads import UploadRejected, sanitize_filename, save_upload

HOSTILE_NAMES = [
    "../../etc/passwd",
    "../../../tmp/evil.txt",
    "/etc/cron.d/job.txt",
    "..\\..\\windows\\system32\\x.txt",
    "C:\\Users\\x\\通知.docx",
    "\u202egnp.exe.txt",  # right-to-left override hiding the real extension
    "a\x00b.txt",
    "ＡＢＣ／．．／ｘ．ｔｘｔ",  # full-width slash and dots (NFKC folds them)
    "....txt",
    "",
    ".bashrc",
    "通知 (1).PDF",
    "x" * 500 + ".txt",
]


def _all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_stay_inside_the_uploads_folder(tmp_path, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    before = _all_files(tmp_path)
    saved = save_upload(corpus, name, "示范市测试".encode(), max_mb=1)
    uploads = (corpus / "uploads").resolve()
    assert saved.parent == uploads and saved.is_file()
    assert _all_files(tmp_path) - before == {saved}  # the one new file, where it belongs
    assert not saved.name.startswith(".") and "\x00" not in saved.name and "\u202e" not in saved.name
    assert len(saved.name) <= 131


def test_clean_names_keep_their_meaning():
    assert sanitize_filename("通知 (1).PDF") == "通知_(1).pdf"
    assert sanitize_filename("C:\\Users\\x\\示范市通知.docx") == "示范市通知.docx"
    assert sanitize_filename("") == "upload"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_any_name_is_a_plain_file_name(name):
    clean = sanitize_filename(name)
    assert clean and "/" not in clean and "\\" not in clean
    assert clean not in (".", "..") and not clean.startswith(".")


def test_oversized_upload_is_refused_before_writing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(UploadRejected) as refused:
        save_upload(corpus, "../big.txt", b"x" * (2 * 1024 * 1024), max_mb=1)
    assert refused.value.code == "too_large" and "big.txt" in str(refused.value)
    assert _all_files(tmp_path) == set()


def test_a_failed_save_leaves_no_partial_file(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "uploads" / "通知.txt").mkdir(parents=True)  # the target cannot be replaced: rename fails
    with pytest.raises(UploadRejected) as refused:
        save_upload(corpus, "通知.txt", "示范市测试".encode(), max_mb=1)
    assert refused.value.code == "io_error" and "通知.txt" in str(refused.value)
    assert not list((corpus / "uploads").glob(".*partial"))
