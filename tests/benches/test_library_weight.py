"""The library-prior bench's mapping of an item's expected documents to the law library's versions."""

from __future__ import annotations

from benches.library_weight import map_to_library
from policyqa.models import Document
from retrieval.filters import LAWS

CEL = "中华人民共和国义务教育法"
CONSUMERS = "中华人民共和国消费者权益保护法"


def law(doc_id: str, title: str) -> Document:
    return Document(doc_id, title, "第一条", extra={"collection": LAWS})


LIBRARY = {CEL: law(CEL, CEL), f"{CEL}@2015-04-24": law(f"{CEL}@2015-04-24", CEL),
           CONSUMERS: law(CONSUMERS, CONSUMERS), "local-plan": Document("local-plan", "某县方案", "第一条")}
FILES = {"11_yiwu_jiaoyufa_2018": Document("11_yiwu_jiaoyufa_2018", "中华人民共和国义务教育法(2018修正)", "第一条")}


def test_expected_documents_point_at_the_library_version_in_force():
    items = [{"id": "a", "doc_ids": ["11_yiwu_jiaoyufa_2018"]},  # a law file: the library's version of that law
             {"id": "b", "doc_ids": ["消费者权益保护法"]},  # a law named (library-answered items): by its name
             {"id": "c", "doc_ids": ["local-plan"]},  # a document the library index holds as it is
             {"id": "d", "doc_ids": ["unknown"]}]  # nothing to map to: left as it is (the item then finds nothing)
    mapped = {i["id"]: i["doc_ids"] for i in map_to_library(items, FILES, LIBRARY)}
    assert mapped == {"a": [CEL], "b": [CONSUMERS], "c": ["local-plan"], "d": ["unknown"]}
