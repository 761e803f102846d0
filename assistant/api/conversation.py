"""From API messages to what the service takes: the question, and the history before it."""

from __future__ import annotations

from assistant.api.errors import ApiError

MAX_HISTORY_TURNS = 20  # earlier messages kept; the follow-up rewrite reads only the last few


def service_history(turns: list[dict]) -> list[dict]:
    """Earlier messages as the service takes them: ``[{role, content: str}]``, user and assistant only (a caller's
    system prompt cannot change the assistant's rules), non-empty, the last ``MAX_HISTORY_TURNS``.

    The one place the API turns client history into the service's; the service-layer validator of issue 12
    is to replace its body when it lands.
    """
    kept = [{"role": t["role"], "content": str(t.get("content") or "")} for t in turns
            if isinstance(t, dict) and t.get("role") in ("user", "assistant") and str(t.get("content") or "").strip()]
    return kept[-MAX_HISTORY_TURNS:]


def split_messages(messages: list[dict]) -> tuple[str, list[dict]]:
    """An OpenAI ``messages`` list -> (the question: its last message, the history before it)."""
    last = messages[-1] if messages else {}
    if last.get("role") != "user":
        raise ApiError(400, "last_message_not_user", "最后一条消息应当是用户的问题(role 为 user)。", param="messages")
    question = str(last.get("content") or "").strip()
    if not question:
        raise ApiError(400, "empty_question", "问题不能为空。", param="messages")
    return question, service_history(messages[:-1])


def checked_question(question: str) -> str:
    question = question.strip()
    if not question:
        raise ApiError(400, "empty_question", "问题不能为空。", param="question")
    return question
