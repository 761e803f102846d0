"""Saving files staff upload: sanitised names, size cap, a staging folder, never outside the corpus folder."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
import unicodedata
from pathlib import Path

from assistant.ingest.loaders import format_size

UPLOAD_SUBDIR = "uploads"
STAGING_SUBDIR = ".staging"  # hidden: no ingest of the corpus ever reads it


class UploadRejected(ValueError):
    """An upload that is refused: ``code`` for programs (as in IngestError), the Chinese message for the console,
    ``name`` the file name it would have been saved under."""

    def __init__(self, code: str, message_zh: str, name: str = ""):
        super().__init__(message_zh)
        self.code = code
        self.name = name


def sanitize_filename(name: str) -> str:
    """A plain file name: no folders, no control or shell characters, no leading dots."""
    name = unicodedata.normalize("NFKC", name or "")
    name = re.split(r"[\\/]", name)[-1]  # drop any folder part, `../` included
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    name = re.sub(r"[<>:\"|?*\s]+", "_", name).strip("._ ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:120] or "upload"
    return f"{stem}.{ext.lower()[:10]}" if ext else stem


def stage_upload(corpus_dir: Path, original_name: str, data: bytes, max_mb: float,
                 taken: set[str] = frozenset()) -> tuple[Path, Path, str]:
    """Write an upload into a staging folder; return (staged file, its place under ``corpus_dir/uploads``, note).

    The staged file moves to its place only once it has been read (``PolicyIndex.ingest_staged``).  A name
    already in use (on disk, or by another file of the same upload, ``taken``) is never replaced: the same
    content is refused as a duplicate; other content is kept under a free name, which the note tells staff.
    """
    name = sanitize_filename(original_name)
    if len(data) > max_mb * 1024 * 1024:
        raise UploadRejected("too_large", f"文件“{name}”过大({format_size(len(data))}),上限为 {max_mb:g} MB,已拒绝", name)
    folder = (corpus_dir / UPLOAD_SUBDIR).resolve()
    place = (folder / name).resolve()
    if place.parent != folder:  # belt and braces: the name can no longer contain a path
        raise UploadRejected("bad_name", "文件名不合法,已拒绝", name)
    note = ""
    if place.exists() or place.name in taken:
        if place.is_file() and hashlib.sha256(data).digest() == _digest(place):
            raise UploadRejected("duplicate", f"文件“{name}”与已收录的同名文件内容相同,未重复上传", name)
        place = _free_place(place, taken)
        note = f"已有同名文件“{name}”,本文件另存为“{place.name}”;如需替换旧文件,请在“文件列表”中删除旧文件"
    staging = corpus_dir / STAGING_SUBDIR / secrets.token_hex(8)
    staged = staging / place.name
    # written beside its staged name and renamed: a kill or a full disk never leaves half a file
    partial = staging / f".{place.name}.partial"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, staged)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UploadRejected("io_error", f"文件“{place.name}”无法保存:{exc.strerror}", place.name) from exc
    return staged, place, note


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def _free_place(place: Path, taken: set[str]) -> Path:
    for n in range(2, 10_000):
        candidate = place.with_name(f"{place.stem}_{n}{place.suffix}")
        if not candidate.exists() and candidate.name not in taken:
            return candidate
    raise UploadRejected("bad_name", f"同名文件“{place.name}”过多,请改名后再上传", place.name)


def clear_staging(corpus_dir: Path, older_than_s: float = 3600) -> None:
    """Remove staged uploads a killed process left (another process's recent ones are kept)."""
    root = corpus_dir / STAGING_SUBDIR
    if not root.is_dir():
        return
    now = time.time()
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > older_than_s:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass
