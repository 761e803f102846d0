"""What a streaming API client is shown while an answer is written.

A chunk sent to a client cannot be taken back, and the chat's guards (citations, figures, solicitation;
``check_answer``) judge sentences.  So an LLM's tokens are passed on a sentence at a time, once the
sentence is complete and has passed the guards, and only from the moment the answer cites a source (the
chain keeps an LLM answer only when it does).  The final answer then completes what was sent; when the chain
replaced the LLM's text (it failed, or cited nothing), the final answer follows what was sent, after its notice.
"""

from __future__ import annotations

import re

from assistant.answer.citations import check_answer

_SENTENCE_END = re.compile(r"[。!?;!?]+[”’\"」』)]*\s*|\n\s*")


def pieces(text: str) -> list[str]:
    """``text`` in sentence-sized pieces (a sentence with what follows it up to the next one); joined, the text."""
    out, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            out.append(text[start : match.end()])
            start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


class SentenceGate:
    """LLM tokens in, text a client may be shown out."""

    def __init__(self, source_texts: list[str]):
        self.source_texts = source_texts
        self.raw = ""
        self.sent = ""
        self._judged = 0  # the raw text up to here has been through the guards

    def feed(self, token: str) -> str:
        """Take one token; return the text that became showable (often nothing)."""
        self.raw += token
        # only a sentence completed by this token can change what is showable (from a little before the token:
        # an end mark may have come without its closing quote or the whitespace after it)
        start = max(0, min(self._judged, len(self.raw) - len(token)) - 2)
        ends = [start + m.end() for m in _SENTENCE_END.finditer(self.raw[start:])]
        if not ends or ends[-1] <= self._judged:
            return ""
        self._judged = ends[-1]
        checked = check_answer(self.raw[: self._judged], self.source_texts)
        return self._advance(checked.text) if checked.cited else ""

    def finish(self, final_text: str, notice: str = "") -> list[str]:
        """The rest of the answer, in pieces, once the chain has its final text."""
        before = self.sent
        if not self._advance(final_text) and not final_text.startswith(before):
            # what was sent stays on the client's screen: the final answer follows it, its notice saying why
            tail = "\n\n" + (f"{notice}\n" if notice else "") + final_text
            self.sent += tail
            return pieces(tail)
        return pieces(self.sent[len(before):])

    def _advance(self, text: str) -> str:
        if len(text) <= len(self.sent) or not text.startswith(self.sent):
            return ""
        new, self.sent = text[len(self.sent):], text
        return new
