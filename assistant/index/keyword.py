"""The keyword side of hybrid retrieval: BM25 over jieba tokens, in an index that changes in place.

``KeywordIndex`` is the seam; ``TANTIVY`` (tantivy, over the app's own jieba tokens joined by spaces and
its whitespace tokenizer) is the engine, chosen over a full bm25s rebuild and SQLite FTS5 by
benchmarks/bench_keyword.py (benchmarks/RESULTS.md).  The index is derived from Chroma and the registry:
it records the registry generation it reflects, and ``PolicyIndex`` brings it forward with the
registry's change log (documents committed since), so nothing is ever rebuilt for a change.
Tokenisation stays in assistant/text/lexicon.py; the index records the tokeniser version and is
rebuilt from Chroma when that (or the index format) changes.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from collections.abc import Iterable

from assistant.index.filters import Filters
from assistant.index.store import storage_guarded
from assistant.text.lexicon import lexicon_version, tokenize

FORMAT_VERSION = 1
STATE_FILE = "keyword-state.json"


@dataclass
class KeywordChunk:
    """What the keyword side holds of a chunk: its id, the fields filters read, and its tokens."""

    chunk_id: str
    doc_id: str
    doc_type: str
    region: str
    date_int: int
    tokens: list[str]

    @classmethod
    def of(cls, chunk_id: str, metadata: dict, tokens: list[str]) -> KeywordChunk:
        return cls(chunk_id, metadata.get("doc_id", ""), metadata.get("doc_type", ""), metadata.get("region", ""),
                   int(metadata.get("date_int", 0) or 0), tokens)

    @classmethod
    def tokenized(cls, chunk_id: str, metadata: dict, indexed_text: str) -> KeywordChunk:
        return cls.of(chunk_id, metadata, tokenize(indexed_text))


class KeywordIndex(Protocol):
    generation: int  # the registry generation the index reflects; -1 when it must be built from scratch

    def replace(self, doc_ids: Iterable[str], chunks: Iterable[KeywordChunk], generation: int) -> None:
        """Drop every chunk of ``doc_ids``, add ``chunks``, and record ``generation``: one commit."""

    def search(self, tokens: list[str], k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best (chunk id, BM25 score) pairs for the query tokens among the chunks that pass."""

    def count(self) -> int: ...

    def ids(self) -> set[str]:
        """Every chunk id held (for consistency checks)."""

    def refresh(self) -> None:
        """See what another process committed to the same index since."""

    def close(self) -> None: ...


