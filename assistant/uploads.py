"""Saving files staff upload: sanitised names, size cap, never outside the corpus folder."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from assistant.ingest.loaders import format_size

UPLOAD_SUBDIR = "uploads"


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


def save_upload(corpus_dir: Path, original_name: str, data: bytes, max_mb: float) -> Path:
    """Write an uploaded file under ``corpus_dir/uploads`` and return its path."""
    if len(data) > max_mb * 1024 * 1024:
        name = sanitize_filename(original_name)
        raise UploadRejected("too_large", f"文件“{name}”过大({format_size(len(data))}),上限为 {max_mb:g} MB,已拒绝", name)
    folder = (corpus_dir / UPLOAD_SUBDIR).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / sanitize_filename(original_name)).resolve()
    if target.parent != folder:  # belt and braces: the name can no longer contain a path
        raise UploadRejected("bad_name", "文件名不合法,已拒绝", target.name)
    # written beside the target and renamed into place: a kill or a full disk never leaves half a file
    # that the next start would index
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UploadRejected("io_error", f"文件“{target.name}”无法保存:{exc.strerror}", target.name) from exc
    return target
