"""Turn a follow-up ("那退役军人呢?") into a question that stands alone, from slots.

A question carries slots: the group of people (退役军人), the employer (小微企业), the topic (失业保险金),
what is asked (多久 / 多少 / 条件 / 怎么申请 / 找谁 …), the place (郑州市) and the document (《…条例》,
第X条).  A follow-up replaces only the slots it names and keeps the rest: the previous question is
rewritten in place (its other words stay), what the follow-up changes is substituted, a document that
belonged to the old place is dropped.  Vocabularies are data (assistant/data/followup_terms.yaml),
places come from the gazetteer (assistant/retrieve/places.py).  Greetings and thanks are never merged into
a question (``small_talk``).  Only the last ``RECENT_USER_TURNS`` user turns are read.

With an LLM the condense prompt rewrites first, and this rewrite is its fallback and its check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from assistant.text.headings import NUMERAL
from assistant.text.lexicon import cut
from assistant.text.normalize import normalize_query_text
from assistant.retrieve.places import question_places
from assistant.settings import DATA_DIR
from assistant.text.figures import figures

RECENT_USER_TURNS = 4  # a thread is followed over this many user turns; older turns are not read

SLOT_KINDS = ("document", "article", "place", "group", "employer", "topic", "asked")
_VOCABULARY_KINDS = ("groups", "employers", "topics", "asked")

_LEAD = re.compile(
    r"^(?:(?:那么|那如果|那要是|那假如|那|如果是|如果|要是|假如是|假如|若是|万一|换成|换做|还有|另外|对于|至于|请问|再问一下|再问|"
    r"我想问|想问一下|想问)[,,\s]*)+"
)
_CONDITIONAL = re.compile(r"^(?:那么|那)?(?:如果|要是|假如|若是|万一|换成|换做)|的话[呢吗]?[??]?$")
_TAIL = re.compile(r"(?:的话|那边|这边|方面|这块|情况)?[呢吗啊呀哦嘛吧]*[??。!!~\s]*$")
_SELF = re.compile(r"^(?:我们|我|咱们|咱|俺|本人|他们|他|她)(?:的|要是|如果|是)?")
_ANAPHORA = re.compile(r"这个|那个|这项|那项|该项|上述|上面说的|刚才说的|它|这些|那些|同样")
_CONTINUING = re.compile(r"又|也|还|呢")  # in a short question: 通报情况的又是谁 / 农民工也能领吗
_PUNCT = re.compile(r"[,,、;;::??!!。\s]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DOC_BRACKETED = re.compile(r"《([^《》]{2,40})》")
_DOC_NAMED = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:实施条例|条例|实施细则|司法解释)")
_DOC_TRIM = re.compile(r"^.*(?:请问|知道|想问|问一下|按照|根据|依照|依据|关于|对于|那么|[在按那看查问的里])")
_ARTICLE = re.compile(rf"第{NUMERAL}[条点项](?:第[一二三四五六七八九十\d]+[款项])?")
# words between the topic and what is asked: 见习补贴每月【能拿】多少 -> the new asked words replace them too
_ASK_GLUE = re.compile(r"(?:每月|每年|每人|每天|按月|一共|总共)?(?:按照?什么|按|什么|哪些|啥)?"
                       r"(?:是|有|能|可以|可|能够|最多|最长|最高|一般|大概|要|需要|得|应该|应当)*"
                       r"(?:领取|领到|领|拿到|拿|享受|贷到|贷|发放|发|给|交|缴纳|缴|申请|办理|找|赔|满足)?(?:是|有)?$")
_CLAUSE_END = re.compile(r"[,,;;。??!!]")
_FUNCTION_ONLY = re.compile(r"[在的了是和与去到从对呢吗那就也又还都啊呀]+")
_ORDINAL = re.compile(r"第([一二三四五六七八九十\d]{1,3})(?:点|个|项)")


@dataclass(frozen=True)
class Slot:
    kind: str
    value: str  # canonical term (a place or document as written)
    start: int
    end: int


@dataclass
class Question:
    """A question's text (normalised) and the slots found in it, in order."""

    text: str
    slots: list[Slot] = field(default_factory=list)

    def first(self, kind: str) -> Slot | None:
        return next((s for s in self.slots if s.kind == kind), None)

    def all_values(self, kind: str) -> list[str]:
        return [s.value for s in self.slots if s.kind == kind]

    def values(self) -> dict[str, str]:
        """kind -> canonical value of the first slot of that kind (what a test or a check compares)."""
        out: dict[str, str] = {}
        for slot in self.slots:
            out.setdefault(slot.kind, slot.value)
        return out


