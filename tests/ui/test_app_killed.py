"""The served app killed with SIGKILL while the console is indexing an upload, several times over.

Each restart must finish what the killed process left (files saved but not indexed, a document
half-written), so that in the end every saved upload is indexed exactly once, Chroma and BM25 agree,
and the public chat answers from the uploaded documents.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from contextlib import closing

import pytest

from tests.index.test_incremental import assert_consistent
from tests.ui.conftest import console_client, copy_demo_corpus, launch_app, staff_password, wait_for_indexing

pytestmark = pytest.mark.slow

KILLS = 3


def _notices(folder, round_no: int, files: int = 4, articles: int = 300) -> list:
    """Fictional notices, each with one figure only it carries, big enough that indexing takes seconds."""
    paths = []
    for n in range(files):
        code = 7100 + 10 * round_no + n
        body = "\n".join(f"第{k}条 示范市第{round_no}批第{n}号苗圃第{k}片区春季种植银杏树{k + 10}棵、香樟树{k + 20}棵,"
                         f"秋季由第{k % 7 + 1}养护队修剪枝叶并记录长势,冬季做好防寒。" for k in range(1, articles))
        path = folder / f"示范市苗圃通知{round_no}-{n}.txt"
        path.write_text(f"【虚构测试材料】示范市苗圃通知{round_no}-{n}\n第0条 本通知规定的苗圃养护补助为每亩{code}元。\n{body}",
                        encoding="utf-8")
        paths.append(path)
    return paths


def _saved(uploads_dir) -> int:
    return len(list(uploads_dir.glob("*.txt"))) if uploads_dir.exists() else 0


def _upload_in_background(url: str, password: str, paths) -> threading.Thread:
    from gradio_client import handle_file

    def upload():
        try:
            with closing(console_client(url, password)) as console:
                console.predict([handle_file(str(p)) for p in paths], api_name="/upload")
        except Exception:  # noqa: BLE001 - the server is being killed under this call
            pass

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    return thread


def test_app_killed_during_upload_indexing_recovers_on_restart(tmp_path, make_index, settings_for):
    from gradio_client import Client

    root = tmp_path / "app"
    copy_demo_corpus(root)
    password = staff_password()
    rng = random.Random(11)
    uploads_dir = root / "corpus" / "uploads"
    for round_no in range(KILLS):
        app = launch_app(root, password)
        before = _saved(uploads_dir)
        _upload_in_background(app.url, password, _notices(tmp_path, round_no))
        deadline = time.monotonic() + 60
        while _saved(uploads_dir) == before and time.monotonic() < deadline:
            time.sleep(0.05)  # the console saves the files, then indexes them (~5 s on 2 cores)
        time.sleep(rng.uniform(0.2, 3.0))
        app.process.send_signal(signal.SIGKILL)
        app.process.wait(timeout=10)
        saved = sorted(p.name for p in uploads_dir.glob("*.txt")) if uploads_dir.exists() else []
        print(f"round {round_no}: killed; {len(saved)} upload(s) saved so far", flush=True)

    app = launch_app(root, password)  # this start serves at once and finishes the interrupted work behind
    try:
        wait_for_indexing(app)
        # every start after a kill reports the files it had to finish
        finished = [int(n) for n in re.findall(r"已索引语料目录中的新文件 (\d+) 份", app.log_path.read_text(encoding="utf-8"))]
        print(f"files finished by each start: {finished}", flush=True)
        assert sum(finished[1:]) > 0, "no kill interrupted an indexing run; the test proved nothing"
        saved = sorted(uploads_dir.glob("*.txt"))
        assert saved, "no upload reached the corpus before a kill; the kills came too early"
        with closing(Client(app.url, verbose=False)) as chat:
            for path in saved[:: max(1, len(saved) // 3)]:
                code = path.read_text(encoding="utf-8").split("每亩")[1].split("元")[0]
                answer = chat.predict(f"{path.stem}规定的苗圃养护补助每亩多少钱?", "[]", "", "", api_name="/ask")
                assert code in answer["answer"], (path.name, answer["answer"])
    finally:
        app.process.terminate()
        app.process.wait(timeout=20)

    index = make_index(settings_for(root))
    assert_consistent(index)
    sources = {meta["source"] for meta in index.registry.documents().values()}
    assert {f"uploads/{p.name}" for p in saved} <= sources
    print(f"{len(saved)} uploads saved across {KILLS} kills; all indexed once after restart", flush=True)
