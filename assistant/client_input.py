"""What clients send, checked at the boundary: the question and the chat history.

Every caller (the chat page, Gradio's /ask, the CLI, the HTTP API) goes through ``AssistantService.ask``, which
calls these two functions before any work: a history of any size or shape costs no more than its last few
turns, and a client never sees an internal error for a malformed one.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from assistant.settings import SecuritySettings

HISTORY_FORMAT_ZH = (
    "对话记录格式不正确:应为由 {\"role\": \"user\" 或 \"assistant\", \"content\": 文本} 组成的列表。"
    "请刷新页面或开始新对话后再试。"
)
QUESTION_FORMAT_ZH = "问题格式不正确:请用文字输入您的问题。"
ROLES = ("user", "assistant")
_ROLE_ALIASES = {"human": "user", "bot": "assistant", "ai": "assistant"}
_KEEP_CONTROLS = {"\n", "\t"}


class BadInput(ValueError):
    """Client input that cannot be used; ``str(exc)`` is a Chinese message fit to show (no internals)."""


def visible_text(text: str) -> str:
    """``text`` without invisible characters: zero-width and bidirectional controls (Unicode category Cf, which
    can hide or reorder what a reader sees, or split a number to dodge masking) and control characters other
    than line breaks and tabs."""
    return "".join(
        c for c in text
        if c in _KEEP_CONTROLS or unicodedata.category(c) not in ("Cf", "Cc", "Cs", "Co", "Cn")
    )


def clean_question(question: Any) -> str:
    """The question as the service works on it: visible characters only, one line, trimmed ("" when nothing
    visible is left, which the service answers with a request for a question)."""
    if question is None:
        return ""
    if not isinstance(question, str):
        raise BadInput(QUESTION_FORMAT_ZH)
    return " ".join(visible_text(question).split())


def _part_text(part: Any) -> str | None:
    """The text of one content part (Gradio 6 / OpenAI style), None for a file, image or anything else."""
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        if part.get("type", "text") == "text" and isinstance(part.get("text"), str):
            return part["text"]
        return None  # a file ({"type": "file", "file": …}, {"path": …}), an image URL, a component
    return None


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return _part_text(content) or ""
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (_part_text(p) for p in content) if t)
    raise BadInput(HISTORY_FORMAT_ZH)


def _messages(item: Any) -> list[tuple[str, Any]]:
    """(role, content) pairs of one history item: a message dict (or object), or a [user, assistant] pair."""
    if isinstance(item, dict) or (hasattr(item, "role") and hasattr(item, "content")):
        role = item.get("role") if isinstance(item, dict) else item.role
        content = item.get("content") if isinstance(item, dict) else item.content
        if not isinstance(role, str):
            raise BadInput(HISTORY_FORMAT_ZH)
        role = _ROLE_ALIASES.get(role.lower(), role.lower())
        return [(role, content)] if role in ROLES else []  # system / tool messages never reach the rewrite
    if isinstance(item, (list, tuple)) and len(item) == 2:  # the old tuples format: [question, answer]
        return [("user", item[0]), ("assistant", item[1])]
    raise BadInput(HISTORY_FORMAT_ZH)


def clean_history(raw: Any, limits: SecuritySettings) -> list[dict]:
    """Client history (a JSON string, a list of messages or pairs, Gradio 6 content parts …) as clean
    ``[{"role": "user"|"assistant", "content": str}]``: the last ``history_max_turns`` non-empty messages, each cut
    to ``history_max_turn_chars`` and all together to ``history_max_chars`` (the latest kept).  Nonsense
    raises ``BadInput``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise BadInput(HISTORY_FORMAT_ZH) from None
    if not isinstance(raw, (list, tuple)):
        raise BadInput(HISTORY_FORMAT_ZH)
    if limits.history_max_turns == 0:
        return []
    turns: list[dict] = []
    # from the end: a history of any length costs what its last turns cost (pairs give two messages each)
    for item in reversed(raw):
        for role, content in reversed(_messages(item)):
            text = visible_text(_content_text(content)).strip()
            if text:
                turns.append({"role": role, "content": text[: limits.history_max_turn_chars]})
        if len(turns) >= limits.history_max_turns:
            break
    turns = turns[: limits.history_max_turns]
    kept, budget = [], limits.history_max_chars
    for turn in turns:
        if budget <= 0:
            break
        kept.append({"role": turn["role"], "content": turn["content"][:budget]})
        budget -= len(turn["content"])
    return kept[::-1]
