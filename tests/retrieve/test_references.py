"""Documents and articles a question names."""

from __future__ import annotations

import pytest

from assistant.retrieve.references import article_number, cited_title, named_documents, section_article, title_match

TITLES = {
    "js3": "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（三）",
    "js4": "最高人民法院关于审理劳动争议案件适用法律若干问题的解释（四）",
    "hn": "河南省失业保险条例",
    "zz": "郑州市失业保险条例",
    "law": "中华人民共和国职业病防治法",
    "notice": "关于印发《示范市高校毕业生就业见习管理办法(试行)》的通知",
    "tagged-1-0": "【虚构测试材料】示范市苗圃通知1-0",
    "tagged-1-1": "【虚构测试材料】示范市苗圃通知1-1",
}


@pytest.mark.parametrize(
    ("text", "number"),
    [("第十八条", 18), ("依据第一百零二条规定", 102), ("第3条", 3), ("第二十条第二款", 20), ("没有条文", None)],
)
def test_article_numbers_in_chinese_or_arabic_numerals(text, number):
    assert article_number(text) == number


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("郑州失业保险条例第二十条说的啥", ["zz"]),  # 市 left out
        ("《河南省失业保险条例》第十八条", ["hn"]),
        ("职业病防治法规定体检费谁出", ["law"]),  # 中华人民共和国 left out
        ("示范市高校毕业生就业见习管理办法第五条", ["notice"]),  # the document a 印发通知 issues
        ("劳动争议司法解释(四)第二十条怎么说", ["js4"]),  # a short name, and (四) is not (三)
        ("失业保险条例有啥规定", []),  # names no one document: 河南 and 郑州 share the words
        ("郑州失业金能领多久", []),  # no document word: a question, not a title
        ("示范市苗圃通知1-0规定的补助每亩多少钱", ["tagged-1-0"]),  # a 【tag】 is not part of the name; 1-0 is not 1-1
    ],
)
def test_documents_a_question_names(question, expected):
    assert named_documents(question, TITLES).doc_ids == expected


def test_a_quoted_title_no_document_has_is_reported():
    named = named_documents("《工伤保险条例》第十四条是什么", TITLES)
    assert named.doc_ids == [] and named.unknown == ["工伤保险条例"]


def test_a_law_named_before_an_article_number_that_is_not_indexed_is_reported():
    """劳动合同法第四十七条 must not be answered with another law's 第四十七条."""
    named = named_documents("劳动合同法第四十七条经济补偿怎么算", TITLES)
    assert named.doc_ids == [] and named.unknown == ["劳动合同法"]


def test_title_match_reads_the_title_in_order():
    assert title_match("请问郑州失业保险条例", TITLES["zz"]) == pytest.approx(8 / 9)  # 8 of the title's 9 characters
    assert title_match("郑州失业保险条例", TITLES["zz"]) == 1.0  # all of the name as written
    assert title_match("条例保险失业郑州", TITLES["zz"]) < 0.5


def test_sections_and_cited_titles():
    assert section_article("第四章 失业保险待遇 > 第二十一条") == 21
    assert section_article("第四章 失业保险待遇") is None
    assert cited_title(TITLES["notice"]) == "示范市高校毕业生就业见习管理办法(试行)"
    assert cited_title(TITLES["hn"]) == TITLES["hn"]


def _named_by_comparing_every_title(question: str, titles: dict[str, str]) -> list[str]:
    """The reference: every title compared with the question (what named_documents did before its index)."""
    from assistant.retrieve.references import MIN_TITLE_MATCH, quoted_titles

    quoted = quoted_titles(question)
    scored = []
    for doc_id, title in titles.items():
        score = max(title_match(q, title) for q in (quoted or [question]))
        if score >= MIN_TITLE_MATCH:
            scored.append((score, len(title), doc_id))
    scored.sort(reverse=True)
    return [doc_id for score, _, doc_id in scored if score >= scored[0][0] - 1e-9]


def test_the_title_index_finds_what_comparing_every_title_finds():
    """Over the real documents' titles and every eval question (plus each question with its first document
    word quoted), the bigram index leaves out no title the full comparison would match."""
    import re
    from pathlib import Path

    import yaml

    from tests.conftest import REPO_ROOT

    realdocs = REPO_ROOT.parent / "shared" / "realdocs"
    titles = dict(TITLES)
    for path in sorted(realdocs.glob("*.md")):
        heading = next((line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines()
                        if line.startswith("# ")), path.stem)
        titles[path.stem] = heading
    assert len(titles) > 40
    questions = []
    for eval_set in sorted(Path(REPO_ROOT / "tests" / "eval").glob("*.yaml")):
        for item in yaml.safe_load(eval_set.read_text(encoding="utf-8"))["questions"]:
            questions.append(item["question"])
    questions += [re.sub(r"([\u4e00-\u9fff]{2,20}(?:法|条例|规定|办法))", r"《\1》", q, count=1) for q in questions]
    for title in titles.values():  # each title named in full, quoted, and as people shorten it
        short = title.replace("中华人民共和国", "").replace("市", "", 1).replace("省", "", 1)
        questions += [f"{title}第五条怎么规定的", f"《{title}》有哪些规定", f"{short}第二十条说的啥", f"问一下{short[1:]}"]
    named = 0
    for question in questions:
        expected = _named_by_comparing_every_title(question, titles) if (
            "《" in question or re.search(r"法|条例|规定|办法|细则|解释|决定|通知|意见|方案|纲要|批复", question)) else []
        assert named_documents(question, titles).doc_ids == expected, question
        named += bool(expected)
    assert named > 50  # the comparison is about questions that do name documents
