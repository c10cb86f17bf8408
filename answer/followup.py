"""Follow-up questions: "那协助的呢?", "什么时候完成?", "what about the deadline?" read against the earlier turns
of the conversation, without an LLM.

A question is a follow-up when it opens like one (那/还有/what about…), points back (这个/其/it…), counts
into a list ("第三步", "the last stage"), asks about "X呢" alone, or has at most two topic terms of its own
(unless it announces a new topic: "换个问题", "by the way"); it then carries the topic of the previous
user question (resolved the same way, so a third turn sees what the second one meant). A question that names
a place of its own, or has a topic of its own, starts fresh; one with a topic but no place keeps the
place the conversation is about. The resolved question is what search, composition and refusal read, and
what the answer shows as "理解为: …".

The topic also comes from the previous answer's cited clause: a follow-up that carries the topic and names no
place of its own ("这部法律什么时候施行?", "违反了怎么处罚?") is searched in the document that answer quoted
(found by its verbatim quote, so any client's history works, not only ours).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import lru_cache

import jieba

from answer.question import (
    INTERROGATIVE,
    LIST_Q,
    ORDINAL_WORDS,
    VALUE_QUESTIONS,
    WHO_EN,
    WHO_ZH,
    Question,
    analyse,
    ordinal_patterns,
)
from answer.vocab import ordinal_measures, ordinal_nouns, rows
from retrieval.tokenize import STOPWORDS, english_words, query_tokens

MAX_TURNS = 8  # user turns read back: a topic older than that is not what "那…呢" points at
MIN_OWN_TERMS = 3  # a question with fewer topic terms of its own cannot stand alone

# The asking part of a Chinese question: removed to leave its topic ("哪个股室牵头实施X工程?" -> "实施X工程").
ASKING_ZH = re.compile(r"(由|是)?(哪[个些几一]?|几|多少|什么时候|什么|啥时候|啥|怎么样|怎么|怎样|如何|何时)"
                       r"[个所项条天年次位人]?")
ENDING = re.compile(r"[,,、的由是为在要有吗呢吧啊了\s]*[??!!。]*\s*$")
ELLIPTICAL = re.compile(r"^(.{1,12}?)(的)?呢[??]?$")  # "乙校呢?", "省级的呢?"
# Ordinal reference to the items of a list just talked about: the ordinal (or last/next) and a measure word.
OPENING = re.compile(r"^\W*(那么?)?")  # what may stand before an ordinal that opens a follow-up ("那第三步呢")
# Characters an answer and a clause must share in one run for the answer to quote that clause: longer than
# the phrases documents share ("县级以上人民政府教育行政部门"), shorter than the shortest quoted sentence.
QUOTED_RUN = 16
# What an answer puts in quotation marks (a task it names: "“实施…工程”由…牵头") is the clause's own words.
QUOTED = re.compile(r"[“\"]([^”\"]{6,})[”\"]")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant" (the OpenAI message roles; others are ignored)
    content: str


@dataclass(frozen=True)
class Resolved:
    question: str  # as asked
    resolved: str  # what is searched and answered: the question with the topic it leaves out
    carried_from: str | None  # the earlier (resolved) question the topic came from; None: it stands alone
    how: str  # "alone", "topic" (the previous topic carried), "replaced" ("X呢": X in place of its
    #           counterpart), or "place" (only the place of the conversation carried)
    # The topic carried and no place of its own: the follow-up is about what the previous answer quoted.
    same_document: bool = False

    @property
    def changed(self) -> bool:
        return self.resolved != self.question


@lru_cache(maxsize=1)
def pointers() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(openers, pointers) from answer/data/followup.tsv."""
    table = rows("followup.tsv")
    return (tuple(w for kind, w in table if kind == "opener"), tuple(w for kind, w in table if kind == "pointer"))


@lru_cache(maxsize=1)
def topic_shifts() -> tuple[str, ...]:
    """The markers that announce a new topic ("换个问题", "by the way"), from answer/data/followup.tsv."""
    return tuple(w for kind, w in rows("followup.tsv") if kind == "fresh")


def shifts_topic(text: str) -> bool:
    return any(_has_word(text, w, True) for w in topic_shifts())


def refers_by_ordinal(text: str) -> bool:
    """An ordinal or "the last/next" with a measure word and no noun of its own ("最后一批…", "第三步呢",
    "the last stage"): it counts the items of a list the conversation is about."""
    chinese, english = ordinal_patterns()
    rest = text[OPENING.match(text).end():]
    return bool(chinese.match(rest) or relative_ordinals()[0].match(rest)
                or english.search(text) or relative_ordinals()[1].search(text))


