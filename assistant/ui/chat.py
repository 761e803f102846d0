"""The public chat page.  It only calls the service: no retrieval logic lives here.

A conversation is a list of turns (question, the answer's JSON, its id) kept in this session and saved in the
browser's own storage (``gr.BrowserState``): past conversations survive a reload and nothing of them is kept on
the server.  What the service is asked comes from those turns, never from the rendered bubbles.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from pathlib import Path

import gradio as gr

from assistant.answer.chain import EMPTY_QUESTION
from assistant.client_input import BadInput, clean_question
from assistant.index.store import IndexUnavailable
from assistant.retrieve.hybrid import Filters
from assistant.service import AssistantService
from assistant.ui import render
from assistant.ui.ratelimit import RATE_LIMITED, RateLimiter, client_key

log = logging.getLogger(__name__)

# each answered by the demo corpus with a citation (tests/ui/test_examples.py asks every one)
EXAMPLES = {
    "求职者": ["退役军人就业有什么支持?", "零就业家庭有什么帮扶?", "职业技能培训怎么开展?"],
    "高校毕业生": ["今年高校毕业生就业有哪些支持?", "就业见习的规模会扩大吗?", "毕业生想创业,有什么支持?"],
    "热线坐席": ["就业服务体系怎么完善?", "困难群体怎么兜底帮扶?", "稳就业推进会对高校毕业生有什么安排?"],
}
PLACEHOLDER_QUESTION = "退役军人就业有什么支持?"  # the input's hint: answered too (same test)
THINKING = "正在查找相关政策文件……"
STOPPED = "⏹ 已停止回答。"
INDEX_UNAVAILABLE = "检索服务暂时无法连接,请稍后再试,或拨打人社服务热线 12333。"
SERVICE_FAILED = "服务暂时出现问题,请稍后再试,或拨打人社服务热线 12333。"
THANKS_FOR_VOTE = "感谢反馈!如愿意,可在下方补充说明后点“提交意见”。"

# what the browser keeps (its storage is ~5 MB and the whole store travels with some requests, which the
# server caps at security.max_body_kb): the newest conversations and turns, passages cut short (the viewer
# shows them whole)
MAX_CONVERSATIONS = 20
MAX_STORED_TURNS = 100
STORED_SOURCE_CHARS = 160
EMPTY_STORE = {"conversations": [], "current": ""}
SOURCE_FIELDS = ("rank", "doc_id", "chunk_id", "title", "source", "page", "section", "text", "date", "issuer",
                 "ocr_notice", "validity", "superseded_by_date")
ANSWER_FIELDS = ("question", "answer", "refused", "backend", "standalone_question", "notice", "outcome", "reason")

# the Markdown export is made here and handed to the browser, which saves it as a file (the public chat gives
# out no files of its own)
DOWNLOAD_JS = """(text) => {
  if (!text) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], {type: "text/markdown;charset=utf-8"}));
  link.download = "就业政策问答-对话记录.md";
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}"""


def browser_secret(service: AssistantService) -> str:
    """The key Gradio scrambles the stored conversations with: stable for an install, so a restart keeps them
    readable.  It is sent to the page (Gradio decrypts in the browser): it hides nothing from the user."""
    return hashlib.sha256(str(Path(service.settings.paths.index_dir).resolve()).encode()).hexdigest()[:32]


# ---------------------------------------------------------------- turns (what a conversation is)


def _text(value, limit: int = 20_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def stored_answer(answer: dict) -> dict:
    """An answer's JSON as the browser keeps it (and as it comes back: any value may have been changed there,
    so every field is coerced; rendering escapes all of it anyway)."""
    kept = {k: answer.get(k) for k in ANSWER_FIELDS}
    kept = {k: (bool(v) if k == "refused" else _text(v)) for k, v in kept.items()}
    sources = []
    for source in answer.get("sources") or []:
        if not isinstance(source, dict):
            continue
        item = {k: source.get(k) for k in SOURCE_FIELDS}
        rank, page = item["rank"], item["page"]
        item = {k: _text(v, 400) for k, v in item.items()}
        item["text"] = item["text"][:STORED_SOURCE_CHARS] + ("…" if len(source.get("text") or "") > STORED_SOURCE_CHARS
                                                           and isinstance(source.get("text"), str) else "")
        item["rank"] = rank if isinstance(rank, int) and not isinstance(rank, bool) else 0
        item["page"] = page if isinstance(page, int) and not isinstance(page, bool) else None
        sources.append(item)
    kept["sources"] = sources[:20]
    return kept


def clean_turns(raw) -> list[dict]:
    """Turns as this page made them; anything else (an older format, a tampered store) is dropped."""
    turns = []
    for turn in raw if isinstance(raw, list) else []:
        if not isinstance(turn, dict) or not _text(turn.get("question")):
            continue
        answer = turn.get("answer")
        turns.append({
            "id": _text(turn.get("id"), 64) or uuid.uuid4().hex,
            "question": _text(turn["question"], 2000),
            "answer": stored_answer(answer) if isinstance(answer, dict) else None,
            "note": _text(turn.get("note"), 2000),
        })
    return turns


def history_of(turns: list[dict]) -> list[dict]:
    """The conversation as the service reads it (it checks and bounds it, ``clean_history``)."""
    history = []
    for turn in turns:
        history.append({"role": "user", "content": turn["question"]})
        answer = turn.get("answer")
        history.append({"role": "assistant", "content": answer["answer"] if answer else turn.get("note", "")})
    return history


def messages_of(turns: list[dict], service: AssistantService) -> list[dict]:
    """The chat bubbles: exactly two per turn (the vote handler counts on it)."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": render.escape_markdown(turn["question"])})
        answer = turn.get("answer")
        if answer is not None:
            content = render.answer_bubble(answer, service.highlight_terms(answer.get("standalone_question")
                                                                            or turn["question"]))
        else:
            content = render.escape_markdown(turn.get("note") or THINKING)
        messages.append({"role": "assistant", "content": content})
    return messages


