"""HTML and Markdown for the chat: answers, sources with highlighted words, status."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from assistant.ingest.metadata import DOC_TYPE_LABELS

REFUSED_BADGE = "⚠️ **已收录的文件中没有找到依据**"
HOTLINE = "📞 如需人工咨询,请拨打人社服务热线 **12333**"
BACKEND_LABELS = {"extractive": "原文摘录(无需大模型)", "openai": "大模型(OpenAI 兼容接口)", "llamacpp": "本地大模型(llama.cpp)"}


# Markdown and HTML syntax in text that came from a document, a model or a user, as character references:
# CommonMark never reads a reference as syntax, so nothing in it becomes a tag, a link, an image, code or a
# heading.  What an answer's own Markdown uses stays: citation markers [n], a quote's "> " at the start of a
# line and ** around the answering sentence (assistant/answer/articles.py); neither is live, whoever wrote it.
# ("_" and "*" are left as typed: file names are full of "_", and emphasis is not live either.)
_AS_REFERENCE = {c: f"&#{ord(c)};" for c in "&<>[]\\`~#"}
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=www)(\.)|(@)")  # GFM links bare URLs, www. and e-mails
_CITATION = re.compile(r"&#91;(\d{1,2})&#93;")
_AFTER_CITATION = re.compile(r"(\[\d{1,2}\])([(:])")
_QUOTE = re.compile(r"^((?:&#62; ?)+)", re.MULTILINE)
_MARKER = re.compile(r"\[(\d{1,2})\](?!\()")  # a citation marker left literal by escape_markdown


def escape_markdown(text: str) -> str:
    """``text`` for a Markdown bubble: no tag, link, image or autolink survives; it reads as typed.

    Citation markers ``[n]`` are kept literally (so copied answers read as they look); a ``(`` or ``:`` after
    one is escaped, so ``[1](https://…)`` or a ``[1]: url`` definition cannot turn one into a link.
    """
    escaped = "".join(_AS_REFERENCE.get(c, c) for c in text)
    escaped = _QUOTE.sub(lambda m: m.group(1).replace("&#62;", ">"), escaped)
    escaped = _AUTOLINK.sub(lambda m: f"&#{ord(m.group(0))};", escaped)
    escaped = _CITATION.sub(r"[\1]", escaped)
    return _AFTER_CITATION.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2))};", escaped)


def answer_markdown(answer: dict) -> str:
    """The chat bubble: a refusal looks different from a grounded answer and always shows 12333.

    The answer and notice are text (quoted documents, a model's words, the question echoed): escaped, so only
    this function's own markup is live."""
    notice = f"> {escape_markdown(answer['notice'])}\n\n" if answer.get("notice") else ""
    text = escape_markdown(answer["answer"])
    if answer.get("refused"):
        return f"{REFUSED_BADGE}\n\n{notice}{text}\n\n{HOTLINE}"
    count = len(answer.get("sources", []))
    if not count:
        return f"{notice}{text}"  # a reply to 你好 / 谢谢: nothing was looked up
    return f"{notice}{text}\n\n<sub>共引用 {count} 处文件原文,见下方「引用来源」。</sub>"


def viewer_url(source: dict) -> str:
    """Where the viewer shows a source's passage in its document (``/documents/{id}/view``)."""
    chunk = f"?chunk={quote(str(source.get('chunk_id') or ''), safe='')}" if source.get("chunk_id") else ""
    return f"/documents/{quote(str(source.get('doc_id') or ''), safe='')}/view{chunk}#passage"


def answer_bubble(answer: dict, terms: list[str]) -> str:
    """One answer in the chat: ``answer_markdown`` with each citation ``[n]`` a link to its passage in the
    viewer, then the answer's own sources, collapsible.  Only this module's markup is live."""
    text = answer_markdown(answer)
    sources = answer.get("sources") or []
    if not sources:
        return text
    by_rank = {s.get("rank"): s for s in sources}

    def linked(match: re.Match) -> str:
        source = by_rank.get(int(match.group(1)))
        return f"[\\[{match.group(1)}\\]]({viewer_url(source)})" if source else match.group(0)

    body, footer, tail = text.rpartition("\n\n<sub>")  # the count line is this module's own
    if not footer:
        body, tail = text, ""
    body = _MARKER.sub(linked, body) + footer + tail
    cited = len({int(n) for n in re.findall(r"\[(\d{1,2})\]", answer.get("answer", ""))} & set(by_rank))
    summary = f"📑 引用来源:{len(sources)} 处" + (f",其中 {cited} 处被引用" if cited else "") + "(点击展开)"
    return (f"{body}\n\n<details class='src-details'><summary>{summary}</summary>"
            f"{sources_html(answer, terms)}</details>")


def _highlight(text: str, terms: list[str]) -> str:
    escaped = html.escape(text)
    terms = [html.escape(t) for t in terms if t.strip()]
    if not terms:
        return escaped.replace("\n", "<br>")
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))
    return pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped).replace("\n", "<br>")


