"""Does the retrieved evidence cover the question?  The answer / hedge / refuse decision.

Retrieval always returns *something*; this decides what to do with it (docs/refusal.md):

* refuse, each by one small check: the question belongs to another office (公积金, 个税, 医保 …,
  assistant/data/other_domains.yaml) that the evidence never mentions; it asks for ghost-writing or paid
  services; it names a document that is not indexed, an article that document does not have, a place or
  a year the evidence is not about; or the documents do not cover its topic — the last judged by a
  calibrated probability (logistic regression over the coverage signals, fitted on the eval sets by
  scripts/tune_refusal.py, coefficients and operating point in assistant/data/refusal_model.json);
* hedge — quote the closest article and say what it does not state: the question asks for a figure (金额,
  比例, 期限, 年龄, 日期: assistant/data/amount_questions.yaml) that no evidence article about the thing asked
  states, or the probability is in the uncertain band;
* answer otherwise.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from assistant.retrieve.hybrid import RetrievalResult, Target
from assistant.retrieve.references import MIN_TITLE_MATCH, quoted_titles, title_match
from assistant.retrieve.places import is_place, place_covered
from assistant.retrieve.query import amount_questions, content_words, generic_terms, said_otherwise, synonyms
from assistant.settings import DATA_DIR, AnswerSettings
from assistant.text.figures import figures
from assistant.text.lexicon import domain_tokenizer, known_word, pos_tagged, stopwords
from assistant.text.normalize import squash
from assistant.text.patterns import matches
from assistant.text.sentences import split_sentences

FIGURE = re.compile(
    r"(\d+(\.\d+)?\s*(%|元|万|亿|个月|月|年|周岁|岁|日|天|个工作日|倍|人|次|小时|个基点)"
    r"|[一二三四五六七八九十百千万两]+(个月|年|周岁|岁|元|倍|万元|日|天)|百分之[\d一二三四五六七八九十百点.]+)"
)
# Figures of each kind an amount question can ask for (evidence sentences are searched with dates removed).
KIND_FIGURE = {
    "money": re.compile(r"(\d+(\.\d+)?|[一二三四五六七八九十百千万两]+)\s*(万|亿)?元|\d+(\.\d+)?\s*[万亿](?![人个家户次])"),
    "ratio": re.compile(
        r"\d+(\.\d+)?\s*[%％]|百分之[\d一二三四五六七八九十百]|[\d一二三四五六七八九十]+\s*成|[\d一二三四五六七八九十]+\s*分之"
        r"|\d+\s*/\s*\d+|[\d一二三四五六七八九十两]+\s*倍"
    ),
    "duration": re.compile(
        r"(?<![\d.月])(\d{1,3}|[一二三四五六七八九十百两半]+)\s*(个月|个自然月|个工作日|周年|年|周|天|日|小时)"
    ),
    "age": re.compile(r"(\d{1,3}|[一二三四五六七八九十]+)\s*周?岁"),
    "date": re.compile(r"\d{1,2}\s*[日号]"),
}
# Calendar dates and years (2099年, 5月20日, 2099年1月1日) are when, not how much or how long: they only
# answer a date question (哪天).
_DATE = re.compile(r"\d{4}\s*年(\s*\d{1,2}\s*月(\s*\d{1,2}\s*[日号])?)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]")
_MONEY_COLUMN = re.compile(r"[((]\s*万?元|万?元\s*/")
_NOUN_FLAGS = ("n", "nz", "nt", "vn", "j")
# Amount words that are nouns: 见习补贴标准 asks about 见习补贴, 报销比例 about 报销
_AMOUNT_NOUN = re.compile(r"标准|比例|金额|额度|期限|上限")
_CLAUSE_END = re.compile(r"[,,。;;??!!]")
_CLAUSE = re.compile(r"(?<=[,,;;::])")
UNKNOWN_FRAGMENT_RARITY = 4.0  # a common word's weight (常用词 ≈ 4-6)
RARE_NOUN = 10.0  # rarity from which a noun is specific enough that a figure must be about it too
_YEAR = re.compile(r"(?:19|20|21)\d{2}(?=年)")


@dataclass
class Coverage:
    covered: bool
    coverage: float
    best_dense: float
    missing_terms: list[str] = field(default_factory=list)
    missing_places: list[str] = field(default_factory=list)
    asks_amount: bool = False
    has_figure: bool = True
    other_domain: str = ""
    referral: str = ""
    reason: str = ""  # why it is not a plain answer: a refusal's or a hedge's reason ("" for an answer)
    outcome: str = "answer"  # answer / hedge / refuse
    probability: float = 1.0  # calibrated chance that the documents cover the question's topic
    amount_term: str = ""  # what an amount question asks about (见习补贴), for the hedge's wording
    amount_kind: str = ""  # money / ratio / duration / age / date, '' for any figure
    unknown_titles: list[str] = field(default_factory=list)  # 《…》 no indexed document has
    article: int | None = None  # the article the question names
    last_article: int = 0  # the named document's last article


@lru_cache(maxsize=1)
def other_domains() -> dict[str, dict]:
    return yaml.safe_load((DATA_DIR / "other_domains.yaml").read_text(encoding="utf-8"))




@lru_cache(maxsize=8192)
def rarity(word: str) -> float:
    """-log frequency of the word in jieba's general dictionary: rare words weigh more.  A word jieba does
    not know is mostly a segmentation fragment (费要, 交满 from 场地费要不要交, 交满12年): it weighs what its
    known parts weigh, not the most a word can."""
    tokenizer = domain_tokenizer()
    freq = tokenizer.FREQ.get(word, 0)
    if not freq and len(word) >= 2:
        parts = [word[i:j] for i in range(len(word)) for j in range(i + 2, len(word) + 1) if (i, j) != (0, len(word))]
        known = [rarity(part) for part in parts if tokenizer.FREQ.get(part, 0)]
        return max(known, default=UNKNOWN_FRAGMENT_RARITY)
    return min(14.0, max(2.0, math.log((tokenizer.total or 1) / (freq + 1))))


def _present(word: str, evidence: str) -> bool:
    """The word, its statutory term, the word with a colloquial part put the statute's way (社保费 ->
    社会保险费), or (for 4+ characters) a two-character part of it occurs."""
    if said_otherwise(word, evidence):
        return True
    for part, terms in synonyms().items():
        if part != word and part in word and any(word.replace(part, term) in evidence for term in terms):
            return True
    return len(word) >= 4 and any(word[i : i + 2] in evidence for i in range(len(word) - 1))


def _other_domain(question: str, evidence: str) -> tuple[str, str]:
    """The neighbouring office a question belongs to, when the evidence does not use the question's own (most
    specific) term: 养老金 is asked, the evidence only says 退休年龄."""
    for name, spec in other_domains().items():
        asked = sorted((t for t in spec.get("terms", []) if t in question), key=len, reverse=True)
        if asked and not said_otherwise(asked[0], evidence):
            return name, spec.get("referral", "")
    return "", ""


@dataclass
class Signals:
    """What the gate looks at, computed once per retrieval (the tuning script reuses them)."""

    coverage: float
    best_dense: float
    missing: list[str]
    places: list[str]
    missing_years: list[str]
    asks_amount: bool
    amount_term: str  # what the amount is asked about (the noun before 多少), '' when none
    has_figure: bool  # some evidence sentence names amount_term and gives a figure of amount_kind
    other_domain: str
    referral: str
    solicitation: bool
    instruction: bool = False  # the question tries to instruct the assistant (忽略以上指令 …)
    amount_kind: str = ""  # money / ratio / duration / age: what has_figure looked for ('' any figure)
    top_coverage: float = 1.0  # coverage by the best single chunk of the evidence
    missing_share: float = 0.0  # share of the content words (unweighted) found nowhere in the evidence
    max_missing_rarity: float = 0.0  # the rarest missing word's rarity / 14
    agreement: float = 0.0  # 1 when the first chunk is in both the dense and the BM25 top 3
    content_count: int = 0  # content words of the question
    no_topic: bool = False  # an amount question naming nothing (多少钱?)
    uncited_titles: list[str] = field(default_factory=list)  # named documents neither indexed nor quoted in the evidence

    def features(self) -> dict[str, float]:
        """What the calibrated model reads (names as in assistant/data/refusal_model.json)."""
        return {
            "coverage": self.coverage,
            "top_coverage": self.top_coverage,
            "best_dense": self.best_dense,
            "missing_share": self.missing_share,
            "max_missing_rarity": self.max_missing_rarity,
            "agreement": self.agreement,
            "log_content_words": math.log1p(self.content_count),
        }


def signals(result: RetrievalResult, evidence_chunks: int = 3) -> Signals:
    top = result.chunks[:evidence_chunks]
    evidence = squash("\n".join(hit.chunk.indexed_text for hit in top))
    query = result.query  # parsed once, by the retriever
    question = query.normalized
    words = query.content_words
    total = sum(rarity(w) for w, _ in words)
    # a place is a known province or city, or an X市/X县 form (示范市): jieba's ns tag also marks 上干, 车间 …
    named = query.places
    places = {w for w, _ in words if is_place(w) or w in named}
    # however jieba cuts it (示范/市), a named place the evidence does not cover is missing
    unnamed = [p for p in named if p not in evidence and not place_covered(p, evidence) and p not in places]
    # a province is covered by its cities, a city by its province (documents say 全省 and name their cities)
    missing = [w for w, _ in words if not _present(w, evidence) and not (w in places and place_covered(w, evidence))]
    coverage = (sum(rarity(w) for w, _ in words if w not in missing) / total) if total else 1.0
    top_coverage = max((_coverage(words, places, squash(hit.chunk.indexed_text), total) for hit in top), default=0.0)
    # another office's term must be in the leading chunk: 住房公积金 counted as income in a 社会救助 article
    # does not make the documents answer how to withdraw it
    domain, referral = _other_domain(question, squash(top[0].chunk.indexed_text) if top else "")
    amount = query.amount
    term = _asked_about(question, amount.start(), evidence) if amount else ""
    kind = query.amount_kind if amount else ""
    lead = top[0] if top else None
    return Signals(
        top_coverage=top_coverage,
        missing_share=len(missing) / len(words) if words else 0.0,
        max_missing_rarity=max((rarity(w) for w in missing), default=0.0) / 14.0,
        agreement=float(bool(lead) and (lead.dense_rank or 99) <= 3 and (lead.bm25_rank or 99) <= 3),
        content_count=len(words),
        no_topic=bool(amount) and not term and not words,
        coverage=coverage,
        best_dense=result.best_dense,
        missing=missing,
        places=[w for w in missing if w in places] + unnamed,
        missing_years=[y for y in _YEAR.findall(question) if y not in _leading_document(top)],
        asks_amount=amount is not None,
        amount_term=term,
        has_figure=bool(words) and _figure_for(term, top, kind,
                                               _rarest_other_noun(_amount_clause(question, amount), term, places))
        if amount else True,
        amount_kind=kind,
        other_domain=domain,
        referral=referral,
        solicitation=matches("solicitation", question),
        instruction=matches("instruction", question),
        uncited_titles=[name for name in result.target.unknown_titles if not cites(name, top)],
    )


def _coverage(words: list[tuple[str, str]], places: set[str], text: str, total: float) -> float:
    """The rarity-weighted share of the question's content words one text contains."""
    if not total:
        return 1.0
    found = [w for w, _ in words if _present(w, text) or (w in places and place_covered(w, text))]
    return sum(rarity(w) for w in found) / total


