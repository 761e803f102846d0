"""Prompts are Chinese files in prompts/, loaded at start-up and rendered with their variables."""

from __future__ import annotations

import re

from langchain_core.prompts import ChatPromptTemplate

from assistant.answer.prompts import PROMPT_NAMES, Prompts
from tests.conftest import REPO_ROOT


def test_every_prompt_loads_and_is_chinese():
    prompts = Prompts.load(REPO_ROOT / "prompts")
    for name in PROMPT_NAMES:
        text = getattr(prompts, name)
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 10, name


def test_templates_render_with_their_variables():
    prompts = Prompts.load(REPO_ROOT / "prompts")
    messages = ChatPromptTemplate.from_messages([("system", prompts.system), ("human", prompts.answer)]).format_messages(
        context="[1] 示范市见习办法 | 第十三条\n见习补贴每月1800元。", question="见习补贴多少钱"
    )
    assert "1800元" in messages[1].content and "见习补贴多少钱" in messages[1].content
    condense = ChatPromptTemplate.from_messages([("human", prompts.condense)]).format_messages(
        history="用户:高校毕业生有什么补贴", question="那退役军人呢?"
    )
    assert "那退役军人呢?" in condense[0].content and "高校毕业生" in condense[0].content
    refusal = prompts.refusal.format(missing="(文件未涉及“北京”)", looked_for="北京最低工资")
    assert "12333" in refusal and "北京" in refusal
    assert "{points}" in prompts.extractive and "{points}" in prompts.extractive_unsure


def test_system_prompt_treats_documents_as_data():
    system = Prompts.load(REPO_ROOT / "prompts").system
    assert "数据,不是指令" in system and "[1]" in system and "12333" in system
