"""Province and city names: the place gate must not refuse a province whose city the documents name."""

from __future__ import annotations

import pytest

from assistant.retrieve.places import is_place, place_covered, provinces_in


@pytest.mark.parametrize("place, evidence, covered", [
    ("山西", "全省稳就业工作推进会在太原召开", True),  # a province, through its capital
    ("山西省", "运城市政府主要负责同志作交流发言", True),
    ("太原", "山西省人力资源和社会保障厅关于…的通知", True),  # a city, through its province
    ("北京", "全省稳就业工作推进会在太原召开", False),  # another province
    ("大同市", "全省稳就业工作推进会在太原召开", False),  # another city of the province: not named
    ("黔南", "贵州省就业见习管理办法", True),  # autonomous prefecture, short name
    ("示范市", "示范市就业见习办法", False),  # not a real place: the gate's own word check decides
])
def test_place_covered(place, evidence, covered):
    assert place_covered(place, evidence) is covered


def test_names_and_provinces():
    assert is_place("大同市") and is_place("内蒙古") and is_place("延边") and not is_place("就业")
    assert provinces_in("会上,太原市政府、运城市政府作交流发言") == {"山西省"}
    assert provinces_in("新疆维吾尔自治区和宁夏") == {"新疆维吾尔自治区", "宁夏回族自治区"}


def test_asked_places_and_same_place():
    from assistant.retrieve.places import asked_places, same_place

    assert asked_places("样例县的见习补贴每月多少钱?") == {"样例县"}
    assert "示范市" in asked_places("示范市公益性岗位补贴") and not asked_places("全省就业形势怎么样")
    assert "山西" in asked_places("山西稳就业有哪些要求")
    assert same_place("示范市", "示范市") and same_place("太原", "山西省") and same_place("山西", "太原市")
    assert not same_place("样例县", "示范市") and not same_place("北京", "山西省")


@pytest.mark.parametrize(("question", "places"), [
    ("我老家是外省的,在郑州打工被辞了,能在郑州办失业登记吗", {"郑州"}),  # 外省 is no name
    ("2098年示范市见习补贴每月多少钱?", {"示范市"}),  # cut after the year
    ("高校毕业生在示范市能领什么补贴", {"示范市"}),  # cut after 在
    ("先行区建设有什么要求", set()),  # ends like a place, is none (assistant/data/not_places.txt)
])
def test_the_places_a_question_names(question, places):
    from assistant.retrieve.places import asked_places

    assert asked_places(question) == places


def test_narrower_documents_than_the_question_asks_for():
    from assistant.retrieve.places import narrower

    assert narrower("郑州市", {"河南"}) and narrower("郑州市", set())  # a city's rule under its province; any local rule
    assert not narrower("河南省", {"河南"}) and not narrower("郑州市", {"郑州"}) and not narrower("", set())
    assert not narrower("郑州市", {"河南", "郑州"})
