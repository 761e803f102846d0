"""A full disk and a read-only index folder: a clear error, and nothing half-written is ever served.

Each scenario runs in a child process with a private mount namespace (``unshare -m``, or ``-r -m``
when not root), where the index folder is a small real tmpfs: the kernel itself answers ENOSPC and
EROFS, nothing is simulated.  The scenario functions below are that child's code; they assert and
print a JSON line of figures the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REPO_ROOT, SHIFAN_DIR, make_settings

TMPFS_MB = 24


def _fill_disk(folder: Path, leave_mb: float) -> Path:
    """Write a filler file until only ``leave_mb`` is free on ``folder``'s file system."""
    fs = os.statvfs(folder)
    free = fs.f_bavail * fs.f_frsize
    filler = folder / "filler.bin"
    with filler.open("wb") as fh:
        remaining = max(0, free - int(leave_mb * 2**20))
        block = b"\0" * 2**20
        while remaining > 0:
            remaining -= fh.write(block[: min(len(block), remaining)])
    return filler


def _big_batch(folder: Path, files: int = 3, articles: int = 300) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        body = "\n".join(f"第{k}条 示范市第{n}号测试文件第{k}条规定,补贴标准为每人{7 * k + n}元。" for k in range(1, articles + 1))
        (folder / f"batch{n}.txt").write_text(f"示范市测试文件{n}\n{body}", encoding="utf-8")
    return folder


def _served_sources(index) -> set[str]:
    """Sources of every chunk retrieval can return for a broad question."""
    from assistant.retrieve.hybrid import HybridRetriever

    retriever = HybridRetriever(index, index.settings.retrieval)
    return {hit.source_json()["source"] for hit in retriever.retrieve("示范市补贴标准", k=30).chunks}


def scenario_disk_full(mount: str) -> dict:
    """A running index whose disk fills during an ingest, then gets space back."""
    from assistant.index.policy_index import PolicyIndex
    from assistant.index.store import IndexStorageError
    from tests.index.test_incremental import assert_consistent

    root = Path(mount)
    settings = make_settings(root, min_free_disk_mb=1)
    shutil.copytree(SHIFAN_DIR, settings.paths.corpus_dir / "shifan")
    index = PolicyIndex(settings)
    assert index.sync([settings.paths.corpus_dir / "shifan"]).count("indexed") == 4
    before = set(index.complete_documents())
    generation = index.registry.generation()

    # 1. too little space to start: refused before anything is written
    filler = _fill_disk(root, leave_mb=0.5)
    batch = _big_batch(settings.paths.corpus_dir / "batch")
    try:
        index.sync([batch], prune=False)
        raise AssertionError("ingest on a full disk did not fail")
    except IndexStorageError as exc:
        refused_message = str(exc)
    filler.unlink()
    assert index.registry.generation() == generation and set(index.complete_documents()) == before

    # 2. the disk fills while chunks are being written
    filler = _fill_disk(root, leave_mb=1.5)
    try:
        index.sync([batch], prune=False)
        raise AssertionError("ingest that fills the disk did not fail")
    except IndexStorageError as exc:
        midway_message = str(exc)
    # while the disk is still full, questions get either old documents only or the clear error
    try:
        served_while_full = sorted(_served_sources(index))
    except IndexStorageError as exc:
        served_while_full = [str(exc)]
    filler.unlink()
    registry = index.registry.documents()
    pending = sorted(m["source"] for m in registry.values() if m.get("status") != "complete")

    # space is back: the same process serves again, never from a half-written document
    served = _served_sources(index)
    assert not served & set(pending), (served, pending)
    complete_before_rerun = len(index.complete_documents())
    report = index.sync([batch], prune=False)
    assert not report.failed
    assert_consistent(index)
    assert len(index.complete_documents()) == 7
    return {"refused": refused_message, "midway": midway_message, "pending_after_failure": pending,
            "served_while_full": served_while_full,
            "complete_before_rerun": complete_before_rerun, "chunks": index.store.count()}


def scenario_read_only(mount: str) -> dict:
    """An index folder remounted read-only: the CLI and app.py stop with a clear message; data survives."""
    from assistant.index.policy_index import PolicyIndex
    from tests.index.test_incremental import assert_consistent

    root = Path(mount)
    settings = make_settings(root, min_free_disk_mb=1)
    shutil.copytree(SHIFAN_DIR, settings.paths.corpus_dir / "shifan")
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(settings.paths.index_dir),
           "ASSISTANT_PATHS__CORPUS_DIR": str(settings.paths.corpus_dir),
           "ASSISTANT_SETTINGS_FILE": str(root / "none.yaml"), "GRADIO_SERVER_PORT": "0",
           "ASSISTANT_INGEST__MIN_FREE_DISK_MB": "1"}
    # indexed by another process: this one must hold no file open, or the remount is refused
    subprocess.run([PYTHON, "-m", "assistant", "ingest"], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    subprocess.run(["mount", "-o", "remount,ro", mount], check=True)
    outcomes = {}
    for name, command in {
        "ingest": [PYTHON, "-m", "assistant", "ingest", "--json"],
        "stats": [PYTHON, "-m", "assistant", "stats", "--json"],
        "app": [PYTHON, "app.py"],
    }.items():
        run = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode != 0 and "Traceback" not in run.stderr, (name, run.returncode, run.stderr[-2000:])
        outcomes[name] = {"returncode": run.returncode, "stderr": run.stderr.strip().splitlines()[-1]}
    subprocess.run(["mount", "-o", "remount,rw", mount], check=True)
    index = PolicyIndex(settings)
    assert len(index.complete_documents()) == 4
    assert_consistent(index)
    return outcomes


def _run_on_tmpfs(scenario: str, tmp_path: Path) -> dict:
    mount = tmp_path / "disk"
    mount.mkdir()
    namespace = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    probe = subprocess.run([*namespace, "true"], capture_output=True, text=True)
    if probe.returncode != 0:  # a container without mount namespaces: the kernel cannot be asked here
        pytest.skip(f"no private mount namespace on this machine ({probe.stderr.strip()})")
    script = (f"mount -t tmpfs -o size={TMPFS_MB}m tmpfs {mount} && exec {PYTHON} -c "
              f"'import json, tests.index.test_storage_faults as t; print(json.dumps(t.{scenario}(\"{mount}\"), ensure_ascii=False))'")
    run = subprocess.run([*namespace, "sh", "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert run.returncode == 0, f"{scenario} failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(scenario, json.dumps(result, ensure_ascii=False, indent=1), file=sys.stderr)
    return result


@pytest.mark.slow
def test_full_disk_is_refused_or_reported_and_a_rerun_completes(tmp_path):
    result = _run_on_tmpfs("scenario_disk_full", tmp_path)
    assert "磁盘空间不足" in result["refused"] and "重新导入" in result["refused"]
    assert "无法写入" in result["midway"]
    assert result["pending_after_failure"], "the disk never filled mid-write; the scenario tested nothing"
    assert result["chunks"] == 57 + 3 * 300
    served = result["served_while_full"]
    assert served and (all(s.startswith("shifan/") for s in served) or "无法写入" in served[0]), served


@pytest.mark.slow
def test_read_only_index_dir_stops_cli_and_app_with_a_clear_message(tmp_path):
    outcomes = _run_on_tmpfs("scenario_read_only", tmp_path)
    for name, outcome in outcomes.items():
        assert "只读" in outcome["stderr"], (name, outcome)
    assert outcomes["ingest"]["returncode"] == 3 and outcomes["stats"]["returncode"] == 3
    assert outcomes["app"]["stderr"].startswith("无法启动")
