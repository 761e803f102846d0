"""Chroma as the source of truth: model recorded, HNSW effort set, no downloading embedder."""

from __future__ import annotations

import pytest

from assistant.index.store import ChromaStore, IndexMismatchError, drop_index, make_client


class _OtherModel:
    """Stands in for a second embedding model: only its name and dimension matter to the store."""

    name = "another-model"
    dimension = 384


def test_collection_records_model_and_hnsw_effort(settings, make_index, tmp_path):
    index = make_index(settings)
    metadata = index.store.chunks.metadata
    assert metadata["embedding_model"] == "usem3" and metadata["embedding_dim"] == 512
    hnsw = index.store.chunks.configuration_json["hnsw"]
    assert hnsw["ef_search"] == settings.chroma.hnsw_ef_search == 200
    assert hnsw["ef_construction"] == 200 and hnsw["space"] == "cosine"
    # Chroma must never fall back to its own (downloading) embedding function
    assert index.store.chunks._embedding_function is None


def test_opening_with_another_model_is_a_clear_error(settings, make_index):
    make_index(settings)
    client = make_client(settings.chroma, settings.paths.index_dir)
    with pytest.raises(IndexMismatchError) as error:
        ChromaStore(client, settings.chroma, _OtherModel.name, _OtherModel.dimension)
    assert "usem3" in str(error.value) and "--rebuild" in str(error.value)


def test_drop_index_allows_a_new_model(settings, make_index):
    index = make_index(settings)
    (settings.paths.corpus_dir / "a.txt").write_text("第一条 示范市见习补贴每人每月1800元。", encoding="utf-8")
    index.sync([settings.paths.corpus_dir])
    assert index.store.count() == 1
    drop_index(settings)
    client = make_client(settings.chroma, settings.paths.index_dir)
    store = ChromaStore(client, settings.chroma, _OtherModel.name, _OtherModel.dimension)
    assert store.count() == 0
    assert not (settings.paths.index_dir / "registry.sqlite3").exists()
    assert not (settings.paths.index_dir / "keyword").exists()
