"""Command line: ingest, retrieve, stats (and ask, eval, hash-password).

The JSON printed by ``retrieve``, ``ask`` and ``stats`` is a public interface
that other systems call; add fields if needed, never rename or remove them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from assistant.settings import ANSWER_BACKENDS, get_settings


def _settings(args):
    if getattr(args, "index_dir", None):
        os.environ["ASSISTANT_PATHS__INDEX_DIR"] = str(Path(args.index_dir).resolve())
    get_settings.cache_clear()
    return get_settings()


def _print_progress(source: str, done: int, total: int, chunks: int) -> None:
    """One line per file on stderr as the ingest goes, so a long run shows where it is (stdout stays the report)."""
    print(f"[{done}/{total}] {source}  ({chunks} chunks)", file=sys.stderr, flush=True)


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _service(args):
    from assistant.service import AssistantService

    return AssistantService(_settings(args))


# ---------------------------------------------------------------- ingest


def cmd_ingest(args) -> int:
    settings = _settings(args)
    if args.rebuild:
        from assistant.index.store import drop_index

        drop_index(settings)
    from assistant.service import AssistantService

    service = AssistantService(settings)
    paths = [Path(p) for p in args.paths] or [Path(settings.paths.corpus_dir)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"路径不存在 / path not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = service.ingest(paths, prune=not args.no_prune, progress=None if args.quiet else _print_progress)
    if args.json:
        _print_json({"files": [f.__dict__ for f in report.files], "summary": report.summary()})
    else:
        for f in report.files:
            line = f"{f.status:<9} {f.source}"
            if f.status in ("indexed", "unchanged", "removed"):
                line += f"  ({f.chunks} chunks)  {f.title}"
            else:
                line += f"  [{f.code}] {f.reason_zh} / {f.reason_en}"
            print(line)
        s = report.summary()
        print(
            f"files ok: {s['ok']} (indexed {s['indexed']}, unchanged {s['unchanged']}), failed: {s['failed']}, "
            f"skipped: {s['skipped']}, removed: {s['removed']}; chunks indexed: {s['chunks']}; {s['seconds']} s"
        )
    return 1 if report.failed else 0


# ---------------------------------------------------------------- retrieve


def _filters(args):
    from assistant.retrieve.hybrid import Filters

    return Filters(doc_type=args.doc_type, region=args.region, date_from=args.date_from, date_to=args.date_to)


def _questions(arg: str):
    if arg != "-":
        yield arg
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


def cmd_retrieve(args) -> int:
    service = _service(args)
    batch = args.question == "-"
    for question in _questions(args.question):
        result = service.retrieve(question, k=args.k, filters=_filters(args))
        payload = {"question": question, "sources": [hit.source_json() for hit in result.chunks]}
        if args.json or batch:
            _print_json(payload)
        else:
            print(f"问题:{question}")
            for source in payload["sources"]:
                page = f" 第{source['page']}页" if source["page"] else ""
                print(f"\n[{source['rank']}] {source['title']} | {source['section'] or '—'}{page}  (score {source['score']:.4f})")
                print(f"    {source['text'][:300]}")
    return 0


# ---------------------------------------------------------------- ask


def _ask_inputs(arg: str):
    """(question, history) pairs: the argument, or stdin lines of plain text or JSON objects."""
    if arg != "-":
        yield arg, []
        return
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                obj = json.loads(line)
                yield str(obj.get("question", "")), list(obj.get("history") or [])
                continue
            except json.JSONDecodeError:
                pass
        yield line, []


def cmd_ask(args) -> int:
    service = _service(args)
    batch = args.question == "-"
    for question, history in _ask_inputs(args.question):
        answer = service.ask(question, history=history, filters=_filters(args), backend=args.backend)
        if args.json or batch:
            _print_json(answer.to_json())
            continue
        if answer.notice:
            print(answer.notice)
        print(answer.text)
        if answer.sources:
            print("\n出处:")
            for hit in answer.sources:
                source = hit.source_json()
                page = f" 第{source['page']}页" if source["page"] else ""
                print(f"[{source['rank']}] {source['title']} | {source['section'] or '—'}{page} ({source['source']})")
    return 0


# ---------------------------------------------------------------- stats


def cmd_stats(args) -> int:
    stats = _service(args).stats()
    if args.json:
        _print_json(stats)
        return 0
    print(f"索引位置 index: {stats['index']}")
    print(f"向量模型 embedding model: {stats['embedding_model']} ({stats['embedding_dim']} dims)")
    print(f"文档 documents: {len(stats['documents'])}; chunks: Chroma {stats['chunks']['chroma']}, BM25 {stats['chunks']['bm25']}")
    for doc in stats["documents"]:
        print(f"  - {doc['title']}  [{doc['doc_type'] or '?'}] {doc['date']} {doc['region']}  {doc['chunks']} chunks  ({doc['source']})")
    return 0


# ---------------------------------------------------------------- eval


def cmd_eval(args) -> int:
    from assistant.evaluation import (
        answer_metrics,
        default_eval_sets,
        format_answer_table,
        format_quality_table,
        format_retrieval_table,
        load_eval_set,
        retrieval_metrics,
        service_for,
        target_failures,
    )
    from assistant.components import embedder

    settings = _settings(args)
    embeddings = embedder(settings.embedding)
    paths = [Path(p) for p in args.sets] or default_eval_sets()
    report: dict = {}
    failures = []
    for path in paths:
        eval_set = load_eval_set(path)
        # a set with `floors:` (or else `targets:`) is checked against them; one without, against the
        # command-line thresholds; a `gate: false` set only reports, unless --gate names it
        gated = eval_set.gate or eval_set.name in args.gate
        service = service_for(eval_set, settings, embeddings)
        metrics = retrieval_metrics(service, eval_set)
        report[eval_set.name] = {"retrieval": metrics}
        if not args.json:
            print(format_retrieval_table(eval_set.name, metrics) + "\n")
        if gated and not eval_set.gated_on and metrics["hybrid"]["recall@5"] < args.min_recall5:
            failures.append(f"{eval_set.name}: hybrid Recall@5 {metrics['hybrid']['recall@5']:.3f} < {args.min_recall5}")
        if args.retrieval_only:
            if gated and eval_set.gated_on:
                failures += target_failures(eval_set.name, eval_set.gated_on, metrics, None)
            continue
        answers = answer_metrics(service, eval_set, backend=args.backend)
        report[eval_set.name]["answers"] = answers
        if not args.json:
            backend = args.backend or settings.answer.backend
            print(format_answer_table(eval_set.name, answers, backend) + "\n")
            print(format_quality_table(eval_set.name, answers, metrics, eval_set.targets) + "\n")
        if not gated:
            continue
        if eval_set.gated_on:
            failures += target_failures(eval_set.name, eval_set.gated_on, metrics, answers)
            continue
        if answers["refusal_recall"] < args.min_refusal_recall:
            failures.append(f"{eval_set.name}: refusal recall {answers['refusal_recall']:.3f} < {args.min_refusal_recall}")
        if answers["false_refusal_rate"] > args.max_false_refusal:
            failures.append(f"{eval_set.name}: false refusals {answers['false_refusal_rate']:.3f} > {args.max_false_refusal}")
        if answers["citation_validity"] < args.min_citation_validity:
            failures.append(f"{eval_set.name}: citation validity {answers['citation_validity']:.3f} < {args.min_citation_validity}")
        if answers["figure_exact"] is not None and answers["figure_exact"] < args.min_figure_exact:
            failures.append(f"{eval_set.name}: exact figures {answers['figure_exact']:.3f} < {args.min_figure_exact}")
    if args.json:
        _print_json(report)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


# ---------------------------------------------------------------- staff accounts


def cmd_hash_password(args) -> int:
    """Print the scrypt hash of a staff password for ``security.staff_accounts`` (the password is read from the
    terminal, or from stdin when piped, never from the command line where ``ps`` shows it)."""
    import getpass

    from assistant.accounts import hash_password, password_problem

    settings = get_settings()
    if sys.stdin.isatty():
        password = getpass.getpass("密码 / password: ")
        if getpass.getpass("再输入一次 / again: ") != password:
            print("两次输入的密码不一致 / the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    problem = password_problem(password, args.user, settings.security.min_password_length)
    if problem:
        print(f"密码太弱 / too weak: {problem}", file=sys.stderr)
        return 2
    print(json.dumps({args.user: hash_password(password)}, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="就业政策问答助手")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="index files or folders (default: corpus/)")
    ingest.add_argument("paths", nargs="*")
    ingest.add_argument("--index-dir")
    ingest.add_argument("--json", action="store_true")
    ingest.add_argument("--rebuild", action="store_true", help="drop the index first (needed after changing the embedding model)")
    ingest.add_argument("--no-prune", action="store_true", help="keep documents whose files are gone")
    ingest.add_argument("--quiet", action="store_true", help="no per-file progress lines on stderr")
    ingest.set_defaults(func=cmd_ingest)

    def question_parser(name: str, help_text: str):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("question", help="the question, or - to read one per line from stdin")
        p.add_argument("--index-dir")
        p.add_argument("--json", action="store_true")
        p.add_argument("--doc-type", choices=["speech", "news", "policy", "qa"])
        p.add_argument("--region")
        p.add_argument("--date-from")
        p.add_argument("--date-to")
        return p

    retrieve = question_parser("retrieve", "show the ranked chunks for a question")
    retrieve.add_argument("-k", type=int, default=None)
    retrieve.set_defaults(func=cmd_retrieve)

    ask = question_parser("ask", "answer a question with citations")
    ask.add_argument("--backend", choices=ANSWER_BACKENDS, default=None)
    ask.set_defaults(func=cmd_ask)

    stats = sub.add_parser("stats", help="documents, chunk counts, model and index location")
    stats.add_argument("--index-dir")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)

    hashing = sub.add_parser("hash-password", help="hash a staff password for ASSISTANT_SECURITY__STAFF_ACCOUNTS")
    hashing.add_argument("--user", required=True, help="the staff member's login name")
    hashing.set_defaults(func=cmd_hash_password)

    evaluate = sub.add_parser("eval", help="retrieval and answer figures on the eval sets")
    evaluate.add_argument("sets", nargs="*", help="eval YAML files (default: tests/eval/*.yaml)")
    evaluate.add_argument("--index-dir")
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--min-recall5", type=float, default=0.9)
    evaluate.add_argument("--min-refusal-recall", type=float, default=0.9)
    evaluate.add_argument("--max-false-refusal", type=float, default=0.05)
    evaluate.add_argument("--min-citation-validity", type=float, default=0.95)
    evaluate.add_argument("--min-figure-exact", type=float, default=0.85)
    evaluate.add_argument("--retrieval-only", action="store_true")
    evaluate.add_argument("--gate", action="append", default=[], metavar="SET",
                          help="also fail below this set's `targets:` when its YAML says `gate: false` (repeatable)")
    evaluate.add_argument("--backend", choices=ANSWER_BACKENDS, default=None)
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a stack trace
        from assistant.client_input import BadInput
        from assistant.index.embeddings import EmbeddingModelError
        from assistant.index.store import IndexMismatchError, IndexUnavailable

        if isinstance(exc, (IndexMismatchError, IndexUnavailable, EmbeddingModelError)):
            print(f"错误 / error: {exc}", file=sys.stderr)
            return 3
        if isinstance(exc, BadInput):  # a question or history line that is not text
            print(f"错误 / error: {exc}", file=sys.stderr)
            return 2
        raise
