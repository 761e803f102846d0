"""The viewer's service methods and drawing (assistant/viewer.py): a passage among its neighbours, only of
indexed documents, and a PDF page with exactly the passage's characters marked."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assistant import viewer
from tests.conftest import make_regulation_pdf


def _marked(png: bytes) -> np.ndarray:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (r > 200) & (g > 150) & (g < 235) & (b < 150)


def test_passage_chars_finds_a_passage_across_line_breaks_and_spaces():
    page = "第七条 见习单位按每人每月一千八百元的标准申领见\r\n习补贴,并为见习人员购买人身意外伤害保险。\r\n第八条 本办法"
    marked = viewer.passage_chars(page, "第七条 见习单位按每人每月一千八百元的标准申领见习补贴,并为见习人员购买人身意外伤害保险。")
    shown = "".join(page[i] for i in sorted(marked))
    assert shown.startswith("第七条见习单位") and shown.endswith("意外伤害保险") and "第八条" not in shown
    assert viewer.passage_chars(page, "完全不在此页的一句话") == set()


def test_passage_in_gives_the_neighbours_in_reading_order():
    chunks = [{"chunk_id": str(i), "text": f"第{i}条"} for i in range(6)]
    found = viewer.passage_in(chunks, "0", 2)
    assert found["chunk"]["chunk_id"] == "0" and found["before"] == [] and [c["chunk_id"] for c in found["after"]] == ["1", "2"]
    found = viewer.passage_in(chunks, "4", 2)
    assert [c["chunk_id"] for c in found["before"]] == ["2", "3"] and [c["chunk_id"] for c in found["after"]] == ["5"]
    assert viewer.passage_in(chunks, "nope", 2) is None


@pytest.fixture(scope="module")
def pdf_service(tmp_path_factory, embeddings):
    from assistant.service import AssistantService
    from tests.conftest import make_settings

    settings = make_settings(tmp_path_factory.mktemp("viewer"))
    expected = make_regulation_pdf(settings.paths.corpus_dir / "regulation.pdf", lines_per_page=6)
    service = AssistantService(settings, embeddings=embeddings)
    service.ingest()
    return service, expected


def test_service_passage_and_page_image_of_an_indexed_pdf(pdf_service):
    service, expected = pdf_service
    doc_id = service.stats()["documents"][0]["doc_id"]
    chunks = service.document_chunks(doc_id)
    seventh = next(c for c in chunks if c["section"].endswith("第七条"))
    path, page, _ = expected["第七条"]
    assert seventh["section"] == path and seventh["page"] == page
    assert [c["ordinal"] for c in chunks] == sorted(c["ordinal"] for c in chunks)

    found = service.passage(doc_id, seventh["chunk_id"])
    assert found["chunk"] == seventh and found["pages"] == 4 and found["document"]["doc_id"] == doc_id
    assert found["before"][-1]["section"].endswith("第六条") and found["after"][0]["section"].endswith("第八条")

    png, marked = service.page_image(doc_id, page, seventh["chunk_id"])
    assert marked and png.startswith(b"\x89PNG")
    mask = _marked(png)
    rows = np.flatnonzero(mask.any(axis=1))
    assert mask.sum() > 2000 and rows.max() - rows.min() < mask.shape[0] / 4  # the article's lines, not the page
    plain, marked_plain = service.page_image(doc_id, page)
    assert not marked_plain and _marked(plain).sum() < 50


def test_nothing_but_indexed_documents_chunks_and_pages(pdf_service):
    service, _ = pdf_service
    doc_id = service.stats()["documents"][0]["doc_id"]
    assert service.document_chunks("0" * 16) is None
    assert service.passage("0" * 16, "x") is None and service.passage(doc_id, "not-a-chunk") is None
    assert service.page_image(doc_id, 0) is None and service.page_image(doc_id, 5) is None
    assert service.page_image(doc_id, 1, "not-a-chunk") is None
    assert service.page_image("../../etc/passwd", 1) is None