def conversation_markdown(turns: list[dict]) -> str:
    """A conversation as a Markdown file: questions, answers and the documents they cite."""
    lines = ["# 就业政策问答助手 · 对话记录", "", f"导出时间:{time.strftime('%Y-%m-%d %H:%M')}", ""]
    for number, turn in enumerate(turns, start=1):
        lines += [f"## {number}. {turn['question']}", ""]
        answer = turn.get("answer")
        lines += [(answer["answer"] if answer else turn.get("note", "")) or "(无回答)", ""]
        for source in (answer or {}).get("sources", []):
            where = " · ".join(x for x in (source.get("section") or "",
                                           f"第{source['page']}页" if source.get("page") else "") if x)
            lines.append(f"- [{source.get('rank')}] 《{source.get('title', '')}》" + (f" {where}" if where else ""))
        lines.append("")
    lines.append("以上内容依据已收录的政策文件生成,具体以发文单位和当地人社部门的解释为准;咨询热线 12333。")
    return "\n".join(lines) + "\n"


def _conversations(store) -> list[dict]:
    conversations = store.get("conversations") if isinstance(store, dict) else None
    return [c for c in conversations or [] if isinstance(c, dict) and isinstance(c.get("id"), str)]


def saved_with(store, conversation_id: str, turns: list[dict]) -> dict:
    """The browser's store with this conversation (newest first) and within its caps."""
    others = [c for c in _conversations(store) if c["id"] != conversation_id]
    conversations = others
    if turns:
        title = turns[0]["question"][:30]
        conversations = [{"id": conversation_id, "title": title, "updated": time.strftime("%Y-%m-%d %H:%M"),
                          "turns": turns}] + others
    kept, budget = [], MAX_STORED_TURNS
    for conversation in conversations[:MAX_CONVERSATIONS]:
        stored = clean_turns(conversation.get("turns"))[-budget:] if budget > 0 else []
        if stored:
            kept.append({**conversation, "turns": stored})
            budget -= len(stored)
    return {"conversations": kept, "current": conversation_id if turns else ""}


def history_choices(store) -> list[tuple[str, str]]:
    return [(f"{_text(c.get('title'), 30) or '对话'}({len(c.get('turns') or [])} 问 · {_text(c.get('updated'), 20)})",
             c["id"]) for c in _conversations(store)]


# ---------------------------------------------------------------- the page


