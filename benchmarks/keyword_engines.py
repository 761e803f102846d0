"""The keyword engines compared by bench_keyword.py, each behind the same four calls.

``bm25s``: today's index (assistant/index/bm25.py) — every change rebuilds it from all chunks (with the
token cache) and saves it.  ``fts5``: SQLite FTS5 over the jieba tokens joined by spaces.  ``tantivy``:
tantivy over the same tokens with its whitespace tokenizer.  All three score with BM25 over the same
tokens; the filter is the store-neutral one (doc type, region, date range, allowed document ids).
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Filter:
    doc_type: str | None = None
    region: str | None = None
    date_from: int | None = None
    date_to: int | None = None
    doc_ids: frozenset[str] | None = None


class Bm25sFullRebuild:
    name = "bm25s (full rebuild, today)"

    def __init__(self, directory: Path):
        self.directory = directory
        self._records: dict[str, object] = {}
        self._index = None

    def _rebuild(self) -> None:
        from baseline_bm25 import BM25Index
        from assistant.index.store import StoredChunk

        tokens = {cid: r.tokens for cid, r in self._records.items()}
        stored = (StoredChunk(cid, "", {"doc_id": r.doc_id, "doc_type": r.doc_type, "region": r.region,
                                        "date_int": r.date_int}) for cid, r in self._records.items())
        self._index = BM25Index.build(stored, 0, tokens)  # every token comes from the cache: no jieba here
        self._index.save(self.directory / "bm25")

    def build(self, recs) -> None:
        self._records = {r.chunk_id: r for r in recs}
        self._rebuild()

    def open(self) -> None:
        from baseline_bm25 import BM25Index

        self._index = BM25Index.load(self.directory / "bm25")
        self._records = None  # a serving process holds no records; add/delete need them (see below)

    def load_records(self, recs) -> None:
        self._records = {r.chunk_id: r for r in recs}

    def add(self, recs) -> None:
        self._records.update({r.chunk_id: r for r in recs})
        self._rebuild()

    def delete(self, doc_id: str) -> None:
        self._records = {cid: r for cid, r in self._records.items() if r.doc_id != doc_id}
        self._rebuild()

    def search(self, tokens: list[str], k: int, f: Filter | None) -> list[tuple[str, float]]:
        f = f or Filter()
        mask = self._index.mask(f.doc_ids, f.doc_type, f.region, f.date_from, f.date_to)
        return self._index.search(tokens, k, mask)

    def count(self) -> int:
        return len(self._index)

    def close(self) -> None:
        self._index = None


def _fts_phrase(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


class Fts5:
    name = "SQLite FTS5"

    def __init__(self, directory: Path):
        self.path = directory / "fts5.sqlite3"
        self._db = None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS chunks(rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc_id TEXT,
                                              doc_type TEXT, region TEXT, date_int INTEGER);
            CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
            CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, tokenize='unicode61 remove_diacritics 0');
            """
        )
        return db

    def build(self, recs) -> None:
        self.path.unlink(missing_ok=True)
        self._db = self._connect()
        self._insert(recs)
        self._db.execute("INSERT INTO fts(fts) VALUES('optimize')")

    def open(self) -> None:
        self._db = self._connect()

    def load_records(self, recs) -> None:
        pass

    def _insert(self, recs) -> None:
        db = self._db
        db.execute("BEGIN")
        start = db.execute("SELECT coalesce(max(rowid), 0) FROM chunks").fetchone()[0] + 1
        rows = [(start + i, r.chunk_id, r.doc_id, r.doc_type, r.region, r.date_int) for i, r in enumerate(recs)]
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO fts(rowid, body) VALUES (?,?)",
                       ((start + i, r.text) for i, r in enumerate(recs)))
        db.execute("COMMIT")

    def add(self, recs) -> None:
        self._insert(recs)

    def delete(self, doc_id: str) -> None:
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id = ?)", (doc_id,))
        db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        db.execute("COMMIT")

    def search(self, tokens: list[str], k: int, f: Filter | None) -> list[tuple[str, float]]:
        if not tokens:
            return []
        f = f or Filter()
        where, params = ["fts MATCH ?"], [" OR ".join(_fts_phrase(t) for t in tokens)]
        if f.doc_type:
            where.append("c.doc_type = ?")
            params.append(f.doc_type)
        if f.region:
            where.append("c.region = ?")
            params.append(f.region)
        if f.date_from:
            where.append("c.date_int >= ?")
            params.append(f.date_from)
        if f.date_to:
            where.append("c.date_int <= ? AND c.date_int > 0")
            params.append(f.date_to)
        if f.doc_ids is not None:
            where.append("c.doc_id IN (SELECT value FROM json_each(?))")
            import json

            params.append(json.dumps(sorted(f.doc_ids)))
        sql = (f"SELECT c.chunk_id, bm25(fts) AS s FROM fts JOIN chunks c ON c.rowid = fts.rowid "
               f"WHERE {' AND '.join(where)} ORDER BY s LIMIT ?")
        return [(cid, -score) for cid, score in self._db.execute(sql, [*params, k])]

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class Tantivy:
    name = "tantivy"

    def __init__(self, directory: Path):
        self.directory = directory / "tantivy"
        self._index = self._writer = self._schema = None

    def _open(self, fresh: bool):
        import tantivy

        if fresh:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("doc_id", tokenizer_name="raw", index_option="basic")
        builder.add_text_field("doc_type", tokenizer_name="raw", index_option="basic")
        builder.add_text_field("region", tokenizer_name="raw", index_option="basic")
        builder.add_integer_field("date_int", indexed=True, fast=True)
        self._schema = builder.build()
        self._index = tantivy.Index(self._schema, path=str(self.directory), reuse=not fresh)

    def _write(self, recs=(), delete: str | None = None) -> None:
        import tantivy

        writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        if delete is not None:
            writer.delete_documents_by_term("doc_id", delete)
        for r in recs:
            writer.add_document(tantivy.Document(body=r.text, chunk_id=r.chunk_id, doc_id=r.doc_id,
                                                 doc_type=r.doc_type, region=r.region, date_int=r.date_int))
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()

    def build(self, recs) -> None:
        self._open(fresh=True)
        self._write(recs)

    def open(self) -> None:
        self._open(fresh=False)

    def load_records(self, recs) -> None:
        pass

    def add(self, recs) -> None:
        self._write(recs)

    def delete(self, doc_id: str) -> None:
        self._write(delete=doc_id)

    def search(self, tokens: list[str], k: int, f: Filter | None) -> list[tuple[str, float]]:
        import tantivy
        from tantivy import Occur, Query

        if not tokens:
            return []
        f = f or Filter()
        s = self._schema
        words = Query.boolean_query([(Occur.Should, Query.term_query(s, "body", t)) for t in tokens])
        clauses = [(Occur.Must, words)]

        def must(q):
            clauses.append((Occur.Must, Query.const_score_query(q, 0.0)))

        if f.doc_type:
            must(Query.term_query(s, "doc_type", f.doc_type))
        if f.region:
            must(Query.term_query(s, "region", f.region))
        if f.date_from or f.date_to:
            must(Query.range_query(s, "date_int", tantivy.FieldType.Integer, f.date_from or 1, f.date_to))
        if f.doc_ids is not None:
            must(Query.term_set_query(s, "doc_id", list(f.doc_ids)))
        searcher = self._index.searcher()
        hits = searcher.search(Query.boolean_query(clauses), k, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], score) for score, address in hits]

    def count(self) -> int:
        return self._index.searcher().num_docs

    def close(self) -> None:
        self._index = None


ENGINES = {"bm25s": Bm25sFullRebuild, "fts5": Fts5, "tantivy": Tantivy}
