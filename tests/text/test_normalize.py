"""Character-level normalisation shared by documents and questions."""

from __future__ import annotations

from assistant.text.normalize import fold_width, normalize_query_text, squash, to_simplified


def test_fold_width_and_ideographic_space():
    assert fold_width("\uff21\uff11\uff0c\uff1f\u3000\uff08\u4e00\uff09") == "A1,? (一)"


def test_to_simplified():
    assert to_simplified("穩就業見習補貼標準為每月") == "稳就业见习补贴标准为每月"


def test_query_text_gets_the_same_normalisation():
    assert normalize_query_text(" \uff08見習補貼\uff09\U0001f449 ") == "(见习补贴)"


def test_squash_drops_punctuation_and_space_and_simplifies():
    assert squash("就業見習, 補貼 (每月)。") == "就业见习补贴每月"
