"""Parse the clause ladder of a policy document: 第X编 / 第X分编 / 第X章 / 第X节 / 第X条 / 一、/ (一) / 1. / (1) / ①.

Headings are found at line starts and inline after a sentence end (run-on scraped text puts a whole plan
on one line). A candidate is accepted only when its number continues its style's sequence (n == 1, or
the last accepted number of that style + 1), which rejects "一、二年级" or a stray "2." in prose while
allowing numbering that restarts per section or runs on across sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ingest.tables import CELL_SEP, is_pipe_header
from policyqa.models import Clause

CN_DIGITS = "零一二三四五六七八九十百千"  # 千: the Civil Code runs to 第一千二百六十条

# A heading line of a law's parts above its chapters and articles ("第五编 婚姻家庭", "第二节 监护"): the number,
# a space and a short title, the whole line. Only so, since prose says "第一节课" and "第二编写组".
WHOLE_LINE_TITLE = r"(?=[ \t\u3000]+[^\s。;,,::][^\n。;,,::]{0,24}(?:\n|$))[ \t\u3000]+"
# style -> (rank, regex). Lower rank = higher in the ladder. Text is NFKC-normalised (half-width parens).
# A code's ladder (the Civil Code): 编 (part) > 分编 (sub-part) > 章 > 节 (section) > 条. Without the parts and
# sections an article's text ended with the next section's heading ("…视为住所。\n第二节 监护"), and every
# article of a chapter was indexed under the chapter's first section.
STYLES: dict[str, tuple[int, re.Pattern[str]]] = {
    "part": (0, re.compile(rf"第([{CN_DIGITS}]{{1,3}})编{WHOLE_LINE_TITLE}")),
    # A code's closing provisions under an unnumbered line of their own ("附 则" after the Civil Code's 第七编).
    "appendix": (0, re.compile(r"(附)[ \t\u3000]*则(?=[ \t\u3000]*(?:\n|$))")),
    "subpart": (1, re.compile(rf"第([{CN_DIGITS}]{{1,3}})分编{WHOLE_LINE_TITLE}")),
    "chapter": (2, re.compile(rf"第([{CN_DIGITS}]{{1,4}})章\s*")),
    "section": (3, re.compile(rf"第([{CN_DIGITS}]{{1,3}})节{WHOLE_LINE_TITLE}")),
    "article": (4, re.compile(rf"第([{CN_DIGITS}]{{1,8}})条\s*")),
    # Not "一、二年级": a numeral list in prose continues with another numeral.
    "cn": (5, re.compile(r"([一二三四五六七八九十]{1,3})、(?![一二三四五六七八九十])\s*")),
    "paren_cn": (6, re.compile(r"\(([一二三四五六七八九十]{1,3})\)\s*")),
    "arabic": (7, re.compile(r"(\d{1,2})(?:[.、](?![\d.、]))\s*")),
    "paren_arabic": (8, re.compile(r"\((\d{1,2})\)\s*")),
    "circled": (9, re.compile(r"([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])\s*")),
    # "一是…;二是…" enumerations inside a clause (only after a sentence end: see INLINE_START).
    "shi": (10, re.compile(r"([一二三四五六七八九十]{1,2})是(?=\S)")),
}
LINE_ONLY = frozenset({"part", "subpart", "section", "appendix"})  # headings found only at the start of a line
# Where an inline heading may start: after a sentence end, optionally followed by spaces.
INLINE_START = re.compile(r"(?<=[。;!?])\s*|(?<=\S)\s+")
TITLE_END_WORDS = (
    "思想|目标|原则|任务|措施|要求|步骤|领导|保障|机构|内容|分工|评估|意义|范围|职责|机制|安排|方法|附则|总则|"
    "依据|对象|条件|程序|方式|时间|责任|管理|建设|监督|奖励|评价"
)
TITLE_BY_WORD = re.compile(rf"^(.{{1,12}}?(?:{TITLE_END_WORDS}))")


def cn_to_int(numeral: str) -> int:
    """一 -> 1, 十二 -> 12, 二十三 -> 23, 一百零五 -> 105, 一千二百六十 -> 1260."""
    values = {c: i for i, c in enumerate("零一二三四五六七八九")}
    total, current = 0, 0
    for ch in numeral:
        if ch == "千":
            total += (current or 1) * 1000
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = values.get(ch, 0)
    return total + current


def number_value(style: str, raw: str) -> int:
    if style == "appendix":
        return 1  # unnumbered, always accepted
    if style in ("arabic", "paren_arabic"):
        return int(raw)
    if style == "circled":
        return "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳".index(raw) + 1
    return cn_to_int(raw)


def id_label(style: str, raw: str) -> str:
    """The label used inside clause ids: 四, (三), 3, 第十条."""
    return {"appendix": "附则", "part": f"第{raw}编", "subpart": f"第{raw}分编", "chapter": f"第{raw}章",
            "section": f"第{raw}节", "article": f"第{raw}条", "paren_cn": f"({raw})", "paren_arabic": f"({raw})",
            "shi": f"{raw}是"}.get(style, raw)


def display_label(style: str, raw: str) -> str:
    return {"cn": f"{raw}、", "arabic": f"{raw}."}.get(style, id_label(style, raw))


def heading_title(rest: str) -> str:
    """The heading words after the number, from the text up to the next heading."""
    line = rest.split("\n", 1)[0].strip()
    spaced = re.match(r"^(\S{2,16})\s", line)  # "一、指导思想 以党的..." (title ends at a space)
    if spaced:
        return spaced.group(1)
    sentence = re.split(r"[。;!?]", line, maxsplit=1)[0]
    if len(sentence) <= 25 and (len(sentence) == len(line) or line[len(sentence)] in "。;!?"):
        head = re.split(r"[::]", sentence, maxsplit=1)[0]
        return head if len(head) <= 25 else sentence
    by_word = TITLE_BY_WORD.match(line)  # "一、指导思想以习近平..." (run-on text, no separator)
    if by_word:
        return by_word.group(1)
    segment = re.split(r"[,,。;::]", line, maxsplit=1)[0]
    return segment if len(segment) <= 16 else segment[:12] + "…"


def short(title: str, limit: int = 14) -> str:
    return title if len(title) <= limit else title[:limit] + "…"


@dataclass
class Heading:
    start: int  # offset of the number
    body: int  # offset after the number and spaces
    style: str
    raw: str

    @property
    def rank(self) -> int:
        return STYLES[self.style][0]


def _candidates(text: str) -> list[Heading]:
    line_starts = {0} | {m.end() for m in re.finditer(r"\n", text)}
    starts = line_starts | {m.end() for m in INLINE_START.finditer(text)}
    # "(一)" is a heading wherever it stands ("三、基本原则(一)坚持..."); prose does not use it.
    starts |= {m.start() for m in STYLES["paren_cn"][1].finditer(text)}
    found = []
    for pos in sorted(starts):
        for style, (_, pattern) in STYLES.items():
            if style in LINE_ONLY and pos not in line_starts:
                continue
            m = pattern.match(text, pos)
            bare = style in ("chapter", "cn", "appendix")  # may stand alone on its line
            if m and (m.end() < len(text) and text[m.end()] != "\n" or bare):
                found.append(Heading(pos, m.end(), style, m.group(1)))
                break
    return found


def find_headings(text: str) -> list[Heading]:
    last: dict[str, int] = {}
    accepted = []
    for h in _candidates(text):
        n = number_value(h.style, h.raw)
        # A whole-line part or section heading is no prose numeral: it may follow a gap (a scraped code that
        # lost its "第一编 总则" line starts at 第二编).
        if n == 1 or n == last.get(h.style, 0) + 1 or (h.style in LINE_ONLY and n > last.get(h.style, 0)):
            last[h.style] = n
            accepted.append(h)
    return accepted


# A spreadsheet's sheet as ingest/formats/spreadsheets.py renders it: a line "工作表:<name>" (NFKC makes a
# full-width colon this one), the workbook's file name above the first.
SHEET_PREFIX = "工作表:"
SHEET_LINE = re.compile(rf"^{SHEET_PREFIX}(.+)$", re.M)


def is_workbook(text: str) -> bool:
    """A spreadsheet's text: a sheet line first or second (cleaning may drop the file-name line)."""
    return any(SHEET_LINE.fullmatch(line) for line in text.split("\n", 2)[:2])


