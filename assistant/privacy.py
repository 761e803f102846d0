"""Masking of personal numbers users type: ID cards, mobile phones, bank cards.

Applied before anything is stored or logged (feedback, logs, error messages).
"""

from __future__ import annotations

import logging
import re

# 18-digit resident ID (last char may be X), 15-digit old IDs
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8}|\d{6})(\d{3}[\dXx]|\d{1})(?![\dA-Za-z])")
_DIGIT_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){11,22}(?![\d])")
_MOBILE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def _mask_card(match: re.Match) -> str:
    """A 16-19 digit run (spaces or dashes allowed) keeps its first and last four digits."""
    run = match.group(0)
    digits = [i for i, c in enumerate(run) if c.isdigit()]
    if not 16 <= len(digits) <= 19:
        return run
    hidden = set(digits[4:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(run))


def mask_pii(text: str) -> str:
    """Replace the middle of ID-card, bank-card and mobile numbers with asterisks."""
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + "*" * (len(m.group(3)) - 1) + m.group(3)[-1], text)
    text = _MOBILE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****" + m.group(4), text)
    text = _DIGIT_RUN.sub(_mask_card, text)
    return text


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal numbers in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_log_masking() -> None:
    """Mask personal numbers in every handler of the root logger (and ones added later via basicConfig)."""
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(MaskingFilter())
    root.addFilter(MaskingFilter())
