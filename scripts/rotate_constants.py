"""Retrieval constants chosen on two eval sets, reported on the third (issue #10's held-out rotation).

For each candidate setting (dense vs BM25 weight of the fusion, the evidence reranker's depth, the jurisdiction
prior), every set's in-scope questions are retrieved once; the setting that does best on two sets (mean of
"gold article first" and Recall@5) is reported on the held-out set next to the shipped setting's figure there.

    .venv/bin/python scripts/rotate_constants.py [--index-dir DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation import default_eval_sets, hits_gold, is_gold_article, load_eval_set, service_for  # noqa: E402
from assistant.components import embedder  # noqa: E402
from assistant.settings import get_settings  # noqa: E402

GRID = {
    "retrieval.dense_weight": [0.5, 0.7, 1.0],
    "rerank.evidence_candidates": [0, 5, 8],
    "retrieval.local_weight": [1.0, 0.7],
}


def with_values(settings, values: dict):
    groups: dict[str, dict] = {}
    for dotted, value in values.items():
        group, name = dotted.split(".")
        groups.setdefault(group, {})[name] = value
    return settings.model_copy(update={g: getattr(settings, g).model_copy(update=v) for g, v in groups.items()})


def measure(service, eval_set, questions) -> dict[str, float]:
    chain = service.chain("extractive")
    first = recall5 = 0
    for q in questions:
        hits = service.retrieve(chain.searched_question(q.question, q.history), k=5).chunks
        first += bool(hits) and is_gold_article(eval_set, q, hits[0].meta, hits[0].chunk.text)
        recall5 += any(hits_gold(eval_set, q, hit.meta, hit.chunk.text) for hit in hits)
    n = len(questions) or 1
    return {"first": first / n, "recall5": recall5 / n}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir")
    args = parser.parse_args()
    if args.index_dir:
        os.environ["ASSISTANT_PATHS__INDEX_DIR"] = args.index_dir
    base = get_settings()
    embeddings = embedder(base.embedding)
    sets = [load_eval_set(path) for path in default_eval_sets()]
    configs = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    shipped = {name: getattr(getattr(base, name.split(".")[0]), name.split(".")[1]) for name in GRID}
    if shipped not in configs:
        configs.append(shipped)
    results: dict[int, dict[str, dict]] = {}
    for index, values in enumerate(configs):
        settings = with_values(base, values)
        results[index] = {}
        for eval_set in sets:
            service = service_for(eval_set, settings, embeddings)
            results[index][eval_set.name] = measure(service, eval_set, eval_set.in_scope)
        print(f"{values}: " + ", ".join(f"{n} first {m['first']:.3f} R@5 {m['recall5']:.3f}"
                                         for n, m in results[index].items()), flush=True)

    def score(index: int, names: list[str]) -> float:
        return sum(results[index][n]["first"] + results[index][n]["recall5"] for n in names) / (2 * len(names))

    shipped_index = configs.index(shipped)
    print("\n| held-out set | chosen on | chosen setting | held out: first / R@5 | shipped setting there: first / R@5 |")
    print("|---|---|---|---|---|")
    for held in [s.name for s in sets]:
        others = [s.name for s in sets if s.name != held]
        best = max(results, key=lambda i: score(i, others))
        got, ship = results[best][held], results[shipped_index][held]
        print(f"| {held} | {' + '.join(others)} | {configs[best]} | {got['first']:.3f} / {got['recall5']:.3f} | "
              f"{ship['first']:.3f} / {ship['recall5']:.3f} |")
    print(f"\nshipped: {shipped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
