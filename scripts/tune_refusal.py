"""Fit the refusal gate's coverage model on the eval sets and report it held out.

Retrieval runs once per question of every set in tests/eval/; questions that a hard check decides
(another office, place, year, a missing document or article …) are set aside, and a logistic regression
over the remaining questions' signals learns whether the documents cover the topic (label 1: in scope, or
out of scope only because the asked figure is not stated — those must be hedged, not refused).

Printed, as Markdown for docs/refusal.md:
* for each set held out: the model fitted on the other sets, its operating point chosen there, and the
  refusals it makes on the held-out set (in-scope refused, out-of-scope refused);
* the trade-off curve of the model fitted on all sets, per set;
and, with --write, the model fitted on all sets goes to assistant/data/refusal_model.json.

    .venv/bin/python scripts/tune_refusal.py [--index-dir DIR] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation import default_eval_sets, load_eval_set, service_for  # noqa: E402
from assistant.components import embedder  # noqa: E402
from assistant.retrieve.calibration import fit_logistic, operating_point, trade_off  # noqa: E402
from assistant.retrieve.threshold import hard_refusal, signals  # noqa: E402
from assistant.settings import DATA_DIR, get_settings  # noqa: E402

MAX_FALSE_REFUSALS = 0.005  # of covered questions on the fitting sets refused, well below the 3% target


@dataclass
class Case:
    set_name: str
    qid: str
    question: str
    out_of_scope: bool
    covered: bool  # the label: the documents cover the topic
    hard: str  # the hard check that decides it, '' when the model does
    features: dict[str, float]
    figure_missing: bool  # an amount question whose figure no evidence states: hedged, never answered


def collect(settings, embeddings) -> list[Case]:
    cases = []
    for path in default_eval_sets():
        eval_set = load_eval_set(path)
        service = service_for(eval_set, settings, embeddings)
        chain = service.chain("extractive")
        for q in eval_set.questions:
            standalone = chain.searched_question(q.question, q.history)
            result = service.retrieve(standalone)
            sig = signals(result)
            expect = getattr(q, "expect", "") or ""
            covered = (not q.out_of_scope) or expect == "not_stated"
            cases.append(Case(eval_set.name, q.id, standalone, q.out_of_scope, covered,
                              hard_refusal(sig, result.target) if result.chunks else "no_results", sig.features(),
                              sig.asks_amount and not sig.has_figure))
    return cases


def matrix(cases: list[Case], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([[c.features[n] for n in names] for c in cases]), np.array([float(c.covered) for c in cases]))


def fit(cases: list[Case], names: list[str]) -> dict:
    soft = [c for c in cases if not c.hard]
    rows, labels = matrix(soft, names)
    model = fit_logistic(rows, labels, names)
    refuse_below = operating_point(model.predict(rows), labels, MAX_FALSE_REFUSALS)
    # no band of "uncertain" hedges above the refusal point: measured, it hedged 10-18% of answerable
    # questions and declined no more out-of-scope ones (the coverage signals cannot tell them apart there)
    return {**model.to_json(), "refuse_below": refuse_below, "hedge_below": refuse_below}


def outcomes(model: dict, cases: list[Case]) -> dict[str, float]:
    """End-to-end refusal rates of the gate (hard checks, then the model) on ``cases``."""
    from assistant.retrieve.calibration import LogisticModel

    lr = LogisticModel(model["features"], model["mean"], model["scale"], model["coef"], model["intercept"])
    refused, hedged = [], []
    for case in cases:
        if case.hard:
            refused.append(True)
            hedged.append(False)
            continue
        chance = float(lr.predict(np.array([[case.features[n] for n in model["features"]]]))[0])
        refused.append(chance < model["refuse_below"])
        hedged.append(not refused[-1] and (case.figure_missing or chance < model["hedge_below"]))
    ins = [r for r, c in zip(refused, cases) if not c.out_of_scope]
    # an out-of-scope question is declined when refused, or hedged ("the documents do not state …")
    oos = [r or h for r, h, c in zip(refused, hedged, cases) if c.out_of_scope]
    ins_hedged = [h for h, c in zip(hedged, cases) if not c.out_of_scope]
    return {
        "in_scope": len(ins), "out_of_scope": len(oos),
        "false_refusals": sum(ins) / len(ins) if ins else 0.0,
        "oos_refused": sum(oos) / len(oos) if oos else 1.0,
        "in_scope_hedged": sum(ins_hedged) / len(ins_hedged) if ins_hedged else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir")
    parser.add_argument("--write", action="store_true", help="write the model fitted on all sets")
    parser.add_argument("--features", help="comma-separated subset of the signals (default: all)")
    args = parser.parse_args()
    if args.index_dir:
        os.environ["ASSISTANT_PATHS__INDEX_DIR"] = args.index_dir
    settings = get_settings()
    cases = collect(settings, embedder(settings.embedding))
    names = args.features.split(",") if args.features else list(cases[0].features)
    sets = sorted({c.set_name for c in cases})

    print("## Held out: fitted on the other sets, reported on this one\n")
    print("| held-out set | fitted on | refuse below / hedge below | in-scope refused | out-of-scope declined (refused or hedged) | in-scope hedged |")
    print("|---|---|---|---|---|---|")
    for held in sets:
        model = fit([c for c in cases if c.set_name != held], names)
        got = outcomes(model, [c for c in cases if c.set_name == held])
        print(f"| {held} ({got['in_scope']} in / {got['out_of_scope']} out) | {' + '.join(s for s in sets if s != held)} | "
              f"{model['refuse_below']:.3f} / {model['hedge_below']:.3f} | {got['false_refusals']:.3f} | {got['oos_refused']:.3f} | "
              f"{got['in_scope_hedged']:.3f} |")

    model = fit(cases, names)
    print("\n## Fitted on all sets (the shipped model), per set\n")
    print("| set | in-scope refused | out-of-scope declined (refused or hedged) | in-scope hedged |")
    print("|---|---|---|---|")
    for name in sets:
        got = outcomes(model, [c for c in cases if c.set_name == name])
        print(f"| {name} | {got['false_refusals']:.3f} | {got['oos_refused']:.3f} | {got['in_scope_hedged']:.3f} |")

    print("\n## Trade-off of the shipped model (questions the hard checks leave to it)\n")
    thresholds = sorted({round(t, 2) for t in np.linspace(0.05, 0.95, 19)} | {round(model["refuse_below"], 3)})
    print("| refuse below | " + " | ".join(f"{n}: in-scope refused / OOS refused" for n in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for threshold in thresholds:
        cells = []
        for name in sets:
            soft = [c for c in cases if c.set_name == name and not c.hard]
            rows, labels = matrix(soft, names)
            from assistant.retrieve.calibration import LogisticModel

            lr = LogisticModel(names, model["mean"], model["scale"], model["coef"], model["intercept"])
            (_, false_rate, recall), = trade_off(lr.predict(rows), labels, [threshold])
            cells.append(f"{false_rate:.3f} / {recall:.3f}")
        mark = " **(chosen)**" if abs(threshold - model["refuse_below"]) < 1e-9 else ""
        print(f"| {threshold:.3f}{mark} | " + " | ".join(cells) + " |")

    print("\ncoefficients (standardised features):", {n: round(c, 3) for n, c in zip(names, model["coef"])},
          "intercept", round(model["intercept"], 3))
    wrong = [c for c in cases if c.hard and c.covered]
    if wrong:
        print("\nin-scope questions refused by a hard check:", ", ".join(f"{c.qid} ({c.hard})" for c in wrong))
    hedged = [c for c in cases if not c.out_of_scope and not c.hard and c.figure_missing]
    if hedged:
        print("\nin-scope questions hedged as 'figure not stated':", ", ".join(c.qid for c in hedged))
    if args.write:
        model["fitted_on"] = sets
        model["fitted_at"] = datetime.date.today().isoformat()
        model["max_false_refusals"] = MAX_FALSE_REFUSALS
        (DATA_DIR / "refusal_model.json").write_text(json.dumps(model, ensure_ascii=False, indent=2) + "\n",
                                                      encoding="utf-8")
        print("\nwrote assistant/data/refusal_model.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
