"""List answers: "哪几条基本原则?" is answered by the items of the clause that holds them.

A list is a clause with sub-clauses ("二、工作原则" › (一)优质原则 …) or a clause of dash items
("——坚持优先保障。…"). The question's own words pick the list by its heading; words that only name
the document (in its title) do not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.doc_facts import clause_as_hit
from answer.question import Groups, Question, coverage, norm
from policyqa.models import Clause, Document
from retrieval.search import SearchHit

MAX_LEAD_IN = 60  # characters: a policy list's lead-in sentence is said when short; a longer one is a paragraph
MAX_ARTICLE_LEAD_IN = 200  # an article's lead-in is its first sentence, read before its items (as compose quotes it)


@dataclass
class ClauseList:
    hit: SearchHit  # what is cited: the clause the items belong to
    heading: str  # "二、工作原则"
    intro: str  # its lead-in sentence when short ("推动“一校一品”建设应围绕以下五项原则"), else ""
    items: list[str]

    def render(self, n: int, english: bool) -> str:
        if english:
            return f"{self.intro or self.heading}: " + "; ".join(self.items) + f" [{n}]."
        # "…应围绕以下五项原则:(一)…" reads on from its own lead-in; a bare heading needs "包括"
        lead = f"{self.intro}:" if self.intro else f"{self.heading}包括:"
        return lead + "、".join(self.items) + f"[{n}]。"


def label(clause: Clause) -> str:
    number = clause.number if re.match(r"[(（]", clause.number) else f"{clause.number}、"
    return number + clause.heading


def without_heading(intro: str, clause: Clause) -> str:
    """The lead-in without the clause's own number and heading ("二、工作原则 推动…" -> "推动…"), which the
    answer names anyway."""
    m = re.match(rf"\s*[((]?{re.escape(clause.number)}[))]?[、.．]?\s*{re.escape(clause.heading)}[。::\s]*", intro)
    return intro[m.end():] if m and clause.heading and m.end() < len(intro) else intro


def clause_lists(hit: SearchHit, documents: dict[str, Document]) -> list[ClauseList]:
    """Lists the hit belongs to: its own clause, its parent and grandparent, and dash items in its text."""
    doc = documents[hit.chunk.doc_id]
    by_id = {c.clause_id: c for c in doc.clauses}
    found = []
    clause = by_id.get(hit.chunk.clause_id)
    for _ in range(3):
        if clause is None:
            break
        # A chapter's articles are rules of their own, not the items of one list: their "headings" are
        # only their first words.
        children = [c for c in doc.clauses if c.parent_id == clause.clause_id and c.heading and not c.is_article]
        if len(children) >= 2:
            intro = re.sub(r"[。::\s]+$", "", doc.text[clause.start:children[0].start].strip())
            # An article's "heading" is only its first words ("第十六条 对在…的"): its lead-in is one sentence,
            # said whole ("…的,按照…给予奖励表彰" lost its subject when they were cut off as a title).
            intro = intro if clause.is_article else without_heading(intro, clause)
            limit = MAX_ARTICLE_LEAD_IN if clause.is_article else MAX_LEAD_IN
            cited = hit if clause.clause_id == hit.chunk.clause_id else clause_as_hit(doc, clause, hit.score)
            found.append(ClauseList(cited, label(clause), intro if len(intro) <= limit else "",
                                    [label(c) for c in children]))
        clause = by_id.get(clause.parent_id) if clause.parent_id else None
    dashes = re.findall(r"——([^。;\n]{2,20})[。;]", hit.chunk.text)
    if len(dashes) >= 2:
        found.append(ClauseList(hit, hit.chunk.clause_path.split(" › ")[-1], "", dashes))
    return found


def bigram_share(heading: str, question: str) -> float:
    """Share of the heading's character pairs (number stripped) that the question contains."""
    text = re.sub(r"^[^\u4e00-\u9fff]*[一二三四五六七八九十]*[、.]?", "", norm(heading))
    pairs = {text[i:i + 2] for i in range(len(text) - 1)}
    return sum(1 for p in pairs if p in norm(question)) / len(pairs) if pairs else 0.0


def best_list(q: Question, hits: list[SearchHit], documents: dict[str, Document],
              best_sentence: str) -> ClauseList | None:
    """The list whose heading best names what the question asks about, when it covers the question at
    least as well as the best single sentence does."""
    scored = []
    for rank, hit in enumerate(hits[:3]):
        title = norm(documents[hit.chunk.doc_id].title).lower()
        topic: Groups = [(w, alts) for w, alts in q.groups if w >= 2 and not any(a in title for a in alts)]
        floor = coverage(topic, best_sentence)
        for found in clause_lists(hit, documents):
            if q.required_kinds and not all(q.holds(kind, "、".join(found.items)) for kind in q.required_kinds):
                continue  # "哪几所学校" wants names, not the headings of a work plan
            heading_cov = coverage(topic, found.heading + found.intro)
            if heading_cov and coverage(topic, found.heading + found.intro + "".join(found.items)) >= floor:
                # stop words such as 要求 are not terms, so the heading's wording settles ties (工作要求/原则)
                scored.append((heading_cov + 0.1 * bigram_share(found.heading, q.normalised) - 0.05 * rank, rank, found))
    if not scored:
        return None
    score, _, found = max(scored, key=lambda s: (s[0], -s[1]))
    return found if score >= 0.2 else None