def _amount_clause(question: str, amount: re.Match) -> str:
    """The clause that asks for the figure (河南这边失业金能领几个月啊, not 我社保交了3年: the asker's situation)."""
    start = max((m.end() for m in _CLAUSE_END.finditer(question, 0, amount.start())), default=0)
    end = _CLAUSE_END.search(question, amount.start())
    return question[start : end.start() if end else len(question)]


def _rarest_other_noun(clause: str, term: str, places: set[str]) -> str:
    """The clause's rarest noun besides the asked-about term and places: what the figure must also be about."""
    nouns = [w for w, flag in content_words(clause) if flag.startswith(_NOUN_FLAGS) and w not in places
             and w not in term and term not in w and _is_topic(w) and rarity(w) >= RARE_NOUN]
    return max(nouns, key=rarity, default="")


def cites(name: str, hits) -> bool:
    """Whether the evidence quotes the named document (a case citing 《…解释(一)》第三十五条 answers a question
    about that article although the interpretation itself is not indexed)."""
    return any(title_match(name, quoted) >= MIN_TITLE_MATCH for hit in hits for quoted in quoted_titles(hit.chunk.text))


def _leading_document(top) -> str:
    """What the answer's leading document says within the evidence, its date included: a year the question
    names must be this document's (another document mentioning 2098 does not make a 2099 rule 2098's)."""
    if not top:
        return ""
    lead = top[0].meta.get("doc_id")
    hits = [hit for hit in top if hit.meta.get("doc_id") == lead]
    return "\n".join([hit.meta.get("date", "") for hit in hits] + [hit.chunk.indexed_text for hit in hits])


