"""Upload names from staff browsers are hostile until proven otherwise: nothing may land outside the corpus's
staging folder (and, once read, corpus/uploads); a name in use is never replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.uploads import STAGING_SUBDIR, UploadRejected, clear_staging, sanitize_filename, stage_upload

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
def test_hostile_names_stay_inside_the_staging_folder(tmp_path, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    before = _all_files(tmp_path)
    staged, place, note = stage_upload(corpus, name, "示范市测试".encode(), max_mb=1)
    assert staged.is_file() and staged.resolve().is_relative_to((corpus / STAGING_SUBDIR).resolve())
    assert _all_files(tmp_path) - before == {staged}  # the one new file, where it belongs
    assert place.parent == (corpus / "uploads").resolve() and place.name == staged.name and note == ""
    assert not place.name.startswith(".") and "\x00" not in place.name and "\u202e" not in place.name
    assert len(place.name) <= 131


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
        stage_upload(corpus, "../big.txt", b"x" * (2 * 1024 * 1024), max_mb=1)
    assert refused.value.code == "too_large" and "big.txt" in str(refused.value) and refused.value.name == "big.txt"
    assert _all_files(tmp_path) == set()


def test_a_failed_save_leaves_no_partial_file(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / STAGING_SUBDIR).write_text("")  # a file where the staging folder should be: nothing can be saved
    before = _all_files(tmp_path)
    with pytest.raises(UploadRejected) as refused:
        stage_upload(corpus, "通知.txt", "示范市测试".encode(), max_mb=1)
    assert refused.value.code == "io_error" and "通知.txt" in str(refused.value)
    assert _all_files(tmp_path) == before


def test_a_name_in_use_is_kept_apart_and_the_same_content_refused(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "uploads").mkdir(parents=True)
    (corpus / "uploads" / "通知.txt").write_text("示范市旧通知", encoding="utf-8")

    with pytest.raises(UploadRejected) as duplicate:
        stage_upload(corpus, "通知.txt", "示范市旧通知".encode(), max_mb=1)
    assert duplicate.value.code == "duplicate" and "内容相同" in str(duplicate.value)

    staged, place, note = stage_upload(corpus, "通知.txt", "示范市新通知".encode(), max_mb=1)
    assert place.name == "通知_2.txt" and staged.name == "通知_2.txt"
    assert "通知_2.txt" in note and "删除旧文件" in note
    # a second file of the same name in the same upload gets the next free name
    _, third, _ = stage_upload(corpus, "通知.txt", "示范市第三份".encode(), max_mb=1, taken={"通知_2.txt"})
    assert third.name == "通知_3.txt"
    assert (corpus / "uploads" / "通知.txt").read_text(encoding="utf-8") == "示范市旧通知"  # never replaced


def test_staged_files_a_killed_process_left_are_cleared(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    staged, _, _ = stage_upload(corpus, "通知.txt", "示范市".encode(), max_mb=1)
    clear_staging(corpus)
    assert staged.is_file()  # recent: another process may be indexing it
    clear_staging(corpus, older_than_s=-1)
    assert not staged.exists()
