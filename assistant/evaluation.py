"""Evaluation on the repo's own question sets (tests/eval/*.yaml).

Retrieval: Recall@1/3/5 and MRR for dense-only, BM25-only and hybrid, where a
question is answered at rank r when a chunk at rank r contains one of its
evidence strings (punctuation and whitespace ignored) and, when the question
names its gold document, comes from that document.  Each set names its corpus:
a folder, used as it is, or a mapping (``source`` + ``convert``) from which a
corpus is built at eval time with some files converted to PDF/DOCX/HTML/GBK
(see ``build_eval_corpus``); it is indexed incrementally into
``<index_dir>/eval/<set>``.

Answers: refusal decisions, citation validity, exact figures (as before), and
the figures a hotline cares about: the answer's first source is the gold
article, the asked figure is in the answer (compared by value), answerable
questions refused, out-of-scope refused, follow-ups kept (the system's own
rewrite still retrieves the gold), and nothing the question should not get
back (contact details, solicitation, injected instructions) in an answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.settings import REPO_ROOT, Settings
from assistant.text.normalize import fold_width, squash
from assistant.text.patterns import matches

MODES = ("dense", "bm25", "hybrid")
KS = (1, 3, 5)

# A set's `targets:` name these; `max_` ones are upper bounds, the rest lower bounds.
TARGET_METRICS = {
    "recall@5": "min", "top_article": "min", "figure_in_answer": "min", "answerable_refused": "max",
    "oos_refused": "min", "follow_ups_kept": "min", "echoed": "max",
}


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
    doc: str | None = None  # gold document: its title
    version: str | None = None  # which of two documents with one title (the date in its file name)
    article: str | None = None  # gold article (第二十三条) or, for a case, its section (裁判结果)
    also: list[dict] = field(default_factory=list)  # other gold places: {doc, version, article, evidence}
    expect: str | None = None  # why an out-of-scope question is one (other_place, no_such_article, …)
    note: str | None = None
    why: str | None = None  # the demo and 示范市 sets' free-text reason for an out-of-scope question
    never_echo: list[str] = field(default_factory=list)  # parts of the question no answer may repeat

    def found_in(self, text: str) -> bool:
        body = squash(text)
        return any(squash(e) in body for e in self.evidence)


@dataclass
class Gold:
    """One place that answers a question: a document's files (None: any), an article, evidence."""

    sources: frozenset[str] | None
    article: str | None
    evidence: list[str]


@dataclass
class EvalSet:
    name: str
    corpus: Path
    questions: list[EvalQuestion]
    corpus_spec: dict | None = None  # a corpus built at eval time: {source, convert}
    documents: dict[str, dict[str, str]] = field(default_factory=dict)  # title -> {version: source}
    article_texts: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> {article: squashed text}
    targets: dict[str, float] = field(default_factory=dict)
    gate: bool = True  # the CLI's pass/fail checks apply (a report-only set says `gate: false`)
    # what CI fails below when the targets are not yet met: the figures reached, a little under (regressions)
    floors: dict[str, float] = field(default_factory=dict)

    @property
    def gated_on(self) -> dict[str, float]:
        """The bounds a gated run checks: the floors where the set names them, else its targets."""
        return self.floors or self.targets

    @property
    def in_scope(self) -> list[EvalQuestion]:
        return [q for q in self.questions if not q.out_of_scope]

    def golds(self, q: EvalQuestion) -> list[Gold]:
        places = [{"doc": q.doc, "version": q.version, "article": q.article, "evidence": q.evidence}, *q.also]
        return [Gold(self._sources(p.get("doc"), p.get("version")), p.get("article"), list(p.get("evidence") or []))
                for p in places]

    def _sources(self, doc: str | None, version: str | None) -> frozenset[str] | None:
        if not doc or not self.documents:
            return None  # a set without document annotations: any document may hold the evidence
        versions = self.documents.get(doc)
        if not versions:
            raise ValueError(f"{self.name}: gold document {doc!r} is not in the corpus")
        if version:
            if version not in versions:
                raise ValueError(f"{self.name}: {doc!r} has no version {version!r} (has {sorted(versions)})")
            return frozenset({versions[version]})
        return frozenset(versions.values())


