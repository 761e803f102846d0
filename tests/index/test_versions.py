"""Versions in force: two versions of one regulation (上海市社会救助条例 2018 and 2024, ../shared/realdocs)
are linked; retrieval prefers the version in force and the answer says the older one was replaced, while a
question naming the older year finds the older one.  A document saying it repeals another marks it so."""

from __future__ import annotations

import shutil

import pytest

from assistant.index.versions import link_versions, title_key
from tests.conftest import REALDOCS_DIR

OLD, NEW = "上海市社会救助条例(2018-11-22).md", "上海市社会救助条例(2024-12-31).md"


@pytest.fixture
def versions_service(settings, embeddings):
    from assistant.service import AssistantService

    for name in (OLD, NEW, "河南省就业促进条例(2009-03-26).md"):
        shutil.copy(REALDOCS_DIR / name, settings.paths.corpus_dir / name)
    service = AssistantService(settings, embeddings=embeddings)
    assert not service.ingest().failed
    return service


def by_source(service) -> dict[str, dict]:
    return {meta["source"]: dict(meta, doc_id=doc_id) for doc_id, meta in service.index.complete_documents().items()}


def test_two_versions_are_linked(versions_service):
    documents = by_source(versions_service)
    old, new = documents[OLD], documents[NEW]
    assert old["validity"] == "superseded" and old["superseded_by"] == new["doc_id"]
    assert old["superseded_by_date"] == "2024-12-31" and new["older_versions"] == old["doc_id"]
    assert new["validity"] == "" and documents["河南省就业促进条例(2009-03-26).md"]["validity"] == ""
    stats = {d["source"]: d for d in versions_service.stats()["documents"]}
    assert stats[OLD]["validity"] == "superseded" and stats[OLD]["issuer"] == "上海市人民代表大会常务委员会"


def test_the_version_in_force_answers_and_the_notice_names_the_replaced_one(versions_service):
    answer = versions_service.ask("上海市社会救助的对象包括哪些家庭?")
    assert not answer.refused
    assert answer.sources[0].meta["source"] == NEW
    assert "最低生活保障边缘家庭" in answer.text and "低收入困难家庭" not in answer.text
    assert "现行版本" in answer.notice and "旧版本已被它取代" in answer.notice
    old_hits = [h for h in answer.sources if h.meta["source"] == OLD]
    assert all(h.source_json()["validity"] == "superseded" for h in old_hits)


def test_a_question_naming_the_older_year_finds_the_older_version(versions_service):
    answer = versions_service.ask("2018年的上海市社会救助条例规定的社会救助对象有哪些?")
    assert not answer.refused
    assert answer.sources[0].meta["source"] == OLD
    assert "低收入困难家庭" in answer.text
    assert "已被2024年12月31日的新版本取代" in answer.notice
    card = answer.sources[0].source_json()
    assert card["validity"] == "superseded" and card["superseded_by_date"] == "2024-12-31"


def test_a_document_that_repeals_another_marks_it_repealed():
    documents = {
        "a": {"status": "complete", "title": "示范市就业见习管理暂行办法", "date": "2098-03-01", "region": ""},
        "b": {"status": "complete", "title": "示范市就业见习管理办法", "date": "2099-01-01", "region": "",
              "repeals": "示范市就业见习管理暂行办法"},
        "c": {"status": "complete", "title": "示范市创业担保贷款办法(2097年修订)", "date": "2097-05-01", "region": ""},
        "d": {"status": "complete", "title": "示范市创业担保贷款办法", "date": "2099-05-01", "region": ""},
        "e": {"status": "complete", "title": "示范市创业担保贷款办法", "date": "2096-01-01", "region": "样例县"},
    }
    linked = link_versions(documents)
    assert linked["a"]["validity"] == "repealed" and linked["a"]["superseded_by_title"] == "示范市就业见习管理办法"
    assert linked["c"]["validity"] == "superseded" and linked["c"]["superseded_by"] == "d"
    assert linked["e"]["validity"] == ""  # another place's document of the same name is not a version
    assert linked["b"]["validity"] == linked["d"]["validity"] == ""
    assert title_key("最高人民法院关于审理劳动争议案件适用法律若干问题的解释(二)") != title_key(
        "最高人民法院关于审理劳动争议案件适用法律若干问题的解释(三)")
