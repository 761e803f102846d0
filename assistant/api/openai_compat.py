"""OpenAI-compatible routes: ``GET /v1/models`` and ``POST /v1/chat/completions``.

So ``openai.OpenAI(base_url=…/v1)``, LangChain's ``ChatOpenAI``, Dify and Open WebUI can use the assistant as
a model.  The answer is the service's (the chat's): its text keeps the ``[n]`` markers, and the response, or
the last chunk of a stream, adds ``sources`` (the CLI's source objects), ``refused``,
``standalone_question``, ``notice`` and ``backend`` at the top level.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.api.answers import Answers
from assistant.api.conversation import split_messages
from assistant.api.errors import (
    INDEX_UNAVAILABLE,
    INTERNAL_ERROR,
    ApiError,
    api_route_class,
    error_body,
    error_responses,
)
from assistant.api.keys import QUESTION_KEY, KeyRing
from assistant.api.schemas import ChatCompletion, ChatCompletionRequest, ModelCard, ModelList
from assistant.api.streaming import SentenceGate
from assistant.index.store import IndexUnavailable
from assistant.service import AssistantService

log = logging.getLogger(__name__)

OWNER = "employment-policy-assistant"
ERRORS = error_responses(400, 401, 404, 413, 422, 429, 503)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies must pass each chunk on at once
KEEPALIVE_S = 10.0  # an SSE comment this often while nothing else is sent (nginx drops a stream idle for 60 s)


def source_list(answer: dict) -> str:
    """The cited sources as text, for front-ends that show only the message (``api.sources_in_content``)."""
    lines = []
    for source in answer["sources"]:
        if f"[{source['rank']}]" not in answer["answer"]:
            continue
        where = " · ".join(x for x in (source["section"], f"第{source['page']}页" if source["page"] else "") if x)
        lines.append(f"[{source['rank']}] {source['title']}" + (f" · {where}" if where else ""))
    return "\n\n出处:\n" + "\n".join(lines) if lines else ""


def _extras(answer: dict) -> dict:
    return {key: answer[key] for key in ("sources", "refused", "standalone_question", "notice", "backend")}


def _usage(messages: list[dict], content: str) -> dict:
    prompt = sum(len(m.get("content") or "") for m in messages)
    return {"prompt_tokens": prompt, "completion_tokens": len(content), "total_tokens": prompt + len(content)}


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def build_openai_router(service: AssistantService, keys: KeyRing, answers: Answers) -> APIRouter:
    api = service.settings.api
    router = APIRouter(route_class=api_route_class(keys.question_guard, lambda: api.max_body_kb * 1024),
                       dependencies=[Depends(QUESTION_KEY)], tags=["OpenAI 兼容"], responses=ERRORS)
    created = int(time.time())

    def card() -> dict:
        return ModelCard(id=api.model_id, created=created, owned_by=OWNER).model_dump()

    def check_model(model: str) -> None:
        if model != api.model_id:
            raise ApiError(404, "model_not_found", f"没有这个模型。可用的模型 id:{api.model_id}", param="model")

    @router.get("/v1/models", response_model=ModelList, response_description="成功", summary="可用的模型(只有一个:本助手)")
    async def list_models():
        return {"object": "list", "data": [card()]}

    @router.get("/v1/models/{model}", response_model=ModelCard, response_description="成功", summary="一个模型的信息")
    async def get_model(model: str):
        check_model(model)
        return card()

    @router.post("/v1/chat/completions", response_description="成功", summary="回答问题(OpenAI 格式,可流式)",
                 responses={200: {"model": ChatCompletion, "description": "非流式时的回答;`stream: true` 时为 "
                                  "text/event-stream,逐句发送 chat.completion.chunk,最后一块带出处等字段"}})
    async def chat_completions(body: ChatCompletionRequest):
        check_model(body.model)
        messages = [m.model_dump() for m in body.messages]
        question, history = split_messages(messages)
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            events = answers.events(question, history, body.filters(), keepalive_s=KEEPALIVE_S)
            head = await _until_retrieved(events)  # failures of the retrieval still get an HTTP status
            chunks = _stream(completion_id, head, events, messages, include_usage)
            return StreamingResponse(chunks, media_type="text/event-stream", headers=SSE_HEADERS)
        answer = (await answers.call(service.ask, question, history=history, filters=body.filters())).to_json()
        content = answer["answer"] + (source_list(answer) if api.sources_in_content else "")
        return JSONResponse({
            "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": api.model_id,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(messages, content), **_extras(answer),
        })

    async def _stream(completion_id: str, head: list[dict], events: AsyncIterator[dict], messages: list[dict],
                      include_usage: bool) -> AsyncIterator[str]:
        stamp = int(time.time())

        def chunk(delta: dict, finish_reason: str | None = None, **extra) -> str:
            return _sse({"id": completion_id, "object": "chat.completion.chunk", "created": stamp,
                         "model": api.model_id, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                                             "logprobs": None}], **extra})

        yield chunk({"role": "assistant", "content": ""})
        gate = SentenceGate([])
        try:
            async for event in _chain(head, events):
                if event["type"] == "waiting":
                    yield ": keep-alive\n\n"  # a comment: SSE clients skip it
                elif event["type"] == "sources":
                    gate.source_texts = [s["text"] for s in event["sources"]]
                elif event["type"] == "token":
                    if text := gate.feed(event["text"]):
                        yield chunk({"content": text})
                elif event["type"] == "final":
                    answer = event["answer"].to_json()
                    for text in gate.finish(answer["answer"], answer["notice"]):
                        yield chunk({"content": text})
                    listed = source_list(answer) if api.sources_in_content else ""
                    if listed:
                        yield chunk({"content": listed})
                    extras = _extras(answer)
                    yield chunk({}, "stop", **extras)
                    if include_usage:
                        usage = _usage(messages, gate.sent + listed)
                        yield _sse({"id": completion_id, "object": "chat.completion.chunk", "created": stamp,
                                    "model": api.model_id, "choices": [], "usage": usage, **extras})
        except IndexUnavailable:
            yield _sse(error_body(503, "index_unavailable", INDEX_UNAVAILABLE))
        except Exception:  # noqa: BLE001 - logged; the client gets a message and a code, never a trace
            log.exception("streamed answer failed")
            yield _sse(error_body(500, "internal_error", INTERNAL_ERROR))
        yield _sse("[DONE]")

    return router


async def _until_retrieved(events: AsyncIterator[dict]) -> list[dict]:
    """The first events, up to the one that follows retrieval (sources, or the final answer of a refusal)."""
    head = []
    try:
        async for event in events:
            if event["type"] == "waiting":
                continue
            head.append(event)
            if event["type"] != "standalone":
                break
    except BaseException:
        await events.aclose()
        raise
    return head


async def _chain(head: list[dict], rest: AsyncIterator[dict]) -> AsyncIterator[dict]:
    for event in head:
        yield event
    async for event in rest:
        yield event