def sources_html(answer: dict | None, terms: list[str]) -> str:
    """One card per source: title, section, page, the passage with the question's words marked, a link to the file."""
    if not answer or not answer.get("sources"):
        if answer:
            return "<div class='src-empty'>本次回答没有引用任何文件。</div>"
        return "<div class='src-empty'>提问后,这里会列出回答所依据的文件原文。</div>"
    cited = {int(n) for n in re.findall(r"\[(\d{1,2})\]", answer.get("answer", ""))}
    cards = []
    for source in answer["sources"]:
        where = " · ".join(x for x in (source.get("section") or "", f"第{source['page']}页" if source.get("page") else "") if x)
        facts = " · ".join(x for x in (source.get("issuer") or "", source.get("date") or "") if x)
        badge = "<span class='src-cited'>已引用</span>" if source["rank"] in cited else ""
        link = f"/documents/{quote(str(source['doc_id']), safe='')}"
        cards.append(
            f"<div class='src-card' data-rank='{int(source['rank'])}'>"
            f"<div class='src-head'><b>[{int(source['rank'])}]</b> 《{html.escape(source['title'])}》 {badge}</div>"
            f"<div class='src-where'>{html.escape(where) or '正文'} · "
            f"<a href='{html.escape(viewer_url(source))}' target='_blank' rel='noopener'>查看原文位置</a> · "
            f"<a href='{link}' target='_blank' rel='noopener'>下载原文</a></div>"
            + (f"<div class='src-facts'>{html.escape(facts)}</div>" if facts else "")
            + _notes(source) +
            f"<div class='src-text'>{_highlight(source['text'], terms)}</div></div>"
        )
    return "<div class='src-list'>" + "".join(cards) + "</div>"


def _notes(source: dict) -> str:
    """Warnings on a card: text recognised from a scan, a version no longer in force."""
    notes = []
    if source.get("ocr_notice"):
        notes.append(f"<div class='src-note src-ocr'>⚠️ {html.escape(source['ocr_notice'])}</div>")
    if source.get("validity") == "superseded":
        newer = source.get("superseded_by_date") or ""
        notes.append(f"<div class='src-note'>⚠️ 此版本已被{html.escape(newer)}的新版本取代</div>")
    elif source.get("validity") == "repealed":
        notes.append("<div class='src-note'>⚠️ 此文件已废止</div>")
    return "".join(notes)


def status_line(stats: dict, backend: str) -> str:
    """What a citizen is told about the service: how many documents, how answers are made."""
    return f"已收录 **{len(stats['documents'])}** 份文件 · 回答方式:{BACKEND_LABELS.get(backend, backend)}"


def staff_status(stats: dict, backend: str, indexing: dict, model: str = "") -> str:
    """Everything staff need: documents and chunks in both indexes, models, where the index is, start-up indexing."""
    state = {"idle": "空闲", "running": "进行中", "done": "已完成", "failed": "失败"}.get(indexing.get("state"), "—")
    answer = BACKEND_LABELS.get(backend, backend) + (f" `{escape_markdown(model)}`" if model else "")
    return (f"文件 **{len(stats['documents'])}** 份 · 片段 **{stats['chunks']['chroma']}**(向量)/"
            f"**{stats['chunks']['bm25']}**(关键词) · 向量模型 `{escape_markdown(str(stats['embedding_model']))}`"
            f"({stats['embedding_dim']} 维) · 回答方式:{answer} · 启动索引:{state} · "
            f"索引位置 `{escape_markdown(str(stats['index']))}`")


