"""Every example question on the chat page, and the question its input suggests, is answered by the demo corpus
with a citation: not refused, not hedged, not framed as "perhaps related".  Asked through the served app's HTTP
API, the same service the page calls."""

from __future__ import annotations

import re

import httpx
import pytest

from assistant.ui.chat import EXAMPLES, PLACEHOLDER_QUESTION

pytestmark = pytest.mark.slow

QUESTIONS = sorted({q for group in EXAMPLES.values() for q in group} | {PLACEHOLDER_QUESTION})


@pytest.mark.parametrize("question", QUESTIONS)
def test_each_example_is_answered_with_a_citation(served_app, question):
    response = httpx.post(f"{served_app.url}/api/v1/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["outcome"] == "answer" and not answer["refused"], (answer["outcome"], answer["reason"])
    assert re.search(r"\[\d\]", answer["answer"]), answer["answer"]
    assert "没有直接回答这个问题" not in answer["answer"], answer["answer"]  # the "perhaps related" framing
    assert "供大家参考" not in answer["answer"], answer["answer"]  # a speech's closing words, not an answer
    cited = {int(n) for n in re.findall(r"\[(\d)\]", answer["answer"])}
    assert cited <= {s["rank"] for s in answer["sources"]}
