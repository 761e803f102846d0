"""The document registry: which documents exist, in which state, and a generation counter.

A document is recorded ``pending`` before any of its chunks is written and ``complete`` after the last,
and ``deleting`` before its chunks go; so a killed ingest leaves records that say exactly what to finish,
and chunks of a document that is not complete are never served.  Every commit (documents completed or
deleted) raises the ``generation`` by one and stamps the documents it touched with it; a deleted document
stays as a ``deleted`` tombstone.  ``changed_since(g)`` is therefore the change log a keyword index (or a
replica's copy of one) needs to catch up from generation ``g`` without rebuilding.

Files that could not be indexed are kept apart as failure records (source, content hash, pipeline, reason):
staff see them in the console and remove them, and a start does not read the same file again.  They are no
documents: ``documents()`` and the change log never show them.

Two implementations behind one Protocol: ``SqliteRegistry`` (a file beside an embedded Chroma: real
transactions, no dummy vectors) and ``ChromaRegistry`` (a collection in a Chroma server, so that every
replica sharing that server sees the same registry as the chunks it describes; see docs/deploy.md).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from assistant.index.store import storage_guarded
from assistant.ingest.models import DocumentMeta

STATE_ID = "__state__"
LIVE_STATES = ("pending", "complete", "deleting")  # "deleted" records are tombstones for the change log


class DocumentRegistry(Protocol):
    location: str

    def generation(self) -> int: ...

    def documents(self) -> dict[str, dict[str, Any]]:
        """Every live record (pending, complete, deleting) by doc_id: the document's metadata plus
        ``status``, ``chunk_count``, ``generation``, ``fingerprint`` and ``indexed_at``."""

    def mark_pending(self, docs: list[tuple[DocumentMeta, int]]) -> None:
        """Before any chunk of these (document, chunk count) pairs is written."""

    def mark_complete(self, docs: list[tuple[DocumentMeta, int]]) -> int:
        """After their last chunk; one commit, the new generation returned."""

    def mark_deleting(self, doc_ids: list[str]) -> None:
        """Before their chunks go."""

    def mark_deleted(self, doc_ids: list[str]) -> int:
        """After their chunks went; one commit, the new generation returned."""

    def changed_since(self, generation: int) -> dict[str, dict[str, Any]]:
        """Records (tombstones included) committed after ``generation``, by doc_id."""

    def record_failure(self, record: dict[str, Any]) -> None:
        """A file that could not be indexed (``doc_id``, ``source``, ``content_hash``, ``pipeline``, ``code``,
        ``reason``, ``failed_at``), replacing an earlier failure of the same file."""

    def failures(self) -> list[dict[str, Any]]: ...

    def forget_failure(self, doc_id: str) -> bool:
        """Remove a failure record; True when there was one."""

    def close(self) -> None: ...


def _record(doc: DocumentMeta, status: str, chunk_count: int, generation: int) -> dict[str, Any]:
    meta = doc.as_metadata()
    return {**meta, "status": status, "chunk_count": chunk_count, "generation": generation,
            "fingerprint": str(meta.get("fingerprint", "") or ""), "indexed_at": time.time()}


class SqliteRegistry:
    """The registry in one SQLite file (WAL; each mark is one transaction)."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS documents(
            doc_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            generation INTEGER NOT NULL,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            fingerprint TEXT NOT NULL DEFAULT '',   -- the ingest pipeline's fingerprint of this document
            meta TEXT NOT NULL                      -- the rest of the record, JSON
        );
        CREATE INDEX IF NOT EXISTS documents_generation ON documents(generation);
        CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT OR IGNORE INTO state VALUES ('generation', 0);
        CREATE TABLE IF NOT EXISTS failures(doc_id TEXT PRIMARY KEY, meta TEXT NOT NULL);
    """

    @storage_guarded
    def __init__(self, path: Path, low_disk_mb: float = 0.0):
        self.path = path
        self.location = str(path)
        self.index_dir, self.low_disk_mb = path.parent, low_disk_mb  # where storage failures are diagnosed
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._db().executescript(self.SCHEMA)

    def _db(self) -> sqlite3.Connection:
        """One connection per thread: WAL readers then never see another thread's open transaction."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a completed document survives a power cut
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    @storage_guarded
    def generation(self) -> int:
        return int(self._db().execute("SELECT value FROM state WHERE key = 'generation'").fetchone()[0])

    @staticmethod
    def _rows_to_records(rows) -> dict[str, dict[str, Any]]:
        out = {}
        for doc_id, status, generation, chunk_count, fingerprint, meta in rows:
            out[doc_id] = {**json.loads(meta), "status": status, "generation": generation,
                           "chunk_count": chunk_count, "fingerprint": fingerprint}
        return out

    @storage_guarded
    def documents(self) -> dict[str, dict[str, Any]]:
        rows = self._db().execute(
            "SELECT doc_id, status, generation, chunk_count, fingerprint, meta FROM documents WHERE status != 'deleted'")
        return self._rows_to_records(rows)

    @storage_guarded
    def changed_since(self, generation: int) -> dict[str, dict[str, Any]]:
        rows = self._db().execute(
            "SELECT doc_id, status, generation, chunk_count, fingerprint, meta FROM documents WHERE generation > ?",
            (generation,))
        return self._rows_to_records(rows)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whatever went wrong (the connection stays usable)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _write(self, docs: list[tuple[DocumentMeta, int]], status: str, commit: bool) -> int:
        with self._transaction() as db:
            generation = self.generation() + (1 if commit else 0)
            if commit:
                db.execute("UPDATE state SET value = ? WHERE key = 'generation'", (generation,))
            rows = []
            for doc, count in docs:
                record = _record(doc, status, count, generation)
                stamp = generation if commit else self._stamp(db, doc.doc_id)
                core = {k: record.pop(k) for k in ("status", "generation", "chunk_count", "fingerprint")}
                rows.append((doc.doc_id, core["status"], stamp, core["chunk_count"], core["fingerprint"],
                             json.dumps(record, ensure_ascii=False)))
            db.executemany("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?)", rows)
        return generation

    @staticmethod
    def _stamp(db: sqlite3.Connection, doc_id: str) -> int:
        """A pending record keeps the generation of the document's last commit (it is not a commit)."""
        row = db.execute("SELECT generation FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else 0

    @storage_guarded
    def mark_pending(self, docs: list[tuple[DocumentMeta, int]]) -> None:
        self._write(docs, "pending", commit=False)

    @storage_guarded
    def mark_complete(self, docs: list[tuple[DocumentMeta, int]]) -> int:
        return self._write(docs, "complete", commit=True)

    def _set_status(self, doc_ids: list[str], status: str, commit: bool) -> int:
        with self._transaction() as db:
            generation = self.generation() + (1 if commit else 0)
            marks = [(status, d) for d in doc_ids]
            if commit:
                db.execute("UPDATE state SET value = ? WHERE key = 'generation'", (generation,))
                db.executemany(f"UPDATE documents SET status = ?, generation = {generation} WHERE doc_id = ?", marks)
            else:
                db.executemany("UPDATE documents SET status = ? WHERE doc_id = ?", marks)
        return generation

    @storage_guarded
    def mark_deleting(self, doc_ids: list[str]) -> None:
        self._set_status(doc_ids, "deleting", commit=False)

    @storage_guarded
    def mark_deleted(self, doc_ids: list[str]) -> int:
        return self._set_status(doc_ids, "deleted", commit=True)

    @storage_guarded
    def record_failure(self, record: dict[str, Any]) -> None:
        self._db().execute("INSERT OR REPLACE INTO failures VALUES (?, ?)",
                           (record["doc_id"], json.dumps(record, ensure_ascii=False)))

    @storage_guarded
    def failures(self) -> list[dict[str, Any]]:
        return [json.loads(meta) for (meta,) in self._db().execute("SELECT meta FROM failures")]

    @storage_guarded
    def forget_failure(self, doc_id: str) -> bool:
        return self._db().execute("DELETE FROM failures WHERE doc_id = ?", (doc_id,)).rowcount > 0

    @storage_guarded
    def import_records(self, records: dict[str, dict[str, Any]], generation: int) -> None:
        """Take over the records of a registry kept in Chroma by an earlier version (once, on first open)."""
        rows = []
        for doc_id, meta in records.items():
            meta = dict(meta)
            core = (meta.pop("status", "pending"), int(meta.pop("generation", 0) or 0),
                    int(meta.pop("chunk_count", 0) or 0), str(meta.pop("fingerprint", "") or ""))
            rows.append((doc_id, *core, json.dumps(meta, ensure_ascii=False)))
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?)", rows)
            db.execute("UPDATE state SET value = ? WHERE key = 'generation'", (generation,))


