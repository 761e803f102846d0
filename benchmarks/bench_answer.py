#!/usr/bin/env python
"""Per-answer latency of the extractive answer path, in-process, baseline vs. working tree.

Each variant runs in its own worker process over the eval sets (tests/eval/*.yaml),
each set indexed into a temporary directory:

* cold: every cache of the answer path cleared before each question (what a
  question costs the first time anything in it is seen);
* first pass: caches cleared once, then the questions in order (new questions
  over a corpus whose sentences earlier answers have already embedded);
* warm: the same questions asked again.

The baseline is the working tree with the answer-path files taken from a git
ref (default HEAD, read with `git show`; the working tree is never touched), so
the comparison isolates changes to those files.  The run also checks that both
variants give the same answers (text, refusal, sources).

    .venv/bin/python benchmarks/bench_answer.py                  # baseline HEAD vs. working tree
    .venv/bin/python benchmarks/bench_answer.py --baseline none  # working tree only
    .venv/bin/python benchmarks/bench_answer.py --breakdown      # plus where the time goes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANSWER_PATH_FILES = (
    "assistant/answer/extractive.py",
    "assistant/answer/chain.py",
    "assistant/answer/citations.py",
    "assistant/retrieve/hybrid.py",
    "assistant/retrieve/threshold.py",
    "assistant/retrieve/query.py",
    "assistant/index/embeddings.py",
    "assistant/text/lexicon.py",
)
DEFAULT_SETS = ("tests/eval/demo.yaml", "tests/eval/shifan.yaml")


# ===================================================================== worker


class Breakdown:
    """Exclusive time per named step: a wrapped call's time, minus the wrapped calls inside it."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._stack: list[float] = []

    def wrap(self, name, function, materialize=False):
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            started = time.perf_counter()
            try:
                result = function(*args, **kwargs)
                return list(result) if materialize else result  # generators do their work when consumed
            finally:
                elapsed = time.perf_counter() - started
                children = self._stack.pop()
                self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - children
                if self._stack:
                    self._stack[-1] += elapsed

        return timed


def instrument(service) -> Breakdown:
    """Wrap the steps of an answer by name; works on both variants (only public or long-lived names)."""
    import assistant.answer.chain as chain
    import assistant.retrieve.hybrid as hybrid
    import assistant.retrieve.query as query

    timer = Breakdown()
    index, embeddings = service.index, service.index.embeddings
    embeddings.embed_query = timer.wrap("embed question (retrieval)", embeddings.embed_query)
    embeddings.embed_documents = timer.wrap("embed sentences + question (extractive)", embeddings.embed_documents)
    import assistant.text.lexicon as lexicon

    tagger = lexicon._pos_tokenizer()
    tagger.cut = timer.wrap("jieba POS tagging", tagger.cut, materialize=True)
    query.tokenize = timer.wrap("jieba search-mode tokenize", query.tokenize)
    for name in ("query", "get_chunks"):
        setattr(index.store, name, timer.wrap(f"chroma {name}", getattr(index.store, name)))
    index.complete_documents = timer.wrap("index refresh / documents (chroma generation)", index.complete_documents)
    index.keyword_search = timer.wrap("keyword search", index.keyword_search)
    hybrid.parse_query = timer.wrap("parse query (rest)", hybrid.parse_query)
    chain.HybridRetriever.retrieve = timer.wrap("retrieve (rest: fusion)", chain.HybridRetriever.retrieve)
    chain.assess = timer.wrap("coverage gate (rest)", chain.assess)
    chain.select_sentences = timer.wrap("sentence scoring (rest)", chain.select_sentences)
    chain.check_answer = timer.wrap("citation guards", chain.check_answer)
    chain.AnswerChain.invoke = timer.wrap("chain (rest)", chain.AnswerChain.invoke)
    return timer


def clear_caches(service) -> None:
    """Empty every cache of the answer path the variant has (the baseline has none of these)."""
    import assistant.retrieve.threshold as threshold

    cache = getattr(service.retriever, "embedding_cache", None)
    if cache is not None:
        cache.clear()
    import assistant.text.lexicon as lexicon

    tagged = getattr(lexicon, "pos_tagged", None) or getattr(threshold, "_tagged", None)
    if tagged is not None:
        tagged.cache_clear()


def timed_pass(service, questions, clear_each: bool) -> tuple[list[float], list[float], list[dict]]:
    wall, cpu, answers = [], [], []
    for q in questions:
        if clear_each:
            clear_caches(service)
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = service.ask(q.question, history=q.history)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        answers.append({**answer.to_json(), "reason": answer.coverage.reason if answer.coverage else ""})
    return wall, cpu, answers


