"""Files that cannot be indexed: uploads are read in a staging folder and never enter the corpus; failures are
recorded with the reason, listed for staff, removable, and never read again by a start."""

from __future__ import annotations

from pathlib import Path

from assistant.uploads import stage_upload
from tests.index.test_incremental import assert_consistent

GOOD = "【虚构测试材料】示范市海鸥计划实施细则\n第一条 参加示范市海鸥计划的青年,每人每月可领取海鸥补贴3579元。"
BROKEN_PDF = b"%PDF-1.4 a broken file"


def test_staged_uploads_move_in_only_when_read_and_failures_are_recorded(settings, make_index):
    corpus = Path(settings.paths.corpus_dir)
    index = make_index(settings)
    staged = [stage_upload(corpus, "海鸥计划.txt", GOOD.encode(), 1)[:2], stage_upload(corpus, "坏.pdf", BROKEN_PDF, 1)[:2]]

    report = index.ingest_staged(staged)

    assert {f.source: f.status for f in report.files} == {"uploads/海鸥计划.txt": "indexed", "uploads/坏.pdf": "failed"}
    assert (corpus / "uploads" / "海鸥计划.txt").read_text(encoding="utf-8") == GOOD
    assert not (corpus / "uploads" / "坏.pdf").exists() and not any(p.is_file() for p in (corpus / ".staging").rglob("*"))
    [failure] = index.failures()
    assert failure["source"] == "uploads/坏.pdf" and "PDF" in failure["reason"] and failure["chunk_count"] == 0
    assert [d["source"] for d in index.stats()["documents"]] == ["uploads/海鸥计划.txt"]  # never served
    assert_consistent(index)


def test_a_start_reads_a_failed_file_once_and_retries_it_only_when_it_changed(settings, make_index):
    corpus = Path(settings.paths.corpus_dir)
    (corpus / "uploads").mkdir(parents=True)
    (corpus / "uploads" / "坏.pdf").write_bytes(BROKEN_PDF)  # left by an older version, or copied in by hand
    index = make_index(settings)

    first = index.resume([corpus / "uploads"])
    assert [(f.source, f.status) for f in first.files] == [("uploads/坏.pdf", "failed")]
    assert [f["source"] for f in index.failures()] == ["uploads/坏.pdf"]

    assert index.resume([corpus / "uploads"]).files == []  # the next start reads nothing

    (corpus / "uploads" / "坏.pdf").unlink()
    (corpus / "uploads" / "坏.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "uploads" / "坏.pdf").write_bytes(BROKEN_PDF + b" changed")
    again = index.resume([corpus / "uploads"])
    assert {f.source: f.status for f in again.files} == {"uploads/坏.pdf": "failed", "uploads/坏.txt": "indexed"}
    assert_consistent(index)


def test_a_sync_does_not_prune_failure_records_and_staff_can_remove_them(settings, embeddings):
    from assistant.service import AssistantService

    corpus = Path(settings.paths.corpus_dir)
    (corpus / "uploads").mkdir(parents=True)
    (corpus / "uploads" / "坏.pdf").write_bytes(BROKEN_PDF)
    service = AssistantService(settings, embeddings=embeddings)
    service.index.resume([corpus / "uploads"])
    (corpus / "uploads" / "坏.pdf").unlink()
    service.ingest([corpus])  # the CLI's ingest, with pruning
    [failure] = service.failed_uploads()

    (corpus / "uploads" / "坏.pdf").write_bytes(BROKEN_PDF)
    assert service.remove_failed(failure["doc_id"])
    assert service.failed_uploads() == [] and not (corpus / "uploads" / "坏.pdf").exists()
    assert not service.remove_failed(failure["doc_id"])
