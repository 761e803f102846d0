"""Evaluation on the repo's own question sets (tests/eval/*.yaml).

Retrieval: Recall@1/3/5 and MRR for dense-only, BM25-only and hybrid, where a
question is answered at rank r when a chunk at rank r contains one of its
evidence strings (punctuation and whitespace ignored).  Each set names its
corpus; it is indexed incrementally into ``<index_dir>/eval/<set>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.ingest.clean import squash
from assistant.settings import REPO_ROOT, Settings

MODES = ("dense", "bm25", "hybrid")
KS = (1, 3, 5)


@dataclass
class EvalQuestion:
    id: str
    question: str
    persona: str = ""
    evidence: list[str] = field(default_factory=list)
    figure: str | None = None
    history: list[dict] = field(default_factory=list)
    standalone: str | None = None
    out_of_scope: bool = False

    def found_in(self, text: str) -> bool:
        body = squash(text)
        return any(squash(e) in body for e in self.evidence)


@dataclass
class EvalSet:
    name: str
    corpus: Path
    questions: list[EvalQuestion]

    @property
    def in_scope(self) -> list[EvalQuestion]:
        return [q for q in self.questions if not q.out_of_scope]


def load_eval_set(path: Path) -> EvalSet:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for item in raw["questions"]:
        known = {k: item[k] for k in EvalQuestion.__dataclass_fields__ if k in item}
        questions.append(EvalQuestion(**known))
    corpus = Path(raw["corpus"])
    return EvalSet(path.stem, corpus if corpus.is_absolute() else REPO_ROOT / corpus, questions)


def default_eval_sets() -> list[Path]:
    return sorted((REPO_ROOT / "tests" / "eval").glob("*.yaml"))


def service_for(eval_set: EvalSet, settings: Settings, embeddings=None):
    """A service over the set's own corpus, in its own index folder."""
    from assistant.service import AssistantService

    index_dir = Path(settings.paths.index_dir) / "eval" / eval_set.name
    scoped = settings.model_copy(
        update={"paths": settings.paths.model_copy(update={"index_dir": index_dir, "corpus_dir": eval_set.corpus})}
    )
    service = AssistantService(scoped, embeddings=embeddings)
    report = service.ingest([eval_set.corpus])
    if report.failed:
        failed = [f"{f.source}: {f.reason_en}" for f in report.files if f.status == "failed"]
        raise RuntimeError(f"eval corpus did not index cleanly: {failed}")
    return service


def retrieval_metrics(service, eval_set: EvalSet, k_max: int = 5) -> dict[str, dict]:
    """{mode: {recall@1, recall@3, recall@5, mrr, n, misses}} over the in-scope questions."""
    results: dict[str, dict] = {}
    questions = eval_set.in_scope
    for mode in MODES:
        hits_at = {k: 0 for k in KS}
        reciprocal = 0.0
        misses = []
        for q in questions:
            result = service.retrieve(q.standalone or q.question, k=k_max, mode=mode)
            rank = next((hit.rank for hit in result.chunks if q.found_in(hit.chunk.text)), None)
            if rank is None:
                misses.append(q.id)
                continue
            reciprocal += 1.0 / rank
            for k in KS:
                hits_at[k] += rank <= k
        n = len(questions) or 1
        results[mode] = {
            **{f"recall@{k}": hits_at[k] / n for k in KS},
            "mrr": reciprocal / n,
            "n": len(questions),
            "misses": misses,
        }
    return results


def format_retrieval_table(name: str, metrics: dict[str, dict]) -> str:
    lines = [f"## {name}: retrieval ({metrics['hybrid']['n']} in-scope questions)", "", "| mode | R@1 | R@3 | R@5 | MRR |", "|---|---|---|---|---|"]
    for mode in MODES:
        m = metrics[mode]
        lines.append(f"| {mode} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} |")
    if metrics["hybrid"]["misses"]:
        lines.append(f"\nhybrid misses@5: {', '.join(metrics['hybrid']['misses'])}")
    return "\n".join(lines)


