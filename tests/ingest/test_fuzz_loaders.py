"""Fuzz the loaders with mutated real files: every input either loads or is refused with an IngestError.

Bounded for CI (FUZZ_EXAMPLES, default 60 per format); raise it for a longer local run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.loaders import load_file
from assistant.ingest.models import IngestError
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
from tests.conftest import make_docx, pdf_bytes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
CAPS = IngestSettings()


def _seeds(tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("fuzz-seeds")
    docx = make_docx(root / "a.docx", [("heading", "示范市见习办法", 1), ("p", "第一条 见习补贴每人每月1800元。"),
                                        ("table", [["项目", "标准"], ["见习补贴", "1800元"]])])
    html = ("<html><head><title>示范市通知</title><style>p{}</style></head><body><nav>首页</nav>"
            "<div class='content'><p>第一条 见习补贴每人每月1800元。</p></div><footer>版权所有</footer></body></html>")
    return {
        ".pdf": pdf_bytes([["第一条 见习补贴每人每月1800元。", "第二条 见习期限3至12个月。"]]),
        ".docx": docx.read_bytes(),
        ".html": html.encode("utf-8"),
        ".txt": "示范市就业见习办法\n第一条 見習補貼每人每月1800元。\n問:多久?\n答:12个月。".encode("gb18030"),
    }


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return _seeds(tmp_path_factory)


mutation = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from(["flip", "cut", "insert", "zero"]), st.binary(min_size=1, max_size=32)),
    min_size=1, max_size=6,
)


def _mutate(data: bytes, steps) -> bytes:
    buf = bytearray(data)
    for where, kind, blob in steps:
        if not buf:
            break
        i = int(where * (len(buf) - 1))
        if kind == "flip":
            buf[i] ^= blob[0] or 1
        elif kind == "cut":
            del buf[i : i + len(blob) * 8]
        elif kind == "insert":
            buf[i:i] = blob
        else:
            buf[i : i + len(blob)] = bytes(len(blob))
    return bytes(buf)


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".pdf", ".docx", ".html", ".txt"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=mutation)
def test_mutated_files_load_or_are_refused(tmp_path, seeds, ext, steps):
    path = tmp_path / f"fuzz{ext}"
    path.write_bytes(_mutate(seeds[ext], steps))
    try:
        load_file(path, path.name, CAPS)
        process_file(SourceFile(path, path.name), CAPS)  # cleaning and chunking must survive what loaded
    except IngestError as error:
        assert error.code and error.message_zh
