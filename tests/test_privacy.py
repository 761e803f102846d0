"""ID-card, phone and bank-card numbers users type are masked before anything is stored or logged."""

from __future__ import annotations

import logging

import pytest

from assistant.feedback import FeedbackStore
from assistant.privacy import MaskingFilter, install_log_masking, mask_pii

ID_CARD = "11010519491231002X"
PHONE = "13912345678"
BANK = "6222021234567890123"
TYPED = f"我身份证{ID_CARD},手机{PHONE},银行卡{BANK},失业金怎么领?"
MASKED = ("110105***********X", "139****5678", "6222***********0123")


@pytest.fixture
def file_logger(tmp_path, request):
    """A logger of its own writing to ``app.log`` through a real file handler; returns (logger, log path)."""
    logger = logging.getLogger(f"assistant.privacy-test.{request.node.name}")
    logger.propagate = False  # like uvicorn's loggers: only its own handler sees the records
    logger.setLevel(logging.INFO)
    path = tmp_path / "app.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    yield logger, path
    logger.removeHandler(handler)
    handler.close()
    logger.filters.clear()


def fail_with_typed_numbers():
    raise ValueError(f"问题:{TYPED}")


def log_exception_with_stack(logger: logging.Logger) -> None:
    try:
        fail_with_typed_numbers()
    except ValueError as exc:
        logger.exception("question failed: %s", exc, stack_info=True)


def assert_masked(log: str) -> None:
    for number in (ID_CARD, PHONE, BANK):
        assert number not in log
    for masked in MASKED:
        assert masked in log


def test_mask_pii_hides_the_middle_and_keeps_ordinary_numbers():
    masked = mask_pii(TYPED + " 拨打12333,补贴1800元,2099年6月1日")
    for number in (ID_CARD, PHONE, BANK):
        assert number not in masked
    assert "139****5678" in masked and "110105" in masked and masked.count("0123") == 1
    assert "12333" in masked and "1800元" in masked and "2099年6月1日" in masked
    assert "139****5678" in mask_pii("电话 139-1234-5678") and "6222 **** ****" in mask_pii("6222 0212 3456 7890 123")


def test_nothing_written_keeps_the_numbers(tmp_path, file_logger):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    answer = {"question": TYPED, "answer": f"已记录您的电话{PHONE}", "sources": [{"doc_id": "d1"}],
              "backend": "extractive", "refused": False}
    row = store.add("down", answer["question"], answer["answer"], ["d1"], "extractive", False, comment=f"卡号{BANK}")
    store.set_comment(row, f"补充:身份证{ID_CARD}")

    logger, _ = file_logger
    logger.addFilter(MaskingFilter())
    logger.warning("question failed: %s", TYPED)

    written = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    for number in (ID_CARD, PHONE, BANK):
        assert number.encode() not in written
    assert store.all()[0]["rating"] == "down" and "139****5678" in store.all()[0]["question"]


def test_filter_masks_exception_traceback_and_stack(file_logger):
    logger, path = file_logger
    logger.addFilter(MaskingFilter())
    log_exception_with_stack(logger)
    log = path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "Stack (most recent call last)" in log
    assert "fail_with_typed_numbers" in log and log.count("ValueError: 问题:") == 1
    assert_masked(log)


def test_masked_access_log_keeps_its_arguments(file_logger):
    """uvicorn's access formatter unpacks ``record.args``: masking must not fold them into the message."""
    from uvicorn.logging import AccessFormatter

    logger, path = file_logger
    logger.handlers[0].setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    logger.addFilter(MaskingFilter())
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", f"/?q={PHONE}", "1.1", 200)
    assert path.read_text(encoding="utf-8") == '127.0.0.1:50000 - "GET /?q=139****5678 HTTP/1.1" 200 OK\n'


@pytest.fixture
def restore_record_factory():
    previous = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(previous)


def test_installed_masking_covers_handlers_added_later(restore_record_factory, tmp_path, request):
    """The app installs masking before uvicorn configures its own, non-propagating loggers; those are covered too."""
    install_log_masking()
    installed = logging.getLogRecordFactory()
    install_log_masking()
    assert logging.getLogRecordFactory() is installed  # a second call does not wrap the factory again

    logger, path = request.getfixturevalue("file_logger")  # its handler is added after masking was installed
    log_exception_with_stack(logger)
    assert_masked(path.read_text(encoding="utf-8"))


def test_api_keys_are_masked_in_every_log_line(file_logger):
    """A configured key (registered by the API at start) and any bearer token never show in a log, even when a
    key looks like a phone number to the personal-number masking."""
    from assistant.privacy import register_secrets

    key = "sk-13912345678-configured"
    register_secrets([key])
    logger, path = file_logger
    logger.addFilter(MaskingFilter())
    logger.warning("request headers: %s", {"authorization": "Bearer some-unregistered-token"})
    logger.warning("key %s rejected", key)
    try:
        raise PermissionError(f"bad key {key}")
    except PermissionError:
        logger.exception("auth failed")
    log = path.read_text(encoding="utf-8")
    assert "some-unregistered-token" not in log and "'Bearer ****'" in log
    assert key not in log and "13912345678" not in log and "configured" not in log
    assert log.count("****") >= 3 and "PermissionError: bad key ****" in log


# how people really type their numbers (issue 12): each form is masked; ordinary figures are left alone
WRITTEN_FORMS = [
    ("手机 139 1234 5678", "139****5678", "13912345678"),
    ("手机139.1234.5678", "139****5678", "1234"),
    ("手机 +86 139-1234-5678", "+86 139****5678", "1234"),
    ("一三九一二三四五六七八", "139****5678", "一二三四"),
    ("幺三九幺二三四五六七八", "139****5678", "幺二三四"),
    ("１３９１２３４５６７８", "139****5678", "１２３４"),
    ("139\u200b1234\u200b5678", "139****5678", "1234"),
    ("110105 19491231 002X", "110105***********X", "19491231"),
    ("1101\u200b0519\u200b4912\u200b3100\u200b2X", "110105***********X", "0519"),
    ("一一〇一〇五一九四九一二三一〇〇二X", "110105***********X", "一九四九"),
    ("卡号 6222-0212-3456-7890-123", "6222-****-****-***0-123", "0212"),
    ("6222\u200b0212\u200b3456\u200b7890\u200b123", "6222***********0123", "3456"),
    ("护照E12345678号", "E******78", "123456"),
    ("护照号EA1234567", "EA******67", "12345"),
]
ORDINARY = ["拨打12333咨询", "补贴1800元", "2099年6月1日", "2099.10.31 2099.11.30", "2099.10.31-2099.11.30",
            "0351-1234567", "第一二三四五条", "示人社函〔2099〕12号", "G60 高速"]


@pytest.mark.parametrize("typed, masked, hidden", WRITTEN_FORMS)
def test_numbers_are_masked_however_they_are_written(typed, masked, hidden):
    result = mask_pii(typed)
    assert masked in result and hidden not in result, result
    assert "\u200b" not in result


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_figures_are_left_alone(text):
    assert mask_pii(text) == text
