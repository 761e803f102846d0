"""The HTTP API other systems plug into, beside the chat on the same server and the same ``AssistantService``.

``build_api_router(service)`` is what ``assistant.ui.server.create_app`` mounts: the OpenAI-compatible routes
(``/v1``), the REST routes (``/api/v1``), the API's OpenAPI document and docs page.  No retrieval or answer
logic lives here: every route calls the service.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from assistant.api.answers import Answers
from assistant.api.docs import build_docs_router
from assistant.api.errors import ApiError, api_route_class
from assistant.api.keys import KeyRing, no_guard
from assistant.api.openai_compat import build_openai_router
from assistant.api.rest import build_rest_routers
from assistant.service import AssistantService

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]  # OPTIONS is left to CORS handling


def build_api_router(service: AssistantService) -> APIRouter:
    keys = KeyRing(service.settings)
    answers = Answers(service)
    api = APIRouter()
    routers = [build_openai_router(service, keys, answers), *build_rest_routers(service, keys, answers)]
    for router in routers:
        api.include_router(router)
    described = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    api.include_router(build_docs_router(lambda: described))

    # an unknown path or method under the API's prefixes answers in the API's shape, not Gradio's page
    fallback = APIRouter(route_class=api_route_class(no_guard), include_in_schema=False)

    @fallback.api_route("/v1/{rest:path}", methods=_METHODS)
    @fallback.api_route("/api/v1/{rest:path}", methods=_METHODS)
    async def unknown(request: Request):
        path = request.url.path
        allowed = sorted({m for r in described if r.path_regex.match(path) for m in r.methods})
        if allowed:
            raise ApiError(405, "method_not_allowed", f"这个接口只支持 {'、'.join(allowed)} 请求。",
                           headers={"Allow": ", ".join(allowed)})
        raise ApiError(404, "not_found", "没有这个接口,请查看 /api/v1/docs。")

    api.include_router(fallback)
    return api
