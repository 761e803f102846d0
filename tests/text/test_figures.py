"""Figures read as value and unit (assistant/text/figures.py), and compared that way."""

from __future__ import annotations

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.text.figures import figures, normalize_numbers, number_value, unsupported_figures


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每月1,900元", [(1900, "元")]),
        ("一千八百元", [(1800, "元")]),
        ("两千元", [(2000, "元")]),
        ("百分之二十", [(20, "%")]),
        ("千分之五", [(0.5, "%")]),
        ("三分之一", [(100 / 3, "%")]),
        ("八成", [(80, "%")]),
        ("十五日内", [(15, "天")]),
        ("15天", [(15, "天")]),
        ("三倍", [(3, "倍")]),
        ("３０万元", [(300000, "元")]),
        ("1.5万元", [(15000, "元")]),
        ("0.18万元", [(1800, "元")]),
        ("1800块", [(1800, "元")]),
        ("最高30万", [(300000, "")]),
        ("30万人", [(300000, "人")]),
        ("3至12个月", [(3, "个月"), (12, "个月")]),
        ("3—5万元", [(30000, "元"), (50000, "元")]),
        ("十二个月", [(12, "个月")]),
        ("三十五周岁", [(35, "岁")]),
        ("年满16岁", [(16, "岁")]),
        ("两年内", [(2, "年")]),
        ("半年", [(0.5, "年")]),
        ("5个工作日", [(5, "个工作日")]),
        ("8小时", [(8, "小时")]),
        ("5个基点", [(5, "个基点")]),
        ("60%", [(60, "%")]),
        ("60％", [(60, "%")]),
    ],
)
def test_a_figure_is_read_as_value_and_unit(text, expected):
    got = [(f.value, f.unit) for f in figures(text)]
    assert [u for _, u in got] == [u for _, u in expected]
    assert all(v == pytest.approx(e) for (v, _), (e, _) in zip(got, expected))


@pytest.mark.parametrize("text", ["一次性补贴", "成员单位", "成年人", "第十三条", "12333", "一人一档", "千万不要", "万元户"])
def test_words_and_numbers_without_a_unit_are_not_figures(text):
    assert figures(text) == []


def test_dates_are_dates_and_name_their_year():
    (date, year) = figures("2099年10月31日前")
    assert (date.unit, date.value, date.year) == ("date", 1031, 2099) and (year.unit, year.value) == ("年", 2099)
    (bare,) = figures("10月31日")
    assert bare.matches(date) and not bare.matches(figures("10月30日")[0])
    assert not date.matches(figures("2098年10月31日")[0])
    assert figures("二〇九九年十月三十一日")[0].matches(date)


def test_normalize_numbers_folds_width_and_thousands():
    assert normalize_numbers("１２,３４５元和1,900元,共3,4项") == "12345元和1900元,共3,4项"
    assert number_value("一千八百") == 1800 and number_value("两千") == 2000 and number_value("1.5万") == 15000
    assert number_value("万") is None


def test_the_two_cases_of_issue_10():
    assert unsupported_figures("每月1,900元", ["每人每月2900元"])  # not a substring match
    assert unsupported_figures("每月1800元", ["每人每月一千八百元"]) == []  # same value, other numerals


def test_units_must_agree():
    assert unsupported_figures("最长3年", ["最长3个月"])
    assert unsupported_figures("15个工作日", ["15日内办结"])
    assert unsupported_figures("20%", ["20元"])
    assert unsupported_figures("最高30万元", ["最高30万"]) == []  # a bare amount takes the other's unit


# ---------------------------------------------------------------- property: present passes, absent never does

UNIT_WORDS = {"元": ["元"], "%": ["%"], "个月": ["个月"], "天": ["日", "天"], "年": ["年"], "岁": ["岁", "周岁"], "倍": ["倍"]}


def _render(value: int, unit: str, style: int) -> str:
    """One of the ways documents and answers write ``value`` ``unit``."""
    word = UNIT_WORDS[unit][style % len(UNIT_WORDS[unit])]
    if unit == "%" and style % 3 == 1:
        return f"百分之{cn2an.an2cn(str(value))}"
    if unit == "元" and style % 4 == 3 and value % 10000 == 0:
        return f"{value // 10000}万元"
    if style % 4 == 0:
        return f"{value}{word}"
    if style % 4 == 1:
        return cn2an.an2cn(str(value)) + word
    if style % 4 == 2:
        return f"{value:,}{word}"
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in str(value)) + word  # full-width


values = st.integers(min_value=1, max_value=200000)
units = st.sampled_from(sorted(UNIT_WORDS))
styles = st.integers(min_value=0, max_value=11)


@settings(max_examples=300, deadline=None)
@given(values, units, styles, styles, st.integers(min_value=1, max_value=200000))
def test_a_figure_stated_by_value_always_passes(value, unit, source_style, answer_style, other):
    source = f"符合条件的,标准为{_render(value, unit, source_style)},另有{other}人次参加。"
    claim = f"标准是{_render(value, unit, answer_style)}。"
    assert unsupported_figures(claim, [source]) == []


@settings(max_examples=300, deadline=None)
@given(values, units, styles, styles, st.integers(min_value=1, max_value=200000))
def test_a_figure_not_stated_never_passes(value, unit, source_style, answer_style, wrong):
    if wrong == value:
        wrong += 1
    source = f"符合条件的,标准为{_render(value, unit, source_style)}。"
    claim = f"标准是{_render(wrong, unit, answer_style)}。"
    assert unsupported_figures(claim, [source])
    other_unit = next(u for u in sorted(UNIT_WORDS) if u != unit)
    assert unsupported_figures(f"标准是{_render(value, other_unit, answer_style)}。", [source])
