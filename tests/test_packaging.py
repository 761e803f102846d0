"""A built wheel works outside the checkout: the word lists of assistant/data and the prompts ship inside it.

The wheel is installed with ``--no-deps`` into a fresh virtualenv that sees this environment's packages (its
dependencies are installed here already; no registry is asked), then driven through the CLI from a folder
that is not the checkout, over a fictional corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

NOTICE = (
    "示范市人力资源和社会保障局关于2099年就业见习补贴的通知\n"
    "一、补贴对象。示范市离校两年内未就业的高校毕业生参加就业见习的,给予就业见习补贴。\n"
    "二、补贴标准。就业见习补贴标准为每人每月1800元,最长不超过12个月。\n"
)


def _run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ASSISTANT_")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout's files (tracked or not ignored), so no earlier build/ leaks into it."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO_ROOT)
    for name in filter(None, listed.stdout.split("\0")):
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    built = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
                 cwd=source)
    assert built.returncode == 0, built.stderr[-3000:]
    return next(out.glob("*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The python of a virtualenv holding only the wheel built from this checkout."""
    venv = tmp_path_factory.mktemp("venv")
    made = _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], cwd=venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=venv).stdout.strip())
    # this environment's packages, without its editable install of the checkout (a path .pth inside is not read)
    (site / "shared-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], cwd=venv)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return python


def test_the_wheel_holds_the_data_files_and_the_prompts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {p.name for p in (REPO_ROOT / "assistant" / "data").iterdir() if p.is_file()}
    prompts = {p.name for p in (REPO_ROOT / "prompts").glob("*.txt")}
    assert data and {f"assistant/data/{n}" for n in data} <= names
    assert prompts and {f"assistant/prompts/{n}" for n in prompts} <= names
    modules = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "assistant").glob("**/*.py")}
    assert modules - names == set()  # every subpackage is listed in pyproject.toml


def test_the_installed_cli_ingests_retrieves_and_answers_outside_the_checkout(installed, tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "shifan_jianxi.txt").write_text(NOTICE, encoding="utf-8")
    where = _run([str(installed), "-c", "import assistant; print(assistant.__file__)"], cwd=tmp_path)
    assert str(REPO_ROOT) not in where.stdout and "site-packages" in where.stdout, where.stdout

    ingest = _run([str(installed), "-m", "assistant", "ingest"], cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert (tmp_path / "indexes").is_dir()  # the working directory's, not the package's

    stats = json.loads(_run([str(installed), "-m", "assistant", "stats", "--json"], cwd=tmp_path).stdout)
    assert [d["source"] for d in stats["documents"]] == ["shifan_jianxi.txt"]

    retrieved = json.loads(_run([str(installed), "-m", "assistant", "retrieve", "就业见习补贴标准", "--json"],
                                cwd=tmp_path).stdout)
    assert "1800元" in retrieved["sources"][0]["text"]

    asked = _run([str(installed), "-m", "assistant", "ask", "示范市就业见习补贴每月多少钱?", "--json"], cwd=tmp_path)
    answer = json.loads(asked.stdout)
    assert not answer["refused"] and "1800元" in answer["answer"], answer  # the packaged prompts framed it
