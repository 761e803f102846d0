"""One web server: the public chat at /, the staff console at /admin (login), files at /documents/{id}.

With ``ui.console_port`` the console is served on that port only (its own origin, for a proxy open to staff
networks) and the public port has no /admin.  Every app gets the defences of ``assistant/ui/security.py``
as middleware, so a router added here later is covered too: include it in ``create_app`` before the chat
is mounted (the chat's mount at "" takes every path not matched before it).
"""

from __future__ import annotations

import asyncio
import logging

import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from assistant.accounts import StaffAccounts
from assistant.api import build_api_router
from assistant.index.store import IndexUnavailable
from assistant.service import AssistantService
from assistant.ui.chat import build_chat
from assistant.ui.console import build_console
from assistant.ui.ratelimit import LoginThrottle
from assistant.ui.render import CSS
from assistant.ui.security import (
    BodyLimit,
    ConsoleGuard,
    ConsoleSessions,
    GradioGuard,
    OriginCheck,
    SecurityHeaders,
    console_script,
    locale_script,
    scope_client,
    trusted_proxies,
)
from assistant.ui.viewer_page import NOT_FOUND, viewer_html

log = logging.getLogger(__name__)

CONSOLE_PATH = "/admin"
CHAT_MAX_FILE_BYTES = 1  # the public chat accepts no uploads (its upload route is closed as well)
SHUTDOWN_GRACE_S = 5  # answers in progress get this long to finish when the server is stopped
UPLOAD_OVERHEAD_BYTES = 2**20  # multipart framing around the files of one console upload
API_DOCUMENTS_PATH = "/api/v1/documents"  # assistant/api/rest.py: the API's upload route

CONSOLE_DISABLED = """<!doctype html><meta charset="utf-8"><title>知识库管理</title>
<p style="font-family:sans-serif;padding:2em">知识库管理未启用:请在设置中配置管理员密码
(环境变量 <code>ASSISTANT_UI__ADMIN_PASSWORD</code>)或员工账号后重启。</p>"""
CONSOLE_ELSEWHERE = "知识库管理不在此地址提供。"


def _health_route(app: FastAPI, service: AssistantService) -> None:
    @app.get("/healthz")
    def health():
        """200 with counts when questions can be answered (``indexing`` tells what start-up still finishes in
        the background); 503 with the reason when the index cannot be read."""
        try:
            stats = service.stats()
        except IndexUnavailable as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return {"status": "ok", "documents": len(stats["documents"]), "chunks": stats["chunks"],
                "indexing": service.indexing_status()}


def create_app(service: AssistantService, accounts: StaffAccounts | None = None) -> FastAPI:
    """The public app: the chat, /healthz, /documents; and the console, unless it has a port of its own."""
    settings = service.settings
    accounts = StaffAccounts.from_settings(settings) if accounts is None else accounts
    app = FastAPI(title="就业政策问答助手", docs_url=None, redoc_url=None, openapi_url=None)
    _health_route(app, service)

    @app.get("/documents/{doc_id}")
    def document(doc_id: str):
        path = service.document_path(doc_id)
        if path is None:
            raise HTTPException(status_code=404, detail="文件不存在或已删除")
        return FileResponse(path, filename=path.name)  # an attachment: an uploaded HTML file is never rendered

    @app.get("/documents/{doc_id}/view")
    def document_view(doc_id: str, chunk: str = "", page: int | None = None):
        """A passage in its document (the first when no chunk is named): escaped HTML, no script."""
        if not chunk:
            first = (service.document_chunks(doc_id) or [None])[0]
            chunk = first["chunk_id"] if first else ""
        found = service.passage(doc_id, chunk) if chunk else None
        if found is None:
            return HTMLResponse(NOT_FOUND, status_code=404)
        return HTMLResponse(viewer_html(found, page), headers={"cache-control": "no-store"})

    @app.get("/documents/{doc_id}/pages/{page}")
    def document_page(doc_id: str, page: int, chunk: str = ""):
        """Page ``page`` of an indexed PDF as PNG, the text of ``chunk`` marked on it."""
        drawn = service.page_image(doc_id, page, chunk)
        if drawn is None:
            raise HTTPException(status_code=404, detail="页面不存在")
        image, marked = drawn
        return Response(image, media_type="image/png",
                        headers={"cache-control": "private, max-age=300", "x-passage-marked": "1" if marked else "0"})

    app.include_router(build_api_router(service))  # /v1 (OpenAI-compatible) and /api/v1, before Gradio's catch-all
    gradio_apps: dict[str, tuple[gr.Blocks, bool]] = {}
    sessions = None
    if accounts and not settings.ui.console_port:
        app, sessions = _mount_console(app, service, accounts, gradio_apps)
    else:
        @app.get(CONSOLE_PATH)
        @app.get(CONSOLE_PATH + "/{path:path}")
        def console_elsewhere(path: str = ""):
            if accounts:
                return JSONResponse({"detail": CONSOLE_ELSEWHERE}, status_code=404)
            return HTMLResponse(CONSOLE_DISABLED, status_code=403)

    chat = build_chat(service).queue(default_concurrency_limit=settings.ui.concurrency)
    app = gr.mount_gradio_app(app, chat, path="", css=CSS, max_file_size=CHAT_MAX_FILE_BYTES, run_history=False)
    gradio_apps[""] = (chat, False)
    _secure(app, service, gradio_apps, sessions)
    return app


