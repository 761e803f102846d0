"""BASELINE, for benchmarks only: the bm25s side index the app used before the incremental keyword index
(assistant/index/keyword.py), as it was; bench_keyword.py measures it against the engines.

It is rebuilt from Chroma's chunks whenever the registry generation moves, and
saved beside Chroma with that generation.  Tokens are cached by chunk id (ids
are content hashes, so a cached entry can never be stale) and only new chunks
are tokenised on a rebuild.  The token cache is kept on disk and read only
by a rebuild: a serving process does not hold it (about 1 GB at 100k chunks).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.text.lexicon import lexicon_version, tokenize

FORMAT_VERSION = 2
TOKENS_FILE = "tokens.pkl"


@dataclass
class FilterFields:
    """Per-chunk fields that filters look at, kept as arrays for masking."""

    doc_ids: list[str]
    doc_types: list[str]
    regions: list[str]
    date_ints: list[int]


class BM25Index:
    def __init__(self, ids: list[str], fields: FilterFields, retriever, generation: int,
                 tokens: dict[str, list[str]] | None, tokens_path: Path | None = None):
        self.ids = ids
        self.fields = fields
        self.generation = generation
        self._retriever = retriever
        self._tokens = tokens  # None: not loaded, read from tokens_path when a rebuild asks
        self._tokens_path = tokens_path
        self.tokens_version = lexicon_version()  # what tokenised them; a saved index says its own
        self._vocab = retriever.vocab_dict if retriever is not None else {}
        # documents as small integer codes: masking by document is then a table lookup, not a string search
        self._doc_names = sorted(set(fields.doc_ids))
        codes = {name: code for code, name in enumerate(self._doc_names)}
        self._doc_codes = np.array([codes[d] for d in fields.doc_ids], dtype=np.int64)
        self._doc_types = np.array(fields.doc_types, dtype=object)
        self._regions = np.array(fields.regions, dtype=object)
        self._dates = np.array(fields.date_ints, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, records, generation: int, token_cache: dict[str, list[str]] | None = None) -> BM25Index:
        """records: iterable of StoredChunk (id, indexed text, metadata).  ``token_cache`` must come from the
        current tokenizer (see ``reusable_tokens``)."""
        bm25s = _bm25s()

        cache = token_cache or {}
        ids: list[str] = []
        corpus: list[list[str]] = []
        fields = FilterFields([], [], [], [])
        tokens: dict[str, list[str]] = {}
        for record in records:
            toks = cache.get(record.chunk_id)
            if toks is None:
                toks = tokenize(record.indexed_text)
            tokens[record.chunk_id] = toks
            ids.append(record.chunk_id)
            corpus.append(toks or ["\u2205"])  # bm25s needs at least one token per document
            meta = record.metadata
            fields.doc_ids.append(meta.get("doc_id", ""))
            fields.doc_types.append(meta.get("doc_type", ""))
            fields.regions.append(meta.get("region", ""))
            fields.date_ints.append(int(meta.get("date_int", 0) or 0))
        retriever = None
        if corpus:
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
        return cls(ids, fields, retriever, generation, tokens)

    def search(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        known = [t for t in query_tokens if t in self._vocab]
        if not known or self._retriever is None:
            return []
        scores = self._retriever.get_scores(known, weight_mask=mask)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def mask(
        self,
        allowed_doc_ids: set[str] | None = None,
        doc_type: str | None = None,
        region: str | None = None,
        date_from: int | None = None,
        date_to: int | None = None,
    ) -> np.ndarray | None:
        """1/0 weights for the chunks that pass the filters; None when nothing is filtered."""
        if len(self.ids) == 0:
            return None
        allowed = None
        if allowed_doc_ids is not None:
            allowed = np.array([name in allowed_doc_ids for name in self._doc_names], dtype=bool)
        if (allowed is None or allowed.all()) and not (doc_type or region or date_from or date_to):
            return None  # nothing filtered: skip building a mask on every query
        keep = np.ones(len(self.ids), dtype=bool)
        if allowed is not None:
            keep &= allowed[self._doc_codes]
        if doc_type:
            keep &= self._doc_types == doc_type
        if region:
            keep &= self._regions == region
        if date_from:
            keep &= self._dates >= date_from
        if date_to:
            keep &= (self._dates <= date_to) & (self._dates > 0)
        return keep.astype(np.float32)

    # ------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Write to a temporary folder and swap it in, so a reader never sees half an index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=directory.parent))
        try:
            if self._retriever is not None:
                self._retriever.save(str(staging / "bm25s"), show_progress=False)
            with (staging / "state.pkl").open("wb") as fh:
                pickle.dump({"ids": self.ids, "fields": self.fields}, fh, protocol=5)
            with (staging / TOKENS_FILE).open("wb") as fh:
                pickle.dump(self.tokens, fh, protocol=5)
            (staging / "meta.json").write_text(
                json.dumps({"format": FORMAT_VERSION, "generation": self.generation, "chunks": len(self.ids),
                            "tokens_version": self.tokens_version})
            )
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.replace(directory, old)
            os.replace(staging, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._tokens, self._tokens_path = None, directory / TOKENS_FILE  # on disk now; memory freed

    @classmethod
    def load(cls, directory: Path) -> BM25Index | None:
        """The saved index, or None when there is none or it is unreadable."""
        bm25s = _bm25s()

        try:
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("format") != FORMAT_VERSION:
                return None
            with (directory / "state.pkl").open("rb") as fh:
                state = pickle.load(fh)
            retriever = bm25s.BM25.load(str(directory / "bm25s")) if state["ids"] else None
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
            return None
        index = cls(state["ids"], state["fields"], retriever, int(meta["generation"]), None, directory / TOKENS_FILE)
        index.tokens_version = meta.get("tokens_version", "")
        return index

    def reusable_tokens(self) -> dict[str, list[str]] | None:
        """The token cache for the next rebuild, or None when another tokenizer version made it."""
        return self.tokens if self.tokens_version == lexicon_version() else None

    @property
    def tokens(self) -> dict[str, list[str]]:
        """Tokens by chunk id, for the next rebuild; an unreadable file only means re-tokenising."""
        if self._tokens is not None:
            return self._tokens
        if self._tokens_path is None:
            return {}
        try:
            with self._tokens_path.open("rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            return {}


def _bm25s():
    """bm25s, with its logger back at WARNING: the library sets it to DEBUG when imported, so every
    rebuild printed "Building index from tokens" whatever level the app asked for."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
