"""The staff knowledge-base console: upload, list, delete, rebuild, retrieval test.

Served behind a login (settings.ui.admin_user / admin_password).  Like the
chat, it only calls the service.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import gradio as gr

from assistant.index.store import IndexUnavailable
from assistant.ingest.metadata import DOC_TYPE_LABELS
from assistant.service import AssistantService

STATUS_ZH = {"indexed": "已入库", "unchanged": "未变化,跳过", "failed": "失败", "skipped": "已跳过", "removed": "已移除"}
DOC_COLUMNS = ["标题", "类型", "日期", "片段数", "文件", "文档ID"]

log = logging.getLogger(__name__)


def _documents_table(service: AssistantService) -> list[list]:
    return [
        [d["title"], DOC_TYPE_LABELS.get(d["doc_type"], d["doc_type"] or "—"), d["date"] or "—", d["chunks"], d["source"], d["doc_id"]]
        for d in service.stats()["documents"]
    ]


def _choices(service: AssistantService) -> list[tuple[str, str]]:
    return [(f"{d['title']}({d['source']})", d["doc_id"]) for d in service.stats()["documents"]]


def _result_lines(report, refused: list[str]) -> str:
    lines = [f"- ❌ {message}" for message in refused]
    for f in report.files:
        if f.status == "indexed":
            lines.append(f"- ✅ {f.source}:已入库({f.chunks} 个片段)")
        elif f.status == "unchanged":
            lines.append(f"- ⏭️ {f.source}:未变化,跳过")
        elif f.status == "removed":
            lines.append(f"- 🗑️ {f.source}:文件已不在,已从索引移除")
        else:
            lines.append(f"- ❌ {f.source}:{STATUS_ZH.get(f.status, f.status)}({f.reason_zh})")
    return "\n".join(lines) or "没有文件。"


def build_console(service: AssistantService) -> gr.Blocks:
    with gr.Blocks(title="知识库管理 - 就业政策问答助手") as console:
        gr.Markdown("# 知识库管理\n上传、删除文件或重建索引后,问答立即使用新的内容。")
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

        @index_errors_as_message
        def do_upload(paths, progress=gr.Progress()):
            if not paths:
                return "请先选择文件。", gr.update(), gr.update()
            progress(0, desc="准备中")

            def report_progress(source, done, total, chunks):
                progress(done / total, desc=f"已处理 {done}/{total} 个文件,{chunks} 个片段:{source}")

            uploads = [(Path(p).name, Path(p).read_bytes()) for p in paths]
            report, refused = service.upload(uploads, progress=report_progress)
            return _result_lines(report, refused), _documents_table(service), gr.update(choices=_choices(service))

        @index_errors_as_message
        def do_delete(doc_id):
            if not doc_id:
                return "请先选择文件。", gr.update(), gr.update()
            removed = service.delete_document(doc_id)
            message = "已删除,问答中不会再引用它。" if removed else "该文件已不在索引中。"
            return message, _documents_table(service), gr.update(choices=_choices(service), value=None)

        @index_errors_as_message
        def do_rebuild(confirmed, progress=gr.Progress()):
            if not confirmed:
                return "请先勾选确认。", gr.update(), gr.update()
            report = service.rebuild(progress=lambda s, d, t, c: progress(d / t, desc=f"{d}/{t} {s}"))
            return "索引已重建:\n" + _result_lines(report, []), _documents_table(service), gr.update(choices=_choices(service))

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

        upload.click(do_upload, [files], [results, table, to_delete], api_name="upload")
        delete.click(do_delete, [to_delete], [action_result, table, to_delete], api_name="delete")
        rebuild.click(do_rebuild, [confirm], [action_result, table, to_delete], api_name="rebuild")
        run_probe.click(do_probe, [probe], [ranked], api_name="retrieval_test")
        probe.submit(do_probe, [probe], [ranked], api_visibility="private")
        console.load(lambda: (_documents_table(service), gr.update(choices=_choices(service))), None, [table, to_delete],
                     api_visibility="private")
    return console