def sheet_clauses(doc_id: str, text: str) -> list[Clause]:
    """A workbook's clauses: each sheet a section, the rows of a sheet below its first row of several cells
    (its header) a clause each, "任务分工 › 3 …". Numbers in cells are data, not clause headings. The rows
    of a responsibility table become clauses with their records in `ingest.pipeline.add_records` instead."""
    marks = list(SHEET_LINE.finditer(text))
    clauses = [Clause(f"{doc_id}#preamble", "", "", "(正文前部分)", 0, 0, marks[0].start())] if marks[0].start() else []
    seen: set[str] = set()
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        name = m.group(1).strip()
        label = re.sub(r"[\s.#~]+", "_", name)  # "." parts clause ids and "~" chunk ids
        label = label if label not in seen else f"{label}~{i + 1}"  # "a b" and "a.b" are both a_b
        seen.add(label)
        sheet = Clause(f"{doc_id}#{label}", "", name, name, 1, m.start(), end)
        clauses += [sheet, *row_clauses(sheet, text, m.end(), end)]
    return clauses


def row_clauses(sheet: Clause, text: str, start: int, end: int) -> list[Clause]:
    """The rows below a sheet's header as its child clauses, numbered by a 序号 column when the first cells
    are distinct numbers, else counted; none for a sheet holding a responsibility table (see above)."""
    lines, pos = [], start
    for line in text[start:end].split("\n"):
        lines.append((pos, pos + len(line), line))
        pos += len(line) + 1
    header = next((k for k, (_, _, line) in enumerate(lines) if CELL_SEP in line), None)
    if header is None or any(is_pipe_header(line) for _, _, line in lines):
        return []
    rows = [(s, e, [c.strip() for c in line.split(CELL_SEP)]) for s, e, line in lines[header + 1:] if line.strip()]
    firsts = [cells[0] for _, _, cells in rows]
    numbered = all(re.fullmatch(r"\d{1,4}", f) for f in firsts) and len(set(firsts)) == len(firsts)  # a 序号 column
    out = []
    for k, (s, e, cells) in enumerate(rows, start=1):
        number = cells[0] if numbered else str(k)
        title = next((c for c in cells[1 if numbered else 0:] if c), "")
        out.append(Clause(f"{sheet.clause_id}.{number}", number, title, f"{sheet.path} › {number} {short(title)}",
                          2, s, e, sheet.clause_id))
    return out


