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
from assistant.text.places import gazetteer, short_name, is_place, provinces_in  # noqa: F401 - is_place is re-exported


def place_covered(place: str, evidence: str) -> bool:
    """A province whose city the evidence names, or a city whose province the evidence names."""
    provinces_of, province_names, _ = gazetteer()
    provinces = provinces_of.get(place)
    if not provinces:
        return False
    if place in province_names:
        return bool(provinces & provinces_in(evidence))
    return any(name in evidence for province in provinces for name in {province, short_name(province)})


# 示范市, 样例县, 太原市 … as written in a question; 全省 / 本市 / 我县 are not names
_PLACE_CUT = re.compile(r"[在去到从对和与向给是的了于及或等就把被让那想问年月日号]")
_NAMED_PLACE = re.compile(r"(?<![全本我该各外])([\u4e00-\u9fff]{2,8}?(?:省|市|县|区|州|盟|旗))")


def asked_places(question: str) -> set[str]:
    """Place names a question mentions: ``X市 / X县 …`` forms and known provinces and cities, each cut to the
    name itself ("高校毕业生在示范市" -> 示范市); words that only end like one (先行区, 社区) are none."""
    return {place for place, _ in question_places(question)}


def question_places(text: str) -> list[tuple[str, int]]:
    """(place, where it starts) for each place the text names; see ``asked_places``."""
    _, _, pattern = gazetteer()
    found = set(_NAMED_PLACE.findall(text)) | set(pattern.findall(text))
    places = []
    for name in found:
        # from the gazetteer name inside, or after the last function word
        inner = next((name[i:] for i in range(len(name) - 1) if is_place(name[i : i + 2]) or is_place(name[i : i + 3])),
                     _PLACE_CUT.split(name)[-1])
        if len(inner) < 2 or inner in not_places() or any(inner.endswith(w) for w in not_places() if len(w) >= 3):
            continue
        if len(inner) < 3 and not is_place(inner):
            continue  # 外省, 本市, 该县: one character before 省/市/县 names no place the gazetteer does not know
        start = text.find(inner)
        if start >= 0:
            places.append((inner, start))
    return sorted(places, key=lambda place: place[1])


@lru_cache(maxsize=1)
def not_places() -> frozenset[str]:
    """Words that end like a place name and are not one (assistant/data/not_places.txt)."""
    lines = (DATA_DIR / "not_places.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def same_place(asked: str, region: str) -> bool:
    """Whether a document issued for ``region`` speaks for the place asked about."""
    if not asked or not region:
        return False
    if asked in region or region in asked or short_name(asked) == short_name(region):
        return True
    return place_covered(asked, region) or place_covered(region, asked)


def narrower(region: str, asked: set[str]) -> bool:
    """Whether a document issued for ``region`` is narrower than what the question asks about: any local
    document when the question names no place (a national rule applies everywhere), a city's when the question
    names only its province (河南 asks for the 河南省 rule before 郑州市's)."""
    if not region:
        return False
    if not asked:
        return True
    _, province_names, _ = gazetteer()
    if region in province_names or short_name(region) in province_names:
        return False
    return all(place in province_names and same_place(place, region) for place in asked)
