"""Extractive answers with citations, and refusal when the documents do not say.

No LLM: a question about a document itself (文号, issuer, date) is answered from its metadata; "who
leads…" from the responsibility records (牵头/协助); "which ones…" from the items of the clause that lists
them; everything else, yes/no questions included, by quoting the best sentences of the retrieved clauses
(answer.sentences) — a short clause whole, since the clause that governs a case is the answer to "may a
school…?". Whether to answer at all is the refusal model's call (answer.refusal), plus two checks on what
the question names: a place or law no document covers, or a 文号 or issuer the document lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from answer.citations import Answer, Citation
from answer.doc_facts import (
    clause_as_hit,
    doc_number_facts,
    issue_date_facts,
    issuer_facts,
    render_fact,
    unknown_document_fact,
)
from answer.laws import article_number, is_law, version_info
from answer.lists import best_list
from answer.mentions import documents_naming, is_law_name, is_law_titled, mentioning
from answer.places import is_national
from answer.question import CN_NUM, Question, cn_number, coverage, norm
from answer.refusal import RefusalModel, corpus_text, default_model, features, value_sentences
from answer.sentences import (
    AnswerWeights,
    Sentence,
    SentenceEncoder,
    default_weights,
    delegates,
    score_sentences,
)
from answer.vocab import english_places
from policyqa.models import FRONT_MATTER, Chunk, Clause, Document, ResponsibilityRecord
from retrieval.search import SearchHit

REFUSAL_ZH = "文件中没有找到能回答这个问题的依据。"
REFUSAL_EN = "The documents do not answer this question."
# A figure the best clause leaves to other rules (answer.sentences.DELEGATION): a refusal that says where it is set.
DELEGATED_ZH = "文件没有给出具体的数值或标准,只作了如下规定:"
DELEGATED_EN = "The documents give no specific figure or standard; they leave it to other rules. "
RECORD_MIN_SCORE = 0.28  # below it the best record is about another task (calibrated on the eval sets)
ARTICLE = re.compile(r"第[一二三四五六七八九十百千零]+条")
HEADING = re.compile(r"第[一二三四五六七八九十百千零]+(?:编|分编|章|节)")  # a law's parts above its articles
IN_FORCE = "现行有效"  # the law library's status of a law in force
# characters of a list quoted after the lead-in that introduces it: enough for its first items, not a whole
# chapter's worth (the citation holds the rest)
MAX_FOLLOWING = 300
ITEM_NUMBER = re.compile(rf"\(([{CN_NUM}]+|\d+)\)")  # a list item's number as a quote starts with it: (三), (12)
CITED = re.compile(r"\s*\[\d+\]。?$")  # the citation mark that ends a quote ("…[2]。", English "… [2]")
MAX_LEAD_IN = 200  # characters: a longer text before a list's first item is a paragraph, not its lead-in
# A statute's sentence runs on through semicolons ("…的,由…责令改正;情节严重的,…;构成犯罪的,依法追究刑事责任。"): a
# piece after a semicolon leans on what comes before it ("构成犯罪的" — who did what?). A quote that starts at such a
# piece starts at its sentence's beginning when that is at most this many characters back (a law's sentence; a
# policy paragraph joined by semicolons runs longer, and its pieces stand alone).
MAX_SENTENCE_BACK = 150


@dataclass
class Composer:
    """What the extractive answer step needs besides the question and hits: a sentence encoder (None:
    lexical scoring only), the sentence weights and the refusal model."""

    encoder: SentenceEncoder | None = None
    weights: AnswerWeights = field(default_factory=default_weights)
    refusal: RefusalModel | None = None

    def model(self) -> RefusalModel:
        return self.refusal or default_model()


def term_overlap(terms: list[str], text: str) -> float:
    """Share of the terms found in the text; longer terms weigh more."""
    return coverage([(float(min(len(t), 4)), [t]) for t in terms], text)


def best_record(q: Question, hits: list[SearchHit]) -> tuple[SearchHit, ResponsibilityRecord] | None:
    """The record whose task the question names best (search rank breaks ties); None when even the best
    one's task matches too little. The threshold is on the match alone: a record search ranked fifth is
    as much about the question's task as one ranked first."""
    scored = []
    for rank, hit in enumerate(hits):
        for record in hit.chunk.records:
            overlap = term_overlap(q.terms, record.task)
            chars = len(set(norm(q.normalised)) & set(record.task)) / max(len(set(record.task)), 1)
            scored.append((overlap + 0.5 * chars, -rank, hit, record))
    if not scored:
        return None
    score, _, hit, record = max(scored, key=lambda s: s[:2])
    return (hit, record) if score > RECORD_MIN_SCORE else None


