"""Sentence vectors kept beside the index: ingest embeds each chunk's quotable units once, the answer path
reads them instead of asking the model, and nothing but document text is ever stored."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from assistant.index.embeddings import EmbeddingCache
from assistant.index.sentence_vectors import SentenceVectorStore
from assistant.service import AssistantService
from assistant.text.quotable import embedded_texts
from tests.index.test_incremental import ARTICLES, CountingEmbeddings, _write


def test_vectors_round_trip_as_float16_and_are_keyed_by_model(tmp_path, embeddings):
    texts = ["示范市见习补贴每人每月1800元。", "失业保险金按月发放。"]
    vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
    store = SentenceVectorStore(tmp_path / "s.sqlite", embeddings.name, embeddings.dimension)
    store.put(texts, vectors)
    got = store.get([*texts, "从未存过的句子"])
    assert set(got) == set(texts) and store.count() == 2
    for text, vector in zip(texts, vectors):
        assert got[text].dtype == np.float32
        assert float(got[text] @ vector) == pytest.approx(float(vector @ vector), abs=2e-3)
    other = SentenceVectorStore(tmp_path / "s.sqlite", "another-model", embeddings.dimension)
    assert other.get(texts) == {}, "one model's vectors were served for another"
    store.clear()
    assert store.count() == 0 and store.get(texts) == {}


def test_a_cache_with_a_store_asks_the_model_only_for_texts_never_kept(tmp_path, embeddings):
    recording = CountingEmbeddings(embeddings)
    store = SentenceVectorStore(tmp_path / "s.sqlite", embeddings.name, embeddings.dimension)
    store.put(["已存的句子,第一条。"], np.asarray(embeddings.embed_documents(["已存的句子,第一条。"])))
    cache = EmbeddingCache(recording, documents=64, queries=64, store=store)
    cache.embed_documents(["已存的句子,第一条。", "新的句子,第二条。"])
    assert recording.texts == ["新的句子,第二条。"]
    assert set(store.get(["新的句子,第二条。"])) == {"新的句子,第二条。"}, "what the model computed is kept"
    cache.clear()  # a fresh process: memory empty, the file still there
    cache.embed_documents(["已存的句子,第一条。", "新的句子,第二条。"])
    assert recording.texts == ["新的句子,第二条。"]


def test_an_unreadable_store_costs_the_speed_up_never_the_vectors(tmp_path, embeddings, caplog):
    store = SentenceVectorStore(tmp_path / "s.sqlite", embeddings.name, embeddings.dimension)
    store.close()  # every statement now fails, as on a damaged or vanished file
    cache = EmbeddingCache(embeddings, documents=8, queries=8, store=store)
    with caplog.at_level(logging.WARNING):
        rows = cache.embed_documents(["示范市见习补贴每人每月1800元。"])
    assert rows.shape == (1, embeddings.dimension) and np.isfinite(rows).all()
    assert "sentence vectors not read" in caplog.text and "sentence vectors not kept" in caplog.text


def test_ingest_keeps_every_quotable_sentence_and_an_answer_then_embeds_none(settings, embeddings):
    _write(settings.paths.corpus_dir, ARTICLES)
    recording = CountingEmbeddings(embeddings)
    service = AssistantService(settings, embeddings=recording)
    report = service.ingest([settings.paths.corpus_dir])
    assert not report.failed
    store = service.index.sentence_vectors
    expected = {text for chunk in service.index.store.iter_chunks() for text in embedded_texts(chunk.text)}
    assert expected and set(store.get(sorted(expected))) == expected

    recording.texts.clear()
    service.retriever.embedding_cache.clear()  # as after a restart: only the file beside the index remains
    question = "示范市就业见习补贴每月多少钱?"
    answer = service.ask(question)
    assert not answer.refused and "1800" in answer.text
    assert recording.texts == [], f"the answer embedded sentences again: {recording.texts}"
    assert store.get([question]) == {}, "a question was written beside the index"


def test_an_index_built_without_them_fills_them_as_it_answers(tmp_path, settings_for, embeddings):
    off = settings_for(tmp_path)
    off = off.model_copy(update={"index": off.index.model_copy(update={"sentence_vectors": False})})
    _write(off.paths.corpus_dir, ARTICLES)
    service = AssistantService(off, embeddings=embeddings)
    service.ingest([off.paths.corpus_dir])
    assert service.index.sentence_vectors is None
    assert not (off.paths.index_dir / "sentence_vectors.sqlite").exists()
    question = "示范市失业保险金领多久?"
    before = service.ask(question)

    on = off.model_copy(update={"index": off.index.model_copy(update={"sentence_vectors": True})})
    recording = CountingEmbeddings(embeddings)
    upgraded = AssistantService(on, embeddings=recording)
    first = upgraded.ask(question)
    assert recording.texts and upgraded.index.sentence_vectors.count() >= len(set(recording.texts))
    recording.texts.clear()
    upgraded.retriever.embedding_cache.clear()
    again = upgraded.ask(question)
    assert recording.texts == []
    assert before.text == first.text == again.text


def test_a_rebuild_drops_the_kept_vectors_with_the_index(settings, make_index):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    kept = index.sentence_vectors.count()
    assert kept > 0
    (settings.paths.corpus_dir / "jianxi.txt").unlink()
    index.rebuild([settings.paths.corpus_dir])
    chunks = list(index.store.iter_chunks())
    assert index.sentence_vectors.count() == len({t for c in chunks for t in embedded_texts(c.text)}) < kept


def test_an_answer_does_not_wait_for_an_ingest_writing_the_file(tmp_path, embeddings, caplog):
    import sqlite3
    import time

    path = tmp_path / "s.sqlite"
    store = SentenceVectorStore(path, embeddings.name, embeddings.dimension)
    ingest = sqlite3.connect(path, isolation_level=None)
    ingest.execute("BEGIN IMMEDIATE")  # another process in the middle of writing a batch
    try:
        cache = EmbeddingCache(embeddings, documents=8, queries=8, store=store)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            rows = cache.embed_documents(["示范市见习补贴每人每月1800元。"])
        assert time.monotonic() - started < 5  # the store waits 0.2 s, not the 30 s an ingest's write may
        assert rows.shape == (1, embeddings.dimension) and "sentence vectors not kept" in caplog.text
    finally:
        ingest.execute("ROLLBACK")
        ingest.close()


def test_a_files_progress_covers_its_sentences_and_ends_at_the_end(settings, make_index):
    """An upload's progress: chunks to three quarters, then the sentences, so the bar does not sit full while
    they are embedded."""

    class Progress:
        def __init__(self):
            self.steps: list[tuple[str, str, float]] = []

        def __call__(self, *args):
            pass

        def step(self, source, text, fraction):
            self.steps.append((source, text, fraction))

    _write(settings.paths.corpus_dir, {"jianxi.txt": ARTICLES["jianxi.txt"]})
    progress = Progress()
    make_index(settings).sync([settings.paths.corpus_dir], progress=progress)
    embedding = [(text, fraction) for _, text, fraction in progress.steps if text.startswith("生成")]
    assert embedding[0][0].startswith("生成向量") and embedding[-1][0].startswith("生成句子向量")
    assert max(f for t, f in embedding if t.startswith("生成向量")) == 0.75 and embedding[-1][1] == 1.0
    fractions = [fraction for _, _, fraction in progress.steps]
    assert fractions == sorted(fractions)


def test_a_reprocessed_document_embeds_only_its_chunks_again(settings, embeddings):
    """An upgrade or a shaping setting re-processes every document; its sentences are mostly unchanged and
    already kept, so they are not embedded twice."""
    _write(settings.paths.corpus_dir, ARTICLES)
    counting = CountingEmbeddings(embeddings)
    from assistant.index.policy_index import PolicyIndex

    first = PolicyIndex(settings, embeddings=counting).sync([settings.paths.corpus_dir])
    counting.texts.clear()
    changed = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"ocr_min_score": 0.6})})
    again = PolicyIndex(changed, embeddings=counting).sync([changed.paths.corpus_dir])
    assert again.count("indexed") == 3 and {f.code for f in again.files} == {"pipeline_changed"}
    assert len(counting.texts) == again.chunks == first.chunks  # the chunks, and no sentence


def test_a_worker_embeds_only_the_sentences_the_index_does_not_hold(tmp_path, settings, embeddings):
    """``prepare_task`` as a parse worker runs it (here in this process): the kept sentences are skipped, the
    others embedded with the vectors the model gives."""
    from assistant.index.parse import prepare_task
    from assistant.ingest.pipeline import discover, file_hash
    from assistant.settings import EmbeddingSettings

    _write(settings.paths.corpus_dir, {"jianxi.txt": ARTICLES["jianxi.txt"]})
    (source,) = discover([settings.paths.corpus_dir], settings.paths.corpus_dir)
    path = tmp_path / "kept.sqlite"
    store = SentenceVectorStore(path, embeddings.name, embeddings.dimension)
    spec = (str(path), embeddings.name, embeddings.dimension)
    task = (source, settings.ingest, file_hash(source.path), EmbeddingSettings(), spec)
    everything = prepare_task(task).sentence_texts
    assert len(everything) >= 2
    store.put(everything[:1], np.asarray(embeddings.embed_documents(everything[:1])))
    prepared = prepare_task(task)
    assert prepared.sentence_texts == everything[1:]
    expected = np.asarray(embeddings.embed_documents(everything[1:]), dtype=np.float32)
    assert np.allclose(prepared.sentence_vectors.astype(np.float32), expected, atol=2e-3)
