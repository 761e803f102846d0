"""Start the assistant: index the demo corpus on first start, then serve the chat on http://127.0.0.1:7860.

    make run            # installs what is missing, then runs this
    python app.py       # the same, in an existing environment

Later starts serve at once and finish interrupted indexing (uploads saved but not indexed) in the background;
/healthz reports it under "indexing".
"""

from __future__ import annotations

import logging
import os
import time

# nothing phones home: Gradio's usage statistics, Hugging Face telemetry (set before either is imported)
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")


def print_indexing(report, recorded: bool = False) -> None:
    """What start-up indexing did; ``recorded``: failures were recorded for the console (uploads)."""
    summary = report.summary()
    if summary["indexed"]:
        print(f"已索引语料目录中的新文件 {summary['indexed']} 份、{summary['chunks']} 个片段({summary['seconds']} 秒)",
              flush=True)
    note = "(已记录,可在知识库管理“上传失败的文件”中查看并移除)" if recorded else ""
    for f in report.files:
        if f.status == "failed":
            print(f"  ❌ {f.source}:{f.reason_zh}{note}", flush=True)


def main() -> None:
    started = time.perf_counter()
    # third-party libraries (bm25s, chromadb, httpx, jieba …) speak only at WARNING; the product's own lines at INFO
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("assistant").setLevel(logging.INFO)
    from assistant.accounts import AccountError, StaffAccounts
    from assistant.privacy import install_log_masking
    from assistant.settings import get_settings

    install_log_masking()
    try:  # before the model loads: a weak password is told in a second, not after the index opened
        accounts = StaffAccounts.from_settings(get_settings())
    except AccountError as exc:
        raise SystemExit(f"无法启动:{exc}") from None

    from assistant.index.embeddings import EmbeddingModelError
    from assistant.index.store import IndexMismatchError, IndexUnavailable
    from assistant.service import AssistantService
    from assistant.ui.server import serve

    try:
        service = AssistantService()
        report = service.ensure_index(background=True, done=lambda r: print_indexing(r, recorded=True))
        if report is not None:
            print_indexing(report)
        else:
            print("正在后台检查上次未完成的索引;期间照常回答(/healthz 的 indexing 字段显示进度)。", flush=True)
        service.warm_up()
        stats = service.stats()
    except (EmbeddingModelError, IndexMismatchError, IndexUnavailable) as exc:  # model, disk or server problem
        raise SystemExit(f"无法启动:{exc}") from None
    ui = service.settings.ui
    print(f"已收录 {len(stats['documents'])} 份文件,{stats['chunks']['chroma']} 个片段;向量模型 {stats['embedding_model']}")
    print(f"就业政策问答助手:http://{ui.host}:{ui.port}  (准备用时 {time.perf_counter() - started:.1f} 秒)")
    if not accounts:
        print("知识库管理(/admin)未启用:设置 ASSISTANT_UI__ADMIN_PASSWORD 或员工账号后可用。")
    elif ui.console_port:
        print(f"知识库管理:http://{ui.host}:{ui.console_port}/admin/(仅此端口)")
    serve(service, accounts)


if __name__ == "__main__":
    main()