def responsibility_answer(record: ResponsibilityRecord, n: int, english: bool) -> str:
    lead, assist = "、".join(record.lead), "、".join(record.assisting)
    deadline = record.deadline  # a task table's 完成时限 column, when it has one
    if english:
        text = f"The lead office for “{record.task}” is {lead}" + (f", assisted by {assist}" if assist else "")
        return text + (f" (deadline: {deadline})" if deadline else "") + f" [{n}]."
    text = f"“{record.task}”由{lead}牵头" + (f",{assist}协助" if assist else "")
    return text + (f",{record.deadline_label or '完成时限'}{deadline}" if deadline else "") + f"[{n}]。"


def lead_in(s: Sentence, hit: SearchHit, documents: dict[str, Document]) -> tuple[str, SearchHit] | None:
    """When the sentence opens one item of a list ("(四)在…中发生的"), the lead-in that gives it its
    meaning ("…学校不承担赔偿责任:") and the list's clause to cite."""
    doc = documents.get(hit.chunk.doc_id)
    at = doc.text.find(s.text, hit.chunk.start) if doc else -1
    item = next((c for c in doc.clauses if c.start == at and c.parent_id), None) if at >= 0 else None
    parent = next((c for c in doc.clauses if c.clause_id == item.parent_id), None) if item else None
    if parent is None:
        return None
    first_item = min(c.start for c in doc.clauses if c.parent_id == parent.clause_id)
    intro = " ".join(doc.text[parent.start:first_item].split())
    if not intro.endswith((":", ":")) or len(intro) > MAX_LEAD_IN or norm(intro) in norm(hit.chunk.text):
        return None
    return intro, clause_as_hit(doc, parent, hit.score)


def what_follows(hit: SearchHit, documents: dict[str, Document]) -> tuple[str, SearchHit] | None:
    """When a chunk ends with a lead-in ("第十一条 取得教师资格应当具备的相应学历是:") whose items were chunked apart,
    the start of what its clause says after the chunk (at most MAX_FOLLOWING characters) and the whole clause to
    cite: a quote that stops at the colon says nothing."""
    doc = documents.get(hit.chunk.doc_id)
    clause = next((c for c in doc.clauses if c.clause_id == hit.chunk.clause_id), None) if doc else None
    if clause is None or clause.end <= hit.chunk.end:
        return None
    after = " ".join(doc.text[hit.chunk.end:clause.end].split())
    if not after:
        return None
    return after[:MAX_FOLLOWING] + ("…" if len(after) > MAX_FOLLOWING else ""), clause_as_hit(doc, clause, hit.score)


