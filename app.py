"""Start the assistant: index the demo corpus on first start, then serve the chat on http://127.0.0.1:7860.

    make run            # installs what is missing, then runs this
    python app.py       # the same, in an existing environment
"""

from __future__ import annotations

import logging
import time


def main() -> None:
    started = time.perf_counter()
    # third-party libraries (bm25s, chromadb, httpx, jieba …) speak only at WARNING; the product's own lines at INFO
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("assistant").setLevel(logging.INFO)
    from assistant.index.embeddings import EmbeddingModelError
    from assistant.index.store import IndexMismatchError, IndexUnavailable
    from assistant.privacy import install_log_masking
    from assistant.service import AssistantService
    from assistant.ui.server import serve

    install_log_masking()
    try:
        service = AssistantService()
        report = service.ensure_index()
        summary = report.summary()
        if summary["indexed"]:
            print(f"已索引语料目录中的新文件 {summary['indexed']} 份、{summary['chunks']} 个片段({summary['seconds']} 秒)")
        for f in report.files:
            if f.status == "failed":
                print(f"  ❌ {f.source}:{f.reason_zh}")
        service.warm_up()
        stats = service.stats()
    except (EmbeddingModelError, IndexMismatchError, IndexUnavailable) as exc:  # model, disk or server problem
        raise SystemExit(f"无法启动:{exc}") from None
    ui = service.settings.ui
    print(f"已收录 {len(stats['documents'])} 份文件,{stats['chunks']['chroma']} 个片段;向量模型 {stats['embedding_model']}")
    print(f"就业政策问答助手:http://{ui.host}:{ui.port}  (准备用时 {time.perf_counter() - started:.1f} 秒)")
    if not ui.admin_password:
        print("知识库管理(/admin)未启用:设置 ASSISTANT_UI__ADMIN_PASSWORD 后可用。")
    serve(service)


if __name__ == "__main__":
    main()