def _asked_about(question: str, amount_at: int, evidence: str = "") -> str:
    """What the amount is asked about: 缴费基数是多少 -> 基数, 返乡创业能补多少钱 -> 返乡创业.

    A verb right before an amount noun (报销比例 -> 报销); else the last noun before the amount word within
    its clause (with 区别词 before it: 中级电工证), else a verb there that the evidence uses (见习能拿多少钱
    -> 见习), else the first noun after it in the clause, else the last noun of the earlier clauses (加大资金投入,具体投多少钱 -> 资金投入); '' when the question names
    nothing (多少钱), and then no figure answers it.
    """
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(question, 0, amount_at)), default=0)
    next_end = _CLAUSE_END.search(question, amount_at)
    clause_end = next_end.start() if next_end else len(question)
    before, verbs, after, earlier = [], [], [], []
    offset = 0
    tagged = pos_tagged(question)
    for index, (word, flag) in enumerate(tagged):
        start, offset = offset, offset + len(word)
        if start <= amount_at < offset and flag.startswith(_NOUN_FLAGS):  # 最低工资标准是多少 -> 最低工资
            word = re.sub(f"({_AMOUNT_NOUN.pattern})$", "", word)
            if _is_topic(word):
                return word
        if offset == amount_at and flag.startswith("v") and _is_topic(word) and _AMOUNT_NOUN.match(question, amount_at):
            return word
        if not _is_topic(word):
            continue
        if flag.startswith(_NOUN_FLAGS):
            phrase = word
            for attribute, attribute_flag in reversed(tagged[:index]):
                if attribute_flag != "b":
                    break
                phrase = attribute + phrase
            if clause_start <= start and offset <= amount_at:
                before.append(phrase)
            elif amount_at < start and offset <= clause_end:
                after.append(phrase)
            elif offset <= clause_start:
                earlier.append(phrase)
        elif flag.startswith("v") and clause_start <= start and offset <= amount_at and word in evidence:
            verbs.append(word)
    for found, pick in ((before, -1), (verbs, -1), (after, 0), (earlier, -1)):
        if found:
            return found[pick]
    return ""