def parse_clauses(doc_id: str, text: str) -> list[Clause]:
    """A flat list of clauses in document order; parent ids make the tree. Spans cover descendants."""
    if is_workbook(text):
        return sheet_clauses(doc_id, text)
    headings = find_headings(text)
    clauses: list[Clause] = []
    stack: list[tuple[Heading, Clause]] = []
    seen_ids: dict[str, int] = {}
    if not headings or headings[0].start > 0:
        end = headings[0].start if headings else len(text)
        clauses.append(Clause(f"{doc_id}#preamble", "", "", "(正文前部分)", 0, 0, end))
    for i, h in enumerate(headings):
        while stack and stack[-1][0].rank >= h.rank:
            stack.pop()
        parent = stack[-1][1] if stack else None
        label = id_label(h.style, h.raw)
        base_id = f"{parent.clause_id}.{label}" if parent else f"{doc_id}#{label}"
        seen_ids[base_id] = seen_ids.get(base_id, 0) + 1
        clause_id = base_id if seen_ids[base_id] == 1 else f"{base_id}~{seen_ids[base_id]}"
        next_start = headings[i + 1].start if i + 1 < len(headings) else len(text)
        title = heading_title(text[h.body:next_start])
        shown = display_label(h.style, h.raw) + (title if not parent else short(title))
        path = f"{parent.path} › {shown}" if parent else shown
        end = next((o.start for o in headings[i + 1:] if o.rank <= h.rank), len(text))
        clause = Clause(clause_id, label, title, path, len(stack) + 1, h.start, end,
                        parent.clause_id if parent else None)
        clauses.append(clause)
        stack.append((h, clause))
    return ending_lists_at_their_last_item(clauses, text)


def ending_lists_at_their_last_item(clauses: list[Clause], text: str) -> list[Clause]:
    """An article's list of one-line items ends with its last item's line: what follows is the article's next
    paragraph (款), not more of the item ("(九)法律、法规规定的其他权利。\n国家保护学校…的合法权益不受侵犯。"). A clause
    runs to the next heading, so the last item would carry that paragraph and cite it under the item's number. Only
    in articles: a policy's items are headings whose text runs on over several paragraphs."""
    children: dict[str, list[int]] = {}
    for i, c in enumerate(clauses):
        if c.parent_id:
            children.setdefault(c.parent_id, []).append(i)
    for parent in clauses:
        kids = children.get(parent.clause_id, [])
        if not parent.is_article or len(kids) < 2 or any(clauses[i].clause_id in children for i in kids):
            continue
        if any("\n" in text[clauses[i].start:clauses[i].end].strip() for i in kids[:-1]):
            continue  # items of several lines: no line ends the list
        last = clauses[kids[-1]]
        body = text[last.start:last.end].rstrip()
        line_end = body.find("\n")
        if line_end > 0:
            clauses[kids[-1]] = replace(last, end=last.start + line_end)
    return clauses
