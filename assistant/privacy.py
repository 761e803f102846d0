"""Masking of personal numbers users type (ID cards, mobile phones, bank cards, passports) and of API keys.

Personal numbers are masked before anything is stored or logged (feedback, logs, error messages, the audit
log); API keys (an ``Authorization: Bearer …`` value, or any key the server was configured with) before
anything is logged.  A number is found however it is written: in groups (``139 1234 5678``,
``139-1234-5678``, ``139.1234.5678``), with full-width digits, spelled in Chinese digits
(``一三九一二三四五六七八``, ``幺``, ``〇``), or split by invisible zero-width characters.
"""

from __future__ import annotations

import logging
import re
import threading

_DIGITS = "0123456789０１２３４５６７８９〇零一二三四五六七八九幺"
_VALUE = {c: str(i % 10) for i, c in enumerate(_DIGITS[:20])} | {
    c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "幺": "1"}
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_SEPARATOR = " \u00a0\u3000.·-"
_DIGIT = f"[{_DIGITS}]"
_GAP = f"[{_INVISIBLE}]*(?:[{_SEPARATOR}][{_INVISIBLE}]*)?"  # at most one visible separator between digits
# a run of digits (the last of an ID may be X), not inside a longer word or number
_RUN = re.compile(rf"(?<![{_DIGITS}A-Za-z])(\+?(?:86|八六){_GAP})?{_DIGIT}(?:{_GAP}{_DIGIT})*(?:{_GAP}[Xx])?(?![{_DIGITS}A-Za-z])")
_PASSPORT = re.compile(rf"(?<![A-Za-z0-9])([EGDSPHegdsph])([A-Za-z]?)((?:[{_INVISIBLE}]*\d){{7,8}})(?![A-Za-z0-9])")


def _groups(run: str) -> list[int]:
    """Lengths of the digit groups a run is written in (invisible characters do not separate)."""
    groups, current = [], 0
    for c in run:
        if c in _VALUE or c in "Xx":
            current += 1
        elif c in _SEPARATOR and current:
            groups.append(current)
            current = 0
    return groups + [current] if current else groups


def _digits(run: str) -> str:
    return "".join(_VALUE.get(c, c.upper()) for c in run if c in _VALUE or c in "Xx")


def _mask_run(match: re.Match) -> str:
    run, prefix = match.group(0), match.group(1) or ""
    local = _digits(run[len(prefix):])
    if re.fullmatch(r"1[3-9]\d{9}", local):  # a mobile (after +86, if any), shown as 139****5678
        return "".join(c for c in prefix if c not in _INVISIBLE) + local[:3] + "****" + local[-4:]
    digits = _digits(run)
    n = len(digits)
    if (n == 18 and re.fullmatch(r"\d{17}[\dX]", digits)) or (n == 15 and digits.isdigit()):  # resident ID
        return digits[:6] + "*" * (n - 7) + digits[-1]
    if 16 <= n <= 19 and digits.isdigit():
        groups = _groups(run)
        if len(groups) == 1 or (all(g == 4 for g in groups[:-1]) and groups[-1] <= 4):  # written as cards are
            return _mask_card(run)
    return run


def _mask_card(run: str) -> str:
    """Keep the first and last four digits and the layout (spaces, dashes)."""
    positions = [i for i, c in enumerate(run) if c in _VALUE]
    hidden = set(positions[4:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(run) if c not in _INVISIBLE)


def mask_pii(text: str) -> str:
    """Replace the middle of ID-card, bank-card, mobile and passport numbers with asterisks."""
    if not text:
        return text
    text = _PASSPORT.sub(lambda m: m.group(1) + m.group(2) + "*" * 6 + re.sub(f"[{_INVISIBLE}]", "", m.group(3))[-2:], text)
    return _RUN.sub(_mask_run, text)


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
