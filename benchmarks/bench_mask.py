"""Per-query cost of BM25Index.mask at 100k chunks: the old string search vs the document-code lookup.

A focused re-measure after the fix suggested by the full run (RESULTS.md), both in the same run.
    .venv/bin/python benchmarks/bench_mask.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.index.bm25 import BM25Index  # noqa: E402
from assistant.index.store import StoredChunk  # noqa: E402


def main(chunks: int = 100_000, documents: int = 2_000, repeats: int = 20) -> None:
    rng = np.random.default_rng(0)
    vocab = [f"词{i}" for i in range(5000)]
    records = [
        StoredChunk(f"c{i}", "", {"doc_id": f"d{i % documents}", "doc_type": "policy", "region": "示范市", "date_int": 20990101})
        for i in range(chunks)
    ]
    tokens = {r.chunk_id: list(rng.choice(vocab, 40)) for r in records}
    index = BM25Index.build(records, generation=1, token_cache=tokens)
    allowed = {f"d{i}" for i in range(documents - 1)}  # one document being re-indexed: a mask is needed

    def old_mask():
        return np.isin(np.array(index.fields.doc_ids, dtype=object), list(allowed)).astype(np.float32)

    for name, fn in (("old np.isin on strings", old_mask), ("document codes", lambda: index.mask(allowed))):
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:<24} p50 {np.percentile(times, 50):8.2f} ms   p95 {np.percentile(times, 95):8.2f} ms")
    assert np.array_equal(old_mask(), index.mask(allowed))
    start = time.perf_counter()
    for _ in range(repeats):
        index.search(list(rng.choice(vocab, 6)), 30, index.mask(allowed))
    print(f"BM25 search with mask    mean {(time.perf_counter() - start) * 1000 / repeats:8.2f} ms  ({chunks} chunks)")


if __name__ == "__main__":
    main()
