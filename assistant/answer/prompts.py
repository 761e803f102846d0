"""Prompts are Chinese text files in prompts/, loaded once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROMPT_NAMES = (
    "system", "answer", "condense", "refusal", "extractive", "extractive_unsure", "extractive_article", "hedge",
    "fallback_notice", "greeting", "thanks",
)


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: str
    condense: str
    refusal: str
    extractive: str
    extractive_unsure: str
    extractive_article: str
    hedge: str
    fallback_notice: str
    greeting: str  # the reply to 你好 (a message that is only a greeting)
    thanks: str  # the reply to 谢谢 / 好的

    @classmethod
    def load(cls, directory: Path) -> Prompts:
        missing = [n for n in PROMPT_NAMES if not (directory / f"{n}.txt").exists()]
        if missing:
            raise FileNotFoundError(f"prompt files missing in {directory}: {', '.join(missing)}")
        return cls(**{n: (directory / f"{n}.txt").read_text(encoding="utf-8").strip() for n in PROMPT_NAMES})