def _is_topic(word: str) -> bool:
    return (
        len(word) >= 2
        and not is_place(word)  # 河南 in 河南能给报多少 is where, not what
        and word not in generic_terms()
        and word not in stopwords()
        and word not in amount_questions()["not_topic"]
        and not re.search(r"[我你]", word)  # 给我发: a verb phrase jieba glued into a noun
        and known_word(word)  # not a fragment jieba glued together (能领)
    )


def mentions(sentence: str, term: str) -> bool:
    """The term, its synonym, or the term written with a few characters inserted (返乡创业 ~ 返乡入乡创业) or,
    from 4 characters, one inner character left out (中级电工证 ~ 中级工(四级)证书).  The first and last
    characters must be there: the last is the head of a Chinese compound (失业保险金 is not 失业保险)."""
    if said_otherwise(term, sentence):
        return True
    if len(term) < 3:
        return False
    variants = [term] + ([term[:i] + term[i + 1 :] for i in range(1, len(term) - 1)] if len(term) >= 4 else [])
    for variant in variants:
        gaps = "".join(f".{{0,{len(term)}}}?{re.escape(char)}" for char in variant[1:])
        spans = re.finditer(f"(?=({re.escape(variant[0])}{gaps}))", sentence)
        if any(len(span.group(1)) <= 2 * len(term) for span in spans):
            return True
    return False


def _figure_for(term: str, hits, kind: str = "", also: str = "") -> bool:
    """Whether the evidence states a figure of ``kind`` (any figure for '') about ``term``: in a sentence whose
    first clause names it, in the clause that names it or a neighbouring one (失业保险金的标准,按照最低工资标准的80%确定), or anywhere under a title or heading
    that names it (问:技能提升补贴发多少钱).  ``also``, the question's rarest other noun, must be in that
    sentence or heading too: 工资总额的百分之二 is the 失业保险费 rate, not the 职工教育经费 one.  With no
    term, ``also`` is the topic; with neither, any figure of the kind in the evidence counts."""
    term, also = (term, also) if term else (also, "")  # 一线职工要占多少: the noun is the topic
    for hit in hits:
        heading = f"{hit.meta.get('title', '')} {hit.meta.get('section', '')}"
        about = not term or mentions(heading, term)
        for sentence in split_sentences(hit.chunk.text):
            if also and not (mentions(sentence, also) or mentions(heading, also)):
                continue
            text = sentence if "date" in kind else _DATE.sub("", sentence)
            if about:
                if _states(kind, text):
                    return True
                continue
            clauses = _CLAUSE.split(text)
            if mentions(clauses[0], term) and _states(kind, text):
                return True  # the sentence is about it: 临时救助的标准…,每次救助时间一般不超过三个月
            for i, clause in enumerate(clauses):
                if mentions(clause, term) and _states(kind, "".join(clauses[max(0, i - 1) : i + 2])):
                    return True
    return False


