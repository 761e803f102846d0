"""👍/👎 feedback on answers, stored in SQLite next to the index, personal numbers masked."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from assistant.privacy import mask_pii

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    source_ids TEXT NOT NULL,
    backend TEXT NOT NULL,
    refused INTEGER NOT NULL
)
"""


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add(self, rating: str, question: str, answer: str, source_ids: list[str], backend: str,
            refused: bool, comment: str = "") -> int:
        row = (
            time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            rating,
            mask_pii(comment.strip())[:2000],
            mask_pii(question)[:2000],
            mask_pii(answer)[:8000],
            json.dumps(source_ids, ensure_ascii=False),
            backend,
            int(refused),
        )
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, answer, source_ids, backend, refused) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid)

    def all(self) -> list[dict]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM feedback ORDER BY id")]

    def set_comment(self, row_id: int, comment: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (mask_pii(comment.strip())[:2000], row_id))

    def set_rating(self, row_id: int, rating: str) -> None:
        """Change the vote of an answer already rated (one vote per answer and session)."""
        with self._lock, self._connect() as db:
            db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, row_id))
