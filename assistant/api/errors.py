"""Errors of the HTTP API: one JSON shape, a Chinese message and a stable code, never a stack trace.

``{"error": {"code": "...", "message": "...", "type": "...", "param": ...}}`` is the shape OpenAI clients
parse (``openai.APIStatusError.code`` / ``.body``), used by every API route.  ``ApiRoute`` applies the
route's guard (key, rate limit) before the body is read, caps the body, and turns whatever goes wrong into
that shape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from assistant.api.schemas import ErrorResponse
from assistant.index.store import IndexUnavailable

log = logging.getLogger(__name__)

INDEX_UNAVAILABLE = "检索服务暂时无法连接,请稍后再试,或拨打人社服务热线 12333。"
INTERNAL_ERROR = "服务暂时出现问题,请稍后再试,或拨打人社服务热线 12333。"

# OpenAI's error types, by status: clients and front-ends (Dify, Open WebUI) show or branch on them
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error", 503: "service_unavailable", 500: "server_error"}


# every code the API answers with, its status and meaning (the docs page lists them; a test checks the code)
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_json": (400, "请求体不是合法的 JSON"),
    "invalid_body": (400, "请求体不是 JSON 对象"),
    "bad_request": (400, "请求无法解析(如损坏的 multipart 表单)"),
    "empty_question": (400, "问题为空"),
    "last_message_not_user": (400, "messages 的最后一条不是用户的问题"),
    "too_many_files": (400, "一次上传的文件过多"),
    "missing_api_key": (401, "缺少 Authorization: Bearer 密钥"),
    "invalid_api_key": (401, "密钥不对"),
    "documents_api_disabled": (403, "文档管理接口未启用(服务器未设置管理员密钥)"),
    "not_found": (404, "没有这个接口"),
    "model_not_found": (404, "model 不是本助手的模型 id"),
    "document_not_found": (404, "没有这个文件(可能已删除)"),
    "method_not_allowed": (405, "接口不支持该请求方法(见响应头 Allow)"),
    "body_too_large": (413, "请求体超过上限"),
    "invalid_request": (422, "字段缺失、类型或取值不符合要求;message 指出是哪个字段,param 是第一个"),
    "rate_limited": (429, "提问太频繁(按密钥,或未设密钥时按客户端地址计);见响应头 Retry-After"),
    "too_many_failed_keys": (429, "同一地址密钥错误次数过多;见响应头 Retry-After"),
    "internal_error": (500, "服务内部错误(已记录日志)"),
    "index_unavailable": (503, "检索服务暂时不可用(索引无法读取)"),
    "http_error": (0, "其他 HTTP 错误(状态码即原因)"),
}


def error_responses(*statuses: int) -> dict:
    """OpenAPI ``responses`` for these error statuses, each described by its codes."""
    return {status: {"model": ErrorResponse, "description": "; ".join(
        f"`{code}` {meaning}" for code, (code_status, meaning) in ERROR_CODES.items() if code_status == status)}
        for status in statuses}


class ApiError(Exception):
    """An error the caller gets as JSON: HTTP ``status``, stable ``code``, Chinese ``message``."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.param, self.headers)


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict:
    return {"error": {"code": code, "message": message, "type": _TYPES.get(status, "api_error"), "param": param}}


def error_response(status: int, code: str, message: str, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, param), status_code=status, headers=headers)


# ---------------------------------------------------------------- validation errors, in Chinese

_KINDS = {"string": "文本", "int": "整数", "bool": "true 或 false", "list": "列表", "dict": "对象",
          "model": "对象", "model_attributes": "对象", "float": "数字", "none_required": "空值"}


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path


def _describe(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "缺少这个字段"
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        return str(ctx["error"])  # our own validators raise Chinese messages
    if kind == "string_too_long":
        return f"过长(最多 {ctx.get('max_length')} 字)"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "too_long":
        return f"条目过多(最多 {ctx.get('max_length')} 条)"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length')} 条"
    if kind == "literal_error":
        return f"取值无效,可选:{ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_pattern_mismatch":
        return "格式不对"
    if kind == "extra_forbidden":
        return "不认识这个字段"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = _KINDS.get(kind.rsplit("_", 1)[0])
        return f"类型不对,应为{expected}" if expected else "类型不对"
    return "取值不合法"


def validation_error(exc: RequestValidationError) -> ApiError:
    """A request that does not fit its schema: 400 for a body that is not JSON, 422 naming the first bad fields."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return ApiError(400, "invalid_json", "请求体不是合法的 JSON。")
    if errors and all(e.get("type") == "model_attributes_type" and len(e.get("loc", ())) <= 1 for e in errors):
        return ApiError(400, "invalid_body", "请求体应当是一个 JSON 对象(Content-Type: application/json)。")
    described = [f"{_field_path(tuple(e.get('loc', ()))) or '请求体'}:{_describe(e)}" for e in errors[:3]]
    first = _field_path(tuple(errors[0].get("loc", ()))) if errors else None
    return ApiError(422, "invalid_request", "请求内容不符合要求:" + ";".join(described) + "。", param=first or None)


_HTTP_CODES = {400: ("bad_request", "请求格式不正确。"), 404: ("not_found", "没有这个接口。"),
               405: ("method_not_allowed", "这个接口不支持该请求方法。"), 413: ("body_too_large", "请求体过大。")}


def http_error(exc: HTTPException) -> ApiError:
    """FastAPI's own HTTPExceptions (a multipart body it cannot parse, …) in our shape, without their English text."""
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "请求未能处理。"))
    return ApiError(exc.status_code, code, message)


# ---------------------------------------------------------------- the route class

Guard = Callable[[Request], Awaitable[None]]


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 1024:g} KB"


class BodyTooLarge(HTTPException):
    """Raised while the body is read; an HTTPException, so FastAPI's body parsing passes it on unchanged."""

    def __init__(self, limit: int):
        super().__init__(413)
        self.limit = limit


def cap_body(request: Request, limit: int) -> None:
    """Refuse a body past ``limit`` bytes: declared (before anything is read) or counted as it arrives.

    The body is counted on its way to the JSON or multipart parser, never held a second time in memory.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    receive, received = request._receive, 0  # Starlette reads the body through this callable

    async def counted():
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    request._receive = counted


def api_route_class(guard: Guard, max_body: Callable[[], int] | None = None) -> type[APIRoute]:
    """Routes that run ``guard`` (keys, rate limit) before anything is read, cap the body at ``max_body()`` bytes,
    and answer every failure as ``error_body`` JSON: validation, FastAPI's HTTP errors, the index being
    unreachable (503), anything unexpected (500, logged with its traceback, never shown)."""

    class ApiRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    await guard(request)
                    if max_body is not None:
                        cap_body(request, max_body())
                    return await handler(request)
                except ApiError as exc:
                    return exc.response()
                except BodyTooLarge as exc:
                    return error_response(413, "body_too_large", f"请求体过大,上限为 {_size(exc.limit)}。")
                except RequestValidationError as exc:
                    return validation_error(exc).response()
                except HTTPException as exc:
                    return http_error(exc).response()
                except IndexUnavailable as exc:
                    log.warning("index unavailable: %s", exc)
                    return error_response(503, "index_unavailable", INDEX_UNAVAILABLE)
                except Exception:  # noqa: BLE001 - a caller gets a message and a code, never a stack trace
                    log.exception("API request failed: %s %s", request.method, request.url.path)
                    return error_response(500, "internal_error", INTERNAL_ERROR)

            return guarded

    return ApiRoute
