#!/usr/bin/env python
"""Ingest end to end (files -> clean -> chunk -> embed -> Chroma -> registry -> keyword index), the working
tree against a baseline git ref in the same run, on the same synthetic corpus; then one file uploaded
into the index just built (what a console upload costs).

    .venv/bin/python benchmarks/bench_ingest.py --chunks 3000 --baseline-ref 3924e68
    .venv/bin/python benchmarks/bench_ingest.py --corpus ../shared/realdocs --copies 4 --baseline-ref 3924e68

The working tree runs twice: as configured, and with the sentence vectors off (what keeping them costs).
Ingest embeds only the sentences the index does not keep yet, so a corpus that repeats sentences across
files (the synthetic one is generated from templates) is indexed faster than one that does not.

Each variant runs in a fresh process of the venv Python with its own tree first on PYTHONPATH (the
baseline is exported with ``git archive``, the working tree is never touched); the variants alternate
when ``--rounds`` > 1.  The working tree's run also reports its stage split from tracing spans, and both
report chunks per CPU-second (the process and its workers), which other load on the machine distorts less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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

import synthcorpus  # noqa: E402
from benchcommon import SEED, emit, noise_probe  # noqa: E402

UPLOAD = ("示范市海鸥计划实施细则(基准测试上传)", "【虚构测试材料】\n示范市海鸥计划实施细则\n" + "\n".join(
    f"第{k}条 参加示范市海鸥计划第{k}批的青年,每人每月可领取海鸥补贴{3500 + k}元,由{k}号窗口受理。" for k in range(1, 41)))

CHILD = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from assistant.index.policy_index import PolicyIndex
from assistant.settings import PathSettings, Settings
settings = Settings(paths=PathSettings(index_dir=Path(sys.argv[1]), corpus_dir=Path(sys.argv[2])))
index = PolicyIndex(settings)
index.embeddings.embed_documents(["预热"])
opened = time.perf_counter() - t0
try:
    from assistant.tracing import collect
except ImportError:  # the baseline has no tracing
    collect = None

import resource
def cpu_s():
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))

def run(paths, prune):
    if collect is None:
        return index.sync(paths, prune=prune), {}
    with collect() as trace:
        report = index.sync(paths, prune=prune)
    return report, {k: round(v, 3) for k, v in trace.totals().items()}

cpu0 = cpu_s()
report, spans = run([Path(sys.argv[2])], True)
out = {"open_s": opened, "summary": report.summary(), "spans": spans, "cpu_s": cpu_s() - cpu0}
upload = Path(sys.argv[3])
from assistant.text.lexicon import tokenize
tokenize("预热")  # a serving app has jieba loaded (its warm-up asks a question); the workers did the tokenising so far
t0 = time.perf_counter()
report, spans = run([upload], False)
from assistant.retrieve.hybrid import HybridRetriever
retriever = HybridRetriever(index, settings.retrieval)
found = any("海鸥" in hit.chunk.text for hit in retriever.retrieve("海鸥计划补贴每月多少钱", k=5).chunks)
out["upload"] = {"seconds_to_searchable": time.perf_counter() - t0, "summary": report.summary(), "spans": spans,
                 "found": found}
print(json.dumps(out, ensure_ascii=False))
"""


def write_corpus(folder: Path, n_chunks: int) -> dict:
    from assistant.ingest.models import LoadedDocument, Page
    from assistant.ingest.pipeline import process_loaded
    from assistant.settings import IngestSettings

    folder.mkdir(parents=True, exist_ok=True)
    total = docs = 0
    caps = IngestSettings()
    while total < n_chunks:
        name, text = synthcorpus.document(SEED, docs)
        (folder / name).write_text(text, encoding="utf-8")
        total += len(process_loaded(LoadedDocument(name, [Page(text)]), caps, "count").chunks)
        docs += 1
    return {"files": docs, "chunks": total}


