"""The place gazetteer: provinces and prefecture-level cities of China (assistant/data/places.tsv, from cpca).

Shared by ingest (a document's region) and retrieve (places in questions).  County names are not in it:
too many are ordinary words.
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


def short_name(name: str) -> str:
    short = _SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


@lru_cache(maxsize=1)
def gazetteer() -> tuple[dict[str, set[str]], set[str], re.Pattern]:
    """(place name -> its provinces, the names that are provinces, one pattern finding any place name)."""
    provinces_of: dict[str, set[str]] = {}
    province_names: set[str] = set()
    for line in (DATA_DIR / "places.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        province, city = line.split("\t")
        for name in {province, short_name(province)}:
            province_names.add(name)
            provinces_of.setdefault(name, set()).add(province)
        for name in {city, short_name(city)}:
            provinces_of.setdefault(name, set()).add(province)
    pattern = re.compile("|".join(sorted(map(re.escape, provinces_of), key=len, reverse=True)))
    return provinces_of, province_names, pattern


def is_place(word: str) -> bool:
    """A province or prefecture-level city, by name (jieba tags 大同市 as a plain noun)."""
    return word in gazetteer()[0]


def provinces_in(text: str) -> set[str]:
    """Provinces the text names, itself or through one of its cities."""
    provinces_of, _, pattern = gazetteer()
    return {province for name in pattern.findall(text) for province in provinces_of[name]}


def region_at_start(text: str, local_places: tuple[str, ...] = ()) -> str:
    """The place a name such as an issuer or a title starts with (`山东省人力资源市场条例` -> 山东省), or ''.

    Only gazetteer names count (full names anywhere a name starts, short names of provinces too), and
    ``local_places`` for places the gazetteer lacks: a word that merely ends in 市 or 县 is no place
    (`人力资源市场条例` names none).
    """
    provinces_of, province_names, _ = gazetteer()
    text = re.sub(r"^(关于|印发|转发|《)+", "", text.strip())
    for name in sorted(local_places, key=len, reverse=True):
        if name and text.startswith(name):
            return name
    for length in range(min(len(text), 16), 1, -1):
        name = text[:length]
        if name in provinces_of and (name != short_name(name) or name in province_names):
            return _full_name(name)
    return ""


def _full_name(name: str) -> str:
    """The gazetteer's own spelling of a place: a province's short name becomes its full name (山东 -> 山东省)."""
    provinces_of, province_names, _ = gazetteer()
    if name in province_names and name == short_name(name):
        return next(iter(provinces_of[name]))
    return name