# ---------------------------------------------------------------- vocabularies


@lru_cache(maxsize=1)
def terms() -> dict:
    return yaml.safe_load((DATA_DIR / "followup_terms.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _surfaces() -> tuple[dict[str, tuple[str, str]], re.Pattern]:
    """surface -> (kind, canonical), and one pattern finding any surface, longest first."""
    table: dict[str, tuple[str, str]] = {}
    for plural in _VOCABULARY_KINDS:
        kind = plural.rstrip("s") if plural != "asked" else "asked"
        for canonical, aliases in terms()[plural].items():
            for surface in [canonical, *(aliases or [])]:
                table.setdefault(normalize_query_text(str(surface)).lower(), (kind, canonical))
    for law in terms()["documents"]:
        table.setdefault(law, ("document", law))
    pattern = re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True))), re.I)
    return table, pattern


def _place_slots(text: str) -> list[Slot]:
    """Places named in the text, as the gazetteer and the place gate read them, cut to the name itself."""
    return [Slot("place", place, start, start + len(place)) for place, start in question_places(text)]


def parse(text: str) -> Question:
    """The slots of one question: one scan, the longest span wins where two overlap."""
    text = normalize_query_text(text)
    table, pattern = _surfaces()
    found: list[Slot] = []
    for match in _DOC_BRACKETED.finditer(text):
        found.append(Slot("document", match.group(1), match.start(), match.end()))
    for match in _DOC_NAMED.finditer(text):
        name = _DOC_TRIM.sub("", match.group(0))
        if len(name) >= 4:
            found.append(Slot("document", name, match.end() - len(name), match.end()))
    for match in _ARTICLE.finditer(text):
        found.append(Slot("article", match.group(0), match.start(), match.end()))
    for match in pattern.finditer(text):
        kind, canonical = table[match.group(0).lower()]
        found.append(Slot(kind, canonical, match.start(), match.end()))
    found += _place_slots(text)
    chosen: list[Slot] = []
    for slot in sorted(found, key=lambda s: (-(s.end - s.start), s.start)):
        if all(slot.end <= other.start or slot.start >= other.end for other in chosen):
            chosen.append(slot)
    return Question(text, sorted(chosen, key=lambda s: s.start))


# ---------------------------------------------------------------- small talk


def small_talk(message: str) -> str:
    """"greeting" / "thanks" when the message is only small talk (你好 / 谢谢 / 好的), else ''."""
    text = normalize_query_text(message).lower()
    if not text:
        return ""
    kinds = terms()["small_talk"]
    phrases = sorted(((p.lower(), kind) for kind, words in kinds.items() for p in words), key=lambda x: -len(x[0]))
    rest, seen = text, []
    for phrase, kind in phrases:
        if phrase in rest:
            seen.append((text.find(phrase), kind))
            rest = rest.replace(phrase, " ")
    if not seen or re.sub(r"[\s\W_]|[啊呀哈啦嘛哦喔呢吧了的您你们非常太十分很多大家]", "", rest):
        return ""
    kind = min(seen)[1]
    if kind == "thanks" and re.search(r"[??]|吗", text):
        return ""  # 好的吗? / 可以吗? asks something
    return kind


def strip_small_talk(message: str) -> str:
    """The question in a message that opens or closes with small talk (好的,那退役军人呢? / …谢谢)."""
    clauses = [c for c in re.split(r"(?<=[,,。!!~??])", normalize_query_text(message)) if c.strip()]
    while clauses and small_talk(clauses[0]):
        clauses.pop(0)
    while clauses and small_talk(clauses[-1]):
        clauses.pop()
    return "".join(clauses).strip()


# ---------------------------------------------------------------- follow-ups


