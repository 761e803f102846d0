"""The staff knowledge-base console: upload, list, delete, rebuild, failed files, retrieval test.

Served behind a login (assistant/accounts.py; sessions and CSRF in assistant/ui/security.py).  Like the
chat, it only calls the service; every change is written to the audit log with who did it and from where.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import re
import tempfile
import time
from pathlib import Path

import gradio as gr

from assistant.client_input import BadInput
from assistant.index.store import IndexUnavailable
from assistant.ingest.metadata import DOC_TYPE_LABELS
from assistant.service import AssistantService
from assistant.ui import render
from assistant.ui.ratelimit import client_key

STATUS_ZH = {"indexed": "已入库", "unchanged": "未变化,跳过", "failed": "失败", "skipped": "已跳过", "removed": "已移除"}
DOC_COLUMNS = ["标题", "类型", "日期", "片段数", "文件", "文档ID"]
FAILED_COLUMNS = ["文件", "原因", "时间", "记录ID"]
CHUNK_COLUMNS = ["序号", "章节", "页码", "字数", "内容"]
PROBE_COLUMNS = ["排名", "相关程度", "检索方式", "回答是否引用", "标题", "章节", "页码", "片段"]
FEEDBACK_COLUMNS = ["时间", "评价", "问题", "回答", "意见", "引用的文件", "回答方式"]
RATINGS_ZH = {"up": "👍 有帮助", "down": "👎 没帮助"}
FEEDBACK_FILTERS = [("全部", ""), ("👍 有帮助", "up"), ("👎 没帮助", "down")]
FEEDBACK_ANSWER_CHARS = 120
CONTROLS_BUSY = "正在处理,请等待当前操作完成……"

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


def _chunks_table(service: AssistantService, doc_id: str) -> list[list]:
    """A document's chunks as the index holds them (what retrieval searches and the chat quotes)."""
    return [[c["ordinal"] + 1, c["section"] or "—", c["page"] or "—", len(c["text"]), c["text"]]
            for c in service.document_chunks(doc_id) or []] if doc_id else []


def _feedback_rows(service: AssistantService, rating: str = "") -> list[dict]:
    """Feedback, newest first, with the cited documents by title (a deleted one says so)."""
    titles = {d["doc_id"]: d["title"] or d["source"] for d in service.stats()["documents"]}
    rows = []
    for row in reversed(service.feedback.all()):
        if rating and row["rating"] != rating:
            continue
        try:
            cited = json.loads(row["source_ids"] or "[]")
        except ValueError:
            cited = []
        names = list(dict.fromkeys(titles.get(doc_id, "(已删除的文件)") for doc_id in cited if doc_id))
        rows.append({"时间": row["created_at"].replace("T", " ")[:16], "评价": RATINGS_ZH.get(row["rating"], row["rating"]),
                     "问题": row["question"], "回答": row["answer"], "意见": row["comment"] or "—",
                     "引用的文件": ";".join(f"《{n}》" for n in names) or "—",
                     "回答方式": render.BACKEND_LABELS.get(row["backend"], row["backend"])
                     + (",拒答" if row["refused"] else "")})
    return rows


def _feedback_table(service: AssistantService, rating: str = "") -> list[list]:
    """The rows on screen: an answer cut to its start (the CSV has it whole)."""
    return [[row[c][:FEEDBACK_ANSWER_CHARS] + "…" if c == "回答" and len(row[c]) > FEEDBACK_ANSWER_CHARS else row[c]
             for c in FEEDBACK_COLUMNS] for row in _feedback_rows(service, rating)]


def _spreadsheet_safe(value) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ would be read as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def feedback_csv(service: AssistantService, rating: str = "") -> str:
    """The feedback as a CSV file (UTF-8 with BOM, so Excel reads the Chinese); returns its path.  Gradio serves
    its own copy; the exports before this one are deleted, so no copy piles up here."""
    folder = Path(tempfile.gettempdir()) / "assistant-feedback-exports"
    folder.mkdir(mode=0o700, exist_ok=True)
    for old in folder.glob("feedback-*.csv"):
        old.unlink(missing_ok=True)
    handle, name = tempfile.mkstemp(prefix="feedback-", suffix=".csv", dir=folder)
    with open(handle, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FEEDBACK_COLUMNS)
        for row in _feedback_rows(service, rating):
            writer.writerow([_spreadsheet_safe(row[c]) for c in FEEDBACK_COLUMNS])
    return name