def items_quoted(sentences: list[Sentence], hit: SearchHit,
                 documents: dict[str, Document]) -> tuple[list[Clause], str, SearchHit] | None:
    """When a short chunk is (part of) a list ("一、服务时间 (一)… (二)… (三)…", "第十一条 …学历是: (一)… (二)…") and
    the sentences lie in some of its items, not all: those items in order, what the list says before its first
    item (its heading or lead-in), and the hit to cite: the chunk, or the whole list when its lead-in lies
    outside the chunk (an article split into pieces). None otherwise: the chunk is quoted whole.

    Why: a short clause is quoted whole because the clause that governs a case answers "may a school…?"; but a
    list's items are separate rules, and "最晚到几点" wants the item that sets the time, not its neighbours."""
    doc = documents.get(hit.chunk.doc_id)
    if doc is None:
        return None
    chunk = hit.chunk
    # Clauses inside the chunk (a clause's end may include the line break the chunk leaves out), smaller than it.
    inside = [c for c in doc.clauses if c.parent_id and chunk.start <= c.start < chunk.end
              and c.end <= chunk.end + 2 and (c.end - c.start) < (chunk.end - chunk.start) * 0.9]
    chosen: list[Clause] = []
    for s in sentences:
        start = chunk.start + s.start
        holding = [c for c in inside if c.start <= start + 2 and start + len(s.text) <= c.end + 2]
        if not holding:
            return None
        item = max(holding, key=lambda c: c.end - c.start)  # the outermost: an item keeps its own sub-items
        if item not in chosen:
            chosen.append(item)
    parent_ids = {c.parent_id for c in chosen}
    parent = next((c for c in doc.clauses if c.clause_id == chosen[0].parent_id), None) if chosen else None
    if len(parent_ids) != 1 or parent is None or len(chosen) >= sum(c.parent_id == parent.clause_id for c in inside):
        return None
    first_item = min(c.start for c in doc.clauses if c.parent_id == parent.clause_id)
    intro = " ".join(doc.text[parent.start:first_item].split())
    if len(intro) > MAX_LEAD_IN:
        return None
    if parent.start >= chunk.start:
        return sorted(chosen, key=lambda c: c.start), intro, hit
    # The lead-in is before the chunk: the list's lead-in ("…学校不承担赔偿责任:") gives the items their meaning,
    # and the quote then spans more than the chunk, so the whole list is cited.
    if not intro.endswith((":", "：")):
        return None
    return sorted(chosen, key=lambda c: c.start), intro, clause_as_hit(doc, parent, hit.score)


def close_rivals(sentences: list[Sentence], ranked: list[Sentence], margin: float) -> list[Sentence]:
    """The other sentences of the quoted clause that score at least `margin` x the best quoted one: their items are
    quoted too (margin 0: every item, i.e. the whole list)."""
    best = max(s.score for s in sentences)
    quoted = {id(s) for s in sentences}
    return [s for s in ranked if s.hit == sentences[0].hit and id(s) not in quoted and not s.furniture
            and s.score >= best * margin]


def source_label(hit: SearchHit, documents: dict[str, Document], span: tuple[int, int] | None = None) -> str:
    """"《中华人民共和国教师法》第三十七条" for an article of a law or regulation: the chunk's, or when the
    chunk holds several, the one that holds the quoted span (offsets in the chunk's text); "" otherwise.
    A law version not in force says so: 《…》(2017-09-01版,历史版本)第五条."""
    doc = documents[hit.chunk.doc_id]
    article = ARTICLE.search(hit.chunk.clause_path)
    start, end = (hit.chunk.start + span[0], hit.chunk.start + span[1]) if span else (-1, -1)
    number = article.group(0) if article else next(
        (c.number for c in doc.clauses if article_number(c.number) is not None and c.start <= start < end <= c.end), "")
    if not number:
        return ""
    version = version_info(doc, documents)
    edition = f"({version.version_date}版,{version.status})" if version and version.status not in ("", IN_FORCE) else ""
    return f"《{doc.title}》{edition}{number}"


def after_label(text: str, article: str, title: str) -> str:
    """The quoted text without what the label "《…》第五十五条规定:" already says: the article's number and,
    before it, the law's title and the headings of the chapter or section the article opens
    ("…教育法 第一章 总则 第一条 …", "第六章 附则 第五十五条 …")."""
    at = text.find(article)
    if at < 0 or at > len(title) + 40:
        return text
    before = re.sub(rf"{HEADING.pattern}\s*\S*", "", text[:at].replace(title, ""))
    return text[at + len(article):].lstrip() if not before.strip() else text


def is_front_matter(chunk: Chunk) -> bool:
    """Whether the chunk is what a document has before its first clause (a cover notice's lines, addressee,
    contacts, signature): lines that say different things, not one rule, so its sentences are quoted rather than
    all of it ("邮箱是多少" wants the e-mail line, not the notice around it)."""
    return chunk.clause_id.endswith(FRONT_MATTER)


