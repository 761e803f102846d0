"""Answer backends as objects, typed stream events, and a log line on every fall back to the sources' words.

The endpoints here are the FAKES of tests/answer/conftest.py (a closed port needs none): they stand in for an
LLM server that is down or writes an answer citing nothing, which a real llama.cpp server cannot be made to
do on demand.  tests/answer/test_llm_backends.py runs the same paths against the real server.
"""

from __future__ import annotations

import logging

from assistant.answer.backends import LLMBackend
from assistant.answer.events import Fallback, Final, Sources, Standalone, Token
from assistant.answer.extractive import ExtractiveBackend
from tests.conftest import free_port

IN_SCOPE = "失业保险金每月发多少?"


def test_events_are_typed_and_still_read_by_key(shifan_service):
    events = list(shifan_service.ask_stream(IN_SCOPE))
    assert [type(e) for e in events] == [Standalone, Sources, Final]
    assert [e["type"] for e in events] == ["standalone", "sources", "final"]  # as callers of the dict events read them
    assert events[0].text == events[0]["text"] and events[1].sources == events[1]["sources"]
    assert events[-1].answer.backend == "extractive" and "2070元" in events[-1].answer.text


def test_the_configured_backend_is_an_object_and_extractive_is_one(shifan_service, llm_service):
    chain = shifan_service.chain()
    assert isinstance(chain.backend, ExtractiveBackend) and chain.backend is chain.extractive
    llm = llm_service(backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1").chain()
    assert isinstance(llm.backend, LLMBackend) and llm.backend.name == "openai" and llm.backend.from_model
    assert isinstance(llm.extractive, ExtractiveBackend)


def test_an_llm_failure_and_the_cool_down_after_it_are_logged(llm_service, caplog):
    service = llm_service(backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_cooldown_s=60)
    with caplog.at_level(logging.INFO, logger="assistant.answer.chain"):
        first = list(service.ask_stream(IN_SCOPE))
        second = list(service.ask_stream(IN_SCOPE))
    assert [e.reason for e in first if isinstance(e, Fallback)][0].endswith("ConnectionError")
    assert [e.reason for e in second if isinstance(e, Fallback)] == ["cooldown"]
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert any(level == logging.WARNING and "openai backend failed" in m and "answering extractively" in m
               for level, m in messages), messages
    assert any("openai backend cooling down" in m for _, m in messages), messages
    assert all(e.answer.backend == "extractive" for e in (first[-1], second[-1]))


def test_an_llm_answer_citing_nothing_is_replaced_with_a_log_line(llm_service, scripted_endpoint, caplog):
    endpoint = scripted_endpoint(["The benefit ", "is paid monthly."])
    service = llm_service(backend="openai", openai_base_url=endpoint.api)
    with caplog.at_level(logging.INFO, logger="assistant.answer.chain"):
        events = list(service.ask_stream(IN_SCOPE))
    assert [e.text for e in events if isinstance(e, Token)] == ["The benefit ", "is paid monthly."]
    answer = events[-1].answer
    assert answer.backend == "extractive" and "2070元" in answer.text and "monthly" not in answer.text
    assert any("openai answer cites no source" in r.getMessage() for r in caplog.records)


def test_a_follow_up_rewrite_failure_is_logged_and_the_rule_based_one_kept(llm_service, caplog):
    service = llm_service(backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1")
    history = [{"role": "user", "content": "一次性创业补贴标准是多少?"},
               {"role": "assistant", "content": "一次性创业补贴标准为5000元[1]。"}]
    with caplog.at_level(logging.WARNING, logger="assistant.answer.backends"):
        standalone = service.chain().standalone("那退役军人呢?", history)
    assert "退役军人" in standalone and "创业补贴" in standalone
    assert any("could not rewrite the follow-up" in r.getMessage() for r in caplog.records)
