"""Grid-search the refusal gate's thresholds on the eval sets.

Retrieval runs once per question; each setting of the thresholds only re-runs
the gate.  Prints the best settings by (OOS refused - in-scope refused), with
the targets (>= 0.90 OOS refused, <= 0.05 in-scope refused) marked.

    .venv/bin/python scripts/tune_refusal.py [--index-dir DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer.followup import rule_based_rewrite  # noqa: E402
from assistant.evaluation import default_eval_sets, load_eval_set, service_for  # noqa: E402
from assistant.index.embeddings import load_embeddings  # noqa: E402
from assistant.retrieve.threshold import decide, signals  # noqa: E402
from assistant.settings import get_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--show", help='JSON of thresholds whose wrong decisions to list, e.g. {"refusal_min_dense": 0.2}')
    args = parser.parse_args()
    if args.index_dir:
        os.environ["ASSISTANT_PATHS__INDEX_DIR"] = args.index_dir
    settings = get_settings()
    embeddings = load_embeddings(settings.embedding)
    cases = []  # (out_of_scope, retrieval result, set name, id)
    for path in default_eval_sets():
        eval_set = load_eval_set(path)
        service = service_for(eval_set, settings, embeddings)
        for q in eval_set.questions:
            standalone = rule_based_rewrite(q.question, q.history) if q.history else q.question
            result = service.retrieve(standalone)
            cases.append((q.out_of_scope, signals(result), eval_set.name, q.id, standalone))

    grid = {
        "refusal_min_coverage": [0.0, 0.2, 0.3, 0.4, 0.5],
        "refusal_min_dense": [0.0, 0.15, 0.2, 0.25, 0.3, 0.35],
    }
    rows = []
    for values in itertools.product(*grid.values()):
        answer = settings.answer.model_copy(update=dict(zip(grid, values)))
        oos = [decide(sig, answer) != "" for o, sig, *_ in cases if o]
        ins = [decide(sig, answer) != "" for o, sig, *_ in cases if not o]
        recall, false_rate = sum(oos) / len(oos), sum(ins) / len(ins)
        rows.append((recall - false_rate, recall, false_rate, dict(zip(grid, values))))
    rows.sort(key=lambda row: (row[2] <= 0.05, row[1] >= 0.9, row[0]), reverse=True)
    print(f"{len(cases)} questions ({sum(o for o, *_ in cases)} out of scope); current: {settings.answer.model_dump(include=set(grid))}")
    for score, recall, false_rate, values in rows[: args.top]:
        marks = ("✓" if recall >= 0.9 else "✗") + ("✓" if false_rate <= 0.05 else "✗")
        print(f"{marks} OOS refused {recall:.3f}  in-scope refused {false_rate:.3f}  {values}")
    best = rows[0][3]
    if args.show:
        best = {**best, **json.loads(args.show)}
    answer = settings.answer.model_copy(update=best)
    print("\nwrong decisions at the best setting:")
    for o, sig, name, qid, question in cases:
        reason = decide(sig, answer)
        if (reason != "") != o:
            print(f"  {qid:<16} {'OOS' if o else 'in '} reason={reason or '-':<14} cov={sig.coverage:.2f} "
                  f"dense={sig.best_dense:.2f} missing={sig.missing} amount_term={sig.amount_term!r} q={question}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
