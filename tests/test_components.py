"""The one place parts are built by name (assistant/components.py): every name the settings accept is built,
an unknown one is refused by name, and each implementation has its interface's members."""

from __future__ import annotations

import inspect
import logging
import typing

import pytest

from assistant import components
from assistant.answer.backends import AnswerBackend, LLMBackend
from assistant.answer.extractive import ExtractiveBackend
from assistant.index.embeddings import Embedder, SentenceTransformerEmbeddings, UniversalSentenceEncoderEmbeddings
from assistant.index.keyword import KeywordIndex, TantivyKeywordIndex
from assistant.index.registry import ChromaRegistry, DocumentRegistry, SqliteRegistry
from assistant.index.store import ChromaStore, VectorStore
from assistant.retrieve.evidence import EvidenceReranker
from assistant.retrieve.rerank import CrossEncoderReranker, Reranker
from assistant.settings import ANSWER_BACKENDS, AnswerSettings, IndexSettings, Settings


def _literal(model, field: str) -> set[str]:
    return set(typing.get_args(model.model_fields[field].annotation))


def test_every_name_the_settings_accept_has_a_builder():
    assert set(components.ANSWER_BACKEND_BUILDERS) == set(ANSWER_BACKENDS) == _literal(AnswerSettings, "backend")
    assert set(components.KEYWORD_ENGINES) == _literal(IndexSettings, "keyword_engine")
    assert set(components.REGISTRIES) == _literal(IndexSettings, "registry") - {"auto"}


def _members(protocol) -> set[str]:
    own = set(vars(protocol)) | set(getattr(protocol, "__annotations__", {}))
    return {name for name in own if not name.startswith("_")}


@pytest.mark.parametrize(("protocol", "implementations"), [
    (Embedder, [UniversalSentenceEncoderEmbeddings, SentenceTransformerEmbeddings]),
    (VectorStore, [ChromaStore]),
    (KeywordIndex, [TantivyKeywordIndex]),
    (DocumentRegistry, [SqliteRegistry, ChromaRegistry]),
    (Reranker, [CrossEncoderReranker, EvidenceReranker]),
    (AnswerBackend, [ExtractiveBackend, LLMBackend]),
])
def test_implementations_have_their_interface(protocol, implementations):
    members = _members(protocol)
    assert members
    for implementation in implementations:
        source = inspect.getsource(implementation)
        missing = [m for m in members if not hasattr(implementation, m) and f"self.{m} =" not in source]
        assert not missing, (implementation.__name__, missing)


def test_unknown_names_are_refused_by_name():
    prompts = None  # never reached: the name is checked first
    with pytest.raises(ValueError, match="unknown answer backend 'gpt'"):
        components.answer_backend(AnswerSettings(), prompts, lambda: None, name="gpt")


def test_the_llm_backends_are_built_by_name_without_calling_the_model(tmp_path):
    from assistant.answer.prompts import Prompts
    from assistant.settings import REPO_ROOT

    prompts = Prompts.load(REPO_ROOT / "prompts")
    backend = components.answer_backend(AnswerSettings(backend="openai"), prompts, lambda: None)
    assert isinstance(backend, LLMBackend) and backend.name == "openai" and backend.available()
    with pytest.raises(ValueError, match="LLAMACPP_MODEL_PATH"):
        components.answer_backend(AnswerSettings(), prompts, lambda: None, name="llamacpp")
    assert isinstance(components.answer_backend(AnswerSettings(), prompts, lambda: None), ExtractiveBackend)


def test_no_reranker_when_both_are_off():
    settings = Settings()
    off = settings.model_copy(update={"rerank": settings.rerank.model_copy(update={"evidence_candidates": 0})})
    assert components.reranker(off, lambda: None) is None
    assert isinstance(components.reranker(settings, lambda: None), EvidenceReranker)


@pytest.mark.slow
def test_a_cross_encoder_that_cannot_be_loaded_falls_back_with_a_log_line(tmp_path, caplog):
    """Loads sentence-transformers (~10 s): the configured model is a folder that holds no model."""
    settings = Settings()
    missing = str(tmp_path / "no-such-reranker")
    broken = settings.model_copy(update={"rerank": settings.rerank.model_copy(update={"model": missing})})
    with caplog.at_level(logging.ERROR, logger="assistant.components"):
        chosen = components.reranker(broken, lambda: None)
    assert isinstance(chosen, EvidenceReranker)
    assert any("could not be loaded" in r.getMessage() and "evidence reranker" in r.getMessage() for r in caplog.records)
