"""Hand-built documents and search hits for unit tests of the answer step's scorers (no index, no model)."""

from __future__ import annotations

import numpy as np

from policyqa.models import Chunk, Clause, Document
from retrieval.search import SearchHit


def law(doc_id: str, title: str, articles: list[str]) -> Document:
    """A document of numbered articles, one clause each, with offsets into its text."""
    text, clauses = "", []
    for n, body in enumerate(articles, start=1):
        start = len(text)
        text += body + "\n"
        clauses.append(Clause(f"{doc_id}#{n}", f"第{n}条", "", f"第{n}条", 1, start, start + len(body)))
    return Document(doc_id, title, text, clauses=clauses)


def hit(doc: Document, n: int, dense: float = 0.85, use: float = 0.4, signals: dict | None = None) -> SearchHit:
    """Article n of the document as a search hit with the given similarities and ranks."""
    clause = doc.clauses[n - 1]
    body = doc.text[clause.start:clause.end]
    chunk = Chunk(clause.clause_id, doc.doc_id, clause.clause_id, clause.path, body, clause.start, clause.end,
                  index_text=f"{doc.title}\n{clause.path}\n{body}")
    return SearchHit(chunk, 1.0 / n, dense, signals or {"dense": n, "bm25": n},
                     {"dense": dense, "dense:use": use})


def listed_section() -> tuple[Document, SearchHit]:
    """A county notice's section of three items, as ingest reads it: the section a clause, each item its child."""
    items = ["(一)图书馆每周开放6天,每天不少于8小时。", "(二)闭馆时间最晚不超过21:00。",
             "(三)寒暑假期间开放时间另行公布。"]
    text = "二、开放时间\n" + "\n".join(items) + "\n"
    section = Clause("n#二", "二", "开放时间", "二、开放时间", 1, 0, len(text))
    children, at = [], len("二、开放时间\n")
    for number, item in zip(("(一)", "(二)", "(三)"), items, strict=True):
        children.append(Clause(f"n#二.{number}", number, "", f"二、开放时间 › {number}", 2, at, at + len(item) + 1,
                               parent_id="n#二"))
        at += len(item) + 1
    doc = Document("n", "某县图书馆开放管理办法", text, clauses=[section, *children])
    chunk = Chunk("n#二", "n", "n#二", section.path, text.rstrip("\n"), 0, len(text) - 1)
    return doc, SearchHit(chunk, 1.0, 0.85, {"dense": 1, "bm25": 1}, {"dense": 0.85, "dense:use": 0.4})


def lead_in_chunk() -> tuple[Document, SearchHit]:
    """An article whose lead-in ingest chunked apart from its items (as 教师法 第十一条 is): the hit is the lead-in
    alone, "…学历是:", the items are the article's children and the rest of its text."""
    lead = "第十一条 取得教师资格应当具备的相应学历是:"
    items = ["(一)取得幼儿园教师资格,应当具备幼儿师范学校毕业及其以上学历;",
             "(二)取得小学教师资格,应当具备中等师范学校毕业及其以上学历。"]
    text = lead + "\n" + "\n".join(items) + "\n"
    article = Clause("t#11", "第十一条", "", "第十一条", 1, 0, len(text) - 1)
    children, at = [], len(lead) + 1
    for number, item in zip(("(一)", "(二)"), items, strict=True):
        children.append(Clause(f"t#11.{number}", number, "", f"第十一条 › {number}", 2, at, at + len(item),
                               parent_id="t#11"))
        at += len(item) + 1
    doc = Document("t", "中华人民共和国教师法", text, clauses=[article, *children])
    chunk = Chunk("t#11", "t", "t#11", article.path, lead, 0, len(lead))
    return doc, SearchHit(chunk, 1.0, 0.85, {"dense": 1, "bm25": 1}, {"dense": 0.85, "dense:use": 0.4})