def quote(sentences: list[Sentence], hits: list[SearchHit], cite, q: Question,
          documents: dict[str, Document], weights: AnswerWeights, ranked: list[Sentence] | None = None) -> str:
    """Sentences of one clause as a cited claim. A short clause is quoted whole, or, when it is a list, by the items
    holding the sentences and those of its other sentences that score close to them (`ranked`: every scored
    sentence; AnswerWeights.item_margin); a sentence that introduces a list ("必须具备下列基本条件:") brings the
    items after it; an item brings its lead-in."""
    hit = hits[sentences[0].hit]
    chunk_text = " ".join(hit.chunk.text.split())
    span = None  # the quoted part of a chunk quoted in part
    whole = len(chunk_text) <= weights.quote_whole and not is_front_matter(hit.chunk)
    items = (items_quoted(sentences + close_rivals(sentences, ranked, weights.item_margin), hit, documents)
             if whole and not q.asks_list and ranked is not None else None)
    if items:  # the items of a short list that hold the sentences, after the list's heading or lead-in
        chosen, intro, hit = items
        doc_text = documents[hit.chunk.doc_id].text
        text = " ".join(" ".join(doc_text[c.start:min(c.end, hits[sentences[0].hit].chunk.end)].split())
                        for c in chosen)
        if intro:
            text = f"{intro}…{text}" if intro.endswith((":", "：")) else f"{intro} {text}"
    elif whole:
        text = chunk_text
    else:
        ordered = sorted(sentences, key=lambda s: s.start)
        start = sentence_start(hit.chunk.text, ordered[0].start)
        text = verbatim_pieces(hit.chunk.text, [(start, ordered[0].start + len(ordered[0].text))]
                               + [(s.start, s.start + len(s.text)) for s in ordered[1:]])
        span = (start, ordered[-1].start + len(ordered[-1].text))
        if text.endswith((":", ":")):
            after = hit.chunk.text[span[1]:].strip()
            text += after[:MAX_FOLLOWING] + ("…" if len(after) > MAX_FOLLOWING else "")
    if not items and text.endswith((":", ":")) and (following := what_follows(hit, documents)):
        (after, hit), span = following, None
        text += after
    if not items and (found := lead_in(sentences[0], hit, documents)):
        intro, hit = found
        text, span = f"{intro}…{text}", None
    n = cite(hit)
    label = source_label(hit, documents, span)
    if q.english:
        return f"“{text}” [{n}]"
    text = re.sub(r"[。;;]+$", "", text)
    return f"{under_label(text, label, documents[hit.chunk.doc_id].title)}[{n}]。"


def sentence_start(text: str, start: int) -> int:
    """Where the sentence holding the piece at `start` begins, when the piece follows a semicolon of that sentence
    on the same line and the beginning is at most MAX_SENTENCE_BACK characters back; `start` otherwise."""
    before = text[:start].rstrip()
    if not before.endswith((";", "；")):
        return start
    begin = max(before.rfind(mark) for mark in "。!?！？\n") + 1
    begin += len(text[begin:start]) - len(text[begin:start].lstrip())
    return begin if start - begin <= MAX_SENTENCE_BACK else start


def verbatim_pieces(text: str, spans: list[tuple[int, int]]) -> str:
    """Spans of a clause's text in order, joined as they stand; "…" where text between two of them is left out
    (two sentences far apart in an article read as one run of text otherwise)."""
    out = []
    for i, (a, b) in enumerate(spans):
        if i and text[spans[i - 1][1]:a].strip():
            out.append("…")
        out.append(text[a:b])
    return "".join(out)


def under_label(text: str, label: str, title: str) -> str:
    """"《…法》第二十七条规定:…": a quote of an article under its label, the article's own number (and the headings
    before it) moved into the lead; the text as it is when there is no label."""
    if not label:
        return text
    article = re.sub(r"^\(.*?\)", "", label.split("》")[-1])  # the number, after any edition "(…版,…)"
    return f"{label}规定:{after_label(text, article, title)}"


def labelled(text: str, hit: SearchHit, documents: dict[str, Document], english: bool) -> str:
    """A list answer under its article's label, as a quote is ("《…法》第二十九条规定:设立幼儿园,应当具备下列基本
    条件:(一)…"): the items of an article read bare ("第二十九条 设立…") do not say which law they are from."""
    return text if english else under_label(text, source_label(hit, documents), documents[hit.chunk.doc_id].title)