@lru_cache(maxsize=1)
def relative_ordinals() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """"下一批", "the next stage": a place in a list counted from the one just talked about (the measure
    words and nouns of answer/data/ordinals.tsv, as for "第三步" and "the third stage")."""
    measures = "|".join(sorted(ordinal_measures(), key=len, reverse=True))
    nouns = "|".join(ordinal_nouns())
    return (re.compile(rf"(下一|上一)({measures})"), re.compile(rf"\bthe\s+(next|previous)\s+({nouns})s?\b", re.I))


def _has_word(text: str, word: str, at_start: bool) -> bool:
    if word.isascii():
        return bool(re.search(rf"{'^' if at_start else ''}\W*\b{re.escape(word)}\b", text, re.I))
    return text.lstrip().startswith(word) if at_start else word in text


def opens_as_followup(text: str) -> str | None:
    """The opener the question starts with ("那", "what about"), if any."""
    return next((w for w in sorted(pointers()[0], key=len, reverse=True) if _has_word(text, w, True)), None)


def points_back(text: str) -> bool:
    return any(_has_word(text, w, False) for w in pointers()[1])


def asks(text: str, q: Question) -> bool:
    """Whether the text has an asking part of its own (a question word, who, a kind of value, a list)."""
    return bool(q.value_kinds or q.asks_who or q.asks_list or q.polar or ASKING_ZH.search(text)
                or (WHO_EN if q.english else WHO_ZH).search(text) or LIST_Q.search(text)
                or any(p.search(text) for p in VALUE_QUESTIONS.values()))


def topic_of(text: str, q: Question) -> str:
    """The question without its asking part: its subject, to put before a follow-up."""
    if q.english:
        return re.sub(r"[??.。\s]+$", "", text.strip())
    topic = ASKING_ZH.sub("", WHO_ZH.sub("", re.sub(r"[由是]谁", "", text)))
    return re.sub(r"^[\s,,、]+|[\s,,、]+$", "", ENDING.sub("", topic))


def own_terms(q: Question) -> list[str]:
    """The question's topic terms: its words (English) or its longest terms (jieba's search mode also cuts
    "办公室" into "办公" and "公室": those are one term), question words left out."""
    if q.english:
        return [w for w in english_words(q.normalised) if w not in STOPWORDS]
    terms = {alts[0] for _, alts in q.groups if not INTERROGATIVE.match(alts[0]) and not alts[0].isascii()}
    return [t for t in terms if not any(t != other and t in other for other in terms)]


def named_places(text: str, q: Question, places: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*q.names, *(p for p in places if p in q.normalised)]))


def replace_counterpart(previous: str, x: str) -> str | None:
    """`previous` with its word(s) standing where X stands: the run of whole words just before a word that
    ends like X ("甲校" for "乙校", "县级" for "省级"), closest to X in length; None when no word ends like X."""
    words = jieba.lcut(previous)
    best: tuple[int, int, int] | None = None  # (length difference, start word, end word)
    for end, word in enumerate(words):
        if not word or word[-1] != x[-1] or word == x:
            continue
        for start in range(end, max(-1, end - 3), -1):
            span = "".join(words[start:end + 1])
            if len(span) > len(x) + 1 or ASKING_ZH.fullmatch(span):
                break
            key = (abs(len(span) - len(x)), start, end)
            if best is None or key[0] < best[0]:
                best = key
    if best is None:
        return None
    _, start, end = best
    return "".join(words[:start]) + x + "".join(words[end + 1:])


