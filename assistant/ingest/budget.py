"""What reading one file may cost: characters and seconds, counted while parsing, not after.

Every loader adds the text it extracts as it goes and checks the clock between pages, paragraphs
or rows, so a hostile or pathological file is refused part-way with a reason instead of holding
the ingest for minutes or filling memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from assistant.ingest.models import IngestError
from assistant.settings import IngestSettings


class Budget:
    def __init__(self, caps: IngestSettings, on_progress: Callable[[str, float], None] | None = None):
        self.max_chars = caps.max_chars_per_file
        self.max_seconds = caps.max_seconds_per_file
        self.started = time.monotonic()
        self.chars = 0
        self._on_progress = on_progress

    def progress(self, step: str, fraction: float | None = None) -> None:
        """Report a step inside the file (a page read or recognised) and how much of the file is done, to
        whoever follows the ingest."""
        if self._on_progress is not None:
            self._on_progress(step, fraction)

    def add(self, text: str) -> str:
        """Count extracted text against the character cap (and check the clock); returns the text."""
        self.chars += len(text)
        if self.chars > self.max_chars:
            raise IngestError(
                "too_many_chars",
                f"提取出的文字过多(已超过 {self.max_chars} 字),上限为 {self.max_chars} 字",
                f"extracted text too long (more than {self.max_chars} characters)",
            )
        self.check()
        return text

    def check(self) -> None:
        elapsed = time.monotonic() - self.started
        if elapsed > self.max_seconds:
            raise IngestError(
                "too_slow",
                f"文件处理超时(已用 {elapsed:.0f} 秒),上限为 {self.max_seconds:g} 秒,已停止;"
                f"请拆分文件或另存为 PDF/DOCX 后再导入",
                f"processing took too long ({elapsed:.0f} s > {self.max_seconds:g} s); stopped",
            )

    @property
    def seconds_left(self) -> float:
        return self.max_seconds - (time.monotonic() - self.started)
