"""Hybrid retrieval over the fictional 示范市 corpus."""

from __future__ import annotations

from assistant.retrieve.hybrid import Filters, HybridRetriever


def test_hybrid_finds_the_article_with_the_figure(shifan_service):
    hits = shifan_service.retrieve("见习补贴每月给多少钱", k=5).chunks
    assert "1800元" in hits[0].chunk.text
    assert hits[0].meta["section"].endswith("第十三条")
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_traditional_question_finds_the_same_chunk(shifan_service):
    simplified = shifan_service.retrieve("失业保险金最长领多久", k=1).chunks[0]
    traditional = shifan_service.retrieve("失業保險金最長領多久", k=1).chunks[0]
    assert simplified.chunk.chunk_id == traditional.chunk.chunk_id


def test_fusion_uses_both_rankings(shifan_service):
    hits = shifan_service.retrieve("创业担保贷款个人最高额度", k=5).chunks
    assert any(h.dense_rank is not None and h.bm25_rank is not None for h in hits)
    dense_only = shifan_service.retrieve("创业担保贷款个人最高额度", k=5, mode="dense").chunks
    bm25_only = shifan_service.retrieve("创业担保贷款个人最高额度", k=5, mode="bm25").chunks
    assert all(h.bm25_rank is None for h in dense_only) and all(h.dense_rank is None for h in bm25_only)


def test_filters_on_type_region_and_date(shifan_service):
    qa = shifan_service.retrieve("失业保险金", k=5, filters=Filters(doc_type="qa")).chunks
    assert qa and all(h.meta["doc_type"] == "qa" for h in qa)
    policy = shifan_service.retrieve("失业保险金", k=5, filters=Filters(doc_type="policy")).chunks
    assert policy and all(h.meta["doc_type"] == "policy" for h in policy)
    assert shifan_service.retrieve("失业保险金", k=5, filters=Filters(region="外省某市")).chunks == []
    late = shifan_service.retrieve("补贴", k=10, filters=Filters(date_from="2099-05-01")).chunks
    assert late and all(h.meta["date"] >= "2099-05-01" for h in late)
    early = shifan_service.retrieve("补贴", k=10, filters=Filters(date_to="2099-04-30")).chunks
    assert early and all("" < h.meta["date"] <= "2099-04-30" for h in early)


def test_source_json_has_the_public_shape(shifan_service):
    source = shifan_service.retrieve("创业补贴", k=1).chunks[0].source_json()
    assert list(source) == ["rank", "doc_id", "title", "source", "page", "section", "text", "score",  # as always
                            "date", "issuer", "ocr", "ocr_notice", "validity", "superseded_by_title", "superseded_by_date",
                            "chunk_id"]
    assert source["issuer"] and source["ocr"] is False and source["ocr_notice"] == ""
    # source is relative to the corpus folder, so it names the file a user can open
    assert (shifan_service.settings.paths.corpus_dir / source["source"]).is_file()
    assert source["page"] is None  # text files have no pages


def test_embedding_cache_never_serves_another_model_s_vectors():
    from types import SimpleNamespace

    from assistant.retrieve.hybrid import HybridRetriever
    from assistant.settings import Settings

    # stand-in models: the test is about which object the cache asks, not about vectors
    first, second = SimpleNamespace(embed_query=lambda text: [1.0]), SimpleNamespace(embed_query=lambda text: [2.0])
    index = SimpleNamespace(embeddings=first, settings=Settings(), sentence_vectors=None)
    retriever = HybridRetriever(index, settings=None)
    assert retriever.embedding_cache.embed_query("问题") == [1.0]
    index.embeddings = second  # a benchmark swapping the model
    assert retriever.embedding_cache.embed_query("问题") == [2.0]


def test_an_overlong_search_reads_only_the_allowed_length(shifan_service):
    limit = shifan_service.settings.retrieval.max_question_chars
    question = "见习补贴标准是多少" + "示范市" * 10_000
    long_result = shifan_service.retrieve(question)
    clipped = shifan_service.retrieve(question[:limit])
    assert [h.chunk.chunk_id for h in long_result.chunks] == [h.chunk.chunk_id for h in clipped.chunks]


def test_a_named_place_keeps_documents_issued_for_another_place_out(tmp_path, settings_for, make_index):
    """The fictional places are no gazetteer names: the deployment lists them as its local places."""
    settings = settings_for(tmp_path, local_places=("示范市", "样例县"))
    for name, text in {
        "shifan.txt": "示范市人力资源和社会保障局关于就业见习补贴的通知\n一、见习补贴标准为每人每月1800元。\n二、见习期限最长12个月。",
        "yangli.txt": "样例县人力资源和社会保障局关于就业见习补贴的通知\n一、见习补贴标准为每人每月1200元。\n二、见习期限最长6个月。",
    }.items():
        (settings.paths.corpus_dir / name).write_text(text, encoding="utf-8")
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    retriever = HybridRetriever(index, settings.retrieval)

    def regions(question: str) -> set[str]:
        return {hit.meta["region"] for hit in retriever.retrieve(question).chunks}

    assert regions("样例县的见习补贴每月多少钱?") == {"样例县"}
    assert regions("示范市见习补贴标准") == {"示范市"}
    assert regions("见习补贴每月多少钱?") == {"示范市", "样例县"}  # no place named: both stay
    assert regions("北京市见习补贴每月多少钱?") == {"示范市", "样例县"}  # no document for it: the gate decides
