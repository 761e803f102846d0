"""Metadata from layouts the realdocs do not have (fictional text): a government site's page table, a
regulation's parenthesised issuing note, a notice signed at its end, a national title holding 市场."""

from __future__ import annotations

from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings


def doc_of(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return process_file(SourceFile(path, name), IngestSettings()).doc


def test_a_page_table_of_a_government_site(tmp_path):
    doc = doc_of(tmp_path, "notice.txt", "\n".join([
        "示范市人民政府办公室关于做好2099年高校毕业生就业工作的通知",
        "发文机关:示范市人民政府办公室  发文字号:示政办发〔2099〕12号",
        "成文日期:2099年3月2日  发布日期:2099年3月5日",
        "各区人民政府,市政府各部门:",
        "一、见习补贴标准为每人每月1800元。",
        "二、本通知自印发之日起施行。",
    ]))
    assert (doc.issuer, doc.doc_number, doc.date) == ("示范市人民政府办公室", "示政办发〔2099〕12号", "2099-03-02")


def test_a_parenthesised_issuing_note_under_the_title(tmp_path):
    doc = doc_of(tmp_path, "tiaoli.txt", "\n".join([
        "示范就业服务条例",
        "(2097年1月22日示范国务院令第258号发布 根据2099年3月24日《示范国务院关于修改部分行政法规的决定》修订)",
        "第一条 为了促进就业,制定本条例。",
        "第二条 本条例自2097年5月1日起施行。",
    ]))
    assert (doc.promulgated, doc.revised, doc.date, doc.effective) == ("2097-01-22", "2099-03-24", "2099-03-24", "2097-05-01")
    assert doc.doc_number == "示范国务院令第258号"


def test_a_national_title_holding_the_word_market_has_no_region(tmp_path):
    doc = doc_of(tmp_path, "market.txt", "人力资源市场暂行条例\n第一条 为了规范人力资源市场活动,制定本条例。\n第二条 本条例自2099年1月1日起施行。")
    assert doc.region == "" and doc.effective == "2099-01-01"


def test_a_province_s_document_gets_its_region_from_the_gazetteer(tmp_path):
    doc = doc_of(tmp_path, "shanxi.txt", "山西人力资源和社会保障厅关于见习补贴的通知\n一、见习补贴每人每月1800元。\n山西省人力资源和社会保障厅\n2099年1月5日")
    assert doc.region == "山西省" and doc.issuer == "山西省人力资源和社会保障厅" and doc.date == "2099-01-05"


def test_a_text_that_says_it_is_repealed(tmp_path):
    doc = doc_of(tmp_path, "old.txt", "示范市见习补贴暂行办法(已废止)\n第一条 见习补贴每人每月1500元。")
    assert doc.validity == "repealed"