def looks_like_follow_up(question: str) -> bool:
    """A question that leans on the previous one: a lead (那 / 要是 …), a short 呢, a bare fragment,
    or a pointer back (这个 / 上述); a question with its own topic and its own ask stands alone."""
    q = normalize_query_text(question)
    if not q or small_talk(q):
        return False
    if _LEAD.match(q) or _ANAPHORA.search(q):
        return True
    kinds = {s.kind for s in parse(q).slots}
    if {"topic", "asked"} <= kinds or "document" in kinds:
        return False
    if "article" in kinds or _ORDINAL.search(q):
        return True  # 第十条呢 / 第三点讲的啥 / 第二个: an article of the document, or a point of the answer, before
    return (len(q) <= 14 and bool(_CONTINUING.search(q))) or len(_PUNCT.sub("", q)) <= 6


def _core(question: str) -> str:
    """The follow-up's own words: without its lead (那 / 要是), its tail (呢?) and a leading 我."""
    q = strip_small_talk(question)
    q = _LEAD.sub("", q)
    q = _SELF.sub("", q)
    q = _LEAD.sub("", q)
    return _TAIL.sub("", q).strip(" ,,、")


def _token_spans(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for token in cut(text):
        spans.append((at, at + len(token)))
        at += len(token)
    return spans


def _aligned_substitution(text: str, new: str) -> str | None:
    """The previous question with ``new`` put where a word of the same kind stands: 中级工 -> 高级工 (same
    head), 开个体户 -> 开公司 (same verb), 财政部门 -> 税务 + 部门 (a bare modifier takes the old head)."""
    if not (2 <= len(new) <= 8) or not _CJK.search(new) or new in text:
        return None
    spans = _token_spans(text)
    words = [text[a:b] for a, b in spans]
    for length in range(min(len(new) - 1, 4), 1, -1):  # a shared head of two characters or more
        head = new[-length:]
        for i, (a, b) in enumerate(spans):
            if words[i].endswith(head) and words[i] != new and len(words[i]) > length:
                return text[:a] + new + text[b:]
            if words[i] == head and i > 0 and _CJK.search(words[i - 1]):
                return text[: spans[i - 1][0]] + new + text[b:]
    parts = cut(new)
    if len(parts) == 2 and len(parts[0]) <= 2:  # 开 + 公司: the word after the same verb is replaced
        for i in range(len(words) - 1):
            if words[i] == parts[0] and words[i + 1] != parts[1] and _CJK.search(words[i + 1]):
                return text[: spans[i + 1][0]] + parts[1] + text[spans[i + 1][1] :]
    heads = tuple(terms()["heads"])
    if len(new) <= 4 and not new.endswith(heads):
        for i, word in enumerate(words):
            head = next((h for h in heads if word.endswith(h) and len(word) > len(h)), None)
            if head:
                return text[: spans[i][0]] + new + head + text[spans[i][1] :]
            if word in heads and i > 0 and _CJK.fullmatch(words[i - 1][-1:]) and len(words[i - 1]) <= 4:
                return text[: spans[i - 1][0]] + new + word + text[spans[i][1] :]  # 财政 | 企业 as two words
    return None


def _figure_swap(text: str, condition: str) -> str | None:
    """交满12年 after 我交了6年…: the condition's figure replaces the previous question's figure of that unit."""
    for new in figures(condition):
        for old in figures(text):
            if old.unit == new.unit and old.unit and old.text in text and old.text != new.text:
                return text.replace(old.text, new.text, 1)
    return None


def _clause_bounds(text: str, at: int) -> tuple[int, int]:
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, at)), default=0)
    end_match = _CLAUSE_END.search(text, at)
    return start, end_match.start() if end_match else len(text)


def _strip_end(text: str) -> str:
    return re.sub(r"[??。!!\s]+$", "", text)


