"""The LLM answer backends against real models.

``openai``: a real ``llama_cpp.server`` (OpenAI-compatible) started by the
``llama_server`` fixture, reached through LangChain's ChatOpenAI exactly as in
production. ``llamacpp``: the same GGUF loaded in-process.

The model is SmolLM2-135M-Instruct, English-only; asked in Chinese it writes
nonsense. So the tests assert what the product must guarantee whatever the model
writes (streaming, limits, timeouts, fallbacks, citation guards), and, where the
model's output decides the chain's branch, they check the branch that was taken
against the text that was actually streamed.

Server tests use one context chunk and a short ``max_tokens``: the system prompt
alone is ~680 SmolLM tokens (≈1.7 tokens per Chinese character) and prompt
evaluation runs at only ~40-60 tokens/s on the 2-core CI machines.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk

from assistant.answer.backends import LlamaCppChat, make_chat_model
from assistant.answer.citations import MARKER, check_answer
from assistant.settings import AnswerSettings
from tests.conftest import free_port, smollm2_gguf

pytestmark = pytest.mark.timeout(300)  # a hung model must fail the test, not stall the run

IN_SCOPE = "失业保险金每月发多少?"  # its top chunk is a short Q&A answer: a small prompt
OUT_OF_SCOPE = "北京最低工资标准是多少"
NO_CITATION_NOTICE = "(提示:模型的回答缺少可核对的出处,以下改为文件原文摘录。)"
# small and deterministic (greedy) so the slow CPU finishes in seconds; the timeouts are generous because
# these tests are about streaming and guards, not speed: on a loaded 2-core machine prompt evaluation alone
# has taken longer than the production defaults (30 s per read, 60 s per answer)
SERVER_ANSWER = dict(backend="openai", max_tokens=32, max_context_chunks=1, temperature=0.0,
                     openai_timeout_s=180.0, llm_deadline_s=240.0)


def markers(text: str) -> list[int]:
    return [int(n) for n in MARKER.findall(text)]


def assert_markers_valid(answer) -> None:
    """Every [n] in the answer points at one of its sources (none at all when it has none)."""
    assert all(1 <= n <= len(answer.sources) for n in markers(answer.text)), (answer.text, len(answer.sources))


def run(stream) -> tuple[list[dict], float]:
    started = time.monotonic()
    events = list(stream)
    return events, time.monotonic() - started


def final_of(events: list[dict]):
    assert events[-1]["type"] == "final", [e["type"] for e in events]
    assert sum(e["type"] == "final" for e in events) == 1
    return events[-1]["answer"]


def assert_consistent_with_streamed_text(answer, streamed: str, source_texts: list[str], llm_backend: str) -> None:
    """The final answer is what chain.py promises for the text the model actually streamed."""
    checked = check_answer(streamed, source_texts)
    if answer.backend == llm_backend:
        # kept: the model's own text after the guards, grounded by at least one valid citation
        assert answer.text == checked.text
        assert answer.notice == "" and not answer.refused
        assert checked.cited and answer.sources
    else:
        # an answer with no valid citation (a model "refusal" included: the gate already found evidence)
        # is replaced by the sources' own sentences, with a notice
        assert answer.backend == "extractive"
        assert not checked.cited
        assert answer.notice == NO_CITATION_NOTICE
        assert answer.text.startswith("根据已收录文件的原文") and not answer.refused
        assert answer.sources and markers(answer.text)


# ---------------------------------------------------------------- openai backend, real server


@pytest.mark.slow
def test_server_streams_and_honours_max_tokens(llama_server):
    """max_tokens must reach the server. langchain-openai sends ``max_completion_tokens``,
    which llama.cpp ignores: before the fix in backends.py this generated ~480 tokens."""
    model = make_chat_model(AnswerSettings(backend="openai", openai_base_url=llama_server.api,
                                           max_tokens=8, temperature=0.0))
    chunks = list(model.stream("Tell me a long story about a dragon who learns to fly."))
    content = [c for c in chunks if c.content]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert 2 <= len(content) <= 8
    finish = [c.response_metadata.get("finish_reason") for c in chunks if c.response_metadata.get("finish_reason")]
    # a model may end a story early ("stop"), never run past the cap
    assert finish == ["length"] or (finish == ["stop"] and len(content) < 8), finish


@pytest.mark.slow
def test_answer_streams_tokens_from_the_server(llama_server, llm_service):
    service = llm_service(openai_base_url=llama_server.api, **SERVER_ANSWER)
    requests_before = llama_server.chat_requests()
    events, _ = run(service.ask_stream(IN_SCOPE))
    types = [e["type"] for e in events]
    answer = final_of(events)

    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert len(tokens) >= 2, events  # real token streaming, not one block (a fallback event says why not)
    assert types.index("sources") < types.index("token") and max(i for i, t in enumerate(types) if t == "token") < len(types) - 1
    assert "fallback" not in types
    assert llama_server.chat_requests() == requests_before + 1

    sources = next(e["sources"] for e in events if e["type"] == "sources")
    assert_consistent_with_streamed_text(answer, "".join(tokens), [s["text"] for s in sources], "openai")
    assert_markers_valid(answer)


GUARD_LINE = "The subsidy is paid monthly [1]. The term is set by agreement [2]. Old rules are void [7]. See the annex [99]."


@pytest.mark.slow
def test_citation_guard_on_real_server_output(llama_server):
    """The guard keeps [1] [2] and removes [7] [99] (two sources) from text the real server streamed.
    Whether a small model copies a line faithfully differs between machines, so a GBNF grammar (a
    llama.cpp server request field) makes the server generate exactly this line, token by token."""
    model = make_chat_model(AnswerSettings(backend="openai", openai_base_url=llama_server.api,
                                           max_tokens=80, temperature=0.0))
    grammar = "root ::= " + json.dumps(GUARD_LINE)
    raw = model.invoke("Repeat the following line exactly, and nothing else:\n" + GUARD_LINE,
                       extra_body={"max_tokens": 80, "grammar": grammar}).content
    assert raw.strip() == GUARD_LINE, raw  # the server honoured the grammar: invalid markers are in the output

    sources = ["见习补贴按月发放。", "见习期限由见习协议约定。"]
    checked = check_answer(raw, sources)
    assert set(markers(checked.text)) <= {1, 2} and 1 in markers(checked.text)
    assert checked.cited == sorted(set(markers(checked.text)))
    assert "[7]" not in checked.text and "[99]" not in checked.text
    assert "subsidy" in checked.text  # the sentences themselves are kept, only the bad markers go


@pytest.mark.slow
def test_follow_up_condensed_with_the_llm(llama_server, llm_service, monkeypatch):
    """The LLM's rewrite is used only when usable; SmolLM's is not (it writes English, or
    echoes the transcript), so the result must still name the new group and the old topic."""
    service = llm_service(openai_base_url=llama_server.api, **SERVER_ANSWER)
    chain = service.chain()
    outputs: list[str] = []

    class Capture(BaseCallbackHandler):
        def on_llm_end(self, response, **kwargs):
            outputs.append(response.generations[0][0].text)

    monkeypatch.setattr(chain.backend, "_condense", chain.backend._condense.with_config(callbacks=[Capture()]))
    history = [
        {"role": "user", "content": "一次性创业补贴标准是多少?"},
        {"role": "assistant", "content": "从事个体经营的,一次性创业补贴标准为5000元[1]。"},
    ]
    requests_before = llama_server.chat_requests()
    standalone = chain.standalone("那退役军人呢?", history)

    assert llama_server.chat_requests() == requests_before + 1 and outputs and outputs[0].strip()  # the LLM was asked
    assert "退役军人" in standalone, (standalone, outputs)
    assert "创业补贴" in standalone, (standalone, outputs)
    assert len(standalone) <= 40


@pytest.mark.slow
def test_out_of_scope_is_refused_before_any_llm_call(llama_server, llm_service):
    service = llm_service(openai_base_url=llama_server.api, **SERVER_ANSWER)
    requests_before = llama_server.chat_requests()
    events, _ = run(service.ask_stream(OUT_OF_SCOPE))
    answer = final_of(events)
    assert [e["type"] for e in events] == ["standalone", "final"]  # no sources, no tokens, no fallback
    assert llama_server.chat_requests() == requests_before
    assert answer.refused and answer.sources == [] and "北京" in answer.text and "12333" in answer.text
    assert markers(answer.text) == []


# ---------------------------------------------------------------- openai backend, endpoint down


def test_closed_port_falls_back_to_extractive_quickly(llm_service):
    service = llm_service(backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1")
    events, elapsed = run(service.ask_stream(IN_SCOPE))
    answer = final_of(events)
    fallback = [e for e in events if e["type"] == "fallback"]
    assert len(fallback) == 1 and "ConnectionError" in fallback[0]["reason"], fallback  # OpenAIConnectionError
    assert not any(e["type"] == "token" for e in events)
    assert answer.backend == "extractive" and not answer.refused
    assert answer.notice == service.prompts.fallback_notice
    assert answer.notice == (service.settings.paths.prompts_dir / "fallback_notice.txt").read_text(encoding="utf-8").strip()
    assert "2070元" in answer.text and answer.sources
    assert_markers_valid(answer)
    # loose: the answer's own work takes about a second here, more on a loaded machine; a refused connection
    # that waited for the 30 s read timeout (the default) would take longer than this
    assert elapsed < 20, elapsed


def test_hung_endpoint_times_out_and_falls_back(llm_service, hung_endpoint):
    """The endpoint here is a FAKE (tests/answer/conftest.py::HungEndpoint): it accepts the
    connection and never answers, simulating a hung LLM server, which a real llama.cpp
    server cannot be made to do on demand."""
    service = llm_service(backend="openai", openai_base_url=hung_endpoint.api, openai_timeout_s=1)
    events, elapsed = run(service.ask_stream(IN_SCOPE))
    answer = final_of(events)
    assert len(hung_endpoint.connections) == 1  # the request did reach it: this is a timeout, not a refusal
    reasons = [e["reason"] for e in events if e["type"] == "fallback"]
    assert len(reasons) == 1 and "Timeout" in reasons[0], reasons  # OpenAITimeoutError
    assert answer.backend == "extractive" and not answer.refused
    assert answer.notice == service.prompts.fallback_notice and "2070元" in answer.text
    assert_markers_valid(answer)
    assert 1 <= elapsed < 20, elapsed  # it waited for the 1 s timeout, not for the 30 s default (loose: load)


def test_a_hung_endpoint_is_skipped_for_the_cooldown(llm_service, hung_endpoint):
    """After one timeout, the next callers get the extractive answer at once instead of waiting in turn."""
    service = llm_service(backend="openai", openai_base_url=hung_endpoint.api, openai_timeout_s=1, llm_cooldown_s=60)
    first, first_s = run(service.ask_stream(IN_SCOPE))
    second, _ = run(service.ask_stream(IN_SCOPE))
    assert [e["reason"] for e in second if e["type"] == "fallback"] == ["cooldown"]
    assert len(hung_endpoint.connections) == 1, "the second question must not wait on the endpoint"
    assert final_of(second).notice == service.prompts.fallback_notice and "2070元" in final_of(second).text
    # the first waited for the timeout; the second did not even connect (above), whatever its time under load
    assert first_s >= 1, first_s


def test_a_trickling_endpoint_is_cut_at_the_answer_deadline(llm_service, scripted_endpoint):
    """Each token comes within the read timeout, so only a deadline on the whole answer stops it."""
    endpoint = scripted_endpoint(["根据文件[1]", *"示范市见习补贴标准按文件执行" * 2], pause_s=0.5)
    service = llm_service(backend="openai", openai_base_url=endpoint.api, openai_timeout_s=2, llm_deadline_s=2)
    events, elapsed = run(service.ask_stream(IN_SCOPE))
    answer = final_of(events)
    assert [e["reason"] for e in events if e["type"] == "fallback"] == ["LLMTooSlow"]
    assert any(e["type"] == "token" for e in events), "tokens did stream before the deadline"
    assert answer.backend == "extractive" and answer.notice == service.prompts.fallback_notice
    assert "2070元" in answer.text
    assert_markers_valid(answer)
    assert 2 <= elapsed < 12, elapsed  # the endpoint would have streamed for 14.5 s (loose: load)


def test_an_empty_llm_answer_falls_back_with_the_notice(llm_service, scripted_endpoint):
    endpoint = scripted_endpoint(["", " "])
    service = llm_service(backend="openai", openai_base_url=endpoint.api)
    answer = service.ask(IN_SCOPE)
    assert answer.backend == "extractive" and answer.notice == service.prompts.fallback_notice
    assert "2070元" in answer.text
    # an empty answer is not an outage: the next question asks the model again
    service.ask(IN_SCOPE)
    assert endpoint.requests == 2


# ---------------------------------------------------------------- llamacpp backend, in-process


@pytest.mark.slow
def test_llamacpp_chat_model_streams_tokens():
    settings = AnswerSettings(backend="llamacpp", llamacpp_model_path=smollm2_gguf(), llamacpp_n_ctx=2048,
                              max_tokens=12, temperature=0.0)
    model = make_chat_model(settings)
    assert isinstance(model, LlamaCppChat)
    chunks = list(model.stream("Name three colours."))
    assert all(isinstance(c, AIMessageChunk) and isinstance(c.content, str) for c in chunks)
    content = [c for c in chunks if c.content]  # langchain-core closes a stream with an empty chunk
    assert 2 <= len(content) <= 12  # one chunk per token; max_tokens is honoured
    text = "".join(c.content for c in chunks)
    assert re.search(r"[A-Za-z]{3}", text), text
    # Not "invoke gives the streamed text": llama.cpp does not promise equal greedy outputs across calls
    # (prompt-cache reuse and CPU-specific kernels change the arithmetic). What invoke promises is a
    # non-empty message within max_tokens.
    whole = model.invoke("Name three colours.")
    assert isinstance(whole, AIMessage) and isinstance(whole.content, str)
    generated = model.client.tokenize(whole.content.encode("utf-8"), add_bos=False, special=True)
    assert re.search(r"[A-Za-z]{3}", whole.content) and 1 <= len(generated) <= settings.max_tokens, whole.content


@pytest.mark.slow
def test_llamacpp_end_to_end_answer(llm_service):
    service = llm_service(llamacpp_model_path=smollm2_gguf(), llamacpp_n_ctx=2048,
                          **{**SERVER_ANSWER, "backend": "extractive"})
    events, _ = run(service.ask_stream(IN_SCOPE, backend="llamacpp"))
    answer = final_of(events)
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert len(tokens) >= 2 and "fallback" not in [e["type"] for e in events]
    sources = next(e["sources"] for e in events if e["type"] == "sources")
    assert_consistent_with_streamed_text(answer, "".join(tokens), [s["text"] for s in sources], "llamacpp")
    assert_markers_valid(answer)
    assert service.ask(OUT_OF_SCOPE, backend="llamacpp").refused


def test_llamacpp_without_model_path_is_a_clear_error(llm_service):
    with pytest.raises(ValueError, match="LLAMACPP_MODEL_PATH"):
        make_chat_model(AnswerSettings(backend="llamacpp"))
    service = llm_service(backend="extractive", llamacpp_model_path=None)
    with pytest.raises(ValueError, match="GGUF"):
        service.ask(IN_SCOPE, backend="llamacpp")
    assert not service.ask(IN_SCOPE).refused  # the configured backend still works
