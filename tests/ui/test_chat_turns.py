"""What the chat keeps and renders (unit level): turns from the browser's storage are coerced and bounded, the
service is asked from the turns' text, citations link only to the app's own viewer, and the export is the
conversation's text."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from assistant.ui import chat, render

ANSWER = {"question": "见习补贴多少?", "answer": "每人每月1800元[1],另见[3]。", "refused": False, "backend": "extractive",
          "standalone_question": "见习补贴多少?", "notice": "", "outcome": "answer", "reason": "",
          "sources": [{"rank": 1, "doc_id": "0123456789abcdef", "chunk_id": "c0ffee", "title": "示范市办法",
                       "source": "a.pdf", "page": 4, "section": "第七条", "text": "见" * 500}]}


def test_citations_link_to_the_viewer_and_nothing_else_is_live():
    html = MarkdownIt("commonmark", {"html": True}).render(render.answer_bubble(ANSWER, ["1800元"]))
    links = re.findall(r'href="([^"]+)"|href=\'([^\']+)\'', html)
    hrefs = {a or b for a, b in links}
    assert "/documents/0123456789abcdef/view?chunk=c0ffee#passage" in hrefs
    assert hrefs <= {"/documents/0123456789abcdef/view?chunk=c0ffee#passage", "/documents/0123456789abcdef"}
    assert "[3]" in html  # a marker with no source stays text


def test_hostile_ids_and_titles_from_the_browser_stay_text():
    tampered = {**ANSWER, "sources": [{**ANSWER["sources"][0], "doc_id": "x' onmouseover='alert(1)",
                                       "chunk_id": "\"><script>", "title": "<img src=x>", "rank": "1"}]}
    bubble = render.answer_bubble(chat.stored_answer(tampered), [])
    assert "<script>" not in bubble and "<img" not in bubble and "onmouseover='" not in bubble
    assert "x%27%20onmouseover%3D%27alert%281%29" in bubble  # quoted into the path


def test_stored_turns_are_coerced_bounded_and_read_back_as_history():
    raw = [{"id": "t1", "question": "见习补贴多少?", "answer": ANSWER}, "junk", {"question": 5},
           {"id": "t2", "question": "那样例县呢?", "answer": None, "note": "⏹ 已停止回答。"}]
    turns = chat.clean_turns(raw)
    assert [t["id"] for t in turns] == ["t1", "t2"]
    kept = turns[0]["answer"]["sources"][0]
    assert len(kept["text"]) <= chat.STORED_SOURCE_CHARS + 1 and kept["chunk_id"] == "c0ffee"
    assert chat.history_of(turns) == [{"role": "user", "content": "见习补贴多少?"},
                                      {"role": "assistant", "content": ANSWER["answer"]},
                                      {"role": "user", "content": "那样例县呢?"},
                                      {"role": "assistant", "content": "⏹ 已停止回答。"}]


def test_the_browser_store_keeps_the_newest_within_its_caps():
    store = chat.EMPTY_STORE
    turn = {"id": "t", "question": "问题", "answer": ANSWER, "note": ""}
    for n in range(chat.MAX_CONVERSATIONS + 5):
        store = chat.saved_with(store, f"c{n}", [turn] * 10)
    ids = [c["id"] for c in store["conversations"]]
    assert ids[0] == f"c{chat.MAX_CONVERSATIONS + 4}" and store["current"] == ids[0]
    assert sum(len(c["turns"]) for c in store["conversations"]) <= chat.MAX_STORED_TURNS
    assert len(ids) <= chat.MAX_CONVERSATIONS
    assert chat.saved_with(store, "c3", [])["current"] == ""  # an empty conversation is not kept


def test_the_export_is_the_conversations_text():
    text = chat.conversation_markdown(chat.clean_turns([{"question": "见习补贴多少?", "answer": ANSWER}]))
    assert "## 1. 见习补贴多少?" in text and "每人每月1800元[1]" in text and "- [1] 《示范市办法》 第七条 · 第4页" in text
