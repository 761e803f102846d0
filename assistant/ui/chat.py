"""The public chat page.  It only calls the service: no retrieval logic lives here."""

from __future__ import annotations

import logging

import gradio as gr

from assistant.answer.chain import EMPTY_QUESTION
from assistant.client_input import BadInput, clean_question
from assistant.index.store import IndexUnavailable
from assistant.retrieve.hybrid import Filters
from assistant.service import AssistantService
from assistant.ui import render
from assistant.ui.ratelimit import RATE_LIMITED, RateLimiter, client_key

log = logging.getLogger(__name__)

EXAMPLES = {
    "求职者": ["失业了找工作难,省里有什么帮扶措施?", "老板拖欠工资,政府管不管?", "零就业家庭有什么帮扶?"],
    "高校毕业生": ["今年高校毕业生就业有哪些支持?", "就业见习的规模会扩大吗?", "毕业生想创业,有什么支持?"],
    "热线坐席": ["稳就业工作 五方面工作要求", "先行区建设 部门分工", "北京最低工资标准是多少"],
}
THINKING = "正在查找相关政策文件……"
INDEX_UNAVAILABLE = "检索服务暂时无法连接,请稍后再试,或拨打人社服务热线 12333。"


def build_chat(service: AssistantService) -> gr.Blocks:
    stats = service.stats()
    backend = service.settings.answer.backend
    limiter = RateLimiter(service.settings.ui.rate_limit_per_minute, name="chat")

    with gr.Blocks(title="就业政策问答助手", analytics_enabled=False) as demo:
        gr.Markdown("# 就业政策问答助手\n只依据已收录的政策文件和讲话作答,并注明出处;文件没有写的,会直接告诉您并建议拨打 12333。",
                    elem_id="chat-title")
        status = gr.Markdown(render.status_line(stats, backend), elem_id="status-line")
        answers = gr.State([])  # answer JSON per assistant message, for feedback
        votes = gr.State({})  # assistant message -> its feedback row: one vote per answer and session
        last_feedback = gr.State(None)

        with gr.Accordion("筛选文件范围", open=False):
            with gr.Row():
                doc_type = gr.Dropdown(render.doc_type_choices(stats), value="", label="文件类型", min_width=140)
                regions = render.region_choices(stats)
                region = gr.Dropdown(regions, value="", label="地区", visible=len(regions) > 1, min_width=140)

        # latex off: a "$$" in a quoted document is text, not a formula
        chatbot = gr.Chatbot(label="对话", height=460, elem_id="chatbot", buttons=["copy"], latex_delimiters=[],
                             placeholder="请用中文描述您的问题,例如“失业金能领多久?”")
        with gr.Row(equal_height=True):
            question = gr.Textbox(show_label=False, placeholder="请输入问题,按回车发送", scale=5, elem_id="question",
                                  max_lines=4, min_width=200)
            send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
        with gr.Row():
            new_chat = gr.Button("🗨️ 新对话", size="sm", elem_id="new-chat")

        with gr.Row():
            for group, questions in EXAMPLES.items():
                with gr.Column(min_width=200):
                    gr.Examples(questions, inputs=question, label=f"示例:{group}")

        gr.Markdown("### 引用来源")
        sources = gr.HTML(render.sources_html(None, []), elem_id="sources")

        with gr.Accordion("对回答有意见?", open=False):
            comment = gr.Textbox(label="补充说明(可选,请勿填写身份证、手机号等个人信息)", lines=2,
                                 elem_id="feedback-comment")
            send_comment = gr.Button("提交意见", size="sm", elem_id="feedback-send")
            feedback_note = gr.Markdown("", elem_id="feedback-note")

        def respond(message, messages, type_filter, region_filter, answer_log, request: gr.Request):
            question = clean_question(message)
            if not question:
                if (message or "").strip():  # only invisible characters (zero-width, bidi controls)
                    gr.Warning(EMPTY_QUESTION)
                yield messages, gr.update(), "", answer_log
                return
            if not limiter.allow(client_key(request)):
                messages = messages + [{"role": "user", "content": render.escape_markdown(question)},
                                       {"role": "assistant", "content": f"⏳ {RATE_LIMITED}"}]
                yield messages, gr.update(), "", answer_log + [None]
                return
            history = messages  # as the browser sent it: the service checks and bounds it
            messages = messages + [{"role": "user", "content": render.escape_markdown(question)},
                                   {"role": "assistant", "content": THINKING}]
            yield messages, gr.update(), "", answer_log
            filters = Filters(doc_type=type_filter or None, region=region_filter or None)
            streamed = ""
            try:
                for event in service.ask_stream(question, history=history, filters=filters):
                    if event["type"] == "token":
                        streamed += event["text"]
                        messages[-1] = {"role": "assistant", "content": render.escape_markdown(streamed)}
                        yield messages, gr.update(), "", answer_log
                    elif event["type"] == "final":
                        answer = event["answer"].to_json()
                        messages[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
                        yield (messages, render.sources_html(answer, service.highlight_terms(answer["standalone_question"])),
                               "", answer_log + [answer])
                        return
            except BadInput as exc:  # a history the page did not send (a script, a tampered request)
                messages[-1] = {"role": "assistant", "content": f"⚠️ {exc}"}
                yield messages, gr.update(), "", answer_log + [None]
            except IndexUnavailable as exc:  # Chroma server down, index disk full or read-only
                log.warning("index unavailable: %s", exc)
                messages[-1] = {"role": "assistant", "content": f"⚠️ {INDEX_UNAVAILABLE}"}
                yield messages, gr.update(), "", answer_log + [None]
            except Exception:  # noqa: BLE001 - a user sees a message, never a stack trace
                log.exception("answering failed")
                messages[-1] = {"role": "assistant", "content": "⚠️ 服务暂时出现问题,请稍后再试,或拨打人社服务热线 12333。"}
                yield messages, gr.update(), "", answer_log + [None]

        def on_like(data: gr.LikeData, answer_log, voted):
            index = data.index if isinstance(data.index, int) else data.index[0]
            assistant_turn = index // 2  # messages alternate user / assistant
            if data.liked is None or assistant_turn >= len(answer_log) or answer_log[assistant_turn] is None:
                return None, "", voted
            rating = "up" if data.liked else "down"
            row = voted.get(assistant_turn)
            if row is None:
                row = service.record_feedback(answer_log[assistant_turn], rating)
                voted = {**voted, assistant_turn: row}
            else:  # a second click on the same answer changes its vote; it never adds one
                service.feedback.set_rating(row, rating)
            return row, "感谢反馈!如愿意,可在上方补充说明后点“提交意见”。", voted

        def on_comment(text, row):
            if row is None:
                return "请先点击回答下方的 👍 或 👎。"
            service.feedback.set_comment(row, text)
            return "已收到您的意见,谢谢!"

        def reset():
            return [], render.sources_html(None, []), "", [], None, {}, render.status_line(service.stats(), backend)

        inputs = [question, chatbot, doc_type, region, answers]
        outputs = [chatbot, sources, question, answers]
        question.submit(respond, inputs, outputs, api_visibility="private")
        send.click(respond, inputs, outputs, api_visibility="private")
        # always_last: a click made while the previous vote is still being saved is sent after it (Gradio's
        # default, "once", drops it), so the answer keeps the vote clicked last even when the server is slow
        chatbot.like(on_like, [answers, votes], [last_feedback, feedback_note, votes], api_visibility="private",
                     trigger_mode="always_last")
        send_comment.click(on_comment, [comment, last_feedback], [feedback_note], api_visibility="private")
        new_chat.click(reset, None, [chatbot, sources, question, answers, last_feedback, votes, status],
                       api_visibility="private")

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