OUTCOME_ZH = {"answer": "✅ 会直接回答", "hedge": "⚠️ 会谨慎回答(说明文件没有写明所问内容,并附最相关的原文)",
              "refuse": "⛔ 会拒答(说明文件没有依据,并建议拨打 12333)"}
REASON_ZH = {
    "": "",
    "other_domain": "问题属于其他部门或领域的业务",
    "solicitation": "问题是代办、代写或广告",
    "instruction": "问题是给助手的指令,不是政策问题",
    "no_such_document": "问题提到的文件没有收录",
    "no_such_article": "问题提到的条款在文件中不存在",
    "place": "问题提到的地方没有收录相应文件",
    "year": "问题提到的年份没有收录相应文件",
    "unclear": "问题没有说明是哪一项政策或待遇",
    "low_coverage": "已收录文件对问题的覆盖不足",
    "not_stated": "文件与问题有关,但没有写明所问的数额、比例或期限",
    "uncertain": "文件可能相关,但把握不大",
    "no_results": "没有检索到任何片段",
}


def verdict_markdown(answer: dict, coverage) -> str:
    """What the chat would do with a question, why, and how sure the gate is, in words for staff."""
    if not answer.get("sources") and not answer.get("refused"):
        return "💬 **问候或致谢**:直接回复,不检索文件。"
    reason = REASON_ZH.get(answer.get("reason", ""), answer.get("reason", ""))
    lines = [f"**问答会怎样回应:** {OUTCOME_ZH.get(answer.get('outcome', ''), answer.get('outcome', ''))}"]
    if reason:
        lines.append(f"**原因:** {escape_markdown(reason)}")
    if coverage is not None and answer.get("reason") in ("", "low_coverage", "uncertain", "not_stated"):
        chance = coverage.probability  # the refusal model's; the hard checks above it give none
        words = "很有把握" if chance >= 0.8 else "有一定把握" if chance >= 0.5 else "把握不大"
        lines.append(f"**文件覆盖该问题的可能性:** 约 {chance:.0%}({words})")
    if answer.get("standalone_question") and answer["standalone_question"] != answer.get("question"):
        lines.append(f"**实际检索的问题:** {escape_markdown(answer['standalone_question'])}")
    return "\n\n".join(lines)


def relevance_words(score: float, top: float) -> str:
    """A passage's relevance beside the best one's, in words (the fused scores themselves mean nothing to staff)."""
    share = score / top if top > 0 else 0.0
    return "最相关" if share >= 0.95 else "较相关" if share >= 0.7 else "部分相关" if share >= 0.4 else "相关性弱"


def matched_by(hit) -> str:
    """How retrieval found a passage: by its words, by its meaning, or both."""
    words, meaning = hit.bm25_rank is not None, hit.dense_rank is not None
    return "关键词和语义都匹配" if words and meaning else "关键词匹配" if words else "语义相近" if meaning else "—"


def doc_type_choices(stats: dict) -> list[tuple[str, str]]:
    present = sorted({d["doc_type"] for d in stats["documents"] if d["doc_type"]})
    return [("全部类型", "")] + [(DOC_TYPE_LABELS.get(t, t), t) for t in present]


def region_choices(stats: dict) -> list[tuple[str, str]]:
    regions = sorted({d["region"] for d in stats["documents"] if d["region"]})
    return [("全部地区", "")] + [(r, r) for r in regions]


CSS = """
.src-list {display: flex; flex-direction: column; gap: 10px;}
.src-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;}
.src-head {font-size: 15px; margin-bottom: 4px;}
.src-where {font-size: 13px; color: var(--body-text-color-subdued); margin-bottom: 6px;}
.src-text {font-size: 14px; line-height: 1.7; max-height: 260px; overflow-y: auto;}
.src-text mark {background: #ffe58f; padding: 0 1px;}
.src-cited {font-size: 12px; background: #e6f4ff; color: #0958d9; border-radius: 4px; padding: 1px 6px;}
.src-facts {font-size: 13px; color: var(--body-text-color-subdued); margin-bottom: 4px;}
.src-note {font-size: 13px; color: #ad4e00; margin-bottom: 4px;}
.src-empty {color: var(--body-text-color-subdued); padding: 8px;}
#status-line {font-size: 13px;}
@media (max-width: 640px) {
  .src-text {max-height: 180px;}
  #chat-title h1 {font-size: 20px;}
}
"""