def answer_metrics(service, eval_set: EvalSet, backend: str | None = None) -> dict:
    """Refusal precision/recall, citation validity, exact figures and follow-up handling."""
    import time

    from assistant.answer.citations import citation_validity

    rows = []
    latencies = []
    for q in eval_set.questions:
        started = time.perf_counter()
        answer = service.ask(q.question, history=q.history, backend=backend)
        latencies.append(time.perf_counter() - started)
        valid, total = citation_validity(answer.text, [hit.chunk.text for hit in answer.sources])
        rows.append(
            {
                "id": q.id,
                "out_of_scope": q.out_of_scope,
                "refused": answer.refused,
                "outcome": answer.outcome,
                "reason": answer.coverage.reason if answer.coverage else "",
                "coverage": round(answer.coverage.coverage, 3) if answer.coverage else None,
                "best_dense": round(answer.coverage.best_dense, 3) if answer.coverage else None,
                "valid_citations": valid,
                "citations": total,
                "figure": q.figure,
                "figure_found": bool(q.figure) and squash(q.figure) in squash(answer.text),
                "follow_up": bool(q.history),
                "evidence_found": (not q.out_of_scope) and q.found_in(answer.text),
            }
        )
    oos = [r for r in rows if r["out_of_scope"]]
    ins = [r for r in rows if not r["out_of_scope"]]
    refused = [r for r in rows if r["refused"]]
    with_figure = [r for r in ins if r["figure"]]
    follow_ups = [r for r in ins if r["follow_up"]]
    cited = sum(r["citations"] for r in rows)
    latencies.sort()
    return {
        "n": len(rows),
        # out of scope declined: refused, or hedged ("the documents do not state …", quoting what they do say)
        "refusal_recall": sum(r["refused"] or r["outcome"] == "hedge" for r in oos) / len(oos) if oos else 1.0,
        "hedged_in_scope": sum(r["outcome"] == "hedge" for r in ins) / len(ins) if ins else 0.0,
        "refusal_precision": sum(r["out_of_scope"] for r in refused) / len(refused) if refused else 1.0,
        "false_refusal_rate": sum(r["refused"] for r in ins) / len(ins) if ins else 0.0,
        "citation_validity": sum(r["valid_citations"] for r in rows) / cited if cited else 1.0,
        "figure_exact": sum(r["figure_found"] for r in with_figure) / len(with_figure) if with_figure else None,
        "follow_up_evidence": sum(r["evidence_found"] for r in follow_ups) / len(follow_ups) if follow_ups else None,
        "answer_evidence": sum(r["evidence_found"] for r in ins) / len(ins) if ins else None,
        "latency_p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        "latency_p95_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else 0.0,
        "rows": rows,
    }


def format_answer_table(name: str, m: dict, backend: str) -> str:
    def pct(value):
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        f"## {name}: answers ({m['n']} questions, backend {backend})",
        "",
        "| refusal recall (OOS refused) | refusal precision | false refusals (in-scope) | citation validity | exact figure | follow-up evidence | answer evidence | ask p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|",
        f"| {pct(m['refusal_recall'])} | {pct(m['refusal_precision'])} | {pct(m['false_refusal_rate'])} | "
        f"{pct(m['citation_validity'])} | {pct(m['figure_exact'])} | {pct(m['follow_up_evidence'])} | "
        f"{pct(m['answer_evidence'])} | {m['latency_p50_ms']:.0f} / {m['latency_p95_ms']:.0f} |",
    ]
    wrong = [r["id"] for r in m["rows"] if (r["refused"] or (r["out_of_scope"] and r["outcome"] == "hedge")) != r["out_of_scope"]]
    if wrong:
        lines.append(f"\nwrong refusal decisions: {', '.join(wrong)}")
    hedged = [r["id"] for r in m["rows"] if r["outcome"] == "hedge" and not r["out_of_scope"]]
    if hedged:
        lines.append(f"in-scope hedged ({m['hedged_in_scope']:.3f}): {', '.join(hedged)}")
    missing = [r["id"] for r in m["rows"] if r["figure"] and not r["figure_found"] and not r["out_of_scope"]]
    if missing:
        lines.append(f"figure missing: {', '.join(missing)}")
    return "\n".join(lines)
