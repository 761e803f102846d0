"""App-wide defences, as ASGI middleware around every route (the chat, the console, /healthz, /documents and
any router added to the app later).

Outermost first:

* ``SecurityHeaders``: ``X-Frame-Options: DENY`` and a Content-Security-Policy (``frame-ancestors 'none'``,
  scripts only from this origin or carrying the page's nonce, connections only to this origin), ``nosniff``,
  ``Referrer-Policy``; CORS headers for an origin that is not allowed are removed whatever set them.
* ``BodyLimit``: a request body over ``security.max_body_kb`` (console uploads: ``ui.max_upload_mb`` ×
  ``ui.max_upload_files``) is answered 413 before it is read.
* Starlette's ``CORSMiddleware`` with ``security.allowed_origins`` only (it also stops Gradio from adding its
  own, which grant any origin when the app is reached by a host name).
* ``OriginCheck``: a state-changing request (not GET/HEAD/OPTIONS) made by a browser from another origin or
  site (``Origin``, ``Sec-Fetch-Site``) is refused.  Requests without either header are not from a browser
  and cannot be forged by a web page.
* ``ConsoleGuard`` (the console's path): login throttling and audit, sessions that expire, cookies
  ``SameSite=Strict`` on the console's path, a CSRF token on every state-changing call, logout by POST.
* ``GradioGuard``: the public upload route and server-side URL fetching closed, malformed queue calls
  answered 4xx, and a session's answer stream readable only by the client that asked.

A router added later needs nothing: these wrap it.  Its state-changing routes get the origin check and the
body limit; a route authenticated by an ``Authorization`` header needs no CSRF token (a page cannot make a
browser send that header), but must never also accept the console's cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.audit import AuditLog
from assistant.ui.ratelimit import LoginThrottle

log = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_COOKIE = "assistant-csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = re.compile(r"^access-token(?:-unsecure)?-")  # Gradio's login cookies

TOO_LARGE = "请求内容过大(上限 {limit}),已拒绝。"
FOREIGN_ORIGIN = "拒绝来自其他网站的请求。"
CSRF_MISSING = "请求缺少有效的安全令牌,请刷新页面后重试。"
NOT_LOGGED_IN = "请先登录知识库管理。"
LOGIN_THROTTLED = "登录失败次数过多,请 {minutes} 分钟后再试。如忘记密码,请联系系统管理员。"
LOGOUT_BY_POST = "请使用页面上的“退出登录”按钮退出。"
NO_UPLOADS = "本服务不接受文件上传。"
NOT_ALLOWED = "不允许的请求。"
BAD_CALL = "请求格式不正确。"
NOT_YOUR_SESSION = "该会话不属于当前客户端。"


def _json(status: int, detail: str, headers: dict | None = None) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def request_origin(scope: Scope) -> str:
    """The origin a browser used for this request: scheme (from a trusted proxy's X-Forwarded-Proto, applied by
    uvicorn) and the Host header."""
    host = Headers(scope=scope).get("host", "")
    return f"{scope.get('scheme', 'http')}://{host}".lower()


# ---------------------------------------------------------------- headers


def content_security_policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        # 'unsafe-eval': Gradio 6's HTML component renders its template through Function(), without which the
        # sources panel stays empty.  Markup that reaches a page still cannot run script: an inline script or
        # handler needs the nonce, a script file must come from this origin
        f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",  # Svelte and Gradio's themes set styles inline
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
    ))


_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)
_HEAD_TAG = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)


class SecurityHeaders:
    """Framing, CSP and related headers on every response; a nonce on every script tag of an HTML page.

    HTML pages are asked for uncompressed (``Accept-Encoding`` dropped on navigations) so the nonce can be
    written into them.  ``head_html`` maps a path prefix to markup put at the start of the ``<head>`` of its
    pages (the console's script, which must run before Gradio's own)."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str], head_html: dict[str, str] | None = None):
        self.app = app
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}
        self.head_html = sorted((head_html or {}).items(), key=lambda item: len(item[0]), reverse=True)

    def _head_for(self, path: str) -> bytes:
        for prefix, markup in self.head_html:
            if path == prefix or path.startswith(prefix + "/"):
                return markup.encode()
        return b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = (request_headers.get("origin") or "").rstrip("/").lower()
        if scope["method"] == "GET" and "text/html" in request_headers.get("accept", ""):
            scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k != b"accept-encoding"])
        nonce = secrets.token_urlsafe(16)
        start: Message | None = None
        html_parts: list[bytes] | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal start, html_parts
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (
                    ("x-frame-options", "DENY"),
                    ("content-security-policy", content_security_policy(nonce)),
                    ("x-content-type-options", "nosniff"),
                    ("referrer-policy", "same-origin"),
                    ("cross-origin-opener-policy", "same-origin"),
                    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
                ):
                    headers[name] = value
                if origin not in self.allowed_origins:
                    for name in ("access-control-allow-origin", "access-control-allow-credentials"):
                        del headers[name]
                if "content-disposition" in headers:  # a file handed out (an uploaded HTML document): never run
                    headers["content-security-policy"] += "; sandbox"
                elif headers.get("content-type", "").startswith("text/html") and "content-encoding" not in headers:
                    start, html_parts = message, []  # held until the page is complete
                    return
                await send(message)
                return
            if html_parts is not None and message["type"] == "http.response.body":
                html_parts.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(html_parts)
                head = self._head_for(scope["path"])
                if head:
                    body = _HEAD_TAG.sub(lambda m: m.group(0) + head, body, count=1)
                body = _SCRIPT_TAG.sub(f'<script nonce="{nonce}"'.encode(), body)
                assert start is not None
                MutableHeaders(scope=start)["content-length"] = str(len(body))
                html_parts = None
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------- body size