def export_tree(ref: str, target: Path) -> str:
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()


def venv_python() -> str:
    candidate = REPO / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def copy_corpus(source: Path, folder: Path, copies: int = 1) -> dict:
    """Real documents instead of the synthetic corpus (every file but a README), ``copies`` times under distinct
    names: a corpus of 39 files is mostly the workers' start-up (imports, jieba, the model), a larger one shows
    the rate a knowledge base is indexed at.  Each sentence of copy k ends in (第k份), so no copy finds its
    sentences' vectors already kept (ingest skips those, as for a re-processed document) and every copy costs
    what a new document costs (a few tokens more per sentence: if anything, slower)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [p for p in sorted(source.iterdir()) if p.is_file() and p.suffix == ".md" and p.name.lower() != "readme.md"]
    for copy in range(1, copies + 1):
        for path in files:
            if copies == 1:
                shutil.copy2(path, folder / path.name)
                continue
            text = re.sub(r"([。;!?])", rf"(第{copy}份)\1", path.read_text(encoding="utf-8"))
            (folder / f"copy{copy}-{path.name}").write_text(text, encoding="utf-8")
    return {"files": len(files) * copies, "from": str(source), "copies": copies,
            "distinct_sentences": copies > 1}


def run_variant(tree: Path, work: Path, corpus: Path, upload: Path, extra_env: dict | None = None) -> dict:
    index_dir = work / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["PYTHONPATH"] = str(tree)
    env.update(extra_env or {})
    t0 = time.perf_counter()
    proc = subprocess.run([venv_python(), "-c", CHILD, str(index_dir), str(corpus), str(upload)], cwd=tree, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-3000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t0
    summary = out["summary"]
    out["chunks_per_s"] = round(summary["chunks"] / summary["seconds"], 1) if summary["seconds"] else None
    # CPU seconds of the process and its workers: less sensitive to other load than wall time
    out["chunks_per_cpu_s"] = round(summary["chunks"] / out["cpu_s"], 1) if out.get("cpu_s") else None
    return out


# the working tree with the sentence vectors off: what keeping them costs at ingest
WITHOUT_SENTENCE_VECTORS = {"ASSISTANT_INDEX__SENTENCE_VECTORS": "false"}


def measure(n_chunks: int, baseline_ref: str, rounds: int, workdir: Path, real_corpus: Path | None = None,
            copies: int = 1) -> dict:
    corpus = workdir / "corpus"
    corpus_info = copy_corpus(real_corpus, corpus, copies) if real_corpus else write_corpus(corpus, n_chunks)
    upload = workdir / "upload" / f"{UPLOAD[0]}.txt"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text(UPLOAD[1], encoding="utf-8")
    baseline_tree = workdir / "baseline-tree"
    commit = export_tree(baseline_ref, baseline_tree)
    variants = {f"baseline {commit}": (baseline_tree, None), "working tree": (REPO, None),
                "working tree, no sentence vectors": (REPO, WITHOUT_SENTENCE_VECTORS)}
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    noise = [noise_probe()]
    for r in range(rounds):
        order = list(variants.items()) if r % 2 == 0 else list(variants.items())[::-1]
        for name, (tree, extra_env) in order:
            folder = workdir / name.replace(" ", "-").replace(",", "")
            runs[name].append(run_variant(tree, folder, corpus, upload, extra_env))
            noise.append(noise_probe())
    return {"corpus": corpus_info, "baseline": commit, "rounds": rounds, "runs": runs, "noise": noise}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=3000)
    parser.add_argument("--baseline-ref", default="main")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a folder of real documents to ingest instead of the synthetic corpus (--chunks is ignored)")
    parser.add_argument("--copies", type=int, default=1, help="with --corpus: index its files this many times")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        result = measure(args.chunks, args.baseline_ref, args.rounds, workdir, args.corpus, args.copies)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return emit(result, args.json_out)


if __name__ == "__main__":
    sys.exit(main())
