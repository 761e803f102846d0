"""Fixtures for the LLM-backend tests: fake hung and scripted endpoints (for what a real server
cannot be made to do), and services over the fictional 示范市 index with an LLM backend.  The real
llama.cpp OpenAI-compatible server (``llama_server``) lives in tests/conftest.py.

The model is SmolLM2-135M (the only GGUF that ships in a package here). It writes
English, or nonsense when asked for Chinese, so these tests check the plumbing
(streaming, limits, timeouts, fallbacks, citation guards), never answer quality.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest


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
            except TimeoutError:
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


class ScriptedEndpoint:
    """A FAKE OpenAI-compatible endpoint that streams given tokens with a pause before each.

    It stands in for behaviours a real llama.cpp server cannot be made to show on demand: a
    trickling, overloaded server (one token a second) or a model that answers with nothing.
    """

    def __init__(self, tokens: list[str], pause_s: float) -> None:
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        endpoint = self
        self.requests = 0
        self.abandoned = 0  # streams the client closed before the last token

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, data: str) -> None:
                body = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n")
                self.wfile.flush()

            def do_POST(self):
                endpoint.requests += 1
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for token in [None, *tokens]:  # the first chunk carries only the role, as real servers send
                        time.sleep(pause_s if token is not None else 0)
                        delta = {"role": "assistant"} if token is None else {"content": token}
                        self._send(json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                                               "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}))
                    self._send("[DONE]")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    endpoint.abandoned += 1  # the client gave up on us, as it should past its deadline

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def scripted_endpoint():
    """``scripted_endpoint(tokens, pause_s)`` -> a running ScriptedEndpoint, closed after the test."""
    endpoints = []

    def factory(tokens: list[str], pause_s: float = 0.0) -> ScriptedEndpoint:
        endpoints.append(ScriptedEndpoint(tokens, pause_s))
        return endpoints[-1]

    yield factory
    for endpoint in endpoints:
        endpoint.close()


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
