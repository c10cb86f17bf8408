"""Extractive answers with citations, and refusal when the documents do not say.

No LLM: responsibility questions are answered from the structured records (牵头/协助); other questions
by the sentences of the top clauses that share the most terms with the question (numbers preferred
when the question asks for one). Each claim is followed by its citation number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from answer.doc_facts import (
    MULTI_Q,
    clause_as_hit,
    doc_number_facts,
    issue_date_facts,
    issuer_facts,
    render_fact,
    unknown_document_fact,
)
from answer.lists import best_list
from answer.question import Question, analyse, coverage, name_found, norm
from ingest.metadata import JOINT_ISSUER
from policyqa.models import Chunk, Document, ResponsibilityRecord
from retrieval.search import SearchHit

SENTENCE = re.compile(r"[^。;!?\n]+[。;!?]?")
REFUSAL_ZH = "文件中没有找到能回答这个问题的依据。"
REFUSAL_EN = "The documents do not answer this question."


@dataclass
class Citation:
    n: int
    chunk: Chunk
    document: Document
    score: float

    def to_dict(self) -> dict:
        d = self.document
        return {"n": self.n, "chunk_id": self.chunk.chunk_id, "doc_id": d.doc_id, "doc_title": d.title,
                "doc_number": d.doc_number, "issuer": d.issuer, "date": d.date,
                "clause_path": self.chunk.clause_path, "text": self.chunk.text, "score": round(self.score, 4),
                "start": self.chunk.start, "end": self.chunk.end, "page": self.chunk.page}


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    answerability: float = 0.0
    generator: str = "extractive"  # what wrote the text: "extractive" (this module) or "llm" (answer.generate)


def term_overlap(terms: list[str], text: str) -> float:
    """Share of the terms found in the text; longer terms weigh more."""
    return coverage([(float(min(len(t), 4)), [t]) for t in terms], text)


# The dense cosine of e5 models sits in a narrow band, lower for English questions over Chinese text.
DENSE_BAND = {"zh": (0.80, 0.95), "en": (0.72, 0.86)}


def answerability(question: str, hits: list[SearchHit]) -> float:
    """How well the best clauses cover the question: lexical coverage blended with dense similarity
    (rescaled from its band to 0-1)."""
    if not hits:
        return 0.0
    q = analyse(question)
    cov = max(coverage(q.groups, h.chunk.index_text) for h in hits[:3])
    low, high = DENSE_BAND["en" if q.english else "zh"]
    dense = max(0.0, min(1.0, (max(h.dense_score for h in hits[:3]) - low) / (high - low)))
    return round(0.6 * cov + 0.4 * dense, 4)


@dataclass
class Sentence:
    hit: int  # index into the hits
    text: str
    score: float = 0.0


def heading_of(chunk: Chunk, documents: dict[str, Document]) -> str:
    """The clause's own number + heading ("(十)实施师资队伍强基工程"), normalised; '' when unknown."""
    doc = documents.get(chunk.doc_id)
    clause = next((c for c in doc.clauses if c.clause_id == chunk.clause_id), None) if doc else None
    return norm(doc.text[clause.start:clause.start + len(clause.number) + len(clause.heading) + 3]) if clause else ""


# The opening of a plan ("为贯彻落实…,特制定本行动计划") and of its cover notice ("现将《…》印发给你们")
# say why and how the document was issued; they answer only questions about that.
BOILERPLATE = re.compile(r"^(为|根据|按照).{6,}(制定|制订|印发)|^现将.*印发|印发给你们")
WHO_SENTENCE = re.compile(r"由[^,,。;]{2,40}(负责|承担|牵头|组织|实施|共同|统筹|协调)|(牵头|负责)[^,,。;]{0,6}$")
# A signature line is what ingest reads issuers from (ingest.metadata.JOINT_ISSUER).
FURNITURE = re.compile(rf"{JOINT_ISSUER.pattern}|^\d{{4}}年\d{{1,2}}月\d{{1,2}}日$|^各.{{2,80}}[::]$")
PURPOSE_Q = re.compile(r"(为什么|为啥|目的|依据|根据什么|\bwhy\b|\bpurpose\b|\bbasis\b)", re.I)