def items_chunked_apart() -> tuple[Document, list[SearchHit]]:
    """An article whose lead-in and three items ingest chunked apart, each item its own chunk (a long article's
    list): the hits are the items (一) and (三), the lead-in that gives them their meaning in neither."""
    lead = "第三十条 有下列情形之一的,学校不承担事故责任:"
    items = ["(一)学生在放学后自行滞留校园发生事故的;", "(二)学生之间在校外自行活动发生事故的;",
             "(三)学生在节假日自行到校发生事故的。"]
    text = lead + "\n" + "\n".join(items) + "\n"
    article = Clause("s#30", "第三十条", "", "第三十条", 1, 0, len(text) - 1)
    children, at = [], len(lead) + 1
    for number, item in zip(("(一)", "(二)", "(三)"), items, strict=True):
        children.append(Clause(f"s#30.{number}", number, "", f"第三十条 › {number}", 2, at, at + len(item),
                               parent_id="s#30"))
        at += len(item) + 1
    doc = Document("s", "某市学校安全条例", text, clauses=[article, *children])
    hits = [SearchHit(Chunk(c.clause_id, "s", c.clause_id, c.path, text[c.start:c.end], c.start, c.end), 1.0 / rank,
                      0.85, {"dense": rank}, {"dense": 0.85, "dense:use": 0.4})
            for rank, c in enumerate((children[0], children[2]), start=1)]
    return doc, hits


class KeywordEncoder:
    """A stand-in sentence encoder: one dimension per keyword, so similarity is shared keywords."""

    def __init__(self, keywords: list[str]) -> None:
        self.keywords = keywords

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.array([[1.0 if k in t else 0.0 for k in self.keywords] + [0.1] for t in texts])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def notice_front_matter() -> tuple[Document, SearchHit]:
    """A county notice's text before its first clause, as ingest reads it: one '#preamble' clause of several lines
    (addressee, body, contacts, attachment, signature), short enough to be quoted whole were it a clause."""
    lines = ["某县教育局关于征求意见的通知", "各学校:", "请于12月20日前将书面意见反馈给教育局。",
             "电话:0913-1234567", "邮箱:jyj@example.com。", "附件:某县教育提升三年行动计划(2021-2023年)", "某县教育局",
             "2020年11月5日"]
    text = "\n".join(lines) + "\n1.总体目标\n到2023年全县学校达标。\n"
    end = len("\n".join(lines))
    clauses = [Clause("f#preamble", "", "", "(正文前部分)", 0, 0, end),
               Clause("f#1", "1.", "总体目标", "1.总体目标", 1, end + 1, len(text) - 1)]
    doc = Document("f", "某县教育提升三年行动计划(2021-2023年)", text, clauses=clauses)
    chunk = Chunk("f#preamble", "f", "f#preamble", "(正文前部分)", text[:end], 0, end)
    return doc, SearchHit(chunk, 1.0, 0.85, {"dense": 1, "bm25": 1}, {"dense": 0.85, "dense:use": 0.4})


def article_with_items(doc_id: str, title: str, lead: str, items: list[str], heading: str) -> tuple[Document, SearchHit]:
    """An article whose items are headed clauses (as ingest reads "(一)有组织机构和章程;"), short enough to be one
    chunk: `heading` is what ingest takes as the article's heading (its first words), the hit is the whole article."""
    text = lead + "\n" + "\n".join(items) + "\n"
    number = lead.split(" ", 1)[0]
    article = Clause(f"{doc_id}#a", number, heading, f"{number}{heading}", 1, 0, len(text) - 1)
    children, at = [], len(lead) + 1
    for item in items:
        label = item[:item.index(")") + 1]
        children.append(Clause(f"{doc_id}#a.{label}", label, item[len(label):-1], f"{number} › {label}", 2, at,
                               at + len(item), parent_id=article.clause_id))
        at += len(item) + 1
    doc = Document(doc_id, title, text, clauses=[article, *children])
    chunk = Chunk(article.clause_id, doc_id, article.clause_id, article.path, text.rstrip("\n"), 0, len(text) - 1)
    return doc, SearchHit(chunk, 1.0, 0.85, {"dense": 1, "bm25": 1}, {"dense": 0.85, "dense:use": 0.4})