def build_chat(service: AssistantService) -> gr.Blocks:
    stats = service.stats()
    limiter = RateLimiter(service.settings.ui.rate_limit_per_minute, name="chat")

    def status_text() -> str:
        return render.status_line(service.stats(), service.settings.answer.backend)

    with gr.Blocks(title="就业政策问答助手", analytics_enabled=False) as demo:
        gr.Markdown("# 就业政策问答助手\n只依据已收录的政策文件和讲话作答,并注明出处;文件没有写的,会直接告诉您并建议拨打 12333。",
                    elem_id="chat-title")
        status = gr.Markdown(render.status_line(stats, service.settings.answer.backend), elem_id="status-line")
        saved = gr.BrowserState(EMPTY_STORE, storage_key="assistant-conversations", secret=browser_secret(service))
        turns = gr.State([])
        conversation = gr.State("")
        votes = gr.State({})  # turn id -> its feedback row: one vote per answer
        last_feedback = gr.State(None)

        with gr.Accordion("筛选文件范围", open=False):
            with gr.Row():
                doc_type = gr.Dropdown(render.doc_type_choices(stats), value="", label="文件类型", min_width=140,
                                       elem_id="type-filter")
                regions = render.region_choices(stats)
                region = gr.Dropdown(regions, value="", label="地区", visible=len(regions) > 1, min_width=140,
                                     elem_id="region-filter")

        # latex off: a "$$" in a quoted document is text, not a formula
        chatbot = gr.Chatbot(label="对话", height=520, elem_id="chatbot", buttons=["copy"], latex_delimiters=[],
                             placeholder=f"请用中文描述您的问题,例如“{PLACEHOLDER_QUESTION}”")
        with gr.Row(equal_height=True):
            question = gr.Textbox(show_label=False, placeholder=f"请输入问题,例如“{PLACEHOLDER_QUESTION}”,按回车发送",
                                  scale=5, elem_id="question", max_lines=4, min_width=200)
            send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
            stop = gr.Button("⏹ 停止", variant="stop", scale=1, min_width=80, elem_id="stop", visible=False)
        with gr.Row(elem_id="chat-actions"):
            new_chat = gr.Button("🗨️ 新对话", size="sm", elem_id="new-chat", min_width=90)
            regenerate = gr.Button("🔄 重新回答", size="sm", elem_id="regenerate", min_width=90)
            export = gr.Button("📥 导出 Markdown", size="sm", elem_id="export", min_width=90)
        exported = gr.Textbox(visible=False, elem_id="export-text")

        with gr.Group(visible=False, elem_id="feedback-box") as feedback_box:
            feedback_note = gr.Markdown("", elem_id="feedback-note")
            with gr.Row(equal_height=True):
                comment = gr.Textbox(label="补充说明(可选,请勿填写身份证、手机号等个人信息)", lines=1, scale=5,
                                     elem_id="feedback-comment")
                send_comment = gr.Button("提交意见", size="sm", scale=1, min_width=90, elem_id="feedback-send")

        with gr.Accordion("🕘 历史对话(仅保存在本浏览器)", open=False, elem_id="history"):
            past = gr.Radio(history_choices(EMPTY_STORE), value=None, label="点选以打开", elem_id="history-list")
            delete = gr.Button("🗑️ 删除当前对话", size="sm", variant="stop", elem_id="delete-chat")

        with gr.Row(elem_id="examples"):
            for group, questions in EXAMPLES.items():
                with gr.Column(min_width=200):
                    gr.Examples(questions, inputs=question, label=f"示例:{group}")

        def answer_turn(text, previous: list[dict], type_filter, region_filter, request: gr.Request):
            """Yield (bubbles, input box, turns, stop button) while answering one question after ``previous``."""
            hide_stop = gr.update(visible=False)
            question_text = clean_question(text)
            if not question_text:
                if (text or "").strip():  # only invisible characters (zero-width, bidi controls)
                    gr.Warning(EMPTY_QUESTION)
                yield gr.update(), gr.update(), gr.update(), hide_stop
                return
            turn = {"id": uuid.uuid4().hex, "question": question_text, "answer": None, "note": ""}
            if not limiter.allow(client_key(request)):
                turn["note"] = f"⏳ {RATE_LIMITED}"
                done = previous + [turn]
                yield messages_of(done, service), "", done, hide_stop
                return
            pending = previous + [turn]
            yield messages_of(pending, service), "", pending, gr.update(visible=True)
            filters = Filters(doc_type=type_filter or None, region=region_filter or None)
            streamed = ""
            try:
                for event in service.ask_stream(question_text, history=history_of(previous), filters=filters):
                    if event["type"] == "token":
                        streamed += event["text"]
                        turn["note"] = streamed  # kept if the answer is stopped
                        messages = messages_of(pending, service)
                        messages[-1]["content"] = render.escape_markdown(streamed)
                        yield messages, gr.update(), pending, gr.update()
                    elif event["type"] == "final":
                        answer = event["answer"].to_json()
                        turn.update(answer=stored_answer(answer), note="")
                        yield messages_of(pending, service), gr.update(), pending, hide_stop
                        return
            except BadInput as exc:  # a question the page did not send (a script, a tampered request)
                turn["note"] = f"⚠️ {exc}"
            except IndexUnavailable as exc:  # Chroma server down, index disk full or read-only
                log.warning("index unavailable: %s", exc)
                turn["note"] = f"⚠️ {INDEX_UNAVAILABLE}"
            except Exception:  # noqa: BLE001 - a user sees a message, never a stack trace
                log.exception("answering failed")
                turn["note"] = f"⚠️ {SERVICE_FAILED}"
            yield messages_of(pending, service), gr.update(), pending, hide_stop

        def respond(text, current, type_filter, region_filter, request: gr.Request):
            yield from answer_turn(text, clean_turns(current), type_filter, region_filter, request)

        def answer_again(current, type_filter, region_filter, request: gr.Request):
            """Ask the last question again (an answer stopped, failed or not liked)."""
            current = clean_turns(current)
            if not current:
                gr.Info("还没有可以重新回答的问题。")
                yield gr.update(), gr.update(), gr.update(), gr.update(visible=False)
                return
            yield from answer_turn(current[-1]["question"], current[:-1], type_filter, region_filter, request)

        def stopped(current):
            current = clean_turns(current)
            if current and current[-1]["answer"] is None:
                partial = current[-1]["note"]
                current[-1]["note"] = f"{partial}\n\n{STOPPED}" if partial and partial != THINKING else STOPPED
            return messages_of(current, service), current, gr.update(visible=False)

        def save(store, conversation_id, current):
            conversation_id = conversation_id or uuid.uuid4().hex
            store = saved_with(store, conversation_id, clean_turns(current))
            return store, conversation_id, gr.update(choices=history_choices(store), value=store["current"] or None)

        def fresh():
            """A new, empty conversation.  The browser's store is left as it is: its save of the answer just
            given may still be on its way, and a store written here would overwrite it."""
            return [], [], "", "", {}, None, gr.update(visible=False), gr.update(value=None), status_text()

        fresh_outputs = [chatbot, turns, conversation, question, votes, last_feedback, feedback_box, past, status]

        def open_conversation(store, conversation_id):
            found = next((c for c in _conversations(store) if c["id"] == conversation_id), None)
            if found is None:
                return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
            current = clean_turns(found.get("turns"))
            store = {**store, "current": conversation_id}
            return messages_of(current, service), current, conversation_id, {}, store

        def delete_conversation(store, conversation_id):
            store = {"conversations": [c for c in _conversations(store) if c["id"] != conversation_id], "current": ""}
            return (*fresh()[:-2], gr.update(choices=history_choices(store), value=None), status_text(), store)

        def restore(store):
            """At page load: the conversation open before the reload, the list, the index's current state."""
            store = store if isinstance(store, dict) else dict(EMPTY_STORE)
            current_id = store.get("current") if isinstance(store.get("current"), str) else ""
            found = next((c for c in _conversations(store) if c["id"] == current_id), None)
            current = clean_turns(found.get("turns")) if found else []
            return (messages_of(current, service), current, current_id if found else "",
                    gr.update(choices=history_choices(store), value=current_id if found else None),
                    *index_state())

        def index_state():
            """The status line and the filters' choices as the index is now (the console may have changed it)."""
            now = service.stats()
            regions_now = render.region_choices(now)
            return (render.status_line(now, service.settings.answer.backend),
                    gr.update(choices=render.doc_type_choices(now)),
                    gr.update(choices=regions_now, visible=len(regions_now) > 1))

        def on_like(data: gr.LikeData, current, voted):
            index = data.index if isinstance(data.index, int) else data.index[0]
            current = clean_turns(current)
            turn = current[index // 2] if 0 <= index // 2 < len(current) else None  # two bubbles per turn
            if data.liked is None or turn is None or turn["answer"] is None:
                return gr.update(), gr.update(), voted, gr.update()
            rating = "up" if data.liked else "down"
            row = voted.get(turn["id"])
            if row is None:
                row = service.record_feedback({**turn["answer"], "question": turn["question"]}, rating)
                voted = {**voted, turn["id"]: row}
            else:  # a second click on the same answer changes its vote; it never adds one
                service.feedback.set_rating(row, rating)
            label = "👍 有帮助" if rating == "up" else "👎 没帮助"
            return row, f"已记录您的评价:{label}。{THANKS_FOR_VOTE}", voted, gr.update(visible=True)

        def on_comment(text, row):
            if row is None:
                return "请先点击回答下方的 👍(赞)或 👎(踩)。"
            service.feedback.set_comment(row, text)
            return "已收到您的意见,谢谢!"

        answer_inputs = [question, turns, doc_type, region]
        answer_outputs = [chatbot, question, turns, stop]
        save_step = dict(fn=save, inputs=[saved, conversation, turns], outputs=[saved, conversation, past],
                         api_visibility="private")
        asked = [
            question.submit(respond, answer_inputs, answer_outputs, api_visibility="private"),
            send.click(respond, answer_inputs, answer_outputs, api_visibility="private"),
            regenerate.click(answer_again, [turns, doc_type, region], answer_outputs, api_visibility="private"),
        ]
        for event in asked:
            event.then(**save_step)
        stop.click(stopped, [turns], [chatbot, turns, stop], cancels=asked, api_visibility="private").then(**save_step)
        # always_last: a click made while the previous vote is still being saved is sent after it (Gradio's
        # default, "once", drops it), so the answer keeps the vote clicked last even when the server is slow
        chatbot.like(on_like, [turns, votes], [last_feedback, feedback_note, votes, feedback_box],
                     api_visibility="private", trigger_mode="always_last")
        send_comment.click(on_comment, [comment, last_feedback], [feedback_note], api_visibility="private")
        new_chat.click(fresh, None, fresh_outputs, api_visibility="private")
        chatbot.clear(fresh, None, fresh_outputs, api_visibility="private")  # Gradio's own 🗑 in the chat
        past.input(open_conversation, [saved, past], [chatbot, turns, conversation, votes, saved],
                   api_visibility="private")
        delete.click(delete_conversation, [saved, conversation], fresh_outputs + [saved], api_visibility="private")
        export.click(conversation_markdown, [turns], [exported], api_visibility="private").then(
            None, [exported], None, js=DOWNLOAD_JS)
        demo.load(restore, [saved], [chatbot, turns, conversation, past, status, doc_type, region],
                  api_visibility="private")
        gr.Timer(60).tick(index_state, None, [status, doc_type, region], api_visibility="private")

        def ask(question: str, history_json: str = "[]", doc_type: str = "", region: str = "",
                request: gr.Request = None) -> dict:
            """Answer a question from the indexed documents (the same service as the chat and the CLI).

            history_json: JSON list of {"role": "user"|"assistant", "content": str} (the last turns are used).
            Returns {"question", "answer", "refused", "backend", "sources", ...} as `python -m assistant ask --json`.
            """
            if not limiter.allow(client_key(request)):
                raise gr.Error(RATE_LIMITED, print_exception=False)  # logged once per client by the limiter
            try:
                answer = service.ask(question, history=history_json,
                                     filters=Filters(doc_type=doc_type or None, region=region or None))
            except BadInput as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            except IndexUnavailable as exc:
                log.warning("index unavailable: %s", exc)
                raise gr.Error(INDEX_UNAVAILABLE, print_exception=False) from None
            return answer.to_json()

        gr.api(ask, api_name="ask")
    return demo
