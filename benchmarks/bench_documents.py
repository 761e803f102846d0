"""Ingest of documents as they really are: OCR speed and accuracy, metadata correctness, ingest time.

Compared in the same run against a baseline revision of the ingest code (``--baseline``, by default the
commit before this work), which is extracted with ``git archive`` and run in a child process:

* OCR: pages/s and character accuracy (1 - edit distance / length) on rendered pages of the fictional
  示范市 regulation (a 150-dpi scan in a PDF, a phone photo) and on a rendered page of a real law from
  ../shared/realdocs; the baseline cannot read them at all (it refused scans as "needs OCR").
* Metadata: per field, the share of the 39 realdocs whose value matches the hand-read expectation
  (tests/ingest/realdocs_expected.py).  That set was used to develop the rules: the figure is not a
  held-out one.
* Ingest time: the 39 realdocs (load, clean, chunk), and the two slow files of issue #11 (a DOCX with many
  styles, an HTML page of nested <dd>).

    .venv/bin/python benchmarks/bench_documents.py [--baseline REV] [--out benchmarks/RESULTS-ingest.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import (  # noqa: E402
    REALDOCS_DIR, REGULATION, REGULATION_TITLE, phone_photo, scanned_pdf_bytes, text_image, wrap_text,
)
from tests.ingest.realdocs_expected import FIELDS, expected  # noqa: E402
from tests.ingest.test_costs import many_styles_docx, nested_dd_html  # noqa: E402

DEFAULT_BASELINE = "3924e68"  # main before issue #11

CHILD = r"""
import json, sys, time
from pathlib import Path
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings
fields, paths = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = {}
for path in paths:
    started = time.perf_counter()
    try:
        doc = process_file(SourceFile(Path(path), Path(path).name), IngestSettings()).doc
        values = {f: getattr(doc, f, None) for f in fields}
        text = ""
    except Exception as exc:
        values, text = None, f"{type(exc).__name__}: {exc}"
    out[path] = {"values": values, "error": text, "seconds": time.perf_counter() - started}