def pick(q: Question, ranked: list[Sentence], hits: list[SearchHit], weights: AnswerWeights) -> list[list[Sentence]]:
    """Sentences to quote, grouped by clause: the best sentence with the runner-up of its clause when
    that scores close; then the best sentence of each further clause that scores nearly as well
    (second_clause of the best), up to max_clauses in all. When the scores do not separate the clauses,
    the answer shows each rather than bet on one: on the real questions the clause that answers is as
    often the second or third by score as the first. A question about several documents gets the best
    sentence of another document even when it scores lower."""
    if not ranked:
        return []
    best = ranked[0]
    # the runner-up of the best sentence's clause, when close; not one without the value asked for when the best
    # holds it (a notice's "电话:…" line wants no paragraph beside it)
    first = [best] + [s for s in ranked[1:3] if s.hit == best.hit and s.score >= best.score * 0.8
                      and (s.value or not best.value)][:1]
    groups = [first]
    quoted = {best.hit}
    doc_of = lambda s: hits[s.hit].chunk.doc_id  # noqa: E731
    # A document that repeats a section word for word (one notice bundling four plans, each with the same
    # "一、组织机构 …") has it in several chunks: it is quoted once.
    said = {" ".join(hits[best.hit].chunk.text.split())}
    for s in ranked[1:]:
        if len(groups) >= weights.max_clauses:
            break
        if s.hit in quoted or s.furniture or " ".join(hits[s.hit].chunk.text.split()) in said:
            continue
        if q.several and len(groups) == 1 and doc_of(s) != doc_of(best) and s.score >= best.score * 0.3:
            groups.append([s])
            break
        if s.score < best.score * weights.second_clause:
            break  # sentences come best first: no later clause scores higher
        groups.append([s])
        quoted.add(s.hit)
        said.add(" ".join(hits[s.hit].chunk.text.split()))
    return groups


def item_number(text: str) -> int | None:
    """The number of the list item a quoted text starts with ("(三)…" 3, "(12)…" 12); None for other text."""
    m = ITEM_NUMBER.match(text)
    return cn_number(m.group(1)) if m else None


def one_quote_per_clause(parts: list[str]) -> list[str]:
    """Quotes that cite the same clause made one. Two items of one article, each quoted after the article's lead-in
    and citing the whole article, become the lead-in once with both items ("…第三十二条规定:…认定:…(三)… (五)…[1]。");
    a quote whose words another quote of the clause already holds (an item, and the article's lead-in chunk quoted
    with the items that follow it) is dropped, or replaces the shorter one. Said once, the lead-in does not read
    as two rules."""
    merged: list[str] = []
    for part in parts:
        mark = CITED.search(part)
        same = next((i for i, m in enumerate(merged) if mark and m.endswith(mark.group(0))), None)
        if same is None:
            merged.append(part)
            continue
        earlier = merged[same]
        body, earlier_body = part[:mark.start()], earlier[:CITED.search(earlier).start()]
        lead, _, items = body.partition("…")
        earlier_lead, _, earlier_items = earlier_body.partition("…")
        if all(piece in earlier_body for piece in (lead, items)):
            continue  # already said
        if all(piece in body for piece in (earlier_lead, earlier_items)):
            merged[same] = part  # the later quote holds the earlier one
        elif items and earlier_items and lead == earlier_lead:
            close = "”" if earlier_body.endswith("”") else ""  # an English answer's quote marks close once
            pieces = [earlier_items.removesuffix(close), items.removesuffix(close)]
            numbers = [item_number(piece) for piece in pieces]
            if None not in numbers and numbers[1] < numbers[0]:
                pieces.reverse()  # the items in the article's order: (二) before (三)
            merged[same] = f"{lead}…{' '.join(pieces)}{close}{earlier[len(earlier_body):]}"
        else:
            merged.append(part)
    return merged


def value_first(q: Question, ranked: list[Sentence]) -> list[Sentence]:
    """A question wanting a value (a phone number, a date, a sum) is answered by a sentence that holds it:
    when the best sentence does not, the best one that does (among those the refusal model looked at) leads."""
    if not q.value_kinds or not ranked or all(q.holds(kind, ranked[0].text) for kind in q.value_kinds):
        return ranked
    holding = [s for s in value_sentences(q, ranked, q.value_kinds[0])
               if all(q.holds(kind, s.text) for kind in q.value_kinds)]
    return [holding[0]] + [s for s in ranked if s is not holding[0]] if holding else ranked


