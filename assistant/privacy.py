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


def mask_record(record: logging.LogRecord) -> None:
    """Mask a record in place: message, traceback and stack, before any handler formats them.

    String arguments are masked one by one, so formatters that unpack ``args``
    (uvicorn's access log) keep working; when a number still shows in the
    message (it came from a non-string argument), the masked message replaces
    message and arguments.  The traceback is formatted here and ``exc_info``
    dropped, so no handler can render the exception again from its object.
    """
    if isinstance(record.msg, str):
        record.msg = mask_pii(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(mask_pii(a) if isinstance(a, str) else a for a in record.args)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is for the handler to report, not the caller
        message = ""
    masked = mask_pii(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = mask_pii(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_pii(record.stack_info)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal numbers in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_masking() -> None:
    """Mask every log record as it is created.

    A record factory, unlike a filter or formatter on handlers, also covers
    handlers added later (``logging.basicConfig``, uvicorn's ``dictConfig``)
    and loggers that do not propagate to the root.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_pii", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        mask_record(record)
        return record

    masked_record.masks_pii = True
    logging.setLogRecordFactory(masked_record)