print(json.dumps(out, ensure_ascii=False))
"""


def run_child(code_root: Path, paths: list[Path]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(FIELDS), json.dumps([str(p) for p in paths])],
                          capture_output=True, text=True, env=env, cwd=code_root, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.splitlines()[-1])


def extract_baseline(revision: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "assistant"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def char_accuracy(expected: str, got: str) -> float:
    """1 - Levenshtein distance / expected length, on the text without whitespace."""
    a, b = "".join(expected.split()), "".join(got.split())
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return max(0.0, 1 - previous[-1] / max(1, len(a)))


def ocr_pages(folder: Path) -> list[tuple[str, Path, str, int]]:
    """(name, file, expected text, pages) of the OCR test pages."""
    lines = [REGULATION_TITLE] + [line for text, _ in REGULATION for line in wrap_text(text, 34)]
    first, second = lines[:16], lines[16:]
    scan = folder / "scan.pdf"
    scan.write_bytes(scanned_pdf_bytes([text_image(first), text_image(second)]))
    photo = folder / "photo.jpg"
    photo.write_bytes(phone_photo(text_image(lines[:14])))
    law = (REALDOCS_DIR / "河南省就业促进条例(2009-03-26).md").read_text(encoding="utf-8").split("<!-- INFO END -->")[1]
    law_lines = [line for p in law.splitlines() if p.strip() and not p.startswith("#") for line in wrap_text(p.strip(), 34)][:24]
    real = folder / "realdoc_page.png"
    text_image(law_lines).save(real)
    return [("示范市 regulation, 2-page image-only PDF (150 dpi)", scan, "".join(lines), 2),
            ("示范市 regulation, phone photo (turned 2.5°, noise, JPEG)", photo, "".join(lines[:14]), 1),
            ("河南省就业促进条例 page, rendered PNG", real, "".join(law_lines), 1)]


def measure_ocr(folder: Path) -> list[dict]:
    from assistant.ingest.loaders import load_file
    from assistant.ingest.ocr import _engine
    from assistant.settings import IngestSettings

    started = time.perf_counter()
    _engine()
    load_s = time.perf_counter() - started
    rows = []
    for name, path, truth, pages in ocr_pages(folder):
        started = time.perf_counter()
        loaded = load_file(path, path.name, IngestSettings())
        seconds = time.perf_counter() - started
        got = "".join(p.text for p in loaded.pages)
        rows.append({"page": name, "pages": pages, "seconds": round(seconds, 2), "pages_per_s": round(pages / seconds, 3),
                     "char_accuracy": round(char_accuracy(truth, got), 4), "engine_load_s": round(load_s, 2)})
    return rows


def metadata_scores(results: dict, stems: dict[str, Path]) -> dict[str, float | None]:
    """Per field, the share of documents matching; None when that code has no such field."""
    truth = expected()
    scores: dict[str, float | None] = {}
    for field in FIELDS:
        hits, known = 0, False
        for stem, path in stems.items():
            values = results[str(path)]["values"] or {}
            known = known or values.get(field) is not None
            hits += (values.get(field) or "") == truth[stem][field] if values else 0
        scores[field] = round(hits / len(stems), 3) if known else None
    return scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default=DEFAULT_BASELINE)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS-ingest.md"))
    args = parser.parse_args()
    wall = time.perf_counter()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stems = {p.stem: p for p in sorted(REALDOCS_DIR.glob("*.md")) if p.name != "README.md"}
        slow = tmp / "slow"
        slow.mkdir()
        docx_path = many_styles_docx(slow / "many_styles.docx")
        html_path = slow / "nested_dd.html"
        html_path.write_text(nested_dd_html(), encoding="utf-8")
        files = [*stems.values(), docx_path, html_path]
        baseline_root = extract_baseline(args.baseline, tmp / "baseline")
        runs = {"baseline": run_child(baseline_root, files), "current": run_child(ROOT, files)}
        ocr_dir = tmp / "ocr"
        ocr_dir.mkdir()
        ocr = measure_ocr(ocr_dir)
        baseline_ocr = run_child(baseline_root, [row for row in ocr_dir.iterdir()])
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"nproc {os.cpu_count()}, Python {platform.python_version()}, 1-min load at start {load_start:.2f}, "
                   f"at end {os.getloadavg()[0]:.2f} (the machine is shared: OCR time scales with it)",
        "baseline": args.baseline,
        "metadata": {name: metadata_scores(run, stems) for name, run in runs.items()},
        "realdocs_seconds": {name: round(sum(run[str(p)]["seconds"] for p in stems.values()), 2) for name, run in runs.items()},
        "slow_files": {str(p.name): {name: round(run[str(p)]["seconds"], 2) for name, run in runs.items()}
                       for p in (docx_path, html_path)},
        "ocr": ocr,
        "baseline_ocr": {Path(k).name: v["error"][:90] or "read" for k, v in baseline_ocr.items()},
        "wall_s": round(time.perf_counter() - wall, 1),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    Path(args.out).write_text(render(report), encoding="utf-8")


def render(report: dict) -> str:
    lines = [
        "# Ingest benchmark (issue #11)",
        "",
        f"Generated by `benchmarks/bench_ingest.py` on {report['date']} ({report['machine']}; wall {report['wall_s']} s). "
        f"Baseline: the ingest code at `{report['baseline']}`, run in the same run.",
        "",
        "## OCR (rapidocr 3.10, PP-OCRv6 small, packaged)",
        "",
        "| page | pages | seconds | pages/s | character accuracy |",
        "|---|---|---|---|---|",
        *[f"| {r['page']} | {r['pages']} | {r['seconds']} | {r['pages_per_s']} | {r['char_accuracy']:.1%} |" for r in report["ocr"]],
        "",
        f"Engine load {report['ocr'][0]['engine_load_s']} s (once per process). Baseline on the same files: "
        + "; ".join(f"{k}: {v}" for k, v in report["baseline_ocr"].items()),
        "",
        "## Metadata on the 39 realdocs (share of documents whose field matches the hand-read header)",
        "",
        "The rules were developed on this set: these are development figures, not held-out ones.",
        "",
        "| field | " + " | ".join(report["metadata"]) + " |",
        "|---|" + "---|" * len(report["metadata"]),
        *[f"| {field} | " + " | ".join("no such field" if scores[field] is None else f"{scores[field]:.1%}"
                                       for scores in report["metadata"].values()) + " |"
          for field in FIELDS],
        "",
        "## Ingest time (load, clean, chunk; no embedding)",
        "",
        "| files | " + " | ".join(report["realdocs_seconds"]) + " |",
        "|---|" + "---|" * len(report["realdocs_seconds"]),
        "| 39 realdocs (Markdown) | " + " | ".join(f"{v} s" for v in report["realdocs_seconds"].values()) + " |",
        *[f"| {name} | " + " | ".join(f"{v} s" for v in times.values()) + " |" for name, times in report["slow_files"].items()],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
