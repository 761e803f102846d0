"""The HTTP API: the real served app (``python app.py`` in a subprocess, tests/ui/conftest.py ``launch_app``)
with keys set or not, and an in-process app of the API routes alone over the 示范市 index for the checks
that need other settings (limits, keys) without another process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.ui.conftest import ServedApp, copy_demo_corpus, launch_app, staff_password
from tests.conftest import stop_process

QUESTION_KEY = "qk-" + secrets.token_urlsafe(24)
ADMIN_KEY = "ak-" + secrets.token_urlsafe(24)
MODEL_ID = "employment-policy-assistant"  # the default of api.model_id
UPLOAD_MB = 1  # ui.max_upload_mb of the keyed app: one file's cap
UPLOAD_REQUEST_MB = 3  # api.max_upload_request_mb of the keyed app
OPEN_RATE_LIMIT = 6  # ui.rate_limit_per_minute of the open app (per client address)


@dataclass
class ApiApp:
    app: ServedApp

    @property
    def url(self) -> str:
        return self.app.url

    @property
    def v1(self) -> str:
        return self.app.url + "/v1"

    def http(self, key: str | None = QUESTION_KEY, **options) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.app.url, headers=headers, timeout=120, **options)


def serve_api_app(tmp_path_factory, name: str, env: dict[str, str]):
    """Yield an ApiApp: ``app.py`` over a copy of the demo corpus with these settings, stopped afterwards."""
    root = tmp_path_factory.mktemp(name)
    copy_demo_corpus(root)
    app = launch_app(root, staff_password(), env)
    try:
        yield ApiApp(app)
    finally:
        stop_process(app.process, timeout=15)


@pytest.fixture(scope="session")
def keyed_app(tmp_path_factory):
    """The served app with question keys and admin keys set, over a copy of the demo corpus."""
    yield from serve_api_app(tmp_path_factory, "api-keyed", {
        "ASSISTANT_API__KEYS": QUESTION_KEY,
        "ASSISTANT_API__ADMIN_KEYS": f"{ADMIN_KEY},another-admin-key",
        "ASSISTANT_API__KEY_RATE_LIMIT_PER_MINUTE": "1000",
        "ASSISTANT_UI__MAX_UPLOAD_MB": str(UPLOAD_MB),
        "ASSISTANT_API__MAX_UPLOAD_REQUEST_MB": str(UPLOAD_REQUEST_MB),
        "ASSISTANT_INGEST__LOCAL_PLACES": '["示范市"]',  # fictional: no gazetteer knows it, the region filter must
    })


@pytest.fixture(scope="session")
def open_app(tmp_path_factory):
    """The served app with no key set: question routes open (per-address limit), document routes off."""
    yield from serve_api_app(tmp_path_factory, "api-open", {"ASSISTANT_UI__RATE_LIMIT_PER_MINUTE": str(OPEN_RATE_LIMIT)})


@pytest.fixture(scope="session")
def llm_app(tmp_path_factory, llama_server):
    """The served app answering with the real llama.cpp server (SmolLM2-135M) as its OpenAI-compatible LLM.

    One context chunk and 32 tokens, as tests/answer/test_llm_backends.py: prompt evaluation is slow here.
    """
    yield from serve_api_app(tmp_path_factory, "api-llm", {
        "ASSISTANT_ANSWER__BACKEND": "openai", "ASSISTANT_ANSWER__OPENAI_BASE_URL": llama_server.api,
        "ASSISTANT_ANSWER__MAX_TOKENS": "32", "ASSISTANT_ANSWER__MAX_CONTEXT_CHUNKS": "1",
        "ASSISTANT_ANSWER__TEMPERATURE": "0", "ASSISTANT_ANSWER__LLM_DEADLINE_S": "240",
        "ASSISTANT_ANSWER__OPENAI_TIMEOUT_S": "120",
    })


@pytest.fixture
def api_client_for(shifan_service, embeddings):
    """``api_client_for(api=..., ui=..., answer=...)`` -> a TestClient of the API routes alone, over the session's
    示范市 index (opened again, nothing re-ingested) with those settings sections replaced; its service is
    ``client.app_service``."""
    from assistant.api import build_api_router
    from assistant.service import AssistantService

    clients = []

    def factory(**sections) -> TestClient:
        base = shifan_service.settings
        # validated, not model_copy'd: "k1,k2" must be parsed as the environment variable is
        settings = base.model_copy(update={name: type(getattr(base, name)).model_validate(
            {**getattr(base, name).model_dump(), **values}) for name, values in sections.items()})
        service = AssistantService(settings, embeddings=embeddings)
        app = FastAPI()
        app.include_router(build_api_router(service))
        client = TestClient(app, raise_server_exceptions=False)
        client.app_service = service  # for tests that make the service fail
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()