def worker(args) -> None:
    os.environ["ASSISTANT_SETTINGS_FILE"] = "/nonexistent.yaml"
    import assistant
    from assistant.evaluation import load_eval_set, service_for
    from assistant.settings import Settings

    assert Path(assistant.__file__).resolve().parent.parent == Path(args.tree).resolve(), assistant.__file__
    settings = Settings()
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(update={"index_dir": Path(args.index_dir)})})
    out = {}
    for set_path in args.sets:
        eval_set = load_eval_set(REPO / set_path)
        service = service_for(eval_set, settings)
        service.warm_up()
        timer = instrument(service) if args.breakdown else None
        questions = eval_set.questions
        result: dict = {"n": len(questions), "breakdown_ms": {}}
        for phase, passes in (("cold", 1), ("first", 1), ("warm", args.rounds)):
            if phase == "first":
                clear_caches(service)
            wall, cpu = [], []
            for _ in range(passes):
                w, c, answers = timed_pass(service, questions, clear_each=phase == "cold")
                wall, cpu = wall + w, cpu + c
            result[phase] = (wall, cpu)
            if phase == "first":
                result["answers"] = answers
            if timer is not None:
                asks = len(questions) * passes
                result["breakdown_ms"][phase] = {k: 1000 * v / asks for k, v in timer.seconds.items()}
                timer.seconds.clear()
        out[eval_set.name] = result
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False))


# ===================================================================== driver


def baseline_tree(ref: str, workdir: Path) -> Path:
    """A copy of the working tree's package, prompts and eval corpora (small), with the answer-path
    files as they are at ``ref``."""
    tree = workdir / "baseline"
    for folder in ("assistant", "prompts", "corpus", "tests/eval", "tests/fixtures"):
        shutil.copytree(REPO / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__", "uploads"))
    for path in ANSWER_PATH_FILES:
        shown = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=REPO, capture_output=True, check=True)
        (tree / path).write_bytes(shown.stdout)
    return tree


def run_worker(tree: Path, workdir: Path, label: str, args) -> dict:
    out = workdir / f"{label}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--tree", str(tree),
           "--index-dir", str(workdir / f"index-{label}"), "--out", str(out), "--rounds", str(args.rounds),
           "--sets", *args.sets] + (["--breakdown"] if args.breakdown else [])
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(cmd, env=env, check=True)
    return json.loads(out.read_text())


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def summary(wall: list[float], cpu: list[float]) -> str:
    return (f"{1000 * quantile(wall, 0.5):.1f} | {1000 * quantile(wall, 0.95):.1f} | "
            f"{1000 * statistics.fmean(cpu):.1f}")


def report(results: dict[str, dict]) -> str:
    labels = list(results)
    lines = []
    for set_name in results[labels[-1]]:
        lines += [f"## {set_name} ({results[labels[-1]][set_name]['n']} questions)", "",
                  "| variant | pass | p50 ms | p95 ms | mean CPU ms |", "|---|---|---|---|---|"]
        for label in labels:
            for phase in ("cold", "first", "warm"):
                lines.append(f"| {label} | {phase} | {summary(*results[label][set_name][phase])} |")
        if len(labels) == 2:
            before, after = (results[label][set_name]["answers"] for label in labels)
            changed = [a["question"] for a, b in zip(before, after) if a != b]
            lines.append(f"\nanswers changed ({labels[0]} → {labels[1]}): {len(changed)}"
                         + "".join(f"\n  - {q}" for q in changed))
        columns = [(f"{label}, {phase}", results[label][set_name]["breakdown_ms"].get(phase))
                   for phase in ("cold", "first", "warm") for label in labels]
        if all(b for _, b in columns):
            steps = sorted({k for _, b in columns for k in b}, key=lambda k: -columns[0][1].get(k, 0.0))
            lines += ["", "| step (exclusive ms per ask) | " + " | ".join(name for name, _ in columns) + " |",
                      "|---|" + "---|" * len(columns)]
            for step in steps:
                lines.append(f"| {step} | " + " | ".join(f"{b.get(step, 0.0):.2f}" for _, b in columns) + " |")
            lines.append("| **total** | " + " | ".join(f"{sum(b.values()):.2f}" for _, b in columns) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="HEAD", help="git ref for the answer-path files, or 'none'")
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--rounds", type=int, default=2, help="warm passes")
    parser.add_argument("--breakdown", action="store_true", help="time each step (adds a little overhead)")
    parser.add_argument("--out", help="also write the Markdown report here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, args.tree)
        worker(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        workdir = Path(tmp)
        results = {}
        if args.baseline != "none":
            results[f"baseline ({args.baseline})"] = run_worker(baseline_tree(args.baseline, workdir), workdir, "baseline", args)
        results["working tree"] = run_worker(REPO, workdir, "current", args)
    text = report(results)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