class ChromaRegistry:
    """The registry as a collection of the Chroma server the chunks live in (one-dimensional dummy vectors,
    since a Chroma record needs one).  Chroma has no transactions: the generation record is written after
    the documents it commits, so a reader that sees the new generation also sees their records."""

    def __init__(self, collection, location: str):
        self.collection = collection
        self.location = location
        self.index_dir, self.low_disk_mb = None, 0.0  # a server: nothing local to diagnose

    def close(self) -> None:
        pass

    @storage_guarded
    def generation(self) -> int:
        got = self.collection.get(ids=[STATE_ID], include=["metadatas"])
        return int(got["metadatas"][0]["generation"]) if got["ids"] else 0

    def _get(self, where: dict | None = None, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        got = self.collection.get(ids=ids, where=where, include=["metadatas"])
        return {i: dict(m) for i, m in zip(got["ids"], got["metadatas"]) if i != STATE_ID}

    @storage_guarded
    def documents(self) -> dict[str, dict[str, Any]]:
        return {i: m for i, m in self._get().items() if m.get("status") in LIVE_STATES}

    @storage_guarded
    def changed_since(self, generation: int) -> dict[str, dict[str, Any]]:
        return self._get(where={"generation": {"$gt": generation}})

    def _upsert(self, records: dict[str, dict[str, Any]]) -> None:
        ids = list(records)
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            self.collection.upsert(ids=part, embeddings=[[1.0]] * len(part),
                                   metadatas=[records[i] for i in part], documents=[records[i].get("title", "") for i in part])

    def _bump(self) -> int:
        generation = self.generation() + 1
        self.collection.upsert(ids=[STATE_ID], embeddings=[[1.0]], documents=["state"],
                               metadatas=[{"generation": generation, "updated": time.time()}])
        return generation

    @storage_guarded
    def mark_pending(self, docs: list[tuple[DocumentMeta, int]]) -> None:
        known = self._get(ids=[doc.doc_id for doc, _ in docs])
        self._upsert({doc.doc_id: _record(doc, "pending", count, int(known.get(doc.doc_id, {}).get("generation", 0) or 0))
                      for doc, count in docs})

    @storage_guarded
    def mark_complete(self, docs: list[tuple[DocumentMeta, int]]) -> int:
        generation = self.generation() + 1
        self._upsert({doc.doc_id: _record(doc, "complete", count, generation) for doc, count in docs})
        return self._bump()

    def _set_status(self, doc_ids: Iterable[str], status: str, generation: int | None) -> None:
        known = self._get(ids=list(doc_ids))
        for meta in known.values():
            meta["status"] = status
            if generation is not None:
                meta["generation"] = generation
        if known:
            self._upsert(known)

    @storage_guarded
    def mark_deleting(self, doc_ids: list[str]) -> None:
        self._set_status(doc_ids, "deleting", None)

    @storage_guarded
    def mark_deleted(self, doc_ids: list[str]) -> int:
        self._set_status(doc_ids, "deleted", self.generation() + 1)
        return self._bump()

    @storage_guarded
    def record_failure(self, record: dict[str, Any]) -> None:
        # status "failed" is not a live state and generation -1 precedes every commit: neither documents() nor
        # the change log ever returns it
        self._upsert({record["doc_id"]: {**record, "status": "failed", "generation": -1}})

    @storage_guarded
    def failures(self) -> list[dict[str, Any]]:
        return list(self._get(where={"status": "failed"}).values())

    @storage_guarded
    def forget_failure(self, doc_id: str) -> bool:
        if not self._get(ids=[doc_id], where={"status": "failed"}):
            return False
        self.collection.delete(ids=[doc_id])
        return True
