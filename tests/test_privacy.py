"""ID-card, phone and bank-card numbers users type are masked before anything is stored or logged."""

from __future__ import annotations

import logging

from assistant.feedback import FeedbackStore
from assistant.privacy import MaskingFilter, mask_pii

ID_CARD = "11010519491231002X"
PHONE = "13912345678"
BANK = "6222021234567890123"
TYPED = f"我身份证{ID_CARD},手机{PHONE},银行卡{BANK},失业金怎么领?"


def test_mask_pii_hides_the_middle_and_keeps_ordinary_numbers():
    masked = mask_pii(TYPED + " 拨打12333,补贴1800元,2099年6月1日")
    for number in (ID_CARD, PHONE, BANK):
        assert number not in masked
    assert "139****5678" in masked and "110105" in masked and masked.count("0123") == 1
    assert "12333" in masked and "1800元" in masked and "2099年6月1日" in masked
    assert "139****5678" in mask_pii("电话 139-1234-5678") and "6222 **** ****" in mask_pii("6222 0212 3456 7890 123")


def test_nothing_written_keeps_the_numbers(tmp_path, caplog):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    answer = {"question": TYPED, "answer": f"已记录您的电话{PHONE}", "sources": [{"doc_id": "d1"}],
              "backend": "extractive", "refused": False}
    row = store.add("down", answer["question"], answer["answer"], ["d1"], "extractive", False, comment=f"卡号{BANK}")
    store.set_comment(row, f"补充:身份证{ID_CARD}")

    logger = logging.getLogger("assistant.privacy-test")
    logger.addFilter(MaskingFilter())
    handler = logging.FileHandler(tmp_path / "app.log", encoding="utf-8")
    logger.addHandler(handler)
    logger.warning("question failed: %s", TYPED)
    handler.close()

    written = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    for number in (ID_CARD, PHONE, BANK):
        assert number.encode() not in written
    assert store.all()[0]["rating"] == "down" and "139****5678" in store.all()[0]["question"]