def load_eval_set(path: Path) -> EvalSet:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for item in raw["questions"]:
        unknown = set(item) - set(EvalQuestion.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path.name}: {item.get('id')}: unknown fields {sorted(unknown)}")
        questions.append(EvalQuestion(**item))
    spec = raw["corpus"]
    if isinstance(spec, dict):
        corpus = Path()  # set by build_eval_corpus
    else:
        corpus = _repo_path(spec)
        spec = None
    targets = dict(raw.get("targets") or {})
    floors = dict(raw.get("floors") or {})
    for kind, bounds in (("targets", targets), ("floors", floors)):
        unknown = set(bounds) - set(TARGET_METRICS)
        if unknown:
            raise ValueError(f"{path.name}: unknown {kind} {sorted(unknown)} (known: {sorted(TARGET_METRICS)})")
    return EvalSet(path.stem, corpus, questions, corpus_spec=spec, targets=targets, gate=bool(raw.get("gate", True)),
                   floors=floors)


def _repo_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO_ROOT / path


def default_eval_sets() -> list[Path]:
    return sorted((REPO_ROOT / "tests" / "eval").glob("*.yaml"))


# ---------------------------------------------------------------- corpora built at eval time


def build_eval_corpus(eval_set: EvalSet, root: Path) -> bool:
    """Build the set's corpus under ``root`` (unless a build of the same content is there) and point the set
    at it.  The build is keyed by a hash of the source files, the conversion plan and the converters' code;
    it is written to a partial folder and renamed, so a killed build is never used.  Returns True when it
    built, False when the cached build was reused."""
    from tests.eval import corpora  # test-side: the converters need reportlab and the test factories

    spec = eval_set.corpus_spec or {}
    source = _repo_path(spec["source"])
    if not source.is_dir():
        raise FileNotFoundError(f"{eval_set.name}: corpus source folder {source} does not exist")
    plan = {fmt: list(names) for fmt, names in (spec.get("convert") or {}).items()}
    digest = hashlib.sha256(json.dumps(plan, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    digest.update(Path(corpora.__file__).read_bytes())
    for path in sorted(source.glob("*.md")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    key = digest.hexdigest()
    target, stamp = root / eval_set.name, root / f"{eval_set.name}.build.json"
    built = False
    try:
        record = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if record.get("hash") != key or not target.is_dir():
        partial = root / f"{eval_set.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
        produced = corpora.build_corpus(source, partial, plan)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        record = {"hash": key, "produced": produced}
        stamp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        built = True
    documents: dict[str, dict[str, str]] = {}
    article_texts: dict[str, dict[str, str]] = {}
    for output, original in record["produced"].items():
        doc = corpora.parse_markdown(source / original)
        documents.setdefault(doc.title, {})[doc.version] = output
        article_texts[output] = {label: squash(text) for label, text in corpora.articles(doc).items()}
    eval_set.corpus, eval_set.documents, eval_set.article_texts = target, documents, article_texts
    return built


def service_for(eval_set: EvalSet, settings: Settings, embeddings=None):
    """A service over the set's own corpus, in its own index folder."""
    from assistant.service import AssistantService

    eval_root = Path(settings.paths.index_dir) / "eval"
    if eval_set.corpus_spec is not None:
        build_eval_corpus(eval_set, eval_root / "corpora")
    scoped = settings.model_copy(
        update={"paths": settings.paths.model_copy(update={"index_dir": eval_root / eval_set.name,
                                                           "corpus_dir": eval_set.corpus})}
    )
    service = AssistantService(scoped, embeddings=embeddings)
    report = service.ingest([eval_set.corpus])
    if report.failed:
        failed = [f"{f.source}: {f.reason_en}" for f in report.files if f.status == "failed"]
        raise RuntimeError(f"eval corpus did not index cleanly: {failed}")
    return service


# ---------------------------------------------------------------- what counts as the gold


def hits_gold(eval_set: EvalSet, q: EvalQuestion, meta: dict, text: str) -> bool:
    """The chunk holds one of the question's evidence strings, in a gold document when one is named."""
    body = squash(text)
    return any((g.sources is None or meta.get("source") in g.sources) and any(squash(e) in body for e in g.evidence)
               for g in eval_set.golds(q))


def is_gold_article(eval_set: EvalSet, q: EvalQuestion, meta: dict, text: str) -> bool:
    """The chunk is the gold article: it holds the evidence (in the gold document), or it is from the gold
    document and is part of that article: its section path ends in the article (an article split over
    chunks), or, where the original's articles are known (built corpora; cases have no section path), most
    of its text lies inside that article."""
    if hits_gold(eval_set, q, meta, text):
        return True
    source = meta.get("source")
    section = (meta.get("section") or "").split(" > ")[-1].strip()
    for g in eval_set.golds(q):
        if g.sources is None or source not in g.sources or not g.article:
            continue
        if section.startswith(g.article) and not re.match(r"[一二三四五六七八九十百零〇]", section[len(g.article):]):
            return True
        article_text = eval_set.article_texts.get(source, {}).get(g.article)
        if article_text and mostly_within(squash(text), article_text):
            return True
    return False


def mostly_within(part: str, whole: str, width: int = 12, share: float = 0.6) -> bool:
    """Most ``width``-character windows of ``part`` occur in ``whole`` (both squashed)."""
    windows = [part[i:i + width] for i in range(0, max(len(part) - width, 0) + 1, width // 2)]
    windows = [w for w in windows if len(w) == width]
    return bool(windows) and sum(w in whole for w in windows) / len(windows) >= share


# ---------------------------------------------------------------- figures compared by value

# longest first: 个工作日 before 日, 万元 before 元
_UNITS = ["个工作日", "工作日", "个百分点", "周岁", "个月", "小时", "万元", "周年", "元", "倍", "%", "岁", "年", "月", "日",
          "天", "周", "次", "人", "名", "项", "级", "条", "个"]
_UNIT_ALIASES = {"个工作日": "工作日", "个月": "月", "天": "日", "周岁": "岁", "周年": "年"}
_NUMBER = r"\d+(?:\.\d+)?"
_QUANTITY = re.compile(
    rf"(?P<a>{_NUMBER})(?:\s*(?:至|到|-|~|～|—|或者|或)\s*(?P<b>{_NUMBER}))?\s*(?P<unit>{'|'.join(map(re.escape, _UNITS))})"
)
_PER_MILLE = re.compile(rf"(千|万)分之({_NUMBER})")
_FRACTION = re.compile(r"(?<![\d/])(\d+)/(\d+)(?![\d/])")


def quantities(text: str) -> set[tuple[float, str]]:
    """(value, unit) pairs stated in ``text``: Chinese numerals, full-width digits and thousands separators
    normalised (三十日 = 30日, 1,900元 = 1900元, 二万元 = 20000元, 百分之二十 = 20%)."""
    import warnings

    import cn2an

    plain = fold_width(text).replace("％", "%")
    plain = re.sub(r"两(?=[个倍年月日天周次名人万千百十])", "二", plain)
    with warnings.catch_warnings():  # cn2an warns on fragments it leaves as they are
        warnings.simplefilter("ignore")
        plain = cn2an.transform(plain, "cn2an")
    plain = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", plain)
    found: set[tuple[float, str]] = set()
    for match in _PER_MILLE.finditer(plain):
        found.add((round(float(match.group(2)) / (10 if match.group(1) == "千" else 100), 6), "%"))
    for match in _FRACTION.finditer(plain):
        found.add((round(int(match.group(1)) / int(match.group(2)), 6), "分之"))
    for match in _QUANTITY.finditer(plain):
        unit = _UNIT_ALIASES.get(match.group("unit"), match.group("unit"))
        scale = 1.0
        if unit == "万元":
            unit, scale = "元", 10000.0
        for part in ("a", "b"):
            if match.group(part):
                found.add((round(float(match.group(part)) * scale, 6), unit))
    return found


def figure_in(figure: str, text: str) -> bool:
    """Every quantity of ``figure`` is stated in ``text`` (by value and unit, never as a substring: 2900元
    does not contain 1900元); a figure with no quantity (`不予补贴`) is compared as words."""
    wanted = quantities(figure)
    if not wanted:
        return squash(figure) in squash(text)
    return wanted <= quantities(text)


def echoed(q: EvalQuestion, text: str) -> list[str]:
    """What an answer repeats that it must not: the question's own ``never_echo`` parts, or any sentence the
    project's patterns call solicitation or an instruction to an assistant."""
    body = squash(text)
    found = [part for part in q.never_echo if squash(part) and squash(part) in body]
    if matches("solicitation", text):
        found.append("<solicitation>")
    if matches("instruction", text):
        found.append("<instruction>")
    return found


# ---------------------------------------------------------------- retrieval


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
            rank = next((hit.rank for hit in result.chunks if hits_gold(eval_set, q, hit.meta, hit.chunk.text)), None)
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


# ---------------------------------------------------------------- answers


def answer_metrics(service, eval_set: EvalSet, backend: str | None = None) -> dict:
    """Refusal precision/recall, citation validity, figures, gold article first, follow-ups, echoes."""
    import time

    from assistant.answer.citations import citation_validity

    rows = []
    latencies = []
    for q in eval_set.questions:
        started = time.perf_counter()
        answer = service.ask(q.question, history=q.history, backend=backend)
        latencies.append(time.perf_counter() - started)
        valid, total = citation_validity(answer.text, [hit.chunk.text for hit in answer.sources])
        kept = None
        if q.history and not q.out_of_scope:
            rewritten = service.retrieve(answer.standalone_question, k=5)
            kept = any(hits_gold(eval_set, q, hit.meta, hit.chunk.text) for hit in rewritten.chunks)
        first = answer.sources[0] if answer.sources else None
        rows.append(
            {
                "id": q.id,
                "out_of_scope": q.out_of_scope,
                "expect": q.expect or "",
                "refused": answer.refused,
                "outcome": answer.outcome,
                "hedged": answer.outcome == "hedge",
                "declined": answer.refused or answer.outcome == "hedge",
                "reason": answer.coverage.reason if answer.coverage else "",
                "coverage": round(answer.coverage.coverage, 3) if answer.coverage else None,
                "best_dense": round(answer.coverage.best_dense, 3) if answer.coverage else None,
                "valid_citations": valid,
                "citations": total,
                "figure": q.figure,
                "figure_found": bool(q.figure) and squash(q.figure) in squash(answer.text),
                "figure_value": bool(q.figure) and figure_in(q.figure, answer.text),
                "follow_up": bool(q.history),
                "standalone_question": answer.standalone_question,
                "kept": kept,
                "top_article": None if q.out_of_scope else (
                    first is not None and is_gold_article(eval_set, q, first.meta, first.chunk.text)),
                "top_source": f"{first.meta.get('source', '')} | {first.meta.get('section', '')}" if first else "",
                "evidence_found": (not q.out_of_scope) and q.found_in(answer.text),
                "echoed": echoed(q, answer.text),
            }
        )
    return summarize_answers(rows, latencies)


def summarize_answers(rows: list[dict], latencies: list[float] | None = None) -> dict:
    """The set's figures from per-question rows (see ``answer_metrics``)."""
    oos = [r for r in rows if r["out_of_scope"]]
    ins = [r for r in rows if not r["out_of_scope"]]
    refused = [r for r in rows if r["refused"]]
    with_figure = [r for r in ins if r["figure"]]
    follow_ups = [r for r in ins if r["follow_up"]]
    cited = sum(r["citations"] for r in rows)
    latencies = sorted(latencies or [])
    by_kind: dict[str, list[int]] = {}
    for r in oos:
        counts = by_kind.setdefault(r.get("expect") or "unspecified", [0, 0])
        counts[0] += r["declined"]
        counts[1] += 1

    def share(subset, key):
        return sum(bool(r[key]) for r in subset) / len(subset) if subset else None

    return {
        "n": len(rows),
        # out of scope declined: refused, or hedged ("the documents do not state …", quoting what they do say)
        "refusal_recall": share(oos, "declined") if oos else 1.0,
        "hedged_in_scope": share(ins, "hedged") if ins else 0.0,
        "refusal_precision": sum(r["out_of_scope"] for r in refused) / len(refused) if refused else 1.0,
        "false_refusal_rate": share(ins, "refused") if ins else 0.0,  # answerable questions refused
        "citation_validity": sum(r["valid_citations"] for r in rows) / cited if cited else 1.0,
        "figure_exact": share(with_figure, "figure_found"),
        "follow_up_evidence": share(follow_ups, "evidence_found"),
        "answer_evidence": share(ins, "evidence_found"),
        "top_article": share(ins, "top_article"),
        "figure_in_answer": share(with_figure, "figure_value"),
        "follow_ups_kept": share([r for r in follow_ups if r["kept"] is not None], "kept"),
        "echoed": sum(bool(r["echoed"]) for r in rows),
        "oos_refused_by_kind": {kind: {"refused": c[0], "n": c[1]} for kind, c in sorted(by_kind.items())},
        "counts": {"in_scope": len(ins), "out_of_scope": len(oos), "with_figure": len(with_figure),
                   "follow_ups": len(follow_ups)},
        "latency_p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        "latency_p95_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else 0.0,
        "rows": rows,
    }


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_answer_table(name: str, m: dict, backend: str) -> str:
    lines = [
        f"## {name}: answers ({m['n']} questions, backend {backend})",
        "",
        "| refusal recall (OOS refused) | refusal precision | false refusals (in-scope) | citation validity | exact figure | follow-up evidence | answer evidence | ask p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|",
        f"| {_pct(m['refusal_recall'])} | {_pct(m['refusal_precision'])} | {_pct(m['false_refusal_rate'])} | "
        f"{_pct(m['citation_validity'])} | {_pct(m['figure_exact'])} | {_pct(m['follow_up_evidence'])} | "
        f"{_pct(m['answer_evidence'])} | {m['latency_p50_ms']:.0f} / {m['latency_p95_ms']:.0f} |",
    ]
    wrong = [r["id"] for r in m["rows"] if (r["refused"] if not r["out_of_scope"] else not r["declined"])]
    if wrong:
        lines.append(f"\nwrong refusal decisions: {', '.join(wrong)}")
    hedged = [r["id"] for r in m["rows"] if r["outcome"] == "hedge" and not r["out_of_scope"]]
    if hedged:
        lines.append(f"in-scope hedged ({m['hedged_in_scope']:.3f}): {', '.join(hedged)}")
    missing = [r["id"] for r in m["rows"] if r["figure"] and not r["figure_found"] and not r["out_of_scope"]]
    if missing:
        lines.append(f"figure missing: {', '.join(missing)}")
    return "\n".join(lines)


def format_quality_table(name: str, m: dict, retrieval: dict | None = None, targets: dict | None = None) -> str:
    """The figures of issue #10's targets, with the failing question ids under each."""
    c = m["counts"]
    recall5 = retrieval["hybrid"]["recall@5"] if retrieval else None
    values = [recall5, m["top_article"], m["figure_in_answer"], m["false_refusal_rate"], m["refusal_recall"],
              m["follow_ups_kept"]]
    header = ("| R@5 (hybrid) | top source is gold article | asked figure in answer (by value) | answerable refused "
              "| out-of-scope refused | follow-ups kept | echoed solicitation/injection |")
    lines = [
        f"## {name}: against the targets ({c['in_scope']} in scope, {c['with_figure']} asking a figure, "
        f"{c['out_of_scope']} out of scope, {c['follow_ups']} follow-ups)",
        "",
        header,
        "|---|---|---|---|---|---|---|",
        "| " + " | ".join(_pct(v) for v in values) + f" | {m['echoed']} |",
    ]
    if targets:
        order = ["recall@5", "top_article", "figure_in_answer", "answerable_refused", "oos_refused", "follow_ups_kept",
                 "echoed"]
        cells = [(("≤ " if TARGET_METRICS[k] == "max" else "≥ ") + f"{targets[k]:g}") if k in targets else "—"
                 for k in order]
        lines.append("| " + " | ".join(cells) + " |")
    if m["oos_refused_by_kind"]:
        kinds = ", ".join(f"{kind} {v['refused']}/{v['n']}" for kind, v in m["oos_refused_by_kind"].items())
        lines.append(f"\nout-of-scope refused by kind: {kinds}")
    failing = {
        "top source not the gold article": [r["id"] for r in m["rows"] if r["top_article"] is False],
        "asked figure not in the answer": [r["id"] for r in m["rows"] if r["figure"] and not r["out_of_scope"]
                                           and not r["figure_value"]],
        "answerable refused": [r["id"] for r in m["rows"] if r["refused"] and not r["out_of_scope"]],
        "out of scope answered": [r["id"] for r in m["rows"] if r["out_of_scope"] and not r["declined"]],
        "follow-ups not kept": [r["id"] for r in m["rows"] if r["kept"] is False],
        "echoed": [f"{r['id']} ({', '.join(r['echoed'])})" for r in m["rows"] if r["echoed"]],
    }
    for label, ids in failing.items():
        if ids:
            lines.append(f"{label}: {', '.join(ids)}")
    return "\n".join(lines)


def target_failures(name: str, targets: dict, retrieval: dict, answers: dict | None) -> list[str]:
    """A set's `targets:` not met, one line each."""
    values = {"recall@5": retrieval["hybrid"]["recall@5"]}
    if answers is not None:
        values.update({
            "top_article": answers["top_article"], "figure_in_answer": answers["figure_in_answer"],
            "answerable_refused": answers["false_refusal_rate"], "oos_refused": answers["refusal_recall"],
            "follow_ups_kept": answers["follow_ups_kept"], "echoed": answers["echoed"],
        })
    failures = []
    for metric, bound in targets.items():
        value = values.get(metric)
        if value is None:
            continue
        if (TARGET_METRICS[metric] == "min" and value < bound) or (TARGET_METRICS[metric] == "max" and value > bound):
            sign = "<" if TARGET_METRICS[metric] == "min" else ">"
            failures.append(f"{name}: {metric} {value:.3f} {sign} {bound:g}")
    return failures
