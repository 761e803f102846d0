"""Masking of personal numbers users type (ID cards, mobile phones, bank cards) and of API keys.

Personal numbers are masked before anything is stored or logged (feedback, logs, error messages); API keys
(an ``Authorization: Bearer …`` value, or any key the server was configured with) before anything is logged.
"""

from __future__ import annotations

import logging
import re
import threading

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


_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s,;\"']+")
SECRET_MASK = "****"
_secrets: tuple[str, ...] = ()  # longest first: a key containing another is masked whole
_secrets_lock = threading.Lock()


def register_secrets(values) -> None:
    """Keys the server accepts: from now on, each is masked wherever a log record shows it."""
    global _secrets
    with _secrets_lock:
        _secrets = tuple(sorted(set(_secrets) | {v for v in values if v}, key=len, reverse=True))


def mask_secrets(text: str) -> str:
    """Replace bearer tokens and registered keys with ``****``."""
    if not text:
        return text
    text = _BEARER.sub(lambda m: m.group(1) + SECRET_MASK, text)
    for secret in _secrets:
        text = text.replace(secret, SECRET_MASK)
    return text


def _mask_log_text(text: str) -> str:
    # keys first: masking a phone-like run of digits inside a key would leave the rest of the key unmatched
    return mask_pii(mask_secrets(text))


def mask_record(record: logging.LogRecord) -> None:
    """Mask a record in place: message, traceback and stack, before any handler formats them.

    String arguments are masked one by one, so formatters that unpack ``args``
    (uvicorn's access log) keep working; when a number still shows in the
    message (it came from a non-string argument), the masked message replaces
    message and arguments.  The traceback is formatted here and ``exc_info``
    dropped, so no handler can render the exception again from its object.
    """
    if isinstance(record.msg, str):
        record.msg = _mask_log_text(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_mask_log_text(a) if isinstance(a, str) else a for a in record.args)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is for the handler to report, not the caller
        message = ""
    masked = _mask_log_text(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = _mask_log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = _mask_log_text(record.stack_info)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal numbers and keys in every record it passes."""

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
