"""Scale-out: two app processes share one real `chroma run` server; what one ingests, the other answers."""

from __future__ import annotations


import httpx
import pytest

from tests.conftest import free_port
from tests.index.test_chroma_server import start_chroma
from tests.ui.conftest import console_client, launch_app, staff_password

NOTICE = "【虚构测试材料】\n示范市海鸥计划实施细则\n第一条 参加示范市海鸥计划的青年,每人每月可领取海鸥补贴3579元。"


def _start_replica(root, chroma_port, password):
    (root / "corpus").mkdir(parents=True)
    app = launch_app(root, password, {"ASSISTANT_CHROMA__HOST": "127.0.0.1", "ASSISTANT_CHROMA__PORT": str(chroma_port)})
    return app.process, app.url


@pytest.mark.slow
def test_a_document_ingested_by_one_replica_is_answered_by_the_other(tmp_path):
    from gradio_client import Client, handle_file

    chroma = start_chroma(tmp_path / "chroma", chroma_port := free_port())
    password = staff_password()
    processes = []
    try:
        a, url_a = _start_replica(tmp_path / "a", chroma_port, password)
        processes.append(a)
        b, url_b = _start_replica(tmp_path / "b", chroma_port, password)
        processes.append(b)
        question = "海鸥计划补贴每月多少钱?"
        before = Client(url_b, verbose=False).predict(question, "[]", "", "", api_name="/ask")
        assert "3579" not in before["answer"]

        notice = tmp_path / "海鸥计划.txt"
        notice.write_text(NOTICE, encoding="utf-8")
        console = console_client(url_a, password)
        result = console.predict([handle_file(str(notice))], api_name="/upload")
        assert "已入库" in result[0]

        after = Client(url_b, verbose=False).predict(question, "[]", "", "", api_name="/ask")
        assert not after["refused"] and "3579元" in after["answer"]
        assert any("海鸥" in s["text"] for s in after["sources"])

        # the Chroma server stops under running replicas: a clear message, then service resumes
        chroma.terminate()
        chroma.wait(timeout=10)
        health = httpx.get(f"{url_b}/healthz", timeout=30)
        assert health.status_code == 503 and "向量数据库" in health.json()["reason"]
        with pytest.raises(Exception, match="检索服务暂时无法连接"):
            Client(url_b, verbose=False).predict(question, "[]", "", "", api_name="/ask")
        chroma = start_chroma(tmp_path / "chroma", chroma_port)
        assert httpx.get(f"{url_b}/healthz", timeout=30).status_code == 200
        resumed = Client(url_b, verbose=False).predict(question, "[]", "", "", api_name="/ask")
        assert "3579元" in resumed["answer"]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        chroma.terminate()
        chroma.wait(timeout=10)