class BodyLimit:
    """A body over its path's limit is answered 413: at once from Content-Length, or as soon as a chunked body
    passes the limit (it is read into memory only up to the limit)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = Headers(scope=scope)
        too_large = _json(413, TOO_LARGE.format(limit=_size(limit)))
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                await too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body"):
                break
        await self.app(scope, replay(b"".join(chunks), receive), send)


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit // 1024} KB"


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that hands ``body`` over once, then passes through (disconnects)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


# ---------------------------------------------------------------- cross-site requests


class OriginCheck:
    """State-changing requests from a browser on another origin (or another host of the same site) are refused."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]):
        self.app = app
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and not self.allowed(scope):
            await _json(403, FOREIGN_ORIGIN)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def allowed(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        fetch_site = headers.get("sec-fetch-site")
        if origin is not None:
            origin = origin.rstrip("/").lower()
            return origin == request_origin(scope) or origin in self.allowed_origins
        return fetch_site in (None, "same-origin", "none")


# ---------------------------------------------------------------- the staff console


@dataclass
class Session:
    user: str
    client: str
    created: float
    last_active: float


class ConsoleSessions:
    """Console logins: Gradio issues a token at login; it is honoured only while its session here is live.

    A session ends ``max_s`` after login, or ``idle_s`` after the last action (a state-changing call or a page
    load; Gradio's heartbeats do not count).  Its CSRF token is an HMAC of the session token under a secret of
    this process, so a cookie set by another host of the same site cannot supply a valid one.
    """

    def __init__(self, throttle: LoginThrottle, audit: AuditLog, max_s: float, idle_s: float, clock=time.monotonic):
        self.throttle = throttle
        self.audit = audit
        self.max_s = max_s
        self.idle_s = idle_s
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.forget_token: Callable[[str], None] = lambda token: None  # set once Gradio's console app exists

    def csrf_token(self, session_token: str) -> str:
        return hmac.new(self._secret, session_token.encode(), hashlib.sha256).hexdigest()

    def start(self, token: str, user: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            self._sessions[token] = Session(user, client, now, now)

    def live(self, token: str, activity: bool) -> Session | None:
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.created <= self.max_s and now - session.last_active <= self.idle_s:
                if activity:
                    session.last_active = now
                return session
            del self._sessions[token]
        self.forget_token(token)
        self.audit.record("session_expired", actor=session.user, client=session.client)
        return None

    def end(self, token: str) -> Session | None:
        with self._lock:
            session = self._sessions.pop(token, None)
        self.forget_token(token)
        return session


class ConsoleGuard:
    """Everything under the console's path (``prefix``), in front of Gradio's own login.

    * ``POST {prefix}/login``: refused (429) while the client or the account is throttled; every outcome is
      audited; a successful login starts a session, its cookies are rewritten (``SameSite=Strict``,
      ``Path={prefix}``, ``Max-Age``) and a CSRF cookie is added.
    * A login cookie whose session is not live is withheld from Gradio, which then asks for a login.
    * Every other state-changing call needs a live session and its CSRF token (``X-CSRF-Token`` header, the
      value of the CSRF cookie, which the console page's script copies), else 401/403.
    * ``POST {prefix}/logout`` (with the token) ends the session; ``GET {prefix}/logout`` is refused.
    """

    def __init__(self, app: ASGIApp, *, prefix: str, sessions: ConsoleSessions):
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.sessions = sessions

    def _within(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._within(scope["path"]):
            await self.app(scope, receive, send)
            return
        path = scope["path"][len(self.prefix):].rstrip("/") or "/"
        method = scope["method"]
        if path == "/login" and method == "POST":
            await self._login(scope, receive, send)
            return
        token, scope = self._session_token(scope, activity=method not in SAFE_METHODS or path == "/")
        if path == "/logout" and method != "POST":
            await _json(405, LOGOUT_BY_POST, {"allow": "POST"})(scope, receive, send)
            return
        if method not in SAFE_METHODS:
            if token is None:
                await _json(401, NOT_LOGGED_IN)(scope, receive, send)
                return
            sent = Headers(scope=scope).get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), self.sessions.csrf_token(token).encode()):
                await _json(403, CSRF_MISSING)(scope, receive, send)
                return
        if path == "/logout":
            await self._logout(scope, receive, send, token)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, no_store)

    def _session_token(self, scope: Scope, activity: bool) -> tuple[str | None, Scope]:
        """The request's live session token, and the scope with every other login cookie removed."""
        header = Headers(scope=scope).get("cookie")
        if not header:
            return None, scope
        kept, token = [], None
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if SESSION_COOKIE.match(name):
                if self.sessions.live(value, activity) is None:
                    continue  # unknown or expired: Gradio must not see it
                token = value
            kept.append(part.strip())
        headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
        if kept:
            headers.append((b"cookie", "; ".join(kept).encode("latin-1")))
        return token, dict(scope, headers=headers)

    def _cookie(self, name: str, value: str, scope: Scope, *, http_only: bool = True, max_age: int | None = None) -> str:
        parts = [f"{name}={value}", f"Path={self.prefix}", "SameSite=Strict",
                 f"Max-Age={int(self.sessions.max_s) if max_age is None else max_age}"]
        if http_only:
            parts.append("HttpOnly")
        if scope.get("scheme") == "https":
            parts.append("Secure")
        return "; ".join(parts)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        request = Request(scope, replay(body, receive))
        try:
            account = str((await request.form()).get("username") or "").strip()
        except Exception:  # noqa: BLE001 - a malformed form is Gradio's to refuse
            account = ""
        client = scope_client(scope)
        throttle, audit = self.sessions.throttle, self.sessions.audit
        wait = throttle.retry_after(client, account)
        if wait:
            audit.record("login", actor=account, client=client, outcome="throttled")
            minutes = max(1, -(-wait // 60))
            await _json(429, LOGIN_THROTTLED.format(minutes=minutes), {"retry-after": str(wait)})(scope, receive, send)
            return
        async def settle(message: Message) -> None:
            """Count and audit the outcome before the client hears it."""
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self._start_session(message, scope, account, client)
                    throttle.succeeded(account)
                    audit.record("login", actor=account, client=client)
                elif message["status"] in (400, 401):
                    locked = throttle.failed(client, account)
                    audit.record("login", actor=account, client=client, outcome="locked" if locked else "failed")
            await send(message)

        await self.app(scope, replay(body, receive), settle)

    def _start_session(self, start: Message, scope: Scope, user: str, client: str) -> None:
        """Register the token Gradio issued and rewrite its cookies; add the CSRF cookie."""
        headers = MutableHeaders(scope=start)
        cookies = headers.getlist("set-cookie")
        del headers["set-cookie"]
        token = None
        for cookie in cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if SESSION_COOKIE.match(name):
                token = value
                headers.append("set-cookie", self._cookie(name, value, scope))
            else:
                headers.append("set-cookie", cookie)
        if token is not None:
            self.sessions.start(token, user, client)
            headers.append("set-cookie", self._cookie(CSRF_COOKIE, self.sessions.csrf_token(token), scope,
                                                      http_only=False))

    async def _logout(self, scope: Scope, receive: Receive, send: Send, token: str) -> None:
        session = self.sessions.end(token)
        response = Response(status_code=204)
        header = Headers(scope=scope).get("cookie") or ""
        names = {p.strip().partition("=")[0] for p in header.split(";") if SESSION_COOKIE.match(p.strip())}
        for name in names | {CSRF_COOKIE}:
            response.headers.append("set-cookie", self._cookie(name, "", scope, max_age=0))
        if session is not None:
            self.sessions.audit.record("logout", actor=session.user, client=scope_client(scope))
        await response(scope, receive, send)


def locale_script(locale: str = "zh-CN") -> str:
    """Before Gradio reads the browser's language: report ``locale``, so Gradio's own strings (buttons, the login
    form, upload and error messages) come from its Chinese translation whatever the browser is set to."""
    return f"""<script>
(() => {{
  const languages = ["{locale}", "zh"];
  try {{
    Object.defineProperty(Navigator.prototype, "language", {{ get: () => languages[0], configurable: true }});
    Object.defineProperty(Navigator.prototype, "languages", {{ get: () => languages, configurable: true }});
  }} catch (e) {{}}
  document.documentElement.setAttribute("lang", languages[0]);
}})();
</script>"""


def console_script(prefix: str) -> str:
    """The console page's script: send the CSRF cookie's value with every state-changing same-origin request
    (Gradio's fetch and XHR calls), and log out by POST from the 退出登录 button."""
    return f"""<script>
(() => {{
  const token = () => (document.cookie.match(/(?:^|; ){CSRF_COOKIE}=([^;]+)/) || [])[1] || "";
  const unsafe = (method) => !/^(GET|HEAD|OPTIONS)$/i.test(method || "GET");
  const sameOrigin = (url) => {{ try {{ return new URL(url, location.href).origin === location.origin; }} catch (e) {{ return false; }} }};
  const pageFetch = window.fetch.bind(window);
  window.fetch = (input, init = {{}}) => {{
    const isRequest = input instanceof Request;
    const method = init.method || (isRequest ? input.method : "GET");
    if (unsafe(method) && sameOrigin(isRequest ? input.url : String(input)) && token()) {{
      const headers = new Headers(init.headers || (isRequest ? input.headers : undefined));
      headers.set("X-CSRF-Token", token());
      init = {{ ...init, headers }};
    }}
    return pageFetch(input, init);
  }};
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {{
    this.csrfNeeded = unsafe(method) && sameOrigin(url);
    return open.call(this, method, url, ...rest);
  }};
  XMLHttpRequest.prototype.send = function (body) {{
    if (this.csrfNeeded && token()) this.setRequestHeader("X-CSRF-Token", token());
    return send.call(this, body);
  }};
  document.addEventListener("click", async (event) => {{
    if (!event.target.closest || !event.target.closest("#logout-button")) return;
    event.preventDefault();
    await window.fetch("{prefix}/logout", {{ method: "POST" }});
    location.assign("{prefix}/");
  }});
}})();
</script>"""


# ---------------------------------------------------------------- Gradio's routes


class GradioGuard:
    """Gradio's routes that need no public use are closed; its queue calls are checked before Gradio sees them.

    ``apps`` maps each Gradio mount path ("" for the chat) to its Blocks and whether it takes uploads.
    """

    def __init__(self, app: ASGIApp, apps: dict[str, tuple[object, bool]], client_of: Callable[[Scope], str],
                 max_sessions: int = 100_000):
        self.app = app
        self.apps = sorted(apps.items(), key=lambda item: len(item[0]), reverse=True)
        self.client_of = client_of
        self._owners: OrderedDict[str, str] = OrderedDict()  # session hash -> client that joined with it
        self._max_sessions = max_sessions
        self._lock = threading.Lock()

    def _mount(self, path: str) -> tuple[str, object, bool, str] | None:
        for prefix, (blocks, uploads) in self.apps:
            if path.startswith(prefix + "/gradio_api/"):
                return prefix, blocks, uploads, path[len(prefix + "/gradio_api"):]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mount = self._mount(scope["path"])
        if mount is None:
            await self.app(scope, receive, send)
            return
        _, blocks, uploads, route = mount
        method = scope["method"]
        if route.startswith("/upload") and not uploads:
            await _json(403, NO_UPLOADS)(scope, receive, send)
            return
        if (route.startswith("/file=") and (not uploads or re.match(r"/file=\w+:", route))) or route.startswith("/proxy="):
            await _json(403, NOT_ALLOWED)(scope, receive, send)  # no files to give out; never fetch a URL
            return
        if route.startswith("/token"):
            await _json(403, NOT_ALLOWED)(scope, receive, send)  # the login cookie is HttpOnly: scripts never need it
            return
        if method == "POST" and (route.rstrip("/") == "/queue/join" or re.match(r"/(call|call/v2|run|api)/[^/]+/?$", route)):
            body = await read_body(receive)
            problem = self._call_problem(blocks, route, body, scope)
            if problem:
                await _json(problem[0], problem[1])(scope, receive, send)
                return
            receive = replay(body, receive)
        elif route.rstrip("/") == "/queue/data" and method == "GET":
            session_hash = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash") or [""])[0]
            with self._lock:
                owner = self._owners.get(session_hash)
            if owner is not None and owner != self.client_of(scope):
                await _json(403, NOT_YOUR_SESSION)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _call_problem(self, blocks, route: str, body: bytes, scope: Scope) -> tuple[int, str] | None:
        """Why a queue or API call would make Gradio fail with a 500 (or lets a client join another's session)."""
        try:
            payload = json.loads(body or b"null")
        except (ValueError, RecursionError):
            return 422, BAD_CALL
        if not isinstance(payload, dict) or not isinstance(payload.get("data", []), list):
            return 422, BAD_CALL
        fns = getattr(blocks, "fns", {})
        if route.rstrip("/") == "/queue/join":
            fn_index = payload.get("fn_index")
            if fn_index is not None and (not isinstance(fn_index, int) or isinstance(fn_index, bool) or fn_index not in fns):
                return 422, BAD_CALL
            session_hash = payload.get("session_hash")
            if session_hash is not None:
                if not isinstance(session_hash, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", session_hash):
                    return 422, BAD_CALL
                return self._claim(session_hash, self.client_of(scope))
            return None
        api_name = route.strip("/").split("/")[-1]
        if api_name not in {fn.api_name for fn in fns.values() if isinstance(getattr(fn, "api_name", None), str)}:
            return 404, "没有这个接口。"
        return None

    def _claim(self, session_hash: str, client: str) -> tuple[int, str] | None:
        with self._lock:
            owner = self._owners.get(session_hash)
            if owner is not None and owner != client:
                return 403, NOT_YOUR_SESSION
            self._owners[session_hash] = client
            self._owners.move_to_end(session_hash)
            while len(self._owners) > self._max_sessions:
                self._owners.popitem(last=False)
        return None


def scope_client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def trusted_proxies(settings) -> list[str]:
    """The proxy addresses whose X-Forwarded-For uvicorn believes: ``security.trusted_proxies``, or this machine
    when only the deprecated ``ui.trust_proxy_headers`` is set."""
    configured = [p for p in settings.security.trusted_proxies if p]  # checked as addresses by the settings
    if not configured and settings.ui.trust_proxy_headers:
        return ["127.0.0.1", "::1"]
    return configured
