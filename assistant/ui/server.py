"""One web server: the public chat at /, the staff console at /admin (login), files at /documents/{id}."""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from assistant.api import build_api_router
from assistant.index.store import IndexUnavailable

from assistant.service import AssistantService
from assistant.ui.chat import build_chat
from assistant.ui.console import build_console
from assistant.ui.render import CSS

log = logging.getLogger(__name__)

CHAT_MAX_FILE_BYTES = 1  # the public chat accepts no uploads
SHUTDOWN_GRACE_S = 5  # answers in progress get this long to finish when the server is stopped

CONSOLE_DISABLED = """<!doctype html><meta charset="utf-8"><title>知识库管理</title>
<p style="font-family:sans-serif;padding:2em">知识库管理未启用:请在设置中配置管理员密码
(环境变量 <code>ASSISTANT_UI__ADMIN_PASSWORD</code>)后重启。</p>"""


def create_app(service: AssistantService) -> FastAPI:
    app = FastAPI(title="就业政策问答助手", docs_url=None, redoc_url=None)
    ui = service.settings.ui

    @app.get("/healthz")
    def health():
        """200 with counts when questions can be answered; 503 with the reason when the index cannot be read."""
        try:
            stats = service.stats()
        except IndexUnavailable as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return {"status": "ok", "documents": len(stats["documents"]), "chunks": stats["chunks"]}

    @app.get("/documents/{doc_id}")
    def document(doc_id: str):
        path = service.document_path(doc_id)
        if path is None:
            raise HTTPException(status_code=404, detail="文件不存在或已删除")
        return FileResponse(path, filename=path.name)

    app.include_router(build_api_router(service))  # /v1 (OpenAI-compatible) and /api/v1, before Gradio's catch-all
    chat = build_chat(service).queue(default_concurrency_limit=ui.concurrency)
    if ui.admin_password:
        console = build_console(service).queue(default_concurrency_limit=1)
        # Gradio stores an upload before our handler sees it: the size cap must stop it at the door
        app = gr.mount_gradio_app(app, console, path="/admin", auth=[(ui.admin_user, ui.admin_password)],
                                  auth_message="知识库管理:请使用管理员账号登录", css=CSS,
                                  max_file_size=int(ui.max_upload_mb * 2**20))
    else:
        @app.get("/admin")
        @app.get("/admin/")
        def console_disabled():
            return HTMLResponse(CONSOLE_DISABLED, status_code=403)

    # The chat takes no files, but Gradio serves /gradio_api/upload on every app: without a limit anyone
    # could write files of any size into its temp folder.  Staff uploads go through /admin (login).
    return gr.mount_gradio_app(app, chat, path="", css=CSS, max_file_size=CHAT_MAX_FILE_BYTES)


def serve(service: AssistantService) -> None:
    import uvicorn

    ui = service.settings.ui
    app = create_app(service)
    log.info("serving on http://%s:%s", ui.host, ui.port)
    # an open chat tab or API client holds a heartbeat stream that would delay a stop by 10-15 s
    uvicorn.run(app, host=ui.host, port=ui.port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
