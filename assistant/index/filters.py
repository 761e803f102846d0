"""The store-neutral filter spec: declared once, translated by each store (Chroma ``where``, the keyword
engine's own query), never by the retriever."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Filters:
    doc_type: str | None = None
    region: str | None = None
    date_from: str | None = None  # yyyy-mm-dd (or yyyy, yyyy-mm: the missing part counts as 0)
    date_to: str | None = None
    doc_ids: frozenset[str] | None = None  # only these documents; None: every document

    @property
    def date_from_int(self) -> int | None:
        return date_int(self.date_from) if self.date_from else None

    @property
    def date_to_int(self) -> int | None:
        return date_int(self.date_to) if self.date_to else None

    def only(self, doc_ids) -> Filters:
        """The same filter, restricted to ``doc_ids`` as well."""
        allowed = frozenset(doc_ids)
        return replace(self, doc_ids=allowed if self.doc_ids is None else self.doc_ids & allowed)


def date_int(value: str) -> int:
    """yyyy-mm-dd as the integer yyyymmdd stored with every chunk (0: no date)."""
    return int(value.replace("-", "").ljust(8, "0")[:8])
