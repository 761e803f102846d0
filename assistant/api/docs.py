"""The API's description: ``/api/v1/openapi.json`` and a docs page rendered from it.

FastAPI's Swagger UI and ReDoc load their scripts from a CDN, which a server without internet (or a strict
Content-Security-Policy) cannot use.  This page is plain HTML written on the server, with a stylesheet from
the same server and no script, so it works offline and under any CSP.
"""

from __future__ import annotations

import html
import json

from fastapi import APIRouter, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response

from assistant.api.errors import ERROR_CODES, api_route_class
from assistant.api.keys import no_guard

TITLE = "就业政策问答助手 HTTP API"
DESCRIPTION = """只依据已收录的政策文件回答,并注明出处;文件没有写的,明确说明并建议拨打 12333。

* OpenAI 兼容:`/v1/models`、`/v1/chat/completions`(可流式),可直接接入 openai 客户端、LangChain、Dify、Open WebUI。
* REST:`/api/v1/ask`、`/api/v1/retrieve`(与命令行 `--json` 输出相同),`/api/v1/documents`(管理员密钥)。
* 密钥:`Authorization: Bearer <密钥>`。错误统一为 `{"error": {"code", "message", "type", "param"}}`,`message` 为中文说明,`code` 稳定不变。"""

CSS = """body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:960px;margin:0 auto;padding:1.5em;
color:#1f2328;line-height:1.6}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-top:1px solid #d0d7de;
padding-top:1em}h3{font-size:1em;margin-bottom:.3em}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;
background:#f6f8fa;border-radius:4px}code{padding:.1em .3em}pre{padding:.8em;overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.3em 0 1em}th,td{border:1px solid #d0d7de;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f6f8fa}.method{display:inline-block;min-width:4.5em;
font-weight:600;color:#fff;border-radius:4px;padding:0 .4em;margin-right:.4em;text-align:center}
.get{background:#1a7f37}.post{background:#0969da}.delete{background:#cf222e}.auth{color:#9a6700}
nav li{margin:.15em 0}"""


def openapi_document(routes, version: str = "1") -> dict:
    return get_openapi(title=TITLE, version=version, description=DESCRIPTION, routes=routes)


