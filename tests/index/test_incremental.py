"""Incremental, idempotent indexing: hashes decide, removals reach Chroma and the keyword index alike."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest

from assistant.index.policy_index import PolicyIndex
from assistant.retrieve.hybrid import HybridRetriever
from tests.conftest import PYTHON, REPO_ROOT


class CountingEmbeddings:
    """The real embedder, counting (and keeping) the texts it was asked to embed as documents."""

    def __init__(self, inner):
        self.inner, self.name, self.dimension, self.documents = inner, inner.name, inner.dimension, 0
        self.texts: list[str] = []

    def embed_documents(self, texts):
        self.documents += len(texts)
        self.texts += list(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


ARTICLES = {
    "jianxi.txt": "示范市就业见习办法\n第一条 见习补贴按每人每月1800元发放。\n第二条 见习期限为3至12个月。",
    "daikuan.txt": "示范市创业担保贷款通知\n一、个人创业担保贷款最高额度为30万元。\n二、贷款期限最长不超过3年。",
    "wenda.txt": "示范市失业保险问答\n问:失业保险金领多久?\n答:累计缴费满1年不足5年的,最长领取12个月。",
}


def _write(folder, files):
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _chunk_docs(index: PolicyIndex) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chunk in index.store.iter_chunks():
        counts[chunk.metadata["doc_id"]] = counts.get(chunk.metadata["doc_id"], 0) + 1
    return counts


def assert_consistent(index: PolicyIndex) -> None:
    """Every chunk belongs to a complete document, counts agree, and the keyword index holds exactly
    Chroma's chunks, at the registry's generation."""
    documents = index.registry.documents()
    chunk_docs = _chunk_docs(index)
    assert set(chunk_docs) <= set(documents), "orphan chunks"
    for doc_id, meta in documents.items():
        assert meta["status"] == "complete", meta
        assert chunk_docs.get(doc_id, 0) == meta["chunk_count"], (meta["source"], chunk_docs.get(doc_id))
    chroma_ids = {chunk.chunk_id for chunk in index.store.iter_chunks()}
    index.refresh()
    assert index.keyword.generation == index.registry.generation()
    assert index.keyword.ids() == chroma_ids and index.keyword.count() == len(chroma_ids)


def test_second_run_changes_nothing_and_embeds_nothing(settings, embeddings):
    _write(settings.paths.corpus_dir, ARTICLES)
    counting = CountingEmbeddings(embeddings)
    index = PolicyIndex(settings, embeddings=counting)
    first = index.sync([settings.paths.corpus_dir])
    # each chunk once, and each quotable sentence once (kept beside the index for the answer path)
    assert first.count("indexed") == 3 and first.chunks > 0
    assert counting.documents == first.chunks + index.sentence_vectors.count()
    embedded, generation = counting.documents, index.registry.generation()

    again = PolicyIndex(settings, embeddings=counting).sync([settings.paths.corpus_dir])
    assert again.count("unchanged") == 3 and again.count("indexed") == 0
    assert counting.documents == embedded, "unchanged files were embedded again"
    assert index.registry.generation() == generation
    assert_consistent(index)


def test_changed_file_replaces_its_chunks(settings, make_index):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    (settings.paths.corpus_dir / "jianxi.txt").write_text(
        "示范市就业见习办法\n第一条 见习补贴按每人每月2000元发放。", encoding="utf-8"
    )
    report = index.sync([settings.paths.corpus_dir])
    assert [f.source for f in report.files if f.status == "indexed"] == ["jianxi.txt"]
    texts = [c.text for c in index.store.iter_chunks()]
    assert any("2000元" in t for t in texts) and not any("1800元" in t for t in texts)
    assert_consistent(index)


def test_removed_file_and_api_delete_leave_chroma_and_the_keyword_index(settings, make_index):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    retriever = HybridRetriever(index, settings.retrieval)

    (settings.paths.corpus_dir / "daikuan.txt").unlink()
    report = index.sync([settings.paths.corpus_dir])
    assert [f.source for f in report.files if f.status == "removed"] == ["daikuan.txt"]
    assert_consistent(index)
    hits = retriever.retrieve("创业担保贷款最高额度", k=5).chunks
    assert all(hit.meta["source"] != "daikuan.txt" for hit in hits)

    assert index.delete_document("wenda.txt") is True
    assert index.delete_document("wenda.txt") is False
    assert_consistent(index)
    hits = retriever.retrieve("失业保险金领多久", k=5).chunks
    assert all(hit.meta["source"] != "wenda.txt" for hit in hits)
    assert {d["source"] for d in index.stats()["documents"]} == {"jianxi.txt"}


def test_a_changed_file_that_now_fails_keeps_its_last_good_version(settings, make_index):
    _write(settings.paths.corpus_dir, ARTICLES)
    index = make_index(settings)
    index.sync([settings.paths.corpus_dir])
    (settings.paths.corpus_dir / "jianxi.txt").write_bytes(b"\x00\x01binary junk\x00" * 50)
    report = index.sync([settings.paths.corpus_dir])
    failed = [f for f in report.files if f.status == "failed"]
    assert [f.source for f in failed] == ["jianxi.txt"] and report.failed
    assert any("1800元" in c.text for c in index.store.iter_chunks())
    assert_consistent(index)


@pytest.mark.slow
def test_ingest_killed_at_random_points_finishes_on_rerun(tmp_path, make_index, settings_for):
    """SIGKILL a real `python -m assistant ingest` mid-run, several times; each re-run completes it."""
    settings = settings_for(tmp_path)
    corpus = settings.paths.corpus_dir
    for n in range(40):
        body = "\n".join(f"第{k}条 示范市第{n}号文件第{k}条规定,补贴标准为每人{100 * n + k}元。" for k in range(1, 9))
        (corpus / f"doc{n:02d}.txt").write_text(f"示范市测试文件{n}\n{body}", encoding="utf-8")
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(settings.paths.index_dir),
           "ASSISTANT_PATHS__CORPUS_DIR": str(corpus)}
    command = [PYTHON, "-m", "assistant", "ingest", str(corpus)]
    # Kills are placed by progress, not by time: the CLI prints a line on stderr after each file, and the
    # process is killed right after the line of a randomly chosen file past those finished earlier, while it
    # writes the next one.  (Kill times taken from a calibration run missed the run entirely when the
    # machine sped up in between.)
    rng = random.Random(7)
    killed = kill_after = 0
    for _ in range(4):
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        kill_after += rng.randint(1, 8)  # earlier files are skipped as unchanged, their lines come first
        for seen, _line in enumerate(process.stderr, start=1):
            if seen == kill_after:
                process.send_signal(signal.SIGKILL)
                killed += 1
                break
        process.wait()
        process.stderr.close()
    assert killed == 4
    final = subprocess.run([PYTHON, "-m", "assistant", "ingest", str(corpus)], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    index = make_index(settings)
    assert_consistent(index)
    assert len(index.registry.documents()) == 40
    assert index.store.count() == 40 * 8


@pytest.mark.slow
def test_ingest_workers_end_with_a_killed_ingest(tmp_path, settings_for):
    """SIGKILL a real `python -m assistant ingest` while its parse workers run: none of them outlives it."""
    settings = settings_for(tmp_path)
    corpus = settings.paths.corpus_dir
    for n in range(40):
        body = "\n".join(f"第{k}条 示范市第{n}号文件第{k}条规定,补贴标准为每人{100 * n + k}元。" for k in range(1, 30))
        (corpus / f"doc{n:02d}.txt").write_text(f"示范市测试文件{n}\n{body}", encoding="utf-8")
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(settings.paths.index_dir),
           "ASSISTANT_PATHS__CORPUS_DIR": str(corpus)}
    process = subprocess.Popen([PYTHON, "-m", "assistant", "ingest", str(corpus)], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def workers() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == process.pid:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if b"multiprocessing" in fh.read():
                        found.append(int(entry))
        return found

    deadline = time.monotonic() + 120
    while not (running := workers()) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert running, "the ingest never started its workers"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while any(os.path.exists(f"/proc/{pid}") for pid in running) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in running if os.path.exists(f"/proc/{pid}")]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers outlived the killed ingest: {left}"