class UploadProgress:
    """Gradio's progress bar for an upload or a rebuild: files done, and inside a file the pages read and the
    chunks embedded (``step``, called by the index while one file is processed in this process)."""

    def __init__(self, progress: gr.Progress):
        self.progress = progress
        self.done, self.total, self.current = 0, 1, ""

    def __call__(self, source: str, done: int, total: int, chunks: int) -> None:
        self.done, self.total = done, max(total, 1)
        self.progress(done / self.total, desc=f"已处理 {done}/{total} 个文件,{chunks} 个片段:{source}")

    def step(self, source: str, text: str, fraction: float) -> None:
        """``fraction`` of the file ``source`` is done (pages read, chunks embedded), as ``text`` says."""
        at = min(self.done + 1, self.total)
        self.progress(min((self.done + max(0.0, min(fraction, 1.0))) / self.total, 1.0),
                      desc=f"第 {at}/{self.total} 个文件 {source}:{text}")


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
    lines = [f"- ❌ 未接收:{text(message)}" for message in refused]
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
    def status() -> str:
        settings = service.settings
        model = settings.answer.openai_model if settings.answer.backend == "openai" else ""
        return render.staff_status(service.stats(), settings.answer.backend, service.indexing_status(), model)

    with gr.Blocks(title="知识库管理 - 就业政策问答助手", analytics_enabled=False) as console:
        with gr.Row():
            gr.Markdown("# 知识库管理\n上传、删除文件或重建索引后,问答立即使用新的内容。")
            gr.Button("退出登录", size="sm", scale=0, min_width=100, elem_id="logout-button")  # POST, see security.py
        staff_line = gr.Markdown(status(), elem_id="staff-status")
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
        with gr.Tab("片段查看"):
            gr.Markdown("文件入库后被切成的片段,即检索和回答所用的原文(含章节和页码)。")
            chunk_doc = gr.Dropdown(_choices(service), value=None, label="选择文件", elem_id="chunks-choice")
            chunk_table = gr.Dataframe(headers=CHUNK_COLUMNS, interactive=False, wrap=True, elem_id="chunks-table")
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
            probe = gr.Textbox(label="问题", placeholder="输入用户可能问的问题,看看问答会怎样回应、依据哪些片段",
                               elem_id="probe-question")
            run_probe = gr.Button("检索", elem_id="probe-button")
            verdict = gr.Markdown(elem_id="probe-verdict")
            ranked = gr.Dataframe(headers=PROBE_COLUMNS, interactive=False, wrap=True, elem_id="probe-results")
        with gr.Tab("用户反馈"):
            with gr.Row():
                rating_filter = gr.Radio(FEEDBACK_FILTERS, value="", label="筛选", elem_id="feedback-filter")
                export = gr.Button("导出 CSV", size="sm", elem_id="feedback-export")
            feedback_table = gr.Dataframe(_feedback_table(service), headers=FEEDBACK_COLUMNS, interactive=False,
                                          wrap=True, elem_id="feedback-table",
                                          column_widths=["11%", "8%", "16%", "31%", "13%", "14%", "7%"])
            feedback_file = gr.File(label="导出的文件", visible=False, elem_id="feedback-file")

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
            uploads = [(Path(p).name, Path(p).read_bytes()) for p in paths]
            _remove_gradio_copies(paths)
            report, refused = service.upload(uploads, progress=UploadProgress(progress))
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
            report = service.rebuild(progress=UploadProgress(progress))
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
            """What the chat would do with the question (the service's verdict, the same gate for every answer
            backend) and the passages it would rest on, their relevance in words."""
            if not (question or "").strip():
                return "请输入问题。", []
            try:
                answer = service.ask(question, backend="extractive")  # the verdict needs no LLM
            except BadInput as exc:
                return f"⚠️ {render.escape_markdown(str(exc))}", []
            shown = answer.to_json()
            cited = {int(n) for n in re.findall(r"\[(\d{1,2})\]", shown["answer"])}
            rows = []
            top = max((hit.score for hit in answer.sources), default=0.0)
            for hit in answer.sources:
                source = hit.source_json()
                rows.append([hit.rank, render.relevance_words(hit.score, top), render.matched_by(hit),
                             "是" if hit.rank in cited else "否", source["title"], source["section"] or "—",
                             source["page"] or "—", source["text"]])
            return render.verdict_markdown(shown, answer.coverage), rows

        def busy():
            """Every control that changes the knowledge base, off while one change runs."""
            off = gr.update(interactive=False)
            return off, off, off, off, off

        def idle():
            on = gr.update(interactive=True)
            return on, on, on, on, on

        controls = [upload, delete, rebuild, forget, files]
        after_change = dict(fn=lambda: (_failed_table(service), gr.update(choices=_failed_choices(service)),
                                        gr.update(choices=_choices(service)), status()),
                            inputs=None, outputs=[failed_table, to_forget, chunk_doc, staff_line],
                            api_visibility="private")
        upload.click(busy, None, controls, api_visibility="private").then(
            do_upload, [files], [results, table, to_delete], api_name="upload").then(
            lambda: None, None, [files], api_visibility="private").then(
            idle, None, controls, api_visibility="private").then(**after_change)
        delete.click(busy, None, controls, api_visibility="private").then(
            do_delete, [to_delete], [action_result, table, to_delete], api_name="delete").then(
            idle, None, controls, api_visibility="private").then(**after_change)
        rebuild.click(busy, None, controls, api_visibility="private").then(
            do_rebuild, [confirm], [action_result, table, to_delete], api_name="rebuild").then(
            idle, None, controls, api_visibility="private").then(**after_change)
        forget.click(do_forget, [to_forget], [failed_result, failed_table, to_forget], api_name="remove_failed")
        chunk_doc.change(lambda doc_id: _chunks_table(service, doc_id), [chunk_doc], [chunk_table],
                         api_name="chunks")
        run_probe.click(do_probe, [probe], [verdict, ranked], api_name="retrieval_test")
        probe.submit(do_probe, [probe], [verdict, ranked], api_visibility="private")
        rating_filter.change(lambda rating: _feedback_table(service, rating), [rating_filter], [feedback_table],
                             api_visibility="private")
        export.click(lambda rating: gr.update(value=feedback_csv(service, rating), visible=True), [rating_filter],
                     [feedback_file], api_name="feedback_csv")
        console.load(lambda: (_documents_table(service), gr.update(choices=_choices(service)), _failed_table(service),
                              gr.update(choices=_failed_choices(service)), gr.update(choices=_choices(service)),
                              _feedback_table(service), status()),
                     None, [table, to_delete, failed_table, to_forget, chunk_doc, feedback_table, staff_line],
                     api_visibility="private")
    return console