def item_first(q: Question, ranked: list[Sentence]) -> list[Sentence]:
    """A question counting into a list ("第三项是什么") is answered by the item it counts to (answer/ordinals.py
    marks its sentences), not by the list's lead-in that shares more of its words; of the item's sentences,
    one holding the value asked for leads."""
    items = [s for s in ranked if s.asked_item]
    if not items:
        return ranked
    holding = [s for s in items if all(q.holds(kind, s.text) for kind in q.value_kinds)] if q.value_kinds else []
    lead = (holding or items)[0]
    return [lead] + [s for s in ranked if s is not lead]


def refusal(q: Question, hits: list[SearchHit], documents: dict[str, Document], score: float) -> Answer:
    """The documents do not answer: said so, with the clauses that came closest; when the question names a
    place or law that no document mentions, saying which (the user can then upload or import it)."""
    see_also = [Citation.of(i + 1, h.chunk, documents, h.score) for i, h in enumerate(hits[:3])]
    unknown = [name for name in q.names if not mentioning(name, documents)]
    unknown = [n for n in unknown if not any(n != m and n in m for m in unknown)]  # 上海 is said by 上海市
    if unknown:
        if q.english:  # a place by its English name when the places list has one (answer/data/places.tsv)
            names = ", ".join(english_places().get(n, (n,))[0].title() if not is_law_name(n) else f"《{n}》" for n in unknown)
            text = f"No indexed document mentions {names}, so the documents do not answer this question."
        else:
            names = "、".join(f"《{n}》" if is_law_name(n) else f"“{n}”" for n in unknown)
            text = f"文件中没有提到{names},没有找到能回答这个问题的依据。"
        return Answer(text, True, see_also, score, question=q.normalised)
    return Answer(REFUSAL_EN if q.english else REFUSAL_ZH, True, see_also, score, question=q.normalised)


def left_to_other_rules(q: Question, sentence: Sentence, hits: list[SearchHit], documents: dict[str, Document],
                        weights: AnswerWeights, score: float) -> Answer:
    """The figure asked for is set elsewhere ("按照国家有关规定…"): a refusal, since the documents do not hold
    it, that quotes the clause saying where it is set."""
    hit = hits[sentence.hit]
    text = quote([sentence], hits, lambda _: 1, q, documents, weights)
    if q.english:
        text = f"{DELEGATED_EN}{documents[hit.chunk.doc_id].title} ({hit.chunk.clause_path}): {text}"
    else:
        text = DELEGATED_ZH + text
    return Answer(text, True, [Citation.of(1, hit.chunk, documents, hit.score)], score, question=q.normalised)


