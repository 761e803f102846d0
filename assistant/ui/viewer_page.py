"""The document viewer's page (``/documents/{id}/view``): a cited passage in its document.

Plain HTML made on the server from ``AssistantService.passage``: every value from a document is escaped, the
page carries no script, and a PDF page is an image the server drew (``/documents/{id}/pages/{n}``).
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlencode

from assistant.ingest.metadata import DOC_TYPE_LABELS

NOT_FOUND = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>未找到原文</title></head>
<body style="font-family:sans-serif;padding:2em"><p>该文件或段落不存在,或已从知识库删除。</p>
<p><a href="/">返回问答</a></p></body></html>"""

STYLE = """
body {font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; margin: 0; color: #1f1f1f;
      line-height: 1.75; background: #f7f7f8;}
header, main {max-width: 1200px; margin: 0 auto; padding: 12px 16px; box-sizing: border-box;}
main.with-page {display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 20px; align-items: start;}
main.with-page figure {position: sticky; top: 8px;}
@media (max-width: 900px) {main.with-page {display: block;}}
header {background: #fff; border-bottom: 1px solid #e5e5e5;}
h1 {font-size: 20px; margin: 6px 0;}
.facts, .path, .where {font-size: 14px; color: #595959;}
.actions a {display: inline-block; margin: 6px 12px 0 0; font-size: 15px;}
figure {margin: 12px 0; background: #fff; border: 1px solid #e5e5e5; border-radius: 8px; padding: 8px;}
figure img {width: 100%; height: auto; display: block;}
figcaption {font-size: 14px; color: #595959; margin-top: 6px;}
.chunk {background: #fff; border: 1px solid #e5e5e5; border-radius: 8px; padding: 10px 14px; margin: 10px 0;
        overflow-wrap: anywhere; white-space: pre-wrap;}
.chunk.neighbour {color: #434343;}
#passage {border: 2px solid #faad14;}
#passage mark {background: #ffe58f; padding: 0 1px;}
.label {font-size: 13px; color: #8c8c8c; display: block; white-space: normal;}
"""


def _link(doc_id: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"/documents/{quote(doc_id, safe='')}/view" + (f"?{query}" if query else "")


def _chunk(chunk: dict, doc_id: str, passage: bool) -> str:
    where = " · ".join(x for x in (chunk.get("section") or "", f"第{chunk['page']}页" if chunk.get("page") else "") if x)
    text = html.escape(chunk["text"])
    if passage:
        return (f"<article id='passage' class='chunk'><span class='label'>引用的段落 · {html.escape(where) or '正文'}"
                f"</span><mark>{text}</mark></article>")
    return (f"<div class='chunk neighbour'><span class='label'><a href='{html.escape(_link(doc_id, chunk=chunk['chunk_id']))}"
            f"#passage'>{html.escape(where) or '正文'}</a></span>{text}</div>")


def viewer_html(found: dict, page: int | None = None) -> str:
    """The page for ``service.passage(...)``; ``page`` shows another page of a PDF than the passage's."""
    document, chunk = found["document"], found["chunk"]
    doc_id = document["doc_id"]
    title = html.escape(document["title"] or document["source"])
    facts = " · ".join(html.escape(x) for x in (DOC_TYPE_LABELS.get(document.get("doc_type"), ""),
                                                 document.get("issuer") or "", document.get("date") or "") if x)
    path = " › ".join(html.escape(p.strip()) for p in (chunk.get("section") or "").split(">") if p.strip())
    figure = ""
    pages = found.get("pages") or 0
    if pages:
        shown = page if page and 1 <= page <= pages else (chunk.get("page") or 1)
        marked = shown == chunk.get("page")
        image = f"/documents/{quote(doc_id, safe='')}/pages/{shown}" + (
            f"?{urlencode({'chunk': chunk['chunk_id']})}" if marked else "")
        turns = []
        if shown > 1:
            turns.append(f"<a href='{html.escape(_link(doc_id, chunk=chunk['chunk_id'], page=shown - 1))}'>上一页</a>")
        if shown < pages:
            turns.append(f"<a href='{html.escape(_link(doc_id, chunk=chunk['chunk_id'], page=shown + 1))}'>下一页</a>")
        if not marked:
            turns.append(f"<a href='{html.escape(_link(doc_id, chunk=chunk['chunk_id']))}#page'>回到引用所在页</a>")
        note = "黄色标记为引用的段落" if marked else "引用的段落不在此页"
        figure = (f"<figure id='page'><img id='page-image' src='{html.escape(image)}' "
                  f"alt='原文第 {shown} 页({note})'>"
                  f"<figcaption>原文第 {shown} 页 / 共 {pages} 页 · {note} · {' · '.join(turns)}</figcaption></figure>")
    context = ("".join(_chunk(c, doc_id, False) for c in found["before"]) + _chunk(chunk, doc_id, True)
               + "".join(_chunk(c, doc_id, False) for c in found["after"]))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 原文查看</title><style>{STYLE}</style></head>
<body><header>
<div class="actions"><a href="/">← 返回问答</a></div>
<h1>《{title}》</h1>
{f'<div class="facts">{facts}</div>' if facts else ''}
<div class="path" id="section-path">位置:{path or '正文'}{f' · 第{chunk["page"]}页' if chunk.get("page") else ''}</div>
<div class="actions"><a id="download" href="/documents/{quote(doc_id, safe='')}">⬇️ 下载原文文件</a>
<a href="#passage">跳到引用段落</a></div>
</header><main class="{'with-page' if figure else ''}">
{figure}
<section><h2 style="font-size:16px">引用段落及上下文</h2>
{context}</section>
</main></body></html>"""
