"""The version of everything that shapes a document's chunks: the pipeline fingerprint.

Stored per document in the registry (``DocumentMeta.pipeline``).  A file is skipped as unchanged only
when both its content hash and this fingerprint match, so an improved cleaner, a new strip pattern or a
new chunk size reaches the documents already indexed on the next ingest or start, without ``--rebuild``.

It hashes the code of the stages that write chunks (``assistant/ingest`` and the shared text helpers in
``assistant/text``), the data files they read, and the settings that change their output.  Caps that
only refuse a file (sizes, pages, time) do not change a chunk and are left out.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from assistant.settings import DATA_DIR, IngestSettings

_PACKAGE = Path(__file__).resolve().parent.parent  # assistant/
CODE_DIRS = ("ingest", "text")
DATA_FILES = ("strip_patterns.yaml", "places.tsv")
# IngestSettings fields whose value changes what a file becomes
SHAPING_SETTINGS = ("chunk_max_chars", "local_places", "ocr_min_score")


def files_digest(paths: list[Path], root: Path) -> str:
    """One digest over files' names (relative to ``root``) and bytes; a missing file counts as absent."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
        digest.update(b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _code_and_data() -> str:
    code = [p for d in CODE_DIRS for p in (_PACKAGE / d).glob("*.py")]
    return files_digest(code, _PACKAGE) + files_digest([DATA_DIR / name for name in DATA_FILES], DATA_DIR)


def pipeline_fingerprint(caps: IngestSettings) -> str:
    """16 hex digits naming this pipeline: code, data files and chunk-shaping settings."""
    settings = {name: getattr(caps, name) for name in SHAPING_SETTINGS}
    payload = json.dumps(settings, sort_keys=True, ensure_ascii=False, default=list) + _code_and_data()
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
