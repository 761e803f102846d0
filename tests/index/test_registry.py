"""The document registry: the same contract in SQLite (beside an embedded Chroma) and in a Chroma collection
(what replicas of a Chroma server share), and the take-over of a registry an earlier version kept in Chroma."""

from __future__ import annotations

import sqlite3

import pytest

from assistant.index.registry import ChromaRegistry, SqliteRegistry
from assistant.index.store import ChromaStore, make_client
from assistant.ingest.models import DocumentMeta


def _doc(n: int, **extra) -> DocumentMeta:
    doc = DocumentMeta(doc_id=f"doc{n}", title=f"示范市测试文件{n}", source=f"f{n}.txt", content_hash=f"h{n}", region="示范市")
    for key, value in extra.items():
        setattr(doc, key, value)
    return doc


@pytest.fixture(params=["sqlite", "chroma"])
def registry(request, settings, embeddings):
    if request.param == "sqlite":
        settings.paths.index_dir.mkdir(parents=True, exist_ok=True)
        yield SqliteRegistry(settings.paths.index_dir / "registry.sqlite3")
        return
    store = ChromaStore(make_client(settings.chroma, settings.paths.index_dir), settings.chroma,
                        embeddings.name, embeddings.dimension)
    yield ChromaRegistry(store.registry_collection(), store.location)
    store.close()


def test_failure_records_are_kept_apart_from_documents_and_the_change_log(registry):
    """A file that could not be indexed: listed for staff, removable, never a document, never a change."""
    failure = {"doc_id": "doc9", "source": "uploads/坏.pdf", "title": "坏.pdf", "content_hash": "h9", "pipeline": "p1",
               "code": "damaged", "reason": "PDF 文件已损坏", "chunk_count": 0, "failed_at": 1.0}
    registry.mark_complete([(_doc(1), 3)])
    registry.record_failure(failure)
    registry.record_failure({**failure, "reason": "PDF 文件已损坏或不完整", "failed_at": 2.0})  # the same file again
    [kept] = registry.failures()
    assert kept["source"] == "uploads/坏.pdf" and kept["reason"] == "PDF 文件已损坏或不完整" and kept["pipeline"] == "p1"
    assert set(registry.documents()) == {"doc1"} and set(registry.changed_since(0)) == {"doc1"}
    assert registry.generation() == 1, "a failure is no commit"
    assert registry.forget_failure("doc9") and registry.failures() == [] and not registry.forget_failure("doc9")


def test_states_generation_and_change_log(registry):
    assert registry.generation() == 0 and registry.documents() == {}
    registry.mark_pending([(_doc(1), 3), (_doc(2), 2)])
    assert registry.generation() == 0, "pending is not a commit"
    assert {d: m["status"] for d, m in registry.documents().items()} == {"doc1": "pending", "doc2": "pending"}
    assert registry.changed_since(0) == {}, "a pending document is not in the change log yet"

    assert registry.mark_complete([(_doc(1), 3), (_doc(2), 2)]) == 1 == registry.generation()
    records = registry.documents()
    assert records["doc1"]["status"] == "complete" and records["doc1"]["chunk_count"] == 3
    assert records["doc1"]["title"] == "示范市测试文件1" and records["doc1"]["region"] == "示范市"
    assert records["doc1"]["generation"] == 1 and records["doc1"]["fingerprint"] == ""
    assert set(registry.changed_since(0)) == {"doc1", "doc2"}

    registry.mark_pending([(_doc(1), 4)])  # being rewritten: keeps the stamp of its last commit
    assert registry.documents()["doc1"]["status"] == "pending" and registry.changed_since(1) == {}
    registry.mark_complete([(_doc(1), 4)])
    registry.mark_deleting(["doc2"])
    assert registry.documents()["doc2"]["status"] == "deleting"
    assert registry.mark_deleted(["doc2"]) == 3
    assert set(registry.documents()) == {"doc1"}, "a deleted document is gone from the documents"
    changed = registry.changed_since(1)
    assert changed["doc1"]["status"] == "complete" and changed["doc1"]["chunk_count"] == 4
    assert changed["doc2"]["status"] == "deleted", "the tombstone tells a catching-up index what to drop"
    assert set(registry.changed_since(2)) == {"doc2"} and registry.changed_since(3) == {}


def test_the_fingerprint_the_ingest_pipeline_records_is_kept(registry):
    registry.mark_complete([(_doc(1, fingerprint="clean-v7/chunk-v3"), 1)])
    assert registry.documents()["doc1"]["fingerprint"] == "clean-v7/chunk-v3"


def test_sqlite_registry_has_a_fingerprint_column_and_one_transaction_per_commit(settings):
    settings.paths.index_dir.mkdir(parents=True)
    path = settings.paths.index_dir / "registry.sqlite3"
    registry = SqliteRegistry(path)
    registry.mark_complete([(_doc(n), 1) for n in range(50)])
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(documents)")}
    assert {"doc_id", "status", "generation", "chunk_count", "fingerprint", "meta"} <= columns
    assert registry.generation() == 1, "fifty documents completed together are one commit"


def test_an_index_whose_registry_was_a_chroma_collection_is_taken_over(settings, make_index):
    """An index written before the registry moved to SQLite: its records and generation carry over."""
    index = make_index(settings)
    old = ChromaRegistry(index.store.registry_collection(), index.store.location)
    old.mark_complete([(_doc(1), 2)])
    index.close()
    (settings.paths.index_dir / "registry.sqlite3").unlink()
    for suffix in ("-wal", "-shm"):
        (settings.paths.index_dir / f"registry.sqlite3{suffix}").unlink(missing_ok=True)
    reopened = make_index(settings)
    assert reopened.registry.generation() == 1
    assert reopened.registry.documents()["doc1"]["chunk_count"] == 2