def about_names(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[SearchHit] | None:
    """The hits from documents that mention a place or law the question names. A place no document mentions
    leaves the national documents (laws, State Council and ministry rules), which hold everywhere
    ("在海南,学校能开除初中生吗" is answered by 义务教育法), unless the question asks for a figure, which they
    do not set for one place. None when nothing indexed can answer: a law no document mentions, or such a
    place and no national document among the hits."""
    naming = documents_naming(q.names, documents)
    if naming is None:
        if q.required_kinds or any(is_law_name(n) for n in q.names if not mentioning(n, documents)):
            return None
        return [h for h in hits if is_national(documents[h.chunk.doc_id])] or None
    named = [h for h in hits if h.chunk.doc_id in naming]
    # A question naming a law is answered by the law itself, when it is among the hits.
    laws = [h for h in named if any(is_law_titled(name, documents[h.chunk.doc_id].title) for name in q.names)]
    return laws or named


def article_answer(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> Answer | None:
    """"…法第二十七条说的是什么": the article itself, quoted whole, when the first hit is that article of a
    law the question names (answer.law_search puts it there)."""
    hit = hits[0] if q.article is not None and hits else None
    doc = documents[hit.chunk.doc_id] if hit else None
    clause = next((c for c in doc.clauses if c.clause_id == hit.chunk.clause_id), None) if doc else None
    if clause is None or article_number(clause.number) != q.article or not any(
            is_law_titled(name, doc.title) for name in q.names):
        return None
    body = re.sub(rf"^{clause.number}\s*", "", " ".join(hit.chunk.text.split()))
    if q.english:
        text = f"According to {doc.title} ({clause.number}): “{body}” [1]"
    else:
        label = source_label(hit, documents) or f"《{doc.title}》{clause.number}"  # 第27条: a label of digits
        text = f"{label}规定:{re.sub(r'[。;;]+$', '', body)}[1]。"
    # Looked up, not judged: the refusal model's probability does not apply, the article is the answer.
    return Answer(text, False, [Citation.of(1, hit.chunk, documents, hit.score)], 1.0, question=q.normalised)


def compose_answer(q: Question, hits: list[SearchHit], documents: dict[str, Document],
                   composer: Composer | None = None) -> Answer:
    composer = composer or Composer()
    if found := article_answer(q, hits, documents):
        return found
    if q.names:  # what a place's or a law's documents say, or nothing
        named = about_names(q, hits, documents)
        if named is None or not (named or q.several):
            return refusal(q, hits, documents, 0.0)
        if not q.several:
            hits = named
    if q.asks_law:  # "哪部法律规定…": answered by a law when one is among the hits
        hits = [h for h in hits if is_law(documents[h.chunk.doc_id])] or hits
    ranked = score_sentences(q, hits, documents, composer.encoder, composer.weights)
    model = composer.model()
    score = model.probability(features(q, hits, ranked, corpus_text(documents), model.weights))
    if score < model.threshold:
        return refusal(q, hits, documents, score)
    ranked = item_first(q, value_first(q, ranked))

    cited: list[SearchHit] = []

    def cite(hit: SearchHit) -> int:
        """The citation's number: one per span of a document (a clause cited twice keeps its number)."""
        spans = [(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in cited]
        span = (hit.chunk.doc_id, hit.chunk.start, hit.chunk.end)
        if span not in spans:
            cited.append(hit)
            spans.append(span)
        return spans.index(span) + 1

    for kind, facts in (("number", doc_number_facts(q, hits, documents)),
                        ("issuer", issuer_facts(q, hits, documents)),
                        ("date", issue_date_facts(q, hits, documents))):
        if facts:
            text = (" " if q.english else "").join(render_fact(kind, f, cite(f.hit), q.english) for f in facts)
            citations = [Citation.of(i + 1, f.hit.chunk, documents, f.hit.score) for i, f in enumerate(facts)]
            return Answer(text, False, citations, score, question=q.normalised)
    if unknown_document_fact(q, hits, documents):
        return refusal(q, hits, documents, score)  # a 文号 or issuer the document does not show
    if q.asks_figure and ranked and delegates(ranked[0].text) and not any(
            q.holds(kind, ranked[0].text) for kind in q.value_kinds):
        return left_to_other_rules(q, ranked[0], hits, documents, composer.weights, score)

    parts: list[str] = []
    found = best_record(q, hits) if q.asks_who else None
    if found:
        hit, record = found
        parts.append(responsibility_answer(record, cite(hit), q.english))
        if q.value_kinds and not all(q.holds(kind, parts[0]) for kind in q.value_kinds):
            extra = next((s for s in ranked if all(q.holds(kind, s.text) for kind in q.value_kinds)), None)
            if extra:  # the figure asked for as well as the offices
                parts.append(quote([extra], hits, cite, q, documents, composer.weights))
    listed = best_list(q, hits, documents, ranked[0].text if ranked else "") if q.asks_list and not found else None
    if listed:
        parts.append(labelled(listed.render(cite(listed.hit), q.english), listed.hit, documents, q.english))
    if not parts:
        parts = one_quote_per_clause([quote(group, hits, cite, q, documents, composer.weights, ranked)
                                      for group in pick(q, ranked, hits, composer.weights)])
    if not parts:  # nothing quotable in the top clauses
        return refusal(q, hits, documents, score)
    if q.english and not found:
        first = cited[0]
        text = f"According to {documents[first.chunk.doc_id].title} ({first.chunk.clause_path}): " + " ".join(parts)
    else:
        text = (" " if q.english else "").join(parts)
    citations = [Citation.of(i + 1, h.chunk, documents, h.score) for i, h in enumerate(cited)]
    return Answer(text, False, citations, score, question=q.normalised)
