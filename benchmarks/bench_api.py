"""Latency of the HTTP API's ``/v1/chat/completions`` (extractive backend, demo corpus) at 1 and 10 concurrent
clients, through the official ``openai`` client, non-streamed and streamed, next to the baseline of the same
run: the chat's Gradio ``/ask`` endpoint over plain HTTP (load_test.py's ``http`` client).

Starts ``app.py`` on a free loopback port (its own index of the demo corpus, rate limit off) and reuses
load_test.py's bounded request loop; every loop is bounded and the app is stopped at the end.

    .venv/bin/python benchmarks/bench_api.py [--clients 1,10] [--requests 200] [--out benchmarks/API.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_test  # noqa: E402 - the sibling script: app start-up, questions, the request loop

MODEL = "employment-policy-assistant"
FIRST_TEXT: list[float] = []  # seconds to the first content chunk of each streamed answer
_lock = threading.Lock()


class OpenAIAsker:
    """``/v1/chat/completions`` through the official client, one answer per call."""

    stream = False

    def __init__(self, url: str):
        import openai

        self.client = openai.OpenAI(base_url=url.rstrip("/") + "/v1", api_key="unused", max_retries=0, timeout=120)

    def ask(self, question: str) -> dict:
        messages = [{"role": "user", "content": question}]
        if not self.stream:
            completion = self.client.chat.completions.create(model=MODEL, messages=messages)
            extra = completion.model_extra
            return {"answer": completion.choices[0].message.content, "refused": extra["refused"],
                    "sources": extra["sources"]}
        started, first, text, last = time.perf_counter(), None, "", None
        for chunk in self.client.chat.completions.create(model=MODEL, messages=messages, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                first = first or time.perf_counter() - started
                text += chunk.choices[0].delta.content
            last = chunk
        with _lock:
            FIRST_TEXT.append(first or 0.0)
        return {"answer": text, "refused": last.model_extra["refused"], "sources": last.model_extra["sources"]}


class OpenAIStreamAsker(OpenAIAsker):
    stream = True


load_test.ASKERS.update({"openai": OpenAIAsker, "openai_stream": OpenAIStreamAsker})
SETUPS = {"openai": "/v1/chat/completions, openai client", "openai_stream": "the same, stream=True (to the last chunk)",
          "http": "baseline: Gradio /ask over plain HTTP"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="1,10")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8, help="the app's concurrent answers (ui.concurrency)")
    parser.add_argument("--out")
    args = parser.parse_args()
    questions = load_test._questions()
    levels = [int(c) for c in args.clients.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port = load_test._free_port()
        app = load_test.start_app(Path(tmp), port, args.concurrency, "bench-api-only")
        url = f"http://127.0.0.1:{port}/"
        try:
            for asker in SETUPS:
                load_test.run_level(url, 2, 10, questions, asker=asker)  # warm-up, not reported
            for clients in levels:
                for asker in SETUPS:  # interleaved, so a noisy minute on the shared machine hits all alike
                    FIRST_TEXT.clear()
                    row = load_test.run_level(url, clients, args.requests, questions, asker=asker)
                    row.update(setup=asker, first_text_p50_ms=float(np.percentile(FIRST_TEXT, 50)) * 1000
                               if FIRST_TEXT else None)
                    rows.append(row)
                    print(f"{asker:>13} {clients:>3} clients: {row['ok']}/{row['requests']} ok, {row['errors']} errors "
                          f"{row['error_kinds']}, {row['throughput_rps']:.1f} req/s, p50 {row['p50_ms']:.0f} ms, "
                          f"p95 {row['p95_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms", flush=True)
        finally:
            app.terminate()
            app.wait(timeout=20)
    if args.out:
        load = os.getloadavg()[0]
        lines = [f"# HTTP API latency ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
                 f"`benchmarks/bench_api.py --clients {args.clients} --requests {args.requests}`: the served app "
                 f"(extractive backend, demo corpus, ui.concurrency={args.concurrency}, rate limit off, answer caches on) "
                 f"on loopback, {os.cpu_count()} cores shared by clients and server (1-min load average at the end "
                 f"{load:.1f}; the machine is shared). Questions: tests/eval/demo.yaml, repeating after a warm-up. "
                 "Setups, interleaved per level: " + "; ".join(f"`{k}` = {v}" for k, v in SETUPS.items()) + ".", "",
                 "| setup | clients | requests | ok | errors | req/s | p50 ms | p95 ms | p99 ms | first text p50 ms |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            first = f"{r['first_text_p50_ms']:.0f}" if r["first_text_p50_ms"] is not None else "–"
            lines.append(f"| {r['setup']} | {r['clients']} | {r['requests']} | {r['ok']} | {r['errors']} | "
                         f"{r['throughput_rps']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {first} |")
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
