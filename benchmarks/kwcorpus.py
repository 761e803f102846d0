"""Pre-tokenised chunk records of the synthetic corpus, cached on disk, for the keyword-engine comparison.

Chunks come from the app's own cleaning and chunking over ``synthcorpus`` documents and are tokenised
with the app's jieba tokeniser (``assistant.text.lexicon``), in worker processes; the result is
cached in the work dir so that every engine in a run indexes exactly the same tokens.  The filter
fields are spread over a few values (doc type, region, date) so that filtered queries select a real
fraction of the corpus.
"""

from __future__ import annotations

import hashlib
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import synthcorpus

SEED = 2099
REGIONS = ("示范市", "样例县", "临江区", "青山区", "")
DOC_TYPES = ("policy", "qa", "news", "speech")


@dataclass
class Record:
    chunk_id: str
    doc_id: str
    doc_type: str
    region: str
    date_int: int
    text: str  # the jieba tokens joined by spaces: one string per chunk keeps 1M records in memory

    @property
    def tokens(self) -> list[str]:
        return self.text.split(" ") if self.text else []


def _document_records(index: int) -> list[Record]:
    from assistant.text.lexicon import tokenize
    from assistant.ingest.models import LoadedDocument, Page
    from assistant.ingest.pipeline import process_loaded
    from assistant.settings import IngestSettings

    name, text = synthcorpus.document(SEED, index)
    processed = process_loaded(LoadedDocument(name, [Page(text)]), IngestSettings(), hashlib.sha256(text.encode()).hexdigest())
    doc = processed.doc
    # spread the filter fields over several values (every synthetic document is 示范市, 2099)
    doc_type = DOC_TYPES[index % len(DOC_TYPES)]
    region = REGIONS[index % len(REGIONS)]
    date_int = 20990000 + (index % 12 + 1) * 100 + index % 28 + 1
    return [Record(c.chunk_id, doc.doc_id, doc_type, region, date_int, " ".join(t.replace(" ", "_") for t in tokenize(c.indexed_text))) for c in processed.chunks]


def records(n_chunks: int, workdir: Path, processes: int = 2) -> list[Record]:
    """At least ``n_chunks`` records (whole documents), built once and cached in ``workdir``."""
    cache = workdir / f"records-{n_chunks}.pkl"
    if cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    out: list[Record] = []
    # chunks per document average ~35; ask for documents in rounds until the level is reached
    with ProcessPoolExecutor(processes) as pool:
        next_doc = 0
        while len(out) < n_chunks:
            wanted = max(64, (n_chunks - len(out)) // 30)
            for doc_records in pool.map(_document_records, range(next_doc, next_doc + wanted), chunksize=32):
                out += doc_records
                if len(out) >= n_chunks:
                    break
            next_doc += wanted
    workdir.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as fh:
        pickle.dump(out, fh, protocol=5)
    return out


def by_document(recs: list[Record]) -> dict[str, list[Record]]:
    docs: dict[str, list[Record]] = {}
    for r in recs:
        docs.setdefault(r.doc_id, []).append(r)
    return docs
