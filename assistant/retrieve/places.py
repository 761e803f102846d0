"""Places in questions and documents: which province a place belongs to, and which documents a
question's place rules out.

A question that names its province (山西) is covered by a document that names one of the province's
cities (…在太原召开) — documents say 全省 / 我省 and rarely their own province's name; and a question
naming a city is covered by a document that names the city's province.  Prefecture-level divisions only
(assistant/data/places.tsv, built by scripts/build_places.py): county names are too often ordinary words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from assistant.settings import DATA_DIR


_PEOPLES = (
    "维吾尔|哈萨克|柯尔克孜|塔吉克|乌孜别克|塔塔尔|鄂温克|鄂伦春|达斡尔|俄罗斯|土家|蒙古|朝鲜|哈尼|傈僳|东乡|仡佬|拉祜|"
    "纳西|仫佬|锡伯|景颇|撒拉|布朗|毛南|普米|阿昌|基诺|德昂|保安|裕固|门巴|独龙|赫哲|高山|珞巴|布依|壮|回|苗|彝|藏|侗|瑶|白|"
    "黎|傣|畲|佤|水|羌|土|怒|京"
)
# 黔南布依族苗族自治州 -> 黔南, 新疆维吾尔自治区 -> 新疆, 山西省 -> 山西, 锡林郭勒盟 -> 锡林郭勒
_SUFFIX = re.compile(rf"(?:(?:(?:{_PEOPLES})族)*|维吾尔)自治(?:州|县|区|旗)$|特别行政区$|地区$|[省市盟县]$")


def _short(name: str) -> str:
    short = _SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, set[str]], set[str], re.Pattern]:
    """(place name -> its provinces, the names that are provinces, one pattern finding any place name)."""
    provinces_of: dict[str, set[str]] = {}
    province_names: set[str] = set()
    for line in (DATA_DIR / "places.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        province, city = line.split("\t")
        for name in {province, _short(province)}:
            province_names.add(name)
            provinces_of.setdefault(name, set()).add(province)
        for name in {city, _short(city)}:
            provinces_of.setdefault(name, set()).add(province)
    pattern = re.compile("|".join(sorted(map(re.escape, provinces_of), key=len, reverse=True)))
    return provinces_of, province_names, pattern


def is_place(word: str) -> bool:
    """A province or prefecture-level city, by name (jieba tags 大同市 as a plain noun)."""
    return word in _gazetteer()[0]


def provinces_in(text: str) -> set[str]:
    """Provinces the text names, itself or through one of its cities."""
    provinces_of, _, pattern = _gazetteer()
    return {province for name in pattern.findall(text) for province in provinces_of[name]}


def place_covered(place: str, evidence: str) -> bool:
    """A province whose city the evidence names, or a city whose province the evidence names."""
    provinces_of, province_names, _ = _gazetteer()
    provinces = provinces_of.get(place)
    if not provinces:
        return False
    if place in province_names:
        return bool(provinces & provinces_in(evidence))
    return any(name in evidence for province in provinces for name in {province, _short(province)})


# 示范市, 样例县, 太原市 … as written in a question; 全省 / 本市 / 我县 are not names
_NAMED_PLACE = re.compile(r"(?<![全本我该各外])([\u4e00-\u9fff]{2,8}?(?:省|市|县|区|州|盟|旗))")


def asked_places(question: str) -> set[str]:
    """Place names a question mentions: ``X市 / X县 …`` forms and known provinces and cities."""
    _, _, pattern = _gazetteer()
    return set(_NAMED_PLACE.findall(question)) | set(pattern.findall(question))


def same_place(asked: str, region: str) -> bool:
    """Whether a document issued for ``region`` speaks for the place asked about."""
    if not asked or not region:
        return False
    if asked in region or region in asked or _short(asked) == _short(region):
        return True
    return place_covered(asked, region) or place_covered(region, asked)
