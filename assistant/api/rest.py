"""REST routes: ``/api/v1/ask`` and ``/api/v1/retrieve`` (the CLI's JSON in and out) and ``/api/v1/documents``."""

from __future__ import annotations

import functools

import anyio
from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import JSONResponse

from assistant.api.answers import Answers
from assistant.api.conversation import checked_question, service_history
from assistant.api.errors import ApiError, api_route_class, error_responses
from assistant.api.keys import ADMIN_KEY, QUESTION_KEY, KeyRing
from assistant.api.schemas import (
    AskRequest,
    AskResponse,
    DeleteResponse,
    DocumentsResponse,
    RetrieveRequest,
    RetrieveResponse,
    UploadResponse,
)
from assistant.ingest.models import FileReport
from assistant.service import AssistantService
from assistant.uploads import UploadRejected

ERRORS = error_responses(400, 401, 413, 422, 429, 503)


def _rejected(exc: UploadRejected) -> dict:
    """A file refused before indexing, in the shape of an ingest file report."""
    return FileReport(source=exc.name, status="failed", code=exc.code, reason_zh=str(exc)).__dict__


def build_rest_routers(service: AssistantService, keys: KeyRing, answers: Answers) -> list[APIRouter]:
    settings = service.settings
    questions = APIRouter(prefix="/api/v1", tags=["问答"], responses=ERRORS, dependencies=[Depends(QUESTION_KEY)],
                          route_class=api_route_class(keys.question_guard, lambda: settings.api.max_body_kb * 1024))

    @questions.post("/ask", response_model=AskResponse, response_description="成功", summary="回答问题,注明出处(同 `ask --json`)")
    async def ask(body: AskRequest):
        question = checked_question(body.question)
        history = service_history([m.model_dump() for m in body.history])
        answer = await answers.call(service.ask, question, history=history, filters=body.filters())
        return JSONResponse(answer.to_json())  # as it is: the schema documents it, never filters it

    @questions.post("/retrieve", response_model=RetrieveResponse, response_description="成功", summary="检索相关片段(同 `retrieve --json`)")
    async def retrieve(body: RetrieveRequest):
        question = checked_question(body.question)
        result = await answers.call(service.retrieve, question, k=body.k, filters=body.filters())
        return JSONResponse({"question": question, "sources": [hit.source_json() for hit in result.chunks]})

    async def in_thread(fn, *args):  # index work: not an answer slot, the service serialises writes itself
        return await anyio.to_thread.run_sync(functools.partial(fn, *args))

    def max_upload_body() -> int:
        return int(settings.api.max_upload_request_mb * 2**20)

    documents = APIRouter(prefix="/api/v1/documents", tags=["文档管理(管理员密钥)"],
                          responses=error_responses(400, 401, 403, 404, 413, 422, 429, 503),
                          dependencies=[Depends(ADMIN_KEY)], route_class=api_route_class(keys.admin_guard, max_upload_body))

    @documents.get("", response_model=DocumentsResponse, response_description="成功", summary="已收录的文件(同 `stats --json` 的 documents)")
    async def list_documents():
        return JSONResponse({"documents": (await in_thread(service.stats))["documents"]})

    @documents.post("", response_model=UploadResponse,
                    response_description="成功", summary="上传文件并入库(表单字段 file,可多个);返回每个文件的结果")
    async def upload(file: list[UploadFile] = File(..., description="PDF / DOCX / TXT / MD / HTML")):
        if len(file) > settings.api.max_upload_files:
            raise ApiError(400, "too_many_files", f"一次最多上传 {settings.api.max_upload_files} 个文件。", param="file")
        uploads = [(f.filename or "upload", await f.read()) for f in file]
        report, refused = await in_thread(service.upload, uploads)
        summary = report.summary()
        summary["failed"] += len(refused)
        return JSONResponse({"files": [_rejected(r) for r in refused] + [f.__dict__ for f in report.files],
                             "summary": summary})

    @documents.delete("/{doc_id}", response_model=DeleteResponse, response_description="成功", summary="删除一个文件(索引和语料目录中都删除)")
    async def delete(doc_id: str):
        if not await in_thread(service.delete_document, doc_id):
            raise ApiError(404, "document_not_found", "没有这个文件(可能已删除)。", param="doc_id")
        return {"doc_id": doc_id, "deleted": True}

    return [questions, documents]
