"""Document-level facts read off the cleaned text: title, type, issuer, 文号, date, region."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from assistant.ingest.models import Paragraph

DOC_TYPE_LABELS = {"speech": "讲话", "news": "新闻报道", "policy": "政策文件", "qa": "问答"}

_HEADING_MARK = re.compile(r"^(第[一二三四五六七八九十百零〇\d]+[章节条]|[一二三四五六七八九十]+、|\(|\d+[.、])")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[(]\s*(?:19|20|21)\d{2}\s*[〕\])]\s*\d{1,5}\s*号")
_DATE = re.compile(r"((?:19|20|21)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"((?:19|20|21)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})")
_ORG = r"[\u4e00-\u9fff]{2,40}(?:人民政府|办公厅|办公室|委员会|厅|局|部|委|中心|领导小组)"
_ISSUER = re.compile(rf"^{_ORG}(?:\s+{_ORG})*$")
_REGION = re.compile(r"^([\u4e00-\u9fff]{2,10}?(?:省|自治区|特别行政区|市|县|自治州|州|盟|旗))")
_NOT_REGIONS = {"全省", "全市", "我省", "我市", "本省", "本市", "各省", "各市", "省市", "全县", "本县"}
_POLICY_TITLE = re.compile(r"(办法|规定|条例|通知|意见|方案|细则|规划|决定|公告|通告|实施|措施|指南|政策|规则|批复|函)")


def detect_title(paragraphs: list[Paragraph], hint: str | None, source: str) -> tuple[str, bool]:
    """The document title, and whether it is one of the opening paragraphs (then it is not body text)."""
    if hint and hint.strip():
        hint = hint.strip()
        return hint, any(p.text == hint for p in paragraphs[:3])
    candidates = [p.text for p in paragraphs[:4] if _plausible_title(p.text)]
    preferred = [t for t in candidates if _TITLE_WORDS.search(t)]
    if preferred or candidates:
        return (preferred or candidates)[0], True
    stem = PurePosixPath(source).stem
    return re.sub(r"[_\-]+", " ", stem).strip() or source, False


_TITLE_WORDS = re.compile(r"(关于|办法|通知|意见|规定|条例|方案|细则|讲话|致辞|问答|解读|公告|通告|决定|指南|报告)")


def _plausible_title(text: str) -> bool:
    return (
        4 <= len(text) <= 80
        and text[-1] not in "。!?;:,"
        and not (text.startswith("【") and text.endswith("】"))  # an editor's note, not a title
        and not _HEADING_MARK.match(text)
        and not _ISSUER.match(text)
        and not re.match(r"^\d{1,4}[年月]", text)
        and "问:" not in text
    )


def detect_doc_type(title: str, paragraphs: list[Paragraph], meta: dict[str, str], doc_number: str) -> str:
    texts = [p.text for p in paragraphs]
    questions = sum(1 for t in texts if re.match(r"^(问|Q)\s*[::]", t) or re.match(r"^\d+[.、]?\s*问[::]", t))
    if questions >= 2 or re.search(r"(问答|答疑|解答|一问一答)", title):
        return "qa"
    opening = "".join(texts[:3])
    if re.search(r"(讲话|致辞|发言|报告)$|上的讲话|讲话稿", title) or re.match(r"^(同志们|各位)", opening[:6]):
        return "speech"
    articles = sum(1 for t in texts if re.match(r"^第[一二三四五六七八九十百零〇\d]+条", t))
    if doc_number or articles >= 3 or _POLICY_TITLE.search(title):
        return "policy"
    if (
        meta.get("reporter")
        or meta.get("editor")
        or re.match(r"^(本报讯|新华社|中新网|\d{1,2}月\d{1,2}日)", opening)
        or re.search(r"(召开|举行|举办|新闻|报道|会议|座谈)", title)
    ):
        return "news"
    return ""


_DATE_LABEL = re.compile(r"(发布|印发|成文|公布|发文)(日期|时间)[*\s]*[::][*\s]*$")


def _is_date_line(text: str, found: re.Match) -> bool:
    if _DATE_LABEL.search(text[: found.start()]):  # `发布单位:… 发布日期:2099年7月20日` on one line
        return True
    rest = (text[: found.start()] + " " + text[found.end() :]).strip(" \t()()[]【】,,。")
    return not rest or bool(_ISSUER.match(rest)) or rest in ("印发", "发布", "签发", "成文", "制定", "公布")


def detect_facts(title: str, paragraphs: list[Paragraph], meta: dict[str, str]) -> dict[str, str]:
    """Issuer, 文号, ISO date and region, each '' when the document does not say."""
    edges = [p.text for p in paragraphs[:8]] + [p.text for p in paragraphs[-8:]]
    head = "\n".join([title, *[p.text for p in paragraphs[:8]]])
    number = _DOC_NUMBER.search(head) or _DOC_NUMBER.search("\n".join(edges))
    issuer = next((t for t in reversed(edges) if _ISSUER.match(t)), "")
    if not issuer:
        origin = meta.get("origin", "")
        issuer = origin if _ISSUER.match(origin) else ""
    date = ""
    # the byline's publication date, else a date line of its own (the signature, `…印发`);
    # a date inside a sentence (`自2099年1月1日起施行`, `定于4月15日举办`) is not the document's
    for text in [meta.get("published", ""), *reversed([p.text for p in paragraphs[-8:]]), *[p.text for p in paragraphs[:8]]]:
        found = _DATE.search(text) or _ISO_DATE.search(text)
        if found and (text is meta.get("published") or _is_date_line(text, found)):
            year, month, day = found.groups()
            date = f"{year}-{int(month):02d}-{int(day):02d}"
            break
    region = ""
    for candidate in (issuer, title):
        found = _REGION.match(candidate)
        if found and found.group(1) not in _NOT_REGIONS and not found.group(1).startswith(("在", "关于", "全")):
            region = found.group(1)
            break
    return {
        "issuer": issuer,
        "doc_number": re.sub(r"\s+", "", number.group(0)) if number else "",
        "date": date,
        "region": region,
    }
