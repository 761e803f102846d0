"""Document-level facts read off the cleaned text: title, type, issuer, 文号, date, region."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from assistant.ingest.models import TABLE_CELL_SEPARATOR, Paragraph
from assistant.text.headings import ARTICLE_START, NUMERAL, opens_with_heading_mark
from assistant.text.normalize import fold_width, to_simplified
from assistant.text.places import region_at_start

DOC_TYPE_LABELS = {"speech": "讲话", "news": "新闻报道", "policy": "政策文件", "qa": "问答"}

# a document number (文号: 示范人社发〔2099〕3号) and the words of a document title, also read by the cleaner
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[(]\s*(?:19|20|21)\d{2}\s*[〕\])]\s*\d{1,5}\s*号")
TITLE_WORDS = re.compile(r"(关于|办法|通知|意见|规定|条例|方案|细则|讲话|致辞|问答|解读|公告|通告|决定|指南|报告)")
_DATE = re.compile(r"((?:19|20|21)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"((?:19|20|21)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})")
_ORG = r"[\u4e00-\u9fff]{2,40}(?:人民政府|办公厅|办公室|委员会|厅|局|部|委|中心|领导小组)"
_ISSUER = re.compile(rf"^{_ORG}(?:\s+{_ORG})*$")
_POLICY_TITLE = re.compile(r"(办法|规定|条例|通知|意见|方案|细则|规划|决定|公告|通告|实施|措施|指南|政策|规则|批复|函)")


def detect_title(paragraphs: list[Paragraph], hint: str | None, source: str) -> tuple[str, bool]:
    """The document title, and whether it is one of the opening paragraphs (then it is not body text)."""
    if hint and hint.strip():
        hint = re.sub(r"\s+", " ", to_simplified(fold_width(hint))).strip()  # as the paragraphs were cleaned
        return hint, any(p.text == hint for p in paragraphs[:3])
    candidates = [p.text for p in paragraphs[:4] if _plausible_title(p.text)]
    preferred = [t for t in candidates if TITLE_WORDS.search(t)]
    if preferred or candidates:
        return (preferred or candidates)[0], True
    stem = PurePosixPath(source).stem
    return re.sub(r"[_\-]+", " ", stem).strip() or source, False


def _plausible_title(text: str) -> bool:
    return (
        4 <= len(text) <= 80
        and text[-1] not in "。!?;:,"
        and not (text.startswith("【") and text.endswith("】"))  # an editor's note, not a title
        and not opens_with_heading_mark(text)
        and not _ISSUER.match(text)
        and not re.match(r"^\d{1,4}[年月]", text)
        and "问:" not in text
        and TABLE_CELL_SEPARATOR not in text  # a table row
    )


def detect_doc_type(title: str, paragraphs: list[Paragraph], meta: dict[str, str], doc_number: str) -> str:
    texts = [p.text for p in paragraphs]
    questions = sum(1 for t in texts if re.match(r"^(问|Q)\s*[::]", t) or re.match(r"^\d+[.、]?\s*问[::]", t))
    if questions >= 2 or re.search(r"(问答|答疑|解答|一问一答)", title):
        return "qa"
    opening = "".join(texts[:3])
    if re.search(r"(讲话|致辞|发言|报告)$|上的讲话|讲话稿", title) or re.match(r"^(同志们|各位)", opening[:6]):
        return "speech"
    articles = sum(1 for t in texts if ARTICLE_START.match(t))
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


# ---------------------------------------------------------------- issuing information

# `2018年11月22日 上海市第十五届人民代表大会常务委员会第七次会议通过`, `1990年1月1日 国家统计局令第1号发布`,
# `根据2018年12月29日…《关于修改…的决定》第四次修正`, `2016年7月1日 施行`: one event per date
_EVENT = re.compile(r"(?:根据)?\s*((?:19|20|21)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_EFFECTIVE_ON_ISSUE = re.compile(r"(?:自|从)(发布|公布|印发)之日(起)?(施行|实施|执行|生效)")
_EVENT_KINDS = [  # the last of these words in an event says what happened on its date
    ("repealed", re.compile(r"废止|失效")),
    ("revised", re.compile(r"修正|修订|修改")),
    ("effective", re.compile(r"施行|生效")),
    ("published", re.compile(r"公布|发布|印发|颁布|签发|下发|发文")),
    ("approved", re.compile(r"批准")),
    ("adopted", re.compile(r"通过|制定")),
]
_QUOTED = re.compile(r"《[^》]*》|〈[^〉]*〉")
_SESSION = re.compile(rf"第{NUMERAL}(届|次)(会议|全体会议)?")
_BODY = (
    r"(全国人民代表大会常务委员会|全国人民代表大会|人民代表大会常务委员会|人民代表大会|国务院|人民政府办公厅|人民政府|"
    r"最高人民法院|最高人民检察院|办公厅|办公室|委员会|总局|厅|局|部|委|署|院)"
)
_ISSUING_BODY = re.compile(rf"^(?:中华人民共和国)?([\u4e00-\u9fff]{{0,24}}?{_BODY})")
# page tables of government sites: `发文机关:…`, `成文日期:…`
_LABELLED = re.compile(r"(发文机关|发布机关|制定机关|发布单位|成文日期|发布日期|印发日期|公布日期|实施日期|施行日期|生效日期|发文字号|文号|时效性|效力状态|有效性)\s*[::]\s*")
_NUMBER_OF_ORDER = re.compile(r"((?:中华人民共和国)?[\u4e00-\u9fff]{2,20}?(?:令|公告))\s*\(?第\s*(\d{1,5})\s*号")


def _iso(year: str, month: str, day: str) -> str:
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _body_of(text: str) -> str:
    """The body named at the start of an event (`上海市第十五届人民代表大会常务委员会第七次会议通过` -> 上海市人民代表大会常务委员会)."""
    text = _SESSION.sub("", _QUOTED.sub("", text)).strip(" ()()")
    text = re.sub(r"^(由|经)", "", text)
    found = _ISSUING_BODY.match(text)
    if not found:
        return ""
    body = found.group(1)
    body = re.sub(r"(审判委员会|检察委员会)$", "", body)
    body = re.sub(r"^中华人民共和国(?=国务院)", "", body)
    return body if len(body) >= 2 and body not in ("委员会", "办公室", "办公厅") else ""


def issuing_events(lines: list[str]) -> list[tuple[str, str, str]]:
    """(kind, ISO date, issuing body) for every dated event in issuing-information lines."""
    events = []
    for line in lines:
        found = list(_EVENT.finditer(line))
        for index, match in enumerate(found):
            end = found[index + 1].start() if index + 1 < len(found) else len(line)
            words = line[match.end() : end]
            # `令第1号发布 自发布之日施行`: published that day, in force from it (read separately)
            bare = _EFFECTIVE_ON_ISSUE.sub("", _QUOTED.sub("", words))
            kind, position = "", -1
            for name, pattern in _EVENT_KINDS:
                for hit in pattern.finditer(bare):
                    if hit.start() > position:
                        kind, position = name, hit.start()
            if kind:
                events.append((kind, _iso(*match.groups()), _body_of(words)))
    return events


def _is_issuing_line(text: str) -> bool:
    """A line of issuing information under the title: dated events and nothing else of substance."""
    if len(text) > 300 or text.endswith(("。", ";")) and not re.search(r"(通过|公布|发布|施行|修正|修订)。$", text):
        return False
    stripped = text.strip("()() ")
    if _LABELLED.match(stripped):
        return True
    if not _EVENT.match(stripped) or "," in _QUOTED.sub("", stripped):
        return False  # a sentence (`2099年3月1日,示范市…发布…`) is body text, not an issuing line
    return bool(issuing_events([stripped]))


def _header_lines(title: str, paragraphs: list[Paragraph]) -> list[str]:
    """Issuing-information lines between the title and the first heading or article."""
    lines = []
    for paragraph in paragraphs[:14]:
        text = paragraph.text
        if text == title:
            continue
        if _is_issuing_line(text):  # before the heading test: `(2097年…发布 根据…修订)` opens with a bracket
            lines.append(text)
            continue
        if opens_with_heading_mark(text) or re.match(r"^(目\s*录|序言|前言)$", text) or lines:
            break  # the body starts
    return lines


def _labelled(lines: list[str]) -> dict[str, str]:
    values = {}
    for line in lines:
        parts = _LABELLED.split(line)
        for label, value in zip(parts[1::2], parts[2::2]):
            values.setdefault(label, value.strip(" |"))
    return values


_REPEALS = re.compile(r"《([^《》]{4,80})》[^。;《]{0,60}?(?:同时|即行|予以)?(?:废止|停止执行|失效)")
_SELF_REPEALED = re.compile(
    r"^[((【\[]?(已废止|已失效|失效|废止)[))】\]]?$|[((【\[](已废止|已失效)[))】\]]$|(本(文件|通知|办法|规定|条例|意见)(已|现)(废止|失效))"
)
_EFFECTIVE_IN_BODY = re.compile(r"(?:自|从)\s*((?:19|20|21)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*起\s*(?:施行|实施|执行|生效)")


def detect_facts(
    title: str, paragraphs: list[Paragraph], meta: dict[str, str], local_places: tuple[str, ...] = ()
) -> dict:
    """Issuer, 文号, dates, status and region as the document states them, each '' when it does not.

    Returns also ``issuing_lines``: the paragraphs that only carried issuing information (they become
    metadata and leave the body).
    """
    header = _header_lines(title, paragraphs)
    events = issuing_events([line.strip("()() ") for line in header])
    labelled = _labelled(header + [p.text for p in paragraphs[:3]])
    edges = [p.text for p in paragraphs[:8]] + [p.text for p in paragraphs[-8:]]

    def first(*kinds: str) -> tuple[str, str, str] | None:
        return next((e for e in events if e[0] in kinds), None)

    def last(*kinds: str) -> tuple[str, str, str] | None:
        return next((e for e in reversed(events) if e[0] in kinds), None)

    # issuer: who published, else who adopted, else who approved; else a signature or a labelled field
    issuer = ""
    for kinds in (("published",), ("adopted",), ("approved",), ("revised",)):
        found = next((e[2] for e in events if e[0] in kinds and e[2]), "")
        if found:
            issuer = found
            break
    labelled_issuer = next((labelled[k] for k in ("发文机关", "发布机关", "制定机关", "发布单位") if labelled.get(k)), "")
    issuer = issuer or labelled_issuer or next((t for t in reversed(edges) if _ISSUER.match(t)), "")
    if not issuer:
        origin = meta.get("origin", "")
        issuer = origin if _ISSUER.match(origin) else ""
    if not issuer:  # `最高人民法院关于审理…的规定`, `国务院关于…的通知`: the title names who issued it
        named = re.match(rf"^(?:中华人民共和国)?([\u4e00-\u9fff]{{0,24}}?{_BODY})关于", title)
        issuer = named.group(1) if named else ""

    # a 文号 on a line of its own (under the masthead, by the signature); one inside a sentence is a citation
    own_lines = [t for t in [title, *header, *edges] if len(t) <= 40]
    number = DOC_NUMBER.search("\n".join(own_lines))
    doc_number = re.sub(r"\s+", "", number.group(0)) if number else ""
    if not doc_number and labelled.get("发文字号"):
        doc_number = re.sub(r"\s+", "", labelled["发文字号"])
    if not doc_number:
        order = _NUMBER_OF_ORDER.search(_EVENT.sub("\n", "\n".join(header)))  # the date before it is not its name
        if order:
            doc_number = f"{re.sub('^中华人民共和国', '', order.group(1))}第{order.group(2)}号"

    promulgation = first("published") or first("adopted") or first("approved")
    promulgated = promulgation[1] if promulgation else ""
    revision = last("revised")
    revised = revision[1] if revision else ""
    effective_event = first("effective")
    effective = effective_event[1] if effective_event else ""
    closing = [p.text for p in paragraphs[-12:]]
    if not effective and any(_EFFECTIVE_ON_ISSUE.search(line) for line in header + closing):
        published = first("published")
        effective = published[1] if published else promulgated
    if not effective:
        for paragraph in reversed(paragraphs[-12:]):
            found = _EFFECTIVE_IN_BODY.search(paragraph.text)
            if found:
                effective = _iso(*found.groups())
                break
    for label in ("实施日期", "施行日期", "生效日期"):
        found = _DATE.search(labelled.get(label, "")) or _ISO_DATE.search(labelled.get(label, ""))
        if found and not effective:
            effective = _iso(*found.groups())

    # the version's date: its latest revision or publication; else a labelled date, a byline or a signature line
    dated = [e[1] for e in events if e[0] in ("published", "adopted", "approved", "revised")]
    date = max(dated) if dated else ""
    if not date:
        for label in ("成文日期", "发布日期", "印发日期", "公布日期"):
            found = _DATE.search(labelled.get(label, "")) or _ISO_DATE.search(labelled.get(label, ""))
            if found:
                date = _iso(*found.groups())
                break
    if not date:
        # the byline's publication date, else a date line of its own (the signature, `…印发`);
        # a date inside a sentence (`自2099年1月1日起施行`, `定于4月15日举办`) is not the document's
        for text in [meta.get("published", ""), *reversed([p.text for p in paragraphs[-8:]]), *[p.text for p in paragraphs[:8]]]:
            found = _DATE.search(text) or _ISO_DATE.search(text)
            if found and (text is meta.get("published") or _is_date_line(text, found)):
                date = _iso(*found.groups())
                break

    validity = ""
    if first("repealed") or any(_SELF_REPEALED.search(t) for t in [title, *header, *(p.text for p in paragraphs[:3])]):
        validity = "repealed"
    if re.search(r"(失效|废止)", labelled.get("时效性", "") + labelled.get("效力状态", "") + labelled.get("有效性", "")):
        validity = "repealed"
    repeals = []
    for paragraph in paragraphs:
        if "废止" in paragraph.text or "停止执行" in paragraph.text or "失效" in paragraph.text:
            repeals += [t for t in _REPEALS.findall(paragraph.text) if t != title]

    region = ""
    for candidate in (issuer, title):
        region = region_at_start(candidate, local_places)
        if region:
            break
    return {
        "issuer": issuer,
        "doc_number": doc_number,
        "date": date,
        "region": region,
        "promulgated": promulgated,
        "effective": effective,
        "revised": revised,
        "validity": validity,
        "repeals": "\n".join(dict.fromkeys(repeals)),
        "issuing_lines": set(header),
    }
