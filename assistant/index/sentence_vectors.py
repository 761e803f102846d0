"""Vectors of the chunks' quotable sentences, kept beside the index by a hash of model and text.

An extractive answer scores every sentence of its top chunks against the question, and embedding those
sentences was most of a first-seen answer's time (benchmarks/RESULTS.md).  Ingest embeds them once, in
the same workers that embed the chunks, and the answer path's ``EmbeddingCache`` reads them from here
before it asks the model.  A vector depends on its text and model alone, so an entry never goes stale;
one of a deleted document is merely unused (``clear`` at a rebuild drops them all).  Stored as float16:
cosine similarities within ~1e-3 of float32, half the disk.  Only document text is ever written here,
never a question.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
_LOOKUP_STEP = 500  # keys per SELECT (SQLite's variable limit is far above; keeps each statement small)


class SentenceVectorStore:
    def __init__(self, path: Path, model: str, dimension: int):
        self.path = path
        self.model = model
        self.dimension = dimension
        self._model = model.encode("utf-8")
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA page_size=16384")  # a new file only: 15 vectors a page instead of 2-3
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a cache: a power cut may lose the last batch, never corrupt it
        # the key is the rowid: rows of ~1 KB pack into pages (a blob key with WITHOUT ROWID took 4.7 KB a row)
        self._db.execute("CREATE TABLE IF NOT EXISTS sentence_vectors (key INTEGER PRIMARY KEY, vector BLOB NOT NULL)")

    def _key(self, text: str) -> int:
        """64 bits of a hash of model and text (two texts of 10M share a key with odds of about 3 in a million)."""
        digest = hashlib.blake2b(self._model + b"\0" + text.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _rows(self, texts: Sequence[str], column: str) -> list[tuple]:
        keys = {self._key(text): text for text in texts}
        listed, rows = list(keys), []
        with self._lock:
            for start in range(0, len(listed), _LOOKUP_STEP):
                step = listed[start:start + _LOOKUP_STEP]
                rows += [(keys[row[0]], *row[1:]) for row in self._db.execute(
                    f"SELECT key{column} FROM sentence_vectors WHERE key IN ({','.join('?' * len(step))})", step)]
        return rows

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """float32 vectors of the texts stored so far (the others are absent; all are, if the file cannot be
        read: the answer path then embeds them itself)."""
        try:
            rows = self._rows(texts, ", vector")
        except sqlite3.Error as exc:
            log.warning("sentence vectors not read (%s): %s", self.path, exc)
            return {}
        found = {text: np.frombuffer(blob, dtype=np.float16) for text, blob in rows}
        return {text: vector.astype(np.float32) for text, vector in found.items() if vector.size == self.dimension}

    def known(self, texts: Sequence[str]) -> set[str]:
        """Which of the texts are stored (an ingest embeds only the others: a re-processed document's
        sentences are mostly unchanged)."""
        try:
            return {text for (text,) in self._rows(texts, "")}
        except sqlite3.Error as exc:
            log.warning("sentence vectors not read (%s): %s", self.path, exc)
            return set()

    def put(self, texts: Sequence[str], vectors: np.ndarray, wait_ms: int = 30_000) -> None:
        """Store the vectors; ``wait_ms``: how long to wait for another process's write (an ingest) to finish."""
        rows = [(self._key(text), np.asarray(vector, dtype=np.float16).tobytes()) for text, vector in zip(texts, vectors)]
        with self._lock:
            self._db.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO sentence_vectors VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """``put`` from the answer path: a full disk, a read-only index or an ingest writing at the same moment
        costs the speed-up, never an answer (nor more than a fraction of a second of it)."""
        try:
            self.put(texts, vectors, wait_ms=200)
        except sqlite3.Error as exc:
            log.warning("sentence vectors not kept (%s): %s", self.path, exc)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM sentence_vectors").fetchone()[0]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sentence_vectors")

    def close(self) -> None:
        with self._lock:
            self._db.close()
