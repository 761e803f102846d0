"""Client-server mode against a real `chroma run` server that the test starts and stops."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.service import AssistantService
from tests.conftest import PYTHON, SHIFAN_DIR, free_port, stop_process

CHROMA = str(Path(PYTHON).parent / "chroma")  # the environment the tests run in, wherever it is


CHROMA_START_TIMEOUT_S = 90  # a wait, not a bound: `chroma run` imports for seconds, longer on a loaded machine


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    log_path = path.with_name(path.name + "-chroma.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + CHROMA_START_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=5)
            return process
        except OSError:
            time.sleep(0.2)
    stop_process(process)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"chroma server did not start (exit code {process.returncode}):\n{tail}")


@pytest.fixture
def chroma_server(tmp_path):
    port = free_port()
    process = start_chroma(tmp_path / "chroma-data", port)
    try:
        yield port
    finally:
        stop_process(process)


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
    try:
        settings = settings_for(tmp_path / "app")
        settings = settings.model_copy(update={"chroma": settings.chroma.model_copy(update={"host": "127.0.0.1", "port": port})})
        service = AssistantService(settings, embeddings=embeddings)
        service.ingest([SHIFAN_DIR])
        assert "1800元" in service.ask("见习补贴每月多少钱").text

        stop_process(server)
        with pytest.raises(VectorStoreUnavailable) as error:
            service.ask("见习补贴每月多少钱")
        assert "暂时无法连接" in str(error.value)

        server = start_chroma(data, port)  # same data, same address: the running service picks it up again
        assert "1800元" in service.ask("见习补贴每月多少钱").text
    finally:
        stop_process(server)  # also when an assertion failed: no chroma server outlives the test
