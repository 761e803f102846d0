"""Client-server mode against a real `chroma run` server that the test starts and stops."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.service import AssistantService
from tests.conftest import SHIFAN_DIR, free_port

CHROMA = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "chroma")


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma server did not start")


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    process = start_chroma(tmp_path / "chroma-data", port)
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.slow
def test_ingest_and_retrieve_through_a_chroma_server(tmp_path, chroma_server, settings_for, embeddings):
    settings = settings_for(tmp_path / "app")
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": "127.0.0.1", "port": chroma_server})})
    service = AssistantService(settings, embeddings=embeddings)
    report = service.ingest([SHIFAN_DIR])
    assert not report.failed and report.count("indexed") == 4

    stats = service.stats()
    assert stats["index"].startswith(f"chroma://127.0.0.1:{chroma_server}/")
    assert stats["chunks"]["chroma"] == stats["chunks"]["bm25"] > 0
    assert not (settings.paths.index_dir / "chroma").exists(), "server mode must not write an embedded store"

    hits = service.retrieve("见习补贴每月多少钱", k=3).chunks
    assert hits and "1800元" in hits[0].chunk.text

    # a second process-like client (new service, same server) sees the same index and BM25 agrees
    other = AssistantService(settings.model_copy(update={"paths": settings.paths.model_copy(update={"index_dir": tmp_path / "other"})}),
                             embeddings=embeddings)
    assert other.stats()["chunks"] == stats["chunks"]
    assert other.retrieve("见习补贴每月多少钱", k=1).chunks[0].chunk.chunk_id == hits[0].chunk.chunk_id


@pytest.mark.slow
def test_server_down_is_a_clear_error_and_service_resumes(tmp_path, settings_for, embeddings):
    from assistant.index.store import VectorStoreUnavailable

    port = free_port()
    data = tmp_path / "chroma-data"
    server = start_chroma(data, port)
    settings = settings_for(tmp_path / "app")
    settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": "127.0.0.1", "port": port})})
    service = AssistantService(settings, embeddings=embeddings)
    service.ingest([SHIFAN_DIR])
    assert "1800元" in service.ask("见习补贴每月多少钱").text

    server.terminate()
    server.wait(timeout=10)
    with pytest.raises(VectorStoreUnavailable) as error:
        service.ask("见习补贴每月多少钱")
    assert "暂时无法连接" in str(error.value)

    server = start_chroma(data, port)  # same data, same address: the running service picks it up again
    try:
        assert "1800元" in service.ask("见习补贴每月多少钱").text
    finally:
        server.terminate()
        server.wait(timeout=10)