def create_console_app(service: AssistantService, accounts: StaffAccounts) -> FastAPI:
    """The console alone (``ui.console_port``): /admin, and /healthz for the staff proxy."""
    app = FastAPI(title="知识库管理 - 就业政策问答助手", docs_url=None, redoc_url=None, openapi_url=None)
    _health_route(app, service)

    @app.get("/")
    def to_console():
        return RedirectResponse(CONSOLE_PATH + "/", status_code=307)

    gradio_apps: dict[str, tuple[gr.Blocks, bool]] = {}
    app, sessions = _mount_console(app, service, accounts, gradio_apps)
    _secure(app, service, gradio_apps, sessions)
    return app


def _mount_console(app: FastAPI, service: AssistantService, accounts: StaffAccounts,
                   gradio_apps: dict) -> tuple[FastAPI, ConsoleSessions]:
    settings = service.settings
    security = settings.security
    window_s = security.login_window_minutes * 60
    sessions = ConsoleSessions(
        LoginThrottle(security.login_failures_per_client, security.login_failures_per_account, window_s),
        service.audit, security.session_max_minutes * 60, security.session_idle_minutes * 60,
    )
    console = build_console(service).queue(default_concurrency_limit=1)
    # Gradio stores an upload before our handler sees it: the size cap must stop it at the door
    app = gr.mount_gradio_app(app, console, path=CONSOLE_PATH, auth=accounts.verify,
                              auth_message="知识库管理:请使用员工账号登录", css=CSS,
                              max_file_size=int(settings.ui.max_upload_mb * 2**20), run_history=False)
    gradio_console = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == CONSOLE_PATH)
    sessions.forget_token = lambda token: gradio_console.tokens.pop(token, None)
    gradio_apps[CONSOLE_PATH] = (console, True)
    return app, sessions


def _secure(app: FastAPI, service: AssistantService, gradio_apps: dict, sessions: ConsoleSessions | None) -> None:
    """The middleware of ``assistant/ui/security.py``, innermost first."""
    settings = service.settings
    origins = [o.rstrip("/") for o in settings.security.allowed_origins]
    default_limit = settings.security.max_body_kb * 1024
    upload_limits = {  # the routes that take files, each up to its own request size
        CONSOLE_PATH + "/gradio_api/upload":
            int(settings.ui.max_upload_mb * 2**20 * settings.ui.max_upload_files) + UPLOAD_OVERHEAD_BYTES,
        # the API answers its own cap, in its error format; this stops what is far over it
        API_DOCUMENTS_PATH: int(settings.api.max_upload_request_mb * 2**20) + UPLOAD_OVERHEAD_BYTES,
    }

    def body_limit(path: str) -> int:
        return next((limit for prefix, limit in upload_limits.items() if path.startswith(prefix)), default_limit)

    app.add_middleware(GradioGuard, apps=gradio_apps, client_of=scope_client)
    if sessions is not None:
        app.add_middleware(ConsoleGuard, prefix=CONSOLE_PATH, sessions=sessions)
    app.add_middleware(OriginCheck, allowed_origins=origins)
    # a CORSMiddleware of the parent app also stops Gradio from adding its own, permissive one
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                       allow_headers=["authorization", "content-type"], allow_credentials=False)
    app.add_middleware(BodyLimit, limit_for=body_limit)
    # Gradio's own strings (buttons, login) in Chinese whatever the browser's language: on Gradio's pages only
    # (the chat at "/", the console under /admin), not on pages with a policy of their own (the API docs)
    head = {"/": locale_script()}
    if sessions is not None:
        head[CONSOLE_PATH] = locale_script() + console_script(CONSOLE_PATH)
    app.add_middleware(SecurityHeaders, allowed_origins=origins, head_html=head)


def serve(service: AssistantService, accounts: StaffAccounts) -> None:
    import uvicorn

    ui = service.settings.ui
    proxies = trusted_proxies(service.settings)

    def config(app: FastAPI, port: int) -> uvicorn.Config:
        # an open chat tab or API client holds a heartbeat stream that would delay a stop by 10-15 s.
        # X-Forwarded-For is believed only from the configured proxies: the rate limit and the login throttle
        # key on the address uvicorn resolves (assistant/ui/ratelimit.py)
        return uvicorn.Config(app, host=ui.host, port=port, log_level="warning",
                              timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                              proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)

    servers = [uvicorn.Server(config(create_app(service, accounts), ui.port))]
    log.info("serving on http://%s:%s", ui.host, ui.port)
    if ui.console_port and accounts:
        servers.append(uvicorn.Server(config(create_console_app(service, accounts), ui.console_port)))
        log.info("staff console on http://%s:%s%s", ui.host, ui.console_port, CONSOLE_PATH)

    async def serve_all():
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(serve_all())