def resolve_one(text: str, previous: str | None, analyse_: Callable[[str], Question],
                places: Iterable[str]) -> Resolved:
    """One question against the previous (resolved) user question."""
    text = text.strip()
    if not previous:
        return Resolved(text, text, None, "alone")
    if shifts_topic(text):  # "换个问题:…": whatever follows is a question of its own
        return Resolved(text, text, None, "alone")
    q, prev = analyse_(text), analyse_(previous)
    opener = opens_as_followup(text)
    asking = " ".join(m.group(0) for m in ASKING_ZH.finditer(text))
    own = [t for t in own_terms(q) if t not in asking]  # "时候" of "什么时候" asks, it is no topic
    names = named_places(text, q, places)
    elliptical = None if q.english else ELLIPTICAL.match(text)
    followup = bool(opener or elliptical or refers_by_ordinal(text) or (points_back(text) and len(own) <= 4)
                    or len(own) < MIN_OWN_TERMS)
    # A question naming its own place is about that place; after an opener ("还有,蒲城县规定…") too, when it
    # has topic words enough to stand alone.
    if names and not elliptical and (not opener or len(own) >= MIN_OWN_TERMS):
        return Resolved(text, text, None, "alone")
    if not followup:
        prev_places = named_places(previous, prev, places)
        if prev_places and not q.english:  # its own topic, but still the place the conversation is about
            return Resolved(text, f"{'、'.join(prev_places)}:{text}", previous, "place")
        return Resolved(text, text, None, "alone")
    # "那协助的呢?" -> "协助的呢?": the opener only says that it goes on (其中, 除了 say more, so they stay)
    rest = re.sub(r"^[\s,,]+", "", text[len(opener):]) if opener in ("那", "那么") else text
    if elliptical and not asks(elliptical.group(1), analyse_(elliptical.group(1))):
        x = elliptical.group(1).removeprefix("那么").removeprefix("那")
        swapped = replace_counterpart(previous, x)
        if swapped:  # "乙校呢?" after "甲校的经费是多少?" -> "乙校的经费是多少?"
            return Resolved(text, swapped, previous, "replaced")
        return Resolved(text, f"{previous.rstrip()}{'' if previous.rstrip()[-1:] in '??' else '?'}{rest}",
                        previous, "topic")
    if q.english or prev.english:
        topic = topic_of(previous, prev)
        if m := ordinal_patterns()[1].search(text):  # "the third phase" after "...the first phase...": that one
            words = "|".join(ORDINAL_WORDS)
            topic = re.sub(rf"\b({words})\s+{m.group(2)}\b", f"{m.group(1)} {m.group(2)}", topic, flags=re.I)
        return Resolved(text, f"{topic}: {rest}", previous, "topic", not names)
    return Resolved(text, f"{topic_of(previous, prev)},{rest}", previous, "topic", not names)


def resolve(question: str, history: Sequence[Turn | dict], analyse_: Callable[[str], Question] = analyse,
            places: Iterable[str] = ()) -> Resolved:
    """The question read against the conversation's earlier user turns (each resolved in order, so a
    chain of follow-ups keeps its topic). `places`: the place names of the indexed documents, which
    jieba does not always know as places."""
    places = tuple(places)
    users = [t.content if isinstance(t, Turn) else t.get("content", "") for t in history
             if (t.role if isinstance(t, Turn) else t.get("role")) == "user"]
    previous: str | None = None
    for text in users[-MAX_TURNS:]:
        if text.strip():
            previous = resolve_one(text, previous, analyse_, places).resolved
    return resolve_one(question, previous, analyse_, places)


def last_answer(history: Sequence[Turn | dict]) -> str:
    """The assistant turn that ends the history (the answer the follow-up reacts to); "" when the history
    ends with a user turn or has none."""
    if not history:
        return ""
    turn = history[-1]
    role, content = (turn.role, turn.content) if isinstance(turn, Turn) else (turn.get("role"), turn.get("content"))
    return content or "" if role == "assistant" else ""


def quoted_chunk(answer: str, index):
    """The chunk the answer quotes (its first quote): BM25 finds the clauses sharing its words, and one of
    them must share a run of QUOTED_RUN characters with it, or hold what it puts in quotation marks (a
    refusal or a paraphrase quotes none)."""
    quoted = [m.group(1) for m in QUOTED.finditer(answer)]
    if len(answer) < QUOTED_RUN and not quoted:
        return None
    found = index.lexical.search(query_tokens(answer), 5, None)
    for row, _ in found:
        chunk = index.chunks[row]
        match = SequenceMatcher(None, chunk.text, answer, autojunk=False).find_longest_match(
            0, len(chunk.text), 0, len(answer))
        if match.size >= QUOTED_RUN or any(q in chunk.text for q in quoted):
            return chunk
    return None


def quoted_document(answer: str, index) -> str | None:
    """The document whose clause the answer quotes."""
    chunk = quoted_chunk(answer, index)
    return chunk.doc_id if chunk else None


def own_value_kinds(resolved: Question, asked: Question) -> Question:
    """The resolved follow-up asking for the kinds of value its own words ask for: "电话呢?" after a question
    for an office's e-mail address wants a phone number, and the carried topic's e-mail is no answer.
    A follow-up that asks for no kind of value of its own ("那协助的呢?") keeps the carried question's."""
    if not asked.value_kinds or asked.value_kinds == resolved.value_kinds:
        return resolved
    return replace(resolved, value_kinds=asked.value_kinds, units=asked.units)
