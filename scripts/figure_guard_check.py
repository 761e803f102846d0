"""How the answer guard treats figures restated in other numerals and figures that are wrong.

From every sentence of the given documents that states an amount, a ratio or a period, two claims are
made for each figure: the same value written another way (1800元 <-> 一千八百元, 1,800元, full-width
digits, 24个月 <-> 二十四个月) and a wrong value whose digits are a part of the right one (2900元 -> 900元,
24个月 -> 4个月), the case substring comparison lets through.  The guard should keep the first and drop
the second.  Run with the code to measure first on PYTHONPATH:

    PYTHONPATH=. python scripts/figure_guard_check.py ../shared/realdocs tests/fixtures/shifan corpus
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import cn2an

from assistant.answer.citations import check_answer
from assistant.text.sentences import split_sentences

ARABIC = re.compile(r"(?<![\d.])(\d{2,6})(元|万元|个月|日|天|年|岁|周岁|%|倍)")
CHINESE = re.compile(r"([一二两三四五六七八九十百千万]{1,8})(元|万元|个月|日|天|年|岁|周岁|倍)")


def restatements(sentence: str):
    """(claim with the same value written otherwise, claim with a wrong value that is a substring)."""
    for match in ARABIC.finditer(sentence):
        number, unit = match.groups()
        if unit.endswith("年") and len(number) == 4:
            continue  # a calendar year
        others = [cn2an.an2cn(number) + unit, "".join(chr(ord(c) + 0xFEE0) for c in number) + unit]
        if len(number) >= 4:
            others.append(f"{int(number):,}{unit}")
        wrong = number[1:].lstrip("0")
        for other in others:
            yield sentence[: match.start()] + other + sentence[match.end() :], True
        if wrong and wrong != number:
            yield sentence[: match.start()] + wrong + unit + sentence[match.end() :], False
    for match in CHINESE.finditer(sentence):
        text, unit = match.groups()
        try:
            value = int(cn2an.cn2an(text, "smart"))
        except ValueError:
            continue
        if value < 2:
            continue
        yield sentence[: match.start()] + f"{value}{unit}" + sentence[match.end() :], True
        wrong = str(value)[1:].lstrip("0")
        if wrong:
            yield sentence[: match.start()] + f"{wrong}{unit}" + sentence[match.end() :], False


def main(folders: list[str]) -> None:
    kept_right = right = dropped_wrong = wrong = 0
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix not in (".md", ".txt") or path.name.startswith("README"):
                continue
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                for sentence in split_sentences(line):
                    if len(sentence) > 200:
                        continue
                    for claim, same in restatements(sentence):
                        survived = not check_answer(claim, [sentence]).dropped
                        if same:
                            right += 1
                            kept_right += survived
                        else:
                            wrong += 1
                            dropped_wrong += not survived
    print(f"restated figures kept: {kept_right}/{right} ({kept_right / max(right, 1):.3f})")
    print(f"wrong figures (a part of the right one) dropped: {dropped_wrong}/{wrong} ({dropped_wrong / max(wrong, 1):.3f})")


if __name__ == "__main__":
    main(sys.argv[1:] or ["corpus"])