# the units (assistant/text/figures.py) a figure of each kind is written in; '' is a bare amount (30万)
KIND_UNITS = {
    "money": {"元", ""},
    "ratio": {"%", "倍", "个百分点"},
    "duration": {"个月", "月", "天", "年", "个工作日", "小时", "周"},
    "age": {"岁"},
    "date": {"date"},
}


def _states(kind: str, sentence: str) -> bool:
    """A figure of one of the kinds ('+'-joined; any figure but a date for ''), read by value and unit (千分之二,
    十五个工作日, 三分之一 …); in a table whose header gives the unit (补贴(元/人) … 2500), a bare number is money."""
    units = set().union(*(KIND_UNITS[k] for k in kind.split("+"))) if kind else None
    for figure in figures(sentence):
        if figure.unit != "date" and (units is None or figure.unit in units) or (figure.unit == "date" and units
                                                                                 and "date" in units):
            return True
    if kind and "money" in kind.split("+") and _MONEY_COLUMN.search(sentence) and re.search(r"\d{2,}", sentence):
        return True
    return bool(units and "ratio" in kind and re.search(r"\d+\s*/\s*\d+", sentence))  # 2/3


@lru_cache(maxsize=1)
def refusal_model() -> dict:
    """The calibrated coverage model: feature names, standardisation, coefficients, operating points."""
    return json.loads((DATA_DIR / "refusal_model.json").read_text(encoding="utf-8"))


def probability(sig: Signals, model: dict | None = None) -> float:
    """Calibrated chance that the documents cover the question's topic (logistic regression)."""
    model = model or refusal_model()
    features = sig.features()
    z = model["intercept"] + sum(
        coef * (features[name] - mean) / scale
        for name, mean, scale, coef in zip(model["features"], model["mean"], model["scale"], model["coef"])
    )
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def hard_refusal(sig: Signals, target: Target) -> str:
    """The checks that refuse whatever the scores say: another office, solicitation, a document or article
    that is not there, another place or year, an amount question naming nothing."""
    if sig.other_domain:
        return "other_domain"
    if sig.solicitation:
        return "solicitation"
    if sig.instruction:
        return "instruction"
    if sig.uncited_titles and not target.doc_ids:
        return "no_such_document"
    if target.article is not None and not target.article_found:
        return "no_such_article"
    if sig.places:
        return "place"
    if sig.missing_years:
        return "year"
    if sig.no_topic:
        return "unclear"
    return ""


def decide(sig: Signals, settings: AnswerSettings, target: Target | None = None,
           model: dict | None = None) -> tuple[str, str, float]:
    """(outcome, reason, probability): refuse / hedge / answer."""
    target = target or Target()
    reason = hard_refusal(sig, target)
    if reason:
        return "refuse", reason, 0.0
    model = model or refusal_model()
    chance = probability(sig, model)
    named = target.article is not None and target.article_found  # the question asked for this very article
    if chance < model["refuse_below"] and not named:
        return "refuse", "low_coverage", chance
    if sig.asks_amount and not sig.has_figure:
        return "hedge", "not_stated", chance
    if chance < model["hedge_below"] and not named:
        return "hedge", "uncertain", chance
    return "answer", "", chance


def assess(result: RetrievalResult, settings: AnswerSettings) -> Coverage:
    if not result.chunks:
        return Coverage(False, 0.0, 0.0, reason="no_results", outcome="refuse", probability=0.0)
    sig = signals(result)
    target = result.target
    outcome, reason, chance = decide(sig, settings, target)
    return Coverage(
        outcome != "refuse", sig.coverage, sig.best_dense, sig.missing, sig.places, sig.asks_amount, sig.has_figure,
        sig.other_domain, sig.referral, reason, outcome, chance, sig.amount_term, sig.amount_kind,
        list(target.unknown_titles), target.article, target.last_article,
    )
