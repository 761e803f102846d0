"""Versions in force: which indexed documents another indexed document replaced.

Two documents with the same title for the same place and different dates are versions of one
document (上海市社会救助条例 2018 and 2024): the latest is in force, the others are ``superseded``.
A document that says it repeals another (`《…》同时废止`, read at ingest into ``repeals``) marks that
one ``repealed``.  Links are computed from the registry whenever it is read, so they follow every
addition and deletion without a write; the question side prefers versions in force and the answer
says an older one was replaced.
"""

from __future__ import annotations

import re

# `(2018年修订)`, `(2019修正)`, `(2020年版)`, `(试行)`: markers of a version, not of another document
_VERSION_MARK = re.compile(r"[((](?:\d{4}\s*年?\s*(?:修订|修正|修改|版|本)?|修订|修正|修订版|修正版|试行|暂行)[))]")
FIELDS = ("validity", "superseded_by", "superseded_by_title", "superseded_by_date", "older_versions")


def title_key(title: str) -> str:
    """A title as versions share it: without version markers, spaces and book-title marks."""
    return re.sub(r"[\s《》〈〉\"“”]", "", _VERSION_MARK.sub("", title or ""))


def link_versions(documents: dict[str, dict]) -> dict[str, dict]:
    """The registry records with version fields set: ``validity`` ('superseded' / 'repealed' / as ingested),
    ``superseded_by`` (doc id), its title and date, and ``older_versions`` (doc ids, comma-separated)."""
    linked = {doc_id: {**meta, **{f: meta.get(f, "") or "" for f in FIELDS}} for doc_id, meta in documents.items()}
    complete = {doc_id: meta for doc_id, meta in linked.items() if meta.get("status") == "complete"}

    def replace(old_id: str, new_id: str, how: str) -> None:
        old, new = linked[old_id], linked[new_id]
        old.update(validity=how, superseded_by=new_id, superseded_by_title=new.get("title", ""),
                   superseded_by_date=new.get("date", ""))
        older = [i for i in new["older_versions"].split(",") if i]
        new["older_versions"] = ",".join(dict.fromkeys([*older, old_id]))

    groups: dict[tuple[str, str], list[str]] = {}
    for doc_id, meta in complete.items():
        groups.setdefault((title_key(meta.get("title", "")), meta.get("region", "")), []).append(doc_id)
    for members in groups.values():
        dated = sorted((m for m in members if complete[m].get("date")), key=lambda m: complete[m]["date"])
        if len(dated) < 2 or complete[dated[0]]["date"] == complete[dated[-1]]["date"]:
            continue
        newest = dated[-1]
        for older in dated[:-1]:
            if complete[older]["date"] < complete[newest]["date"]:
                replace(older, newest, "superseded")

    by_key: dict[str, list[str]] = {}
    for doc_id, meta in complete.items():
        by_key.setdefault(title_key(meta.get("title", "")), []).append(doc_id)
    for doc_id, meta in complete.items():
        for repealed_title in filter(None, (meta.get("repeals") or "").split("\n")):
            for target in by_key.get(title_key(repealed_title), []):
                target_date, own_date = complete[target].get("date", ""), meta.get("date", "")
                if target != doc_id and (not target_date or not own_date or target_date <= own_date):
                    replace(target, doc_id, "repealed")
    return linked
