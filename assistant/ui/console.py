"""The staff knowledge-base console: upload, list, delete, rebuild, failed files, retrieval test.

Served behind a login (assistant/accounts.py; sessions and CSRF in assistant/ui/security.py).  Like the
chat, it only calls the service; every change is written to the audit log with who did it and from where.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

import gradio as gr

from assistant.index.store import IndexUnavailable
from assistant.ingest.metadata import DOC_TYPE_LABELS
from assistant.service import AssistantService
from assistant.ui import render
from assistant.ui.ratelimit import client_key

STATUS_ZH = {"indexed": "已入库", "unchanged": "未变化,跳过", "failed": "失败", "skipped": "已跳过", "removed": "已移除"}
DOC_COLUMNS = ["标题", "类型", "日期", "片段数", "文件", "文档ID"]
FAILED_COLUMNS = ["文件", "原因", "时间", "记录ID"]

log = logging.getLogger(__name__)


def _documents_table(service: AssistantService) -> list[list]:
    return [
        [d["title"], DOC_TYPE_LABELS.get(d["doc_type"], d["doc_type"] or "—"), d["date"] or "—", d["chunks"], d["source"], d["doc_id"]]
        for d in service.stats()["documents"]
    ]


def _choices(service: AssistantService) -> list[tuple[str, str]]:
    return [(f"{d['title']}({d['source']})", d["doc_id"]) for d in service.stats()["documents"]]


def _failed_table(service: AssistantService) -> list[list]:
    return [
        [f["source"], f.get("reason", ""), time.strftime("%Y-%m-%d %H:%M", time.localtime(float(f.get("failed_at", 0)))),
         f["doc_id"]]
        for f in service.failed_uploads()
    ]


def _failed_choices(service: AssistantService) -> list[tuple[str, str]]:
    return [(f"{f['source']}({f.get('reason', '')})", f["doc_id"]) for f in service.failed_uploads()]


def _remove_gradio_copies(paths: list[str]) -> None:
    """Gradio keeps each upload in its temp folder; the corpus has the file now, so the copy goes (a document
    deleted later must not stay downloadable through it)."""
    for path in map(Path, paths):
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # Gradio's per-upload folder, when empty
        except OSError:
            pass


def _result_lines(report, refused: list[str]) -> str:
    """The upload result as Markdown; file names, reasons and notes are text (a name can hold Markdown)."""
    text = render.escape_markdown
    lines = [f"- ❌ {text(message)}" for message in refused]
    for f in report.files:
        source = text(f.source)
        if f.status == "indexed":
            lines.append(f"- ✅ {source}:已入库({f.chunks} 个片段)" + (f";{text(f.note_zh)}" if f.note_zh else ""))
        elif f.status == "unchanged":
            lines.append(f"- ⏭️ {source}:未变化,跳过")
        elif f.status == "removed":
            lines.append(f"- 🗑️ {source}:文件已不在,已从索引移除")
        else:
            lines.append(f"- ❌ {source}:{STATUS_ZH.get(f.status, f.status)}({text(f.reason_zh)})"
                         + (";已记入“上传失败的文件”" if f.status == "failed" else ""))
    return "\n".join(lines) or "没有文件。"


def build_console(service: AssistantService) -> gr.Blocks:
    with gr.Blocks(title="知识库管理 - 就业政策问答助手", analytics_enabled=False) as console:
        with gr.Row():
            gr.Markdown("# 知识库管理\n上传、删除文件或重建索引后,问答立即使用新的内容。")
            gr.Button("退出登录", size="sm", scale=0, min_width=100, elem_id="logout-button")  # POST, see security.py
        with gr.Tab("上传文件"):
            accepted = list(service.settings.ingest.supported_extensions)  # what the ingest reads, and nothing else
            files = gr.File(label="选择文件(PDF / Word / 表格 / 图片 / TXT / MD / HTML / OFD)", file_count="multiple",
                            file_types=accepted, elem_id="upload-files")
            upload = gr.Button("上传并入库", variant="primary", elem_id="upload-button")
            results = gr.Markdown(elem_id="upload-results")
        with gr.Tab("文件列表"):
            table = gr.Dataframe(_documents_table(service), headers=DOC_COLUMNS, interactive=False, wrap=True,
                                 elem_id="documents-table")
            with gr.Row():
                # value=None: Gradio otherwise pre-selects the first document, and one click on
                # "删除所选文件" would delete a file nobody chose.
                to_delete = gr.Dropdown(_choices(service), value=None, label="选择要删除的文件", elem_id="delete-choice")
                delete = gr.Button("删除所选文件", variant="stop", elem_id="delete-button")
            with gr.Row():
                confirm = gr.Checkbox(label="我确认要清空并重建整个索引", value=False)
                rebuild = gr.Button("重建索引", elem_id="rebuild-button")
            action_result = gr.Markdown(elem_id="action-result")
        with gr.Tab("上传失败的文件"):
            gr.Markdown("无法入库的上传文件(损坏、加密、扫描件、超出上限等),不会进入知识库,重启时也不会再读取。"
                        "确认原因后可移除记录;修正后的文件可重新上传。")
            failed_table = gr.Dataframe(_failed_table(service), headers=FAILED_COLUMNS, interactive=False, wrap=True,
                                        elem_id="failed-table")
            with gr.Row():
                to_forget = gr.Dropdown(_failed_choices(service), value=None, label="选择要移除的记录",
                                        elem_id="failed-choice")
                forget = gr.Button("移除记录", elem_id="failed-remove")
            failed_result = gr.Markdown(elem_id="failed-result")
        with gr.Tab("检索测试"):
            probe = gr.Textbox(label="问题", placeholder="看看系统会检索到哪些片段、得分多少", elem_id="probe-question")
            run_probe = gr.Button("检索", elem_id="probe-button")
            ranked = gr.Dataframe(headers=["排名", "融合得分", "向量相似度", "BM25", "标题", "章节", "页码", "片段"],
                                  interactive=False, wrap=True, elem_id="probe-results")

        def index_errors_as_message(action):
            """A full or read-only disk, or a Chroma server that is down, is told to staff in the result line."""

            @functools.wraps(action)
            def guarded(*args, **kwargs):
                try:
                    return action(*args, **kwargs)
                except IndexUnavailable as exc:
                    log.warning("console action failed: %s", exc)
                    return f"⚠️ 操作未完成:{exc}", gr.update(), gr.update()

            return guarded

        def audited(action: str, request: gr.Request, **detail) -> None:
            service.audit.record(action, actor=getattr(request, "username", None) or "", client=client_key(request),
                                 **detail)

        @index_errors_as_message
        def do_upload(paths, request: gr.Request, progress=gr.Progress()):
            if not paths:
                return "请先选择文件。", gr.update(), gr.update()
            progress(0, desc="准备中")

            def report_progress(source, done, total, chunks):
                progress(done / total, desc=f"已处理 {done}/{total} 个文件,{chunks} 个片段:{source}")

            uploads = [(Path(p).name, Path(p).read_bytes()) for p in paths]
            _remove_gradio_copies(paths)
            report, refused = service.upload(uploads, progress=report_progress)
            audited("upload", request, files=[f"{f.source}:{f.status}" for f in report.files],
                    refused=[str(r) for r in refused])
            return _result_lines(report, [str(r) for r in refused]), _documents_table(service), gr.update(choices=_choices(service))

        @index_errors_as_message
        def do_delete(doc_id, request: gr.Request):
            if not doc_id:
                return "请先选择文件。", gr.update(), gr.update()
            title = next((d["source"] for d in service.stats()["documents"] if d["doc_id"] == doc_id), doc_id)
            removed = service.delete_document(doc_id)
            audited("delete", request, document=title, outcome="ok" if removed else "absent")
            message = "已删除,问答中不会再引用它。" if removed else "该文件已不在索引中。"
            return message, _documents_table(service), gr.update(choices=_choices(service), value=None)

        @index_errors_as_message
        def do_rebuild(confirmed, request: gr.Request, progress=gr.Progress()):
            if not confirmed:
                return "请先勾选确认。", gr.update(), gr.update()
            audited("rebuild", request, outcome="started")
            report = service.rebuild(progress=lambda s, d, t, c: progress(d / t, desc=f"{d}/{t} {s}"))
            audited("rebuild", request, **report.summary())
            return "索引已重建:\n" + _result_lines(report, []), _documents_table(service), gr.update(choices=_choices(service))

        @index_errors_as_message
        def do_forget(doc_id, request: gr.Request):
            if not doc_id:
                return "请先选择记录。", gr.update(), gr.update()
            record = next((f["source"] for f in service.failed_uploads() if f["doc_id"] == doc_id), doc_id)
            removed = service.remove_failed(doc_id)
            audited("remove_failed", request, document=record, outcome="ok" if removed else "absent")
            message = "已移除该记录。" if removed else "该记录已不存在。"
            return message, _failed_table(service), gr.update(choices=_failed_choices(service), value=None)

        def do_probe(question):
            if not (question or "").strip():
                return []
            rows = []
            for hit in service.retrieve(question).chunks:
                source = hit.source_json()
                rows.append([
                    hit.rank, round(hit.score, 4),
                    "—" if hit.dense_score is None else round(hit.dense_score, 3),
                    "—" if hit.bm25_score is None else round(hit.bm25_score, 3),
                    source["title"], source["section"] or "—", source["page"] or "—", source["text"],
                ])
            return rows

        upload.click(do_upload, [files], [results, table, to_delete], api_name="upload").then(
            lambda: (None, _failed_table(service), gr.update(choices=_failed_choices(service))), None,
            [files, failed_table, to_forget], api_visibility="private")
        delete.click(do_delete, [to_delete], [action_result, table, to_delete], api_name="delete")
        rebuild.click(do_rebuild, [confirm], [action_result, table, to_delete], api_name="rebuild")
        forget.click(do_forget, [to_forget], [failed_result, failed_table, to_forget], api_name="remove_failed")
        run_probe.click(do_probe, [probe], [ranked], api_name="retrieval_test")
        probe.submit(do_probe, [probe], [ranked], api_visibility="private")
        console.load(lambda: (_documents_table(service), gr.update(choices=_choices(service)), _failed_table(service),
                              gr.update(choices=_failed_choices(service))),
                     None, [table, to_delete, failed_table, to_forget], api_visibility="private")
    return console