# ---------------------------------------------------------------- the page


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Escaped text where `backticks` become <code>."""
    parts = _e(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _paragraphs(text: str) -> str:
    blocks = []
    for block in (text or "").strip().split("\n\n"):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and all(line.startswith("* ") for line in lines):
            blocks.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>")
        elif lines:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    return "".join(blocks)


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _type(schema: dict) -> str:
    """A schema as a short HTML type: ``string``, ``integer | null``, ``ChatMessage[]`` (linked)."""
    if name := _ref_name(schema):
        return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(_e(json.dumps(v, ensure_ascii=False)) for v in schema["enum"])
    if "const" in schema:
        return _e(json.dumps(schema["const"], ensure_ascii=False))
    kind = schema.get("type", "any")
    if kind == "array":
        return _type(schema.get("items", {})) + "[]"
    if schema.get("format") == "binary":
        return "文件"
    return _e(kind)


def _limits(schema: dict) -> str:
    notes = []
    for key, label in (("minLength", "最少 {} 字"), ("maxLength", "最多 {} 字"), ("minItems", "至少 {} 条"),
                       ("maxItems", "最多 {} 条"), ("minimum", "≥ {}"), ("maximum", "≤ {}"), ("pattern", "格式 {}")):
        if key in schema:
            notes.append(label.format(schema[key]))
    for option in schema.get("anyOf", []):
        notes.append(_limits(option))
    if "default" in schema and schema["default"] not in (None, [], ""):
        notes.append(f"默认 {json.dumps(schema['default'], ensure_ascii=False)}")
    return ";".join(n for n in notes if n)


def _fields(schema: dict) -> str:
    properties = schema.get("properties", {})
    if not properties:
        return ""
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code>{' <b>必填</b>' if name in required else ''}</td><td>{_type(prop)}</td>"
        f"<td>{_inline(prop.get('description', ''))}{'<br>' if prop.get('description') and _limits(prop) else ''}"
        f"{_e(_limits(prop))}</td></tr>"
        for name, prop in properties.items())
    return f"<table><tr><th>字段</th><th>类型</th><th>说明</th></tr>{rows}</table>"


def _operation(path: str, method: str, operation: dict, schemes: dict, components: dict) -> str:
    anchor = f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")
    out = [f'<h2 id="{_e(anchor)}"><span class="method {method}">{method.upper()}</span><code>{_e(path)}</code></h2>',
           f"<p>{_inline(operation.get('summary', ''))}</p>", _paragraphs(operation.get("description", ""))]
    for requirement in operation.get("security", []):
        for name in requirement:
            out.append(f'<p class="auth">🔑 {_inline(schemes.get(name, {}).get("description", name))}</p>')
    parameters = operation.get("parameters", [])
    if parameters:
        rows = "".join(f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p.get('in', ''))}</td>"
                       f"<td>{_type(p.get('schema', {}))}</td></tr>" for p in parameters)
        out.append(f"<h3>参数</h3><table><tr><th>名称</th><th>位置</th><th>类型</th></tr>{rows}</table>")
    for content_type, body in operation.get("requestBody", {}).get("content", {}).items():
        body_schema = body.get("schema", {})
        name = _ref_name(body_schema)
        out.append(f"<h3>请求体 <code>{_e(content_type)}</code>:{_type(body_schema)}</h3>"
                   + _fields(components.get(name, body_schema) if name else body_schema))
    rows = "".join(f"<tr><td>{_e(status)}</td><td>{_inline(response.get('description', ''))}</td><td>"
                   + ", ".join(_type(c.get("schema", {})) for c in response.get("content", {}).values())
                   + "</td></tr>" for status, response in operation.get("responses", {}).items())
    out.append(f"<h3>响应</h3><table><tr><th>状态</th><th>说明</th><th>内容</th></tr>{rows}</table>")
    return "".join(out)


def render_docs(schema: dict, base_url: str) -> str:
    schemes = schema.get("components", {}).get("securitySchemes", {})
    operations = [(path, method, op) for path, item in schema.get("paths", {}).items() for method, op in item.items()]
    components = schema.get("components", {}).get("schemas", {})
    nav = "".join(f'<li><a href="#{_e(f"{m}-{p}".replace("/", "-").replace("{", "").replace("}", ""))}">'
                  f"{_e(m.upper())} {_e(p)}</a> {_inline(op.get('summary', ''))}</li>" for p, m, op in operations)
    codes = "".join(f"<tr><td><code>{_e(code)}</code></td><td>{status or '—'}</td><td>{_inline(meaning)}</td></tr>"
                    for code, (status, meaning) in ERROR_CODES.items())
    example = (f"curl {base_url}/v1/chat/completions -H 'Content-Type: application/json' \\\n"
               "  -H 'Authorization: Bearer <密钥>' \\\n"
               "  -d '{\"model\": \"<模型 id>\", \"messages\": [{\"role\": \"user\", \"content\": \"失业保险金能领多久?\"}]}'")
    models = "".join(f'<h3 id="schema-{_e(name)}">{_e(name)}</h3>{_paragraphs(s.get("description", ""))}{_fields(s)}'
                     for name, s in sorted(components.items()))
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(TITLE)}</title>'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            '<link rel="stylesheet" href="/api/v1/docs.css"></head><body>'
            f"<h1>{_e(TITLE)}</h1>{_paragraphs(schema.get('info', {}).get('description', ''))}"
            f'<p>机器可读的描述:<a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a>(OpenAPI 3)</p>'
            f'<pre>{_e(example)}</pre><nav><ul>{nav}<li><a href="#errors">错误代码</a></li></ul></nav>'
            + "".join(_operation(p, m, op, schemes, components) for p, m, op in operations)
            + '<h2 id="errors">错误代码</h2><p>错误响应的 <code>error.code</code>,程序据此判断;'
              '<code>error.message</code> 是给人看的中文说明。</p>'
            + f"<table><tr><th>code</th><th>状态</th><th>含义</th></tr>{codes}</table>"
            + f'<h2 id="schemas">数据结构</h2>{models}</body></html>')


def build_docs_router(api_routes) -> APIRouter:
    """``api_routes``: the routes to describe (a callable, so the document includes every router it lists)."""
    router = APIRouter(prefix="/api/v1", route_class=api_route_class(no_guard), include_in_schema=False)
    cache: dict[str, dict] = {}

    def document() -> dict:
        if "schema" not in cache:
            cache["schema"] = openapi_document(api_routes())
        return cache["schema"]

    @router.get("/openapi.json")
    async def openapi_json():
        return JSONResponse(document())

    @router.get("/docs")
    async def docs(request: Request):
        return HTMLResponse(render_docs(document(), str(request.base_url).rstrip("/")))

    @router.get("/docs.css")
    async def docs_css():
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    return router