class TantivyKeywordIndex:
    """tantivy in ``directory``.  Searches run on a searcher of the last commit; writes open a writer
    for the commit only, so processes sharing the folder (the app and ``ingest``) take turns."""

    @storage_guarded
    def __init__(self, directory: Path, source: str, writer_heap_mb: int = 64, low_disk_mb: float = 0.0):
        import tantivy

        self.directory = directory
        self.location, self.index_dir, self.low_disk_mb = str(directory), directory.parent, low_disk_mb
        self.source = source  # what the index is derived from (the Chroma collection's id)
        self._heap = writer_heap_mb * 2**20
        self._write_lock = threading.Lock()
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
        for name in ("doc_id", "doc_type", "region"):
            builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
        builder.add_integer_field("date_int", indexed=True, fast=True)
        self._schema = builder.build()
        state = self._read_state()
        fresh = state is None
        if fresh and directory.exists():
            shutil.rmtree(directory)  # another format or tokeniser, or unreadable: built again from Chroma
        directory.mkdir(parents=True, exist_ok=True)
        self._index = tantivy.Index(self._schema, path=str(directory), reuse=not fresh)
        if fresh:
            self._write_state(-1)
        self.generation = -1 if fresh else int(state["generation"])

    # ------------------------------------------------------------ state

    def _read_state(self) -> dict | None:
        try:
            state = json.loads((self.directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        if (state.get("format"), state.get("tokenizer"), state.get("source")) != (
                FORMAT_VERSION, lexicon_version(), self.source):
            return None
        return state

    def _write_state(self, generation: int) -> None:
        """Written after the commit it describes (by rename, never half): a state behind the index only
        means the next catch-up re-applies changes the index already has, which changes nothing."""
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.directory)
        with os.fdopen(fd, "w") as fh:
            json.dump({"format": FORMAT_VERSION, "tokenizer": lexicon_version(), "source": self.source,
                       "generation": generation}, fh)
        os.replace(tmp, self.directory / STATE_FILE)
        self.generation = generation

    def refresh(self) -> None:
        state = self._read_state()
        self._index.reload()
        if state is not None:
            self.generation = int(state["generation"])

    # ------------------------------------------------------------ writes

    @storage_guarded
    def replace(self, doc_ids: Iterable[str], chunks: Iterable[KeywordChunk], generation: int) -> None:
        import tantivy

        with self._write_lock, _os_errors():
            writer = self._index.writer(heap_size=self._heap, num_threads=1)
            try:
                for doc_id in dict.fromkeys(doc_ids):
                    writer.delete_documents_by_term("doc_id", doc_id)
                for c in chunks:
                    writer.add_document(tantivy.Document(
                        body=" ".join(t.replace(" ", "_") for t in c.tokens), chunk_id=c.chunk_id,
                        doc_id=c.doc_id, doc_type=c.doc_type, region=c.region, date_int=c.date_int))
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # merges this commit's segments, and frees the writer's lock
            self._write_state(generation)
            self._index.reload()

    @storage_guarded
    def clear(self) -> None:
        """Empty, at generation -1 (a full build follows)."""
        with self._write_lock, _os_errors():
            writer = self._index.writer(heap_size=self._heap, num_threads=1)
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
            self._write_state(-1)
            self._index.reload()

    # ------------------------------------------------------------ reads

    def search(self, tokens: list[str], k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        from tantivy import Occur, Query

        tokens = [t.replace(" ", "_") for t in tokens if t]
        if not tokens or k <= 0 or (filters is not None and filters.doc_ids is not None and not filters.doc_ids):
            return []
        schema = self._schema
        words = Query.boolean_query([(Occur.Should, Query.term_query(schema, "body", t)) for t in tokens])
        clauses = [(Occur.Must, words)] + [(Occur.Must, Query.const_score_query(q, 0.0))
                                          for q in self._filter_queries(filters)]
        query = words if len(clauses) == 1 else Query.boolean_query(clauses)
        searcher = self._index.searcher()
        hits = searcher.search(query, k, count=False).hits
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits if score > 0]

    def _filter_queries(self, filters: Filters | None) -> list:
        """The store-neutral filter as tantivy queries (no score of their own)."""
        import tantivy
        from tantivy import Query

        if filters is None:
            return []
        schema, out = self._schema, []
        if filters.doc_type:
            out.append(Query.term_query(schema, "doc_type", filters.doc_type))
        if filters.region:
            out.append(Query.term_query(schema, "region", filters.region))
        if filters.date_from or filters.date_to:
            # an upper bound excludes undated chunks (date 0), as Chroma's translation does
            low = filters.date_from_int if filters.date_from else (1 if filters.date_to else None)
            out.append(Query.range_query(schema, "date_int", tantivy.FieldType.Integer, low, filters.date_to_int))
        if filters.doc_ids is not None:  # an empty set is answered by search() before any query
            out.append(Query.term_set_query(schema, "doc_id", sorted(filters.doc_ids)))
        return out

    def count(self) -> int:
        return self._index.searcher().num_docs

    def ids(self) -> set[str]:
        from tantivy import Query

        searcher = self._index.searcher()
        hits = searcher.search(Query.all_query(), max(1, searcher.num_docs), count=False).hits
        return {searcher.doc(address)["chunk_id"][0] for _, address in hits}

    def close(self) -> None:
        self._index = None


@contextmanager
def _os_errors():
    """tantivy reports a full or read-only disk as ValueError: made an OSError, so it is diagnosed as one."""
    try:
        yield
    except ValueError as exc:
        raise OSError(str(exc)) from exc
