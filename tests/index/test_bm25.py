"""The BM25 side index on disk: a serving process does not hold the token cache; a rebuild reuses it."""

from __future__ import annotations

from assistant.index import bm25 as bm25_module
from assistant.index.bm25 import BM25Index
from tests.index.test_incremental import ARTICLES, _write


def test_loaded_index_holds_no_tokens_and_a_rebuild_tokenises_only_new_chunks(settings, make_index, monkeypatch):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    built = index.bm25
    loaded = BM25Index.load(index.bm25_dir)
    assert loaded is not None and loaded.generation == built.generation and loaded.ids == built.ids
    assert loaded._tokens is None, "a serving process must not load the token cache"
    assert loaded.search(["见习"], k=3) == built.search(["见习"], k=3)

    tokenised = []
    real = bm25_module.tokenize
    monkeypatch.setattr(bm25_module, "tokenize", lambda text: tokenised.append(text) or real(text))
    (settings.paths.corpus_dir / "new.txt").write_text("示范市新增通知\n第一条 新增岗位补贴每人500元。", encoding="utf-8")
    index.sync([settings.paths.corpus_dir])
    rebuilt = BM25Index.build(index.store.iter_chunks(), index.store.generation() + 1, loaded.tokens)
    assert len(rebuilt) == len(built) + 1
    # the sync's rebuild tokenised the new chunk alone; this one found it in the saved cache too
    assert len(tokenised) == 1 and "新增岗位补贴" in tokenised[0]


def test_a_large_index_answers_from_the_old_bm25_while_it_rebuilds(tmp_path, make_index):
    """A replica that learns of a change rebuilds BM25 in the background; its registry switches at once."""
    import shutil

    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    settings = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(
        update={"bm25_background_min_chunks": 1})})  # every index counts as large here
    corpus = settings.paths.corpus_dir
    _write(corpus, ARTICLES)
    writer, replica = make_index(settings), make_index(settings)
    writer.sync([corpus])
    old = replica.bm25
    (corpus / "new.txt").write_text("示范市新增通知\n第一条 新增岗位补贴每人500元。", encoding="utf-8")
    (corpus / "daikuan.txt").unlink()
    writer.sync([corpus])
    shutil.rmtree(writer.bm25_dir)  # a replica on another machine has no saved BM25 of the new generation

    documents = {meta["source"] for meta in replica.complete_documents().values()}
    assert "new.txt" in documents and "daikuan.txt" not in documents  # at once, not after the rebuild
    rebuilding = replica._rebuilding
    assert rebuilding is not None, "the rebuild did not go to the background"
    rebuilding.join(timeout=60)
    rebuilt = replica._bm25
    assert rebuilt is not old and rebuilt.generation == writer.store.generation()
    assert set(rebuilt.ids) == {chunk.chunk_id for chunk in writer.store.iter_chunks()}
