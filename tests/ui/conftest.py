"""The real served app (``python app.py``) in a subprocess, and headless system Chromium driven by Playwright
(the ``browser`` fixture, shared with tests/api, is in tests/conftest.py).

The app gets its own index and a copy of the demo corpus under a temporary
folder, so uploads and deletes never touch the repository.  Its first start
indexes that corpus, as a user's first ``make run`` does.

Figures (start-up, page ready, first answer text) are collected in ``TIMINGS``
and printed at the end of the run.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.ui.ratelimit import RATE_LIMITED
from tests.conftest import CORPUS_DIR, FIXTURES_DIR, PYTHON, REPO_ROOT, free_port, stop_process

STARTUP_TIMEOUT_S = 90
ANSWER_TIMEOUT_MS = 60_000
# the README's screenshots are refreshed only on request (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean
SCREENSHOTS = (REPO_ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS")
               else Path(os.environ.get("TMPDIR", "/tmp")) / "assistant-screenshots")

TIMINGS: dict[str, float] = {}

# The last bot bubble is final when it shows one of these (render.answer_markdown and chat.respond's errors).
ANSWER_DONE = r"共引用 \d+ 处文件原文|已收录的文件中没有找到依据|服务暂时|检索服务暂时"
SUITE_RATE_LIMIT = 10_000  # questions a minute for the session's served app


@dataclass
class ServedApp:
    url: str
    password: str
    root: Path
    process: subprocess.Popen
    log_path: Path
    launched_at: float  # time.perf_counter() just before Popen
    console_url: str = ""  # where /admin is: the app's own address, or its console port

    def __post_init__(self):
        self.console_url = self.console_url or self.url

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]


def staff_password() -> str:
    """A random password that passes the start-up strength check."""
    return "Shifan-" + secrets.token_urlsafe(12)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def copy_demo_corpus(root: Path) -> None:
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    demo = sorted(CORPUS_DIR.glob("*.txt"))
    assert demo, f"no demo corpus in {CORPUS_DIR}"
    for path in demo:
        shutil.copy2(path, root / "corpus" / path.name)


def launch_app(root: Path, password: str, extra_env: dict[str, str] | None = None) -> ServedApp:
    """``python app.py`` over ``root/corpus`` and ``root/index`` on a free port, once /healthz answers.

    Its output is appended to ``root/app.log`` (a restarted app keeps the earlier log).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update({
        "ASSISTANT_PATHS__INDEX_DIR": str(root / "index"),
        "ASSISTANT_PATHS__CORPUS_DIR": str(root / "corpus"),
        "ASSISTANT_UI__ADMIN_PASSWORD": password,
        "ASSISTANT_ANSWER__BACKEND": "extractive",  # answers without any model; the tests read its wording
        "ASSISTANT_SETTINGS_FILE": str(root / "no-settings.yaml"),  # a developer's settings.yaml must not leak in
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("ASSISTANT_PROFILE", None)
    env.update(extra_env or {})
    log_path = root / "app.log"
    launched = time.perf_counter()
    with log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen([PYTHON, "app.py"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    console_port = env.get("ASSISTANT_UI__CONSOLE_PORT")
    app = ServedApp(url, password, root, process, log_path, launched,
                    console_url=f"http://127.0.0.1:{console_port}" if console_port else "")
    deadline = launched + STARTUP_TIMEOUT_S
    while not _healthy(url):
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode} before /healthz answered:\n{app.log_tail()}")
        if time.perf_counter() > deadline:
            stop_process(process)
            pytest.fail(f"/healthz did not answer within {STARTUP_TIMEOUT_S} s:\n{app.log_tail()}")
        time.sleep(0.2)
    return app


def health(app: ServedApp) -> dict:
    with urllib.request.urlopen(f"{app.url}/healthz", timeout=10) as response:
        return json.loads(response.read())


def wait_for_indexing(app: ServedApp, timeout_s: float = 180) -> dict:
    """/healthz once start-up indexing (finished in the background on a later start) is no longer running."""
    deadline = time.monotonic() + timeout_s
    while (state := health(app))["indexing"]["state"] == "running":
        if time.monotonic() > deadline:
            pytest.fail(f"start-up indexing still running after {timeout_s} s:\n{app.log_tail()}")
        time.sleep(0.3)
    return state


@pytest.fixture(scope="session")
def served_app(tmp_path_factory) -> ServedApp:
    root = tmp_path_factory.mktemp("served")
    copy_demo_corpus(root)
    # the whole suite is one client address asking hundreds of questions: the public limit (20 a minute) would
    # refuse the later tests' questions; the limit itself is tested on the hardened app
    app = launch_app(root, staff_password(), {"ASSISTANT_UI__RATE_LIMIT_PER_MINUTE": str(SUITE_RATE_LIMIT)})
    TIMINGS["launch → /healthz, no index (s)"] = time.perf_counter() - app.launched_at
    try:
        yield app
    finally:
        stopping = time.perf_counter()
        stop_process(app.process, timeout=15)
        TIMINGS["SIGTERM → app exited (s)"] = time.perf_counter() - stopping


STAFF_USER, STAFF_PASSWORD = "wang", "Wang-Li-Shifan-2099"
LOCKED_USER = "li"  # an account tests may lock out
HARDENED_RATE_LIMIT = 5


@pytest.fixture(scope="session")
def hardened_app(tmp_path_factory) -> ServedApp:
    """The served app as deployed behind a reverse proxy on this machine: X-Forwarded-For believed from
    127.0.0.1 only (so tests act as distinct clients), the console on a port of its own, two more staff accounts
    from hashes, small limits (5 questions a minute, 4 failed logins a client, 3 an account, 15 s idle
    sessions), Gradio's temp files in its own folder.  Its corpus is the demo corpus plus a fictional notice
    carrying a form, a tracking image and links (tests/fixtures/markup)."""
    from assistant.accounts import hash_password

    root = tmp_path_factory.mktemp("hardened")
    copy_demo_corpus(root)
    shutil.copy2(FIXTURES_DIR / "markup" / "shifan_phishing.txt", root / "corpus" / "shifan_phishing.txt")
    app = launch_app(root, staff_password(), {
        "ASSISTANT_SECURITY__TRUSTED_PROXIES": '["127.0.0.1"]',
        "ASSISTANT_UI__CONSOLE_PORT": str(free_port()),
        "ASSISTANT_SECURITY__STAFF_ACCOUNTS": json.dumps({STAFF_USER: hash_password(STAFF_PASSWORD),
                                                          LOCKED_USER: hash_password("Li-Zhao-Shifan-2099")}),
        "ASSISTANT_UI__RATE_LIMIT_PER_MINUTE": str(HARDENED_RATE_LIMIT),
        "ASSISTANT_SECURITY__LOGIN_FAILURES_PER_CLIENT": "4",
        "ASSISTANT_SECURITY__LOGIN_FAILURES_PER_ACCOUNT": "3",
        "ASSISTANT_SECURITY__SESSION_IDLE_MINUTES": "0.25",
        "GRADIO_TEMP_DIR": str(root / "gradio-tmp"),
    })
    try:
        yield app
    finally:
        stop_process(app.process, timeout=15)


def console_login(console_url: str, password: str, user: str = "admin", headers: dict | None = None):
    """An httpx client logged in to the console, sending the session's CSRF token as the console page does."""
    import httpx

    http = httpx.Client(timeout=30, headers=headers or {})
    response = http.post(f"{console_url}/admin/login", data={"username": user, "password": password})
    assert response.status_code == 200, response.text
    http.headers["X-CSRF-Token"] = http.cookies["assistant-csrf"]
    return http


def console_client(console_url: str, password: str, user: str = "admin", headers: dict | None = None):
    """A gradio_client for the console API (upload, delete, …): logged in, with the session's CSRF token."""
    from gradio_client import Client

    client = Client(f"{console_url}/admin/", auth=(user, password), verbose=False, analytics_enabled=False,
                    headers=headers)
    client.headers["X-CSRF-Token"] = client.cookies["assistant-csrf"]
    return client


@pytest.fixture(scope="session")
def chat_ready(browser, served_app) -> ServedApp:  # browser first: its start-up is not counted
    """The app, once a first browser has loaded the chat right after start-up (measures 'page usable')."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served_app.url + "/")
    page.locator("#question textarea").wait_for(state="visible", timeout=30_000)
    TIMINGS["launch → chat textbox visible, no index (s)"] = time.perf_counter() - served_app.launched_at
    context.close()
    return served_app


@contextmanager
def desktop_tab(browser, locale: str = "zh-CN", **options):
    """A desktop browser tab (1280 wide) in a context of its own, closed on leaving."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale, **options)
    try:
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(chat_ready, browser):
    """A fresh desktop browser tab for the test."""
    with desktop_tab(browser) as tab:
        yield tab


# ---------------------------------------------------------------- chat helpers


def open_chat(page, url: str) -> None:
    page.goto(url + "/")
    page.locator("#question textarea").wait_for(state="visible")


def bot_messages(page):
    return page.locator('#chatbot [data-testid="bot"]')


def ask_in_chat(page, question: str, *, timing_key: str | None = None) -> str:
    """Type a question, press 发送, wait for the final answer; return the last bot bubble's text.

    With ``timing_key`` the seconds from the click to the first answer text (anything but the
    "正在查找" placeholder) are recorded in TIMINGS.
    """
    before = bot_messages(page).count()
    page.locator("#question textarea").fill(question)
    started = time.perf_counter()
    page.locator("#send").click()
    page.wait_for_function(
        """([before, placeholder]) => {
            const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
            if (bots.length <= before) return false;
            const text = bots[bots.length - 1].innerText.trim();
            return text.length > 0 && !text.includes(placeholder);
        }""",
        arg=[before, "正在查找相关政策文件"],
        timeout=ANSWER_TIMEOUT_MS,
        polling=50,
    )
    if timing_key:
        TIMINGS[timing_key] = time.perf_counter() - started
    last = bot_messages(page).nth(before)
    last.filter(has_text=re.compile(f"{ANSWER_DONE}|{re.escape(RATE_LIMITED)}")).wait_for(timeout=ANSWER_TIMEOUT_MS)
    text = last.inner_text()
    assert RATE_LIMITED not in text, "the app's rate limit refused the test's question"
    # a cited answer carries its own sources, collapsed under it; a refusal or a greeting has none
    if "共引用" in text:
        last.locator(".src-card").first.wait_for(state="attached")
    else:
        assert last.locator(".src-card").count() == 0, text
    return text


def open_sources(page, nth: int = -1):
    """Unfold the sources under an answer (the last by default); return its source cards."""
    bubble = bot_messages(page).nth(nth) if nth >= 0 else bot_messages(page).last
    details = bubble.locator("details.src-details")
    if not details.evaluate("d => d.open"):
        details.locator("summary").click()
    cards = bubble.locator(".src-card")
    cards.first.wait_for()
    return cards


def login_console(page, app: ServedApp, user: str = "admin", password: str | None = None) -> None:
    page.goto(app.console_url + "/admin/")
    # Gradio's login form, labelled in the browser's language (zh-CN: 用户名 / 密码 / 登录)
    page.get_by_label(re.compile(r"用户名|username")).fill(user)
    page.get_by_label(re.compile(r"密码|password")).fill(password or app.password)
    page.get_by_role("button", name=re.compile(r"^(登录|Login)$")).click()
    page.locator("#upload-button").wait_for(state="visible")


def choose_files(page, *paths: Path) -> None:
    """Pick files in the console's upload widget, as staff do, and wait until Gradio holds them: its upload
    request answered 200 and each file listed in the widget (a row labelled with the file's name).

    The full name shows as one text only while the upload runs ("Uploading 1 file... 示范市政策问答.xlsx"); the
    row that stays splits it into stem and extension.  A wait for that text missed a small file's upload
    that ended before the wait began (seen under heavy load), so this waits for the row.
    """
    with page.expect_request(lambda r: r.method == "POST" and "/gradio_api/upload" in r.url,
                             timeout=60_000) as sent:
        page.locator("#upload-files input[type=file]").set_input_files([str(path) for path in paths])
    response = sent.value.response()
    assert response is not None and response.ok, f"upload refused: {response and response.status} {response and response.text()}"
    for path in paths:
        page.locator("#upload-files").get_by_label(path.name, exact=True).wait_for(timeout=60_000)


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "browser suite timings")
        for key, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{key}: {seconds:.2f}")


@pytest.fixture(scope="session")
def regulation_app(tmp_path_factory) -> tuple[ServedApp, dict]:
    """The served app over the fictional 示范市就业见习管理办法 set as a wrapped PDF of several pages, and what
    each article should be (section path, first page, text: ``make_regulation_pdf``)."""
    from tests.conftest import make_regulation_pdf

    root = tmp_path_factory.mktemp("regulation")
    expected = make_regulation_pdf(root / "corpus" / "shifan_jianxi.pdf", lines_per_page=6)
    app = launch_app(root, staff_password())
    try:
        yield app, expected
    finally:
        stop_process(app.process, timeout=15)


def remove_failed_upload(page, typed: str, option: str) -> None:
    """Remove a failed upload's record in the console's 上传失败的文件 tab (pick it by typing, then 移除)."""
    choice = page.locator("#failed-choice input")
    choice.click()
    choice.fill(typed)
    page.get_by_role("option", name=re.compile(option)).click()
    page.locator("#failed-remove").click()
    page.locator("#failed-result", has_text="已移除该记录").wait_for()

