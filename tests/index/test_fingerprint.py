"""The pipeline fingerprint: a change to what shapes chunks (a chunk setting, a data file, the code) reaches
documents already indexed on the next ingest or start, without --rebuild.  (The keyword index records the
tokenizer's own version and is rebuilt from Chroma when it differs: tests/index/test_keyword.py.)"""

from __future__ import annotations

import shutil

from assistant.index.policy_index import PolicyIndex
from assistant.ingest import fingerprint
from assistant.settings import IngestSettings

LONG = "示范市就业见习办法\n" + "\n".join(
    f"第{n}条 见习单位按每人每月{1800 + i}元的标准申领见习补贴,见习期限为三至十二个月,具体期限由见习协议约定,"
    f"见习期满考核合格的,可按规定申请留用补贴。见习人员在见习期间发生意外伤害的,由见习单位购买的人身意外伤害保险予以赔付,"
    f"所需费用从见习补贴中列支。" for i, n in enumerate("一二三四五六七八")
)


def chunk_texts(index: PolicyIndex) -> set[str]:
    return {c.text for c in index.store.iter_chunks()}


def test_a_changed_chunk_setting_reprocesses_the_documents_already_indexed(tmp_path, settings_for, make_index):
    settings = settings_for(tmp_path)
    (settings.paths.corpus_dir / "jianxi.txt").write_text(LONG, encoding="utf-8")
    first = make_index(settings)
    assert first.sync([settings.paths.corpus_dir]).count("indexed") == 1
    before = chunk_texts(first)
    assert make_index(settings).sync([settings.paths.corpus_dir]).count("unchanged") == 1

    smaller = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"chunk_max_chars": 120})})
    steps = []
    report = make_index(smaller).sync([smaller.paths.corpus_dir], progress=lambda *args: steps.append(args))
    assert [(f.status, f.code) for f in report.files] == [("indexed", "pipeline_changed")]
    assert steps and steps[-1][:3] == ("jianxi.txt", 1, 1)
    after_index = make_index(smaller)
    after = chunk_texts(after_index)
    assert after != before and len(after) > len(before)
    assert all(len(c.indexed_text) <= 120 for c in after_index.store.iter_chunks())


def test_a_start_reprocesses_documents_of_an_older_pipeline(tmp_path, settings_for, embeddings):
    from assistant.service import AssistantService

    settings = settings_for(tmp_path)
    (settings.paths.corpus_dir / "jianxi.txt").write_text(LONG, encoding="utf-8")
    assert AssistantService(settings, embeddings=embeddings).ensure_index().count("indexed") == 1  # first start
    assert AssistantService(settings, embeddings=embeddings).ensure_index().files == []  # nothing to do

    changed = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"chunk_max_chars": 150})})
    report = AssistantService(changed, embeddings=embeddings).ensure_index()
    assert [(f.source, f.status, f.code) for f in report.files] == [("jianxi.txt", "indexed", "pipeline_changed")]


def test_the_fingerprint_follows_settings_and_data_files(tmp_path, monkeypatch):
    caps = IngestSettings()
    assert fingerprint.pipeline_fingerprint(caps) == fingerprint.pipeline_fingerprint(IngestSettings())
    assert fingerprint.pipeline_fingerprint(caps) != fingerprint.pipeline_fingerprint(IngestSettings(chunk_max_chars=300))
    assert fingerprint.pipeline_fingerprint(caps) == fingerprint.pipeline_fingerprint(IngestSettings(max_file_mb=1))

    data = tmp_path / "data"
    shutil.copytree(fingerprint.DATA_DIR, data)
    monkeypatch.setattr(fingerprint, "DATA_DIR", data)
    fingerprint._code_and_data.cache_clear()
    try:
        same = fingerprint.pipeline_fingerprint(caps)
        with (data / "strip_patterns.yaml").open("a", encoding="utf-8") as fh:
            fh.write("\n# a new pattern\n")
        fingerprint._code_and_data.cache_clear()
        assert fingerprint.pipeline_fingerprint(caps) != same
    finally:
        fingerprint._code_and_data.cache_clear()
