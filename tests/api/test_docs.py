"""The API's description: the OpenAPI document, and the docs page in a real browser, offline and under a strict CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import assistant.api as api_package
from assistant.api.errors import ERROR_CODES

pytestmark = pytest.mark.slow

ROUTES = {("get", "/v1/models"), ("get", "/v1/models/{model}"), ("post", "/v1/chat/completions"),
          ("post", "/api/v1/ask"), ("post", "/api/v1/retrieve"), ("get", "/api/v1/documents"),
          ("post", "/api/v1/documents"), ("delete", "/api/v1/documents/{doc_id}")}
STRICT_CSP = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'"


def test_openapi_document_describes_every_route(keyed_app):
    with keyed_app.http(key=None) as http:  # readable without a key, like any public API description
        document = http.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {(m, p) for p, item in document["paths"].items() for m in item} == ROUTES
    schemes = document["components"]["securitySchemes"]
    assert {"QuestionKey", "AdminKey"} <= set(schemes) and schemes["AdminKey"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/documents"]["get"]["security"] == [{"AdminKey": []}]
    chat = document["paths"]["/v1/chat/completions"]["post"]
    assert "invalid_request" in chat["responses"]["422"]["description"]


def test_every_error_code_in_the_code_is_documented():
    source = "\n".join(path.read_text(encoding="utf-8") for path in Path(api_package.__file__).parent.glob("*.py"))
    raised = set(re.findall(r'(?:ApiError|error_response|error_body)\((\d+), "([a-z_]+)"', source))
    assert raised and {code for _, code in raised} <= set(ERROR_CODES)
    assert all(ERROR_CODES[code][0] == int(status) for status, code in raised)


def test_docs_page_works_offline_and_under_a_strict_csp(keyed_app, browser, tmp_path):
    """Every request stays on the server (no CDN), and nothing needs a script or inline style."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    page = context.new_page()
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    def with_strict_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/api/v1/docs*", with_strict_csp)
    page.goto(keyed_app.url + "/api/v1/docs")
    assert page.locator("h1").inner_text() == "就业政策问答助手 HTTP API"
    for method, path in ROUTES:
        heading = re.compile(rf"^{method.upper()}\s*{re.escape(path)}$")
        assert page.locator("h2", has_text=heading).count() == 1, (method, path)
    post = page.locator(".method.post").first
    assert post.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(9, 105, 218)"  # the stylesheet applied
    assert page.locator("#errors + p + table tr").count() == len(ERROR_CODES) + 1
    page.locator("a", has_text="POST /v1/chat/completions").click()
    assert page.locator("#post--v1-chat-completions").is_visible()
    page.screenshot(path=str(tmp_path / "api-docs.png"))  # to look at when it fails
    context.close()
    assert requests and all(url.startswith(keyed_app.url) for url in requests), requests
    assert not problems, problems  # a CSP violation or a failed load shows as a console error
