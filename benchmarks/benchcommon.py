"""Helpers the benchmarks share: timing, percentiles, memory, disk, a noise probe, the question set."""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(HERE), str(REPO)):
    if p not in sys.path:
        sys.path.insert(0, p)

import synthcorpus  # noqa: E402

SEED = 2099

def now() -> float:
    return time.perf_counter()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def pct(values, q) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def summary(ms: list[float]) -> dict:
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p95": pct(ms, 95),
        "mean": statistics.fmean(ms) if ms else float("nan"),
        "max": max(ms) if ms else float("nan"),
    }


def dir_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def noise_probe() -> dict:
    """A fixed amount of single-thread work: if it takes longer, the machine is busier."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.random((384, 512), dtype=np.float32)
    b = rng.random((512, 768), dtype=np.float32)
    with threadpool_limits(1):
        a @ b
        t0 = now()
        for _ in range(40):
            a @ b
        gemm = (now() - t0) * 1000
    t0 = now()
    sum(i * i for i in range(300_000))
    py = (now() - t0) * 1000
    return {"gemm_ms": round(gemm, 1), "py_ms": round(py, 1), "loadavg1": round(os.getloadavg()[0], 2)}


def questions(n_synthetic: int = 60) -> list[str]:
    import yaml

    out: list[str] = []
    for path in sorted((REPO / "tests" / "eval").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [str(q["question"]) for q in data.get("questions", []) if q.get("question")]
    return out + synthcorpus.synthetic_questions(SEED, n_synthetic)


def spread(items: list, n: int) -> list:
    """n items taken evenly across the list (all of it when n >= len)."""
    if n >= len(items):
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


def emit(result: dict, json_out: str | None) -> int:
    """Print a measuring script's result as JSON (the reporting scripts read it), and save it when asked."""
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if json_out:
        Path(json_out).write_text(text, encoding="utf-8")
    print(text)
    return 0
