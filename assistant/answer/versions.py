"""The notice an answer carries when its sources have other versions: the one in force, or the older one replaced."""

from __future__ import annotations


def _when(date: str) -> str:
    return f"{date[:4]}年{int(date[5:7])}月{int(date[8:10])}日" if len(date) == 10 else (date or "日期不详")


def version_notice(hits) -> str:
    """One line per cited document that is not in force, or that replaced an older indexed version; '' otherwise."""
    lines: list[str] = []
    seen: set[str] = set()
    for hit in hits:
        meta = hit.meta
        doc_id = meta.get("doc_id", "")
        if doc_id in seen:
            continue
        seen.add(doc_id)
        title = meta.get("title", "")
        if meta.get("validity") == "superseded":
            lines.append(f"注意:《{title}》({_when(meta.get('date', ''))}版)已被{_when(meta.get('superseded_by_date', ''))}"
                         f"的新版本取代,引用的是旧版本的内容,现行规定请以新版本为准。")
        elif meta.get("validity") == "repealed":
            by = meta.get("superseded_by_title", "")
            lines.append(f"注意:《{title}》已废止" + (f"(被《{by}》废止)" if by else "") + ",引用内容仅供了解历史规定。")
        elif meta.get("older_versions"):
            lines.append(f"说明:以上依据《{title}》{_when(meta.get('date', ''))}的现行版本;此前的旧版本已被它取代。")
    return "\n".join(lines[:3])
