"""Figures (金额, 比例, 期限, 年龄, 倍数, 日期) read as a value and a unit.

Two texts state the same figure when the values and units agree, however they are
written: 1,800元 = 1800元 = 一千八百元 = 0.18万元, 百分之二十 = 20% = 两成, 十五日 = 15天,
三倍 = 3倍, full-width digits included.  Comparing the written strings lets 1,900元
pass against 2900元 (a substring) and drops 1800元 against 一千八百元; comparing values
does neither.  Chinese numerals are read with cn2an.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

# full-width digits and the marks that go with numbers (，．％) -> ASCII
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUMBER = rf"[{_CN_DIGITS}十百千万亿]+(?:点[{_CN_DIGITS}]+)?|半"
_AR_NUMBER = r"\d+(?:\.\d+)?(?:[千万亿]+(?![个家户次]))?"
_NUMBER = rf"(?:{_AR_NUMBER}|{_CN_NUMBER})"

# written unit -> (canonical unit, factor); longest first in the pattern
UNITS: dict[str, tuple[str, float]] = {
    "亿元": ("元", 1e8), "万元": ("元", 1e4), "千元": ("元", 1e3), "元": ("元", 1.0), "块钱": ("元", 1.0), "块": ("元", 1.0),
    "%": ("%", 1.0), "个百分点": ("个百分点", 1.0), "成": ("%", 10.0),
    "个自然月": ("个月", 1.0), "个月": ("个月", 1.0), "月": ("月", 1.0),
    "个工作日": ("个工作日", 1.0), "日": ("天", 1.0), "天": ("天", 1.0),
    "周年": ("年", 1.0), "年": ("年", 1.0),
    "周岁": ("岁", 1.0), "岁": ("岁", 1.0),
    "倍": ("倍", 1.0), "小时": ("小时", 1.0), "周": ("周", 1.0),
    "个基点": ("个基点", 1.0), "人": ("人", 1.0), "名": ("人", 1.0), "次": ("次", 1.0),
}
# after a Chinese numeral these are words, not figures: 一次性, 一人一档, 一名, 一周
_ARABIC_ONLY = {"人", "名", "次", "周", "块", "块钱", "月"}
# 成年 / 成员 / 成本 … are words: 成 is a ratio only when no such character follows
_NOT_RATIO_CHENG = "员为立功本果绩熟年人长交就效"
_UNIT = "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
_RANGE_SEP = r"\s*(?:至|到|-|~|—|–|－)\s*"

_PATTERN = re.compile(
    rf"(?P<year>\d{{4}}|[{_CN_DIGITS}]{{4}})年(?P<ym>{_NUMBER})月(?:(?P<yd>{_NUMBER})[日号])?"
    rf"|(?P<md_m>{_NUMBER})月(?P<md_d>{_NUMBER})[日号]"
    rf"|(?P<ratio>百分之|千分之)(?P<ratio_n>{_NUMBER})"
    rf"|(?P<den>{_NUMBER})分之(?P<num>{_NUMBER})"
    rf"|(?:(?P<low>{_NUMBER}){_RANGE_SEP})?(?P<n>{_NUMBER})\s*(?P<unit>{_UNIT})"
    rf"|(?P<bare>\d+(?:\.\d+)?[万亿])(?![人个家户次])"
)


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str  # canonical (元, %, 个月, 天, 年, 岁, 倍 …), "date", or "" for a bare amount (30万)
    text: str  # as written (after width folding)
    year: int | None = None  # dates only; None when the text gives no year

    def matches(self, other: Figure) -> bool:
        """The same value in the same unit; a bare amount (30万) takes the other's unit."""
        if self.unit == "date" or other.unit == "date":
            if self.unit != other.unit or self.value != other.value:
                return False
            return self.year is None or other.year is None or self.year == other.year
        if self.unit and other.unit and self.unit != other.unit:
            return False
        return math.isclose(self.value, other.value, rel_tol=1e-9, abs_tol=1e-9)


def normalize_numbers(text: str) -> str:
    """Full-width digits and marks folded, thousands separators removed (1,900 -> 1900)."""
    return _THOUSANDS.sub("", text.translate(_WIDTH))


@lru_cache(maxsize=8192)
def number_value(text: str) -> float | None:
    """The value of an Arabic, Chinese or mixed numeral (1800, 一千八百, 两千, 1.5万, 二〇九九, 半), or None."""
    if text == "半":
        return 0.5
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    import cn2an

    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, IndexError):
        return None


def _is_chinese(number: str) -> bool:
    return not re.search(r"\d", number)


def figures(text: str) -> list[Figure]:
    """Every figure the text states, in order.  A range (3至12个月, 3—5万元) gives both ends."""
    found: list[Figure] = []
    for match in _PATTERN.finditer(normalize_numbers(text)):
        groups = match.groupdict()
        written = match.group(0)
        if groups["year"] or groups["md_m"]:
            month = number_value(groups["ym"] or groups["md_m"])
            day_text = groups["yd"] or groups["md_d"]
            day = number_value(day_text) if day_text else 0.0
            year = number_value(groups["year"]) if groups["year"] else None
            if month is not None and day is not None:
                found.append(Figure(month * 100 + day, "date", written, int(year) if year is not None else None))
                if year is not None:
                    found.append(Figure(year, "年", f"{groups['year']}年"))  # 2099年 alone is stated too
        elif groups["ratio"]:
            value = number_value(groups["ratio_n"])
            if value is not None:
                found.append(Figure(value / (10 if groups["ratio"] == "千分之" else 1), "%", written))
        elif groups["den"]:
            den, num = number_value(groups["den"]), number_value(groups["num"])
            if den and num is not None:
                found.append(Figure(100 * num / den, "%", written))
        elif groups["unit"]:
            found.extend(_with_unit(groups["low"], groups["n"], groups["unit"], match))
        elif groups["bare"]:
            value = number_value(groups["bare"])
            if value is not None:
                found.append(Figure(value, "", written))
    return found


def _with_unit(low: str | None, number: str, unit: str, match: re.Match) -> list[Figure]:
    written = match.group(0)
    if _is_chinese(number) and unit in _ARABIC_ONLY:
        return []
    if unit == "成":
        following = match.string[match.end() : match.end() + 1]
        if following and following in _NOT_RATIO_CHENG:
            return []
    canonical, factor = UNITS[unit]
    value = number_value(number)
    if value is None:
        return []
    out = [Figure(value * factor, canonical, written)]
    if low is not None:
        low_value = number_value(low)
        if low_value is not None:
            # 3—5万元: the low end shares the high end's scale when it names none itself
            scale = re.search(r"[千万亿]+$", number)
            if scale and not re.search(r"[千万亿]$", low):
                low_value = number_value(low + scale.group(0)) or low_value
            out.insert(0, Figure(low_value * factor, canonical, written))
    return out


def stated_in(figure: Figure, stated: list[Figure]) -> bool:
    return any(figure.matches(other) for other in stated)


def unsupported_figures(claim: str, sources: list[str]) -> list[Figure]:
    """The figures of ``claim`` that none of ``sources`` states (by value and unit)."""
    stated = [f for source in sources for f in figures(source)]
    return [f for f in figures(claim) if not stated_in(f, stated)]
