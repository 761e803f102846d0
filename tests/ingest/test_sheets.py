"""Spreadsheets: an FAQ sheet becomes one Q&A chunk per row that answers directly; other sheets are table
rows quoted under their header.  Sheets are real XLSX (openpyxl) and CSV files; text is fictional (示范市)."""

from __future__ import annotations

import pytest

from assistant.ingest.models import TABLE_CELL_SEPARATOR
from assistant.ingest.pipeline import SourceFile, process_file
from assistant.settings import IngestSettings

FAQ = [
    ("示范市高校毕业生见习补贴每月多少钱?", "见习补贴按每人每月1800元发放,由见习单位按月申领。", "就业见习"),
    ("灵活就业人员社保补贴能领多久?", "社会保险补贴期限最长不超过3年,距法定退休年龄不足5年的可延长至退休。", "灵活就业"),
    ("创业担保贷款最高能贷多少?", "个人创业担保贷款最高额度为30万元,合伙创业的可按每人不超过30万元、总额不超过300万元申请。", "创业"),
]


def write_xlsx(path, sheets: dict[str, list[list]], hidden: set[str] = frozenset()):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


def process(path):
    return process_file(SourceFile(path, path.name), IngestSettings())


def test_faq_sheet_found_by_its_header_gives_one_qa_chunk_per_row(tmp_path):
    rows = [["序号", "问题", "答复", "分类"]] + [[i + 1, q, a, c] for i, (q, a, c) in enumerate(FAQ)]
    processed = process(write_xlsx(tmp_path / "faq.xlsx", {"常见问题": rows}))

    assert len(processed.chunks) == len(FAQ)
    for chunk, (question, answer, category) in zip(processed.chunks, FAQ):
        assert chunk.section == f"问:{question.rstrip('?')}"
        assert f"答:{answer}" in chunk.text and f"分类:{category}" in chunk.text
    assert processed.doc.doc_type == "qa"


def test_faq_sheet_found_by_its_shape_without_a_header(tmp_path):
    rows = [[q, a] for q, a, _ in FAQ]
    processed = process(write_xlsx(tmp_path / "wenda.xlsx", {"Sheet1": rows}))
    assert [c.section for c in processed.chunks] == [f"问:{q.rstrip('?')}" for q, _, _ in FAQ]


def test_other_sheets_are_rows_under_their_header_and_hidden_sheets_are_not_read(tmp_path):
    table = [["补贴项目", "对象", "标准(元/人·月)"], ["见习补贴", "离校未就业高校毕业生", 1800],
             ["社保补贴", "灵活就业人员", 300]]
    path = write_xlsx(tmp_path / "biaozhun.xlsx", {"标准": table, "草稿": [["见习补贴", "9999"]]}, hidden={"草稿"})
    processed = process(path)
    text = "\n".join(c.text for c in processed.chunks)
    assert f"补贴项目{TABLE_CELL_SEPARATOR}对象{TABLE_CELL_SEPARATOR}标准(元/人·月)" in text
    assert f"见习补贴{TABLE_CELL_SEPARATOR}离校未就业高校毕业生{TABLE_CELL_SEPARATOR}1800" in text
    assert "9999" not in text


def test_a_long_table_keeps_its_header_on_every_chunk(tmp_path):
    rows = [["区县", "公益性岗位补贴(元/月)"]] + [[f"示范市第{i}区", 1000 + i] for i in range(120)]
    processed = process(write_xlsx(tmp_path / "gangwei.xlsx", {"补贴": rows}))
    assert len(processed.chunks) > 2
    assert all(c.text.startswith(f"区县{TABLE_CELL_SEPARATOR}公益性岗位补贴(元/月)") for c in processed.chunks)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_csv_faq(tmp_path, encoding):
    lines = ["问题,回答"] + [f"{q},\"{a}\"" for q, a, _ in FAQ]
    path = tmp_path / "faq.csv"
    path.write_bytes("\n".join(lines).encode(encoding))
    processed = process(path)
    assert [c.section for c in processed.chunks] == [f"问:{q.rstrip('?')}" for q, _, _ in FAQ]
    assert "30万元" in processed.chunks[2].text


def test_an_faq_row_answers_a_question_with_its_citation(tmp_path, settings_for, embeddings):
    from assistant.service import AssistantService

    settings = settings_for(tmp_path)
    rows = [["问题", "答复"]] + [[q, a] for q, a, _ in FAQ]
    write_xlsx(settings.paths.corpus_dir / "示范市政策问答.xlsx", {"问答": rows})
    service = AssistantService(settings, embeddings=embeddings)
    assert not service.ingest().failed
    answer = service.ask("灵活就业社保补贴最长领几年?")
    assert not answer.refused and "3年" in answer.text and "[1]" in answer.text
    top = answer.sources[0].source_json()
    assert top["section"] == "问:灵活就业人员社保补贴能领多久" and top["source"] == "示范市政策问答.xlsx"
