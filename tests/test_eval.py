"""The eval sets run in CI: retrieval and answer-level targets are enforced here."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import PYTHON, REPO_ROOT


@pytest.mark.slow
def test_eval_meets_the_targets(tmp_path):
    """`python -m assistant eval` exits non-zero below: hybrid Recall@5 0.9, OOS refused 0.9,
    in-scope refused 0.05, citation validity 0.95, exact figures 0.85 (demo, shifan).  The realdocs set runs
    and reports against its own targets but does not gate yet (`gate: false`; `--gate realdocs` would)."""
    result = subprocess.run([PYTHON, "-m", "assistant", "eval", "--index-dir", str(tmp_path)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=900)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("demo", "shifan", "realdocs"):
        assert f"## {name}: retrieval" in result.stdout and f"## {name}: answers" in result.stdout
        assert f"## {name}: against the targets" in result.stdout
    assert "| hybrid |" in result.stdout and "| dense |" in result.stdout and "| bm25 |" in result.stdout