def apply_follow_up(previous: Question, question: str) -> Question:
    """``previous`` with the slots ``question`` names replaced, and what else it asks put in."""
    core = _core(question)
    if not core:
        return previous
    new = parse(core)
    new_kinds = {s.kind: s for s in new.slots}
    text = previous.text
    old = {kind: previous.first(kind) for kind in SLOT_KINDS}
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on the previous text

    # a document is one place's (or the nation's): another place drops it and its article; another topic keeps it
    place_changed = "place" in new_kinds and (old["place"] is None or old["place"].value != new_kinds["place"].value)
    drop_document = "document" not in new_kinds and old["document"] is not None and place_changed
    if drop_document:
        for kind in ("document", "article"):
            if old[kind]:
                edits.append((old[kind].start, old[kind].end, ""))
                old[kind] = None
    elif "document" in new_kinds and old["article"] and "article" not in new_kinds:
        edits.append((old["article"].start, old["article"].end, ""))  # 第X条 was the old document's
        old["article"] = None

    remaining = core
    prefix: list[str] = []
    topic_insert = ""
    for kind in SLOT_KINDS:
        slot = new_kinds.get(kind)
        if slot is None or kind == "asked":
            continue
        written = core[slot.start : slot.end]
        value = _as_written(kind, slot, written)
        remaining = remaining.replace(written, " ", 1)
        if old[kind]:
            if old[kind].value != slot.value:
                edits.append((old[kind].start, old[kind].end, value))
        elif kind == "article" and old["document"]:
            edits.append((old["document"].end, old["document"].end, value))
        elif kind in ("topic", "article") and old["asked"]:
            topic_insert = value + topic_insert
        else:
            prefix.append(value)

    remaining = _PUNCT.sub(" ", remaining).strip()
    if "asked" in new_kinds:
        # the follow-up asks something else: its own words replace the old ask to the end of that clause
        asked_words = _asked_words(remaining)
        if old["asked"]:
            clause_start, clause_end = _clause_bounds(text, old["asked"].start)
            glue = _ASK_GLUE.search(text[clause_start : old["asked"].start])
            cut = clause_start + glue.start() if glue else old["asked"].start
            # the old ask runs to its clause's last asked word (额度上限是多少), and to the end of the clause
            # (是谁【主持的】) unless another slot stands there
            in_clause = [s for s in previous.slots if old["asked"].start <= s.start < clause_end]
            asked_end = max(s.end for s in in_clause if s.kind == "asked")
            if any(s.kind != "asked" and s.start >= asked_end for s in in_clause):
                # the old ask stands before the topic (满足哪些条件才能领取失业保险金): the new question is
                # written from the slots, with the follow-up's own ask
                return parse(_from_slots(previous, new_kinds, core) + asked_words)
            edits.append((cut, clause_end, topic_insert + asked_words))
        else:
            end = len(re.sub(r"[吗呢]$", "", _strip_end(text)))
            edits.append((end, len(_strip_end(text)), topic_insert + asked_words))
        remaining = ""
    elif topic_insert:
        edits.append((old["asked"].start, old["asked"].start, topic_insert))

    text = _apply(text, edits)
    if prefix:
        text = "".join(prefix) + re.sub(r"^[里中的,,\s]+", "", text)
    remaining = re.sub(r"[呢吗](?= |$)", "", remaining).replace(" ", "")
    # words the previous question already holds (开 of 开公司 after 开个体户), or bare function words, add nothing
    if remaining and remaining not in text and not _FUNCTION_ONLY.fullmatch(remaining):
        text = _put_in(text, remaining, question, bool(new_kinds))
    return parse(text)


def _from_slots(previous: Question, new_kinds: dict[str, Slot], core: str) -> str:
    """The slots of the previous question, with the follow-up's in their place, in the order a question
    names them (document, article, place, group, employer, topic); without the ask."""
    parts = []
    for kind in SLOT_KINDS[:-1]:
        if kind in new_kinds:
            parts.append(_as_written(kind, new_kinds[kind], core[new_kinds[kind].start : new_kinds[kind].end]))
        elif (slot := previous.first(kind)) is not None:
            parts.append(previous.text[slot.start : slot.end])
    return "".join(parts)


def _asked_words(remaining: str) -> str:
    """What the follow-up asks, as it says it (能领多久 / 通报情况的又是谁), without inner 呢 / 吗."""
    return re.sub(r"[呢吗](?= |$)", "", remaining).replace(" ", "")


