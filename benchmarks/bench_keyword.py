#!/usr/bin/env python
"""Keyword engines compared on the same pre-tokenised chunks: build, add one document, delete one, query
p50/p95 with filters, serving RSS, disk — at each level, every engine in its own processes.

    .venv/bin/python benchmarks/bench_keyword.py --levels 100000,1000000 --json-out /tmp/kw.json

The chunk records (synthetic corpus, the app's chunker and jieba tokeniser) are built once per level
and cached in the work dir (``--workdir``), so the engines index exactly the same tokens; tokenising is
reported apart, since it is the same for every engine.  Each engine is built in one process (build time
and peak RSS there include the records held in memory, reported as ``records_rss_mb``) and then opened
by a fresh serving process (open time, queries, RSS before any write, then one add and one delete).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(HERE), str(REPO)):
    if p not in sys.path:
        sys.path.insert(0, p)

import kwcorpus  # noqa: E402
from benchcommon import dir_mb, emit, peak_rss_mb, proc_status_mb, questions, spread, summary  # noqa: E402

K = 30  # retrieval.candidate_k: what the retriever asks the keyword side for


def _filters(ids: list[str]) -> dict[str, object]:
    from keyword_engines import Filter

    rng = random.Random(7)
    return {
        "none": None,
        "doc_type": Filter(doc_type="policy"),
        "region + date range": Filter(region="示范市", date_from=20990301, date_to=20990831),
        "allowed docs (all but one)": Filter(doc_ids=frozenset(ids[1:])),
        "allowed docs (10%)": Filter(doc_ids=frozenset(rng.sample(ids, max(1, len(ids) // 10)))),
    }


def _held_out(recs):
    """The records split into what is built and one document kept back for the add probe."""
    last = recs[-1].doc_id
    return [r for r in recs if r.doc_id != last], [r for r in recs if r.doc_id == last]


def build_worker(cfg: dict) -> dict:
    from keyword_engines import ENGINES

    recs = kwcorpus.records(cfg["level"], Path(cfg["workdir"]))
    base, _ = _held_out(recs)
    records_rss = proc_status_mb("VmRSS")
    engine = ENGINES[cfg["engine"]](Path(cfg["dir"]))
    t0 = time.perf_counter()
    engine.build(base)
    build_s = time.perf_counter() - t0
    out = {"build_s": round(build_s, 2), "chunks": engine.count(), "build_peak_rss_mb": round(peak_rss_mb(), 1),
           "records_rss_mb": round(records_rss, 1), "disk_mb": round(dir_mb(Path(cfg["dir"])), 1)}
    engine.close()
    return out


def serve_worker(cfg: dict) -> dict:
    from keyword_engines import ENGINES

    qs = json.loads(Path(cfg["questions"]).read_text(encoding="utf-8"))
    rss_start = proc_status_mb("VmRSS")
    engine = ENGINES[cfg["engine"]](Path(cfg["dir"]))
    t0 = time.perf_counter()
    engine.open()
    out: dict = {"open_s": round(time.perf_counter() - t0, 3)}
    # the filters name document ids: read in another process, so that this one's RSS is the engine's
    ids_file = Path(cfg["workdir"]) / f"doc-ids-{cfg['level']}.json"
    if not ids_file.exists():
        _run_worker("doc-ids", cfg)
    filters = _filters(json.loads(ids_file.read_text()))
    t0 = time.perf_counter()
    for q in qs[:5]:
        engine.search(q, K, None)
    per_query = (time.perf_counter() - t0) / 5
    # a slow engine answers fewer questions (spread over the list) so that a level stays within the budget
    asked = spread(list(range(len(qs))), max(20, min(len(qs), int(cfg.get("budget_s", 60) / (per_query * len(filters))))))
    latency: dict[str, list[float]] = {name: [] for name in filters}
    tops: dict[str, list[str]] = {}  # top 10 by question number, to compare engines
    for i, number in enumerate(asked):
        q = qs[number]
        names = list(filters)
        names = names[i % len(names):] + names[: i % len(names)]  # rotate: machine noise hits every filter alike
        for name in names:
            t0 = time.perf_counter()
            hits = engine.search(q, K, filters[name])
            latency[name].append((time.perf_counter() - t0) * 1000)
            if name == "none":
                tops[str(number)] = [cid for cid, _ in hits[:10]]
    out["query_ms"] = {name: {k: round(v, 2) for k, v in summary(ms).items()} for name, ms in latency.items()}
    out["serving_rss_mb"] = round(proc_status_mb("VmRSS"), 1)
    out["serving_hwm_mb"] = round(proc_status_mb("VmHWM"), 1)
    out["process_base_rss_mb"] = round(rss_start, 1)
    out["tops"] = tops

    # one document added, then found; then deleted, then gone (bm25s needs every record to rebuild)
    base, held = _held_out(kwcorpus.records(cfg["level"], Path(cfg["workdir"])))
    engine.load_records(base)
    probe = [t for t in held[0].tokens if len(t) >= 2][:6]
    t0 = time.perf_counter()
    engine.add(held)
    found = any(cid == held[0].chunk_id for cid, _ in engine.search(probe, 200, None))
    out["add_one_s"] = round(time.perf_counter() - t0, 3)
    out["add_one_chunks"] = len(held)
    out["added_doc_found"] = found
    t0 = time.perf_counter()
    engine.delete(held[0].doc_id)
    gone = not any(cid == held[0].chunk_id for cid, _ in engine.search(probe, 200, None))
    out["delete_one_s"] = round(time.perf_counter() - t0, 3)
    out["deleted_doc_gone"] = gone
    engine.close()
    return out


def doc_ids_worker(cfg: dict) -> dict:
    base, _ = _held_out(kwcorpus.records(cfg["level"], Path(cfg["workdir"])))
    ids = sorted({r.doc_id for r in base})
    (Path(cfg["workdir"]) / f"doc-ids-{cfg['level']}.json").write_text(json.dumps(ids))
    return {"documents": len(ids)}


WORKERS = {"build": build_worker, "serve": serve_worker, "doc-ids": doc_ids_worker}


def _run_worker(kind: str, cfg: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, json.dumps(cfg)], capture_output=True,
                          text=True, cwd=REPO)
    if proc.returncode != 0:
        return {"error": proc.stderr[-3000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def overlap(a: dict[str, list[str]], b: dict[str, list[str]]) -> float:
    """Mean share of one engine's top 10 that the other's top 10 also holds (questions both answered)."""
    pairs = [(a[n], b[n]) for n in a if n in b and a[n]]
    return round(sum(len(set(x) & set(y)) / len(x) for x, y in pairs) / len(pairs), 3) if pairs else float("nan")


def compare(levels: list[int], engines: list[str], workdir: Path, n_questions: int) -> dict:
    from assistant.retrieve.query import parse_query

    qs = [parse_query(q).tokens for q in questions()][:n_questions]
    workdir.mkdir(parents=True, exist_ok=True)
    qfile = workdir / "query-tokens.json"
    qfile.write_text(json.dumps(qs, ensure_ascii=False), encoding="utf-8")
    result: dict = {"questions": len(qs), "k": K, "levels": {}}
    for level in levels:
        t0 = time.perf_counter()
        recs = kwcorpus.records(level, workdir)
        row: dict = {"chunks": len(recs), "documents": len(kwcorpus.by_document(recs)),
                     "records_s": round(time.perf_counter() - t0, 1),
                     "tokens_per_chunk": round(sum(len(r.tokens) for r in recs[:5000]) / min(5000, len(recs)), 1),
                     "engines": {}}
        del recs
        for engine in engines:
            cfg = {"level": level, "engine": engine, "workdir": str(workdir), "dir": str(workdir / f"{engine}-{level}"),
                   "questions": str(qfile)}
            built = _run_worker("build", cfg)
            served = _run_worker("serve", cfg) if "error" not in built else {}
            row["engines"][engine] = {**built, **served}
            print(f"[keyword] {level:,} {engine}: {json.dumps({k: v for k, v in {**built, **served}.items() if k != 'tops'}, ensure_ascii=False)[:600]}",
                  flush=True)
        tops = {e: v.get("tops") for e, v in row["engines"].items() if v.get("tops")}
        if "bm25s" in tops:
            row["top10_overlap_with_bm25s"] = {e: overlap(tops["bm25s"], t) for e, t in tops.items() if e != "bm25s"}
        for v in row["engines"].values():
            v.pop("tops", None)
        result["levels"][str(level)] = row
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="100000,1000000")
    parser.add_argument("--engines", default="bm25s,fts5,tantivy")
    parser.add_argument("--workdir", default=None, help="records cache and indexes (default: a temp dir, kept)")
    parser.add_argument("--questions", type=int, default=211)
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, cfg = args.worker
        out = WORKERS[kind](json.loads(cfg))
        print(json.dumps(out, ensure_ascii=False))
        return 0
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-keyword-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result = compare([int(x) for x in args.levels.split(",")], args.engines.split(","), workdir, args.questions)
    return emit(result, args.json_out)


if __name__ == "__main__":
    sys.exit(main())