def scored_sentences(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[Sentence]:
    """The sentences of the top clauses, scored by how much of the question they cover, best first.

    A term found in many of the candidate sentences (the document's own name, say) tells little, so
    terms are weighted by how rare they are among the candidates; a bare heading or a cover-notice
    title names the topic without answering, so it weighs little.
    """
    sentences = [Sentence(i, m.group(0).strip()) for i, hit in enumerate(hits[:5])
                 for m in SENTENCE.finditer(hit.chunk.text) if len(m.group(0).strip()) >= 6]
    if not sentences:
        return []
    normed = [norm(s.text).lower() for s in sentences]
    # Words of the title locate the document ("蒲城...征求意见稿"), not the sentence within it.
    titles = norm(" ".join(documents[h.chunk.doc_id].title for h in hits[:5])).lower()
    weighted = []
    for w, alts in q.groups:
        df = sum(1 for text in normed if any(a in text for a in alts))
        in_title = 0.25 if any(a in titles for a in alts) else 1.0
        weighted.append((w * in_title * math.log(1 + len(sentences) / (df or 1)), alts))
    headings = [heading_of(h.chunk, documents) for h in hits[:5]]
    for s, text in zip(sentences, normed, strict=True):
        s.score = coverage(weighted, text) + 0.1 / (s.hit + 1) - len(s.text) / 2000
        s.score += 0.3 * sum(1 for phrase in q.quoted if phrase in text)
        if q.slots and all(q.holds(slot, text) for slot in q.slots):
            s.score += 0.3
        elif s.hit >= 3:
            s.score *= 0.5  # the 4th and 5th clauses are read for the value asked for, little else
        elif q.asks_number and re.search(r"\d|[一二三四五六七八九十两]+[所年个项名次人万]", s.text):
            s.score += 0.15
        if q.asks_who and WHO_SENTENCE.search(s.text):
            s.score += 0.15  # "钱谁出?": the sentence that says who ("由教育部、…共同承担")
        if headings[s.hit] and len(text) <= len(headings[s.hit]) + 2 and headings[s.hit].startswith(text[:6]):
            s.score *= 0.3  # the clause's bare heading
        title = norm(documents[hits[s.hit].chunk.doc_id].title).lower()
        if ("印发" in text and "通知" in text) or text.startswith("附件") or text in title or (
                len(text) < len(title) + 12 and title[:12] in text):
            s.score *= 0.4  # a title line: names the document, answers nothing
        elif FURNITURE.search(text):
            s.score *= 0.3  # a signature, a date line or the addressees: who wrote to whom, not what
        elif BOILERPLATE.search(text) and not PURPOSE_Q.search(q.text):
            s.score *= 0.5  # "为贯彻落实…特制定本方案", "现将《…》印发给你们": why the document exists
    return sorted(sentences, key=lambda s: -s.score)


def pick_sentences(q: Question, ranked: list[Sentence], limit: int = 3) -> list[Sentence]:
    """The best sentence and the runner-up when it scores close; a third only when it adds question
    terms or the value asked for."""
    if not ranked:
        return []
    picked = [ranked[0]]
    if len(ranked) > 1 and ranked[1].score >= ranked[0].score * 0.6:
        picked.append(ranked[1])
    seen = " ".join(norm(s.text).lower() for s in picked)
    covered = {i for i, (_, alts) in enumerate(q.groups) if any(a in seen for a in alts)}
    slots = {slot for slot in q.slots if q.holds(slot, seen)}
    for s in ranked[len(picked):]:
        if len(picked) >= limit or s.score < ranked[0].score * 0.5:
            break
        text = norm(s.text).lower()
        new_terms = {i for i, (w, alts) in enumerate(q.groups) if w >= 2 and any(a in text for a in alts)} - covered
        new_slots = {slot for slot in q.slots if q.holds(slot, text)} - slots
        if new_terms or new_slots:
            picked.append(s)
            covered |= new_terms
            slots |= new_slots
    return picked


def missing_slots(q: Question, ranked: list[Sentence]) -> list[str]:
    """Kinds of value the question wants that none of the relevant sentences holds."""
    if not ranked:
        return list(q.slots)
    # A figure counts only in a sentence about the question ("参加人数为30-40人" does not say how many
    # pupils a guard is for).
    near = [s for s in ranked if s.score >= ranked[0].score * 0.5][:6]
    about = [s for s in near if coverage(q.groups, s.text) >= SLOT_SENTENCE_COVERAGE]
    # Contact lines ("联系电话:0913-7221932") share few words with any question: their value is enough.
    return [slot for slot in q.slots
            if not any(q.holds(slot, s.text) for s in (near if slot in CONTACT_SLOTS else about))]


CONTACT_SLOTS = ("phone", "email", "address", "hours")
SLOT_SENTENCE_COVERAGE = 0.2  # chosen on both eval sets, keeping false refusals at most 5%


def best_record(q: Question, hits: list[SearchHit]) -> tuple[SearchHit, ResponsibilityRecord] | None:
    scored = []
    for rank, hit in enumerate(hits):
        for record in hit.chunk.records:
            overlap = term_overlap(q.terms, record.task)
            chars = len(set(norm(q.text)) & set(record.task)) / max(len(set(record.task)), 1)
            scored.append((overlap + 0.5 * chars - 0.02 * rank, hit, record))
    if not scored:
        return None
    score, hit, record = max(scored, key=lambda s: s[0])
    return (hit, record) if score > RECORD_MIN_SCORE else None


RECORD_MIN_SCORE = 0.28  # below it the best record is about another task (calibrated on both eval sets)


def responsibility_answer(record: ResponsibilityRecord, n: int, english: bool) -> str:
    lead, assist = "、".join(record.lead), "、".join(record.assisting)
    if english:
        text = f"The lead office for “{record.task}” is {lead}"
        return text + (f", assisted by {assist} [{n}]." if assist else f" [{n}].")
    return f"“{record.task}”由{lead}牵头" + (f",{assist}协助[{n}]。" if assist else f"[{n}]。")


def lead_in(s: Sentence, hit: SearchHit, documents: dict[str, Document]) -> tuple[str, SearchHit] | None:
    """When the sentence opens one item of a list ("(四)在对抗性…体育活动中发生的"), the lead-in that gives
    it its meaning ("因下列情形之一造成安全事故…学校不承担赔偿责任:") and the list's clause to cite."""
    doc = documents.get(hit.chunk.doc_id)
    at = doc.text.find(s.text, hit.chunk.start) if doc else -1
    item = next((c for c in doc.clauses if c.start == at and c.parent_id), None) if at >= 0 else None
    parent = next((c for c in doc.clauses if c.clause_id == item.parent_id), None) if item else None
    if parent is None:
        return None
    first_item = min(c.start for c in doc.clauses if c.parent_id == parent.clause_id)
    intro = " ".join(doc.text[parent.start:first_item].split())
    if not intro.endswith((":", ":")) or len(intro) > 200:
        return None
    return intro, clause_as_hit(doc, parent, hit.score)


def quote(s: Sentence, hits: list[SearchHit], cite, english: bool, documents: dict[str, Document]) -> str:
    """A sentence as a cited claim. One that introduces a list ("必须具备下列基本条件:") brings the items
    that follow it in the clause; one item of a list brings the list's lead-in."""
    text, hit = s.text, hits[s.hit]
    if text.endswith((":", ":")):
        chunk_text = hit.chunk.text
        after = chunk_text[chunk_text.find(text) + len(text):].strip()
        text += after[:300] + ("…" if len(after) > 300 else "")
    elif found := lead_in(s, hit, documents):
        intro, hit = found
        text = f"{intro}…{text}"
    n = cite(hit)
    return f"“{text}”[{n}]" if english else f"{text.rstrip('。;')}[{n}]。"


def refusal(q: Question, hits: list[SearchHit], documents: dict[str, Document], score: float) -> Answer:
    see_also = [Citation(i + 1, h.chunk, documents[h.chunk.doc_id], h.score) for i, h in enumerate(hits[:3])]
    return Answer(REFUSAL_EN if q.english else REFUSAL_ZH, True, see_also, score)


_texts_cache: dict[int, tuple[dict, dict[str, str]]] = {}


def document_texts(documents: dict[str, Document]) -> dict[str, str]:
    """Each document's title, issuer and text, normalised; cached per documents mapping (one per loaded
    index)."""
    cached = _texts_cache.get(id(documents))
    if cached is None or cached[0] is not documents:
        texts = {doc_id: norm(d.title + d.issuer + d.text) for doc_id, d in documents.items()}
        _texts_cache.clear()  # only the live index matters
        cached = _texts_cache[id(documents)] = (documents, texts)
    return cached[1]


def about_names(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[SearchHit] | None:
    """The hits from documents that mention a place or law the question names; None when some name is in
    no document at all."""
    texts = document_texts(documents)
    if any(not any(name_found(name, text) for text in texts.values()) for name in q.names):
        return None
    named = [h for h in hits if any(name_found(name, texts[h.chunk.doc_id]) for name in q.names)]
    # "教育法咋说的?": the law itself, when it is among the hits, rather than documents that cite it
    laws = [h for h in named if any(is_law_titled(name, documents[h.chunk.doc_id].title) for name in q.names)]
    return laws or named


def is_law_titled(name: str, title: str) -> bool:
    """Whether a title is the law named ("中华人民共和国教育法(2021修正)" is 教育法, not 义务教育法)."""
    return name.endswith("法") and norm(title).removeprefix("中华人民共和国").startswith(name)


def compose_answer(question: str, hits: list[SearchHit], documents: dict[str, Document],
                   threshold: float) -> Answer:
    q = analyse(question)
    score = answerability(question, hits)
    if score < threshold:
        return refusal(q, hits, documents, score)

    cited: list[SearchHit] = []

    def cite(hit: SearchHit) -> int:
        if hit not in cited:
            cited.append(hit)
        return cited.index(hit) + 1

    if q.names:  # "宁波中小学保安按多少学生配一个?" is answered by what the Ningbo documents say, or not at all
        named, several = about_names(q, hits, documents), bool(MULTI_Q.search(q.text))
        if named is None or not (named or several):
            return refusal(q, hits, documents, score)
        if not several:  # "仁怀方案和一校一品方案…分别": one of the two is not named by place
            hits = named
    for kind, facts in (("number", doc_number_facts(q, hits, documents)),
                        ("issuer", issuer_facts(q, hits, documents)),
                        ("date", issue_date_facts(q, hits, documents))):
        if facts:
            text = (" " if q.english else "").join(render_fact(kind, f, cite(f.hit), q.english) for f in facts)
            citations = [Citation(i + 1, f.hit.chunk, f.document, f.hit.score) for i, f in enumerate(facts)]
            return Answer(text, False, citations, score)

    if unknown_document_fact(q, hits, documents):
        return refusal(q, hits, documents, score)  # "北京方案的发文字号?" when the text shows none
    ranked = scored_sentences(q, hits, documents)
    found = best_record(q, hits) if q.asks_who else None
    if not found and missing_slots(q, ranked):
        return refusal(q, hits, documents, score)  # on topic, but without the figure/date/name asked for
    parts: list[str] = []
    if found:
        hit, record = found
        parts.append(responsibility_answer(record, cite(hit), q.english))
    listed = best_list(q, hits, documents, ranked[0].text if ranked else "") if q.asks_list and not found else None
    if listed:
        parts.append(listed.render(cite(listed.hit), q.english))
    if found and q.slots and not all(q.holds(slot, parts[0]) for slot in q.slots):
        extra = next((s for s in ranked if all(q.holds(slot, s.text) for slot in q.slots)), None)
        if extra:  # "按每周多少课时算?这条哪些部门负责?": the figure as well as the offices
            parts.append(quote(extra, hits, cite, q.english, documents))
    if not parts:
        picked = pick_sentences(q, ranked)
        if MULTI_Q.search(q.text) and len({hits[s.hit].chunk.doc_id for s in picked}) < 2:
            # "仁怀和泾源分别要建啥?": the best sentence of a second document as well
            other = next((s for s in ranked if hits[s.hit].chunk.doc_id != hits[picked[0].hit].chunk.doc_id
                          and s.score >= ranked[0].score * 0.3), None)
            if other:
                picked = [picked[0], other]
        for s in picked:
            parts.append(quote(s, hits, cite, q.english, documents))
    if not parts:  # nothing quotable in the top clauses
        return refusal(q, hits, documents, score)
    if q.english and not found:
        first = cited[0]
        doc = documents[first.chunk.doc_id]
        text = f"According to {doc.title} ({first.chunk.clause_path}): " + " ".join(parts)
    else:
        text = (" " if q.english else "").join(parts)
    citations = [Citation(i + 1, h.chunk, documents[h.chunk.doc_id], h.score) for i, h in enumerate(cited)]
    return Answer(text, False, citations, score)