def _as_written(kind: str, slot: Slot, written: str) -> str:
    """The follow-up's own word (公司, 退伍军人), but the term itself for a colloquial 退伍的 / 打工的."""
    if kind == "document":
        return written if written.startswith("《") else f"《{slot.value}》"
    return slot.value if re.search(r"的人?$", written) else written


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    done: list[tuple[int, int]] = []
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if any(start < b and a < end for a, b in done):
            continue  # never two edits on one span
        text = text[:start] + replacement + text[end:]
        done.append((start, end))
    text = re.sub(r"^[里中的,,\s]+", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _put_in(text: str, words: str, question: str, named_slots: bool) -> str:
    """Words of the follow-up that are no slot: a figure swapped in, a word swapped for its like, a condition
    put first (要是留用率到了八成), or, failing all, added after the question."""
    conditional = bool(_CONDITIONAL.search(normalize_query_text(question)))
    swapped = _figure_swap(text, words)
    if swapped:
        return swapped
    if not named_slots:
        aligned = _aligned_substitution(text, words)
        if aligned:
            return aligned
    if conditional:
        return f"如果{words},{text}"
    return f"{_strip_end(text)},{words}?" if text.endswith(("?", "?")) else f"{text},{words}"


def _recent_user_turns(history: list[dict]) -> list[str]:
    """The last few user turns, oldest first; small talk and empty turns do not count."""
    turns: list[str] = []
    for turn in reversed(history):
        if len(turns) == RECENT_USER_TURNS:
            break
        if not isinstance(turn, dict) or turn.get("role") != "user":
            continue
        text = strip_small_talk(str(turn.get("content") or ""))
        if text:
            turns.append(text)
    return turns[::-1]


_LISTED = re.compile(
    r"(?:^|(?<=[,,。;;:\s]))(?:([一二三四五六七八九十]{1,3})是|[((]([一二三四五六七八九十]{1,3})[))]|(\d{1,2})[.、]|([一二三四五六七八九十]{1,3})、)"
    r"(?:要)?([^,,。;;\n]{2,30})"
)


def _resolve_ordinal(question: str, answer: str) -> str:
    """第三点 / 第二个 of a question, when the previous answer lists points (一是… 二是… 三是…), becomes the
    point itself: the question asks about the answer's third point, not a third article."""
    match = _ORDINAL.search(question)
    if not match or not answer:
        return question
    from assistant.text.figures import number_value

    wanted = number_value(match.group(1))
    for item in _LISTED.finditer(answer):
        label = next(g for g in item.groups()[:4] if g)
        if number_value(label) == wanted:
            return question[: match.start()] + item.group(5).strip() + "方面" + question[match.end() :]
    return question


def _last_answer(history: list[dict]) -> str:
    for turn in reversed(history[-2 * RECENT_USER_TURNS :]):
        if isinstance(turn, dict) and turn.get("role") == "assistant":
            return str(turn.get("content") or "")[:2000]
    return ""


def thread(question: str, history: list[dict]) -> Question:
    """The standalone form of ``question`` with its slots, given the conversation so far."""
    current: Question | None = None
    for turn in _recent_user_turns(history):
        current = apply_follow_up(current, turn) if current and looks_like_follow_up(turn) else parse(turn)
    asked = strip_small_talk(question) or normalize_query_text(question)
    if current is None or not looks_like_follow_up(asked):
        return parse(asked) if asked != normalize_query_text(question) else Question(question, parse(question).slots)
    return apply_follow_up(current, _resolve_ordinal(asked, _last_answer(history)))


def rule_based_rewrite(question: str, history: list[dict]) -> str:
    """The standalone form of ``question`` given earlier turns; unchanged when it already stands alone."""
    return thread(question, history).text


_CHECKED_KINDS = ("group", "employer", "topic", "place", "document", "article")


def agrees(candidate: str, ruled: Question) -> bool:
    """Whether another rewrite (the LLM's) keeps the slots the rule-based one set, and mixes in no other
    value of those kinds (both the old and the new group is the garbled mixture)."""
    from assistant.retrieve.places import same_place

    found = parse(candidate)
    for kind in _CHECKED_KINDS:
        want = {s.value for s in ruled.slots if s.kind == kind}
        got = {s.value for s in found.slots if s.kind == kind}
        if not want:
            continue
        if kind == "place":
            if any(not any(same_place(w, g) for g in got) for w in want) or any(
                not any(same_place(g, w) for w in want) for g in got
            ):
                return False
        elif want != got:
            return False
    return True
