"""Document metadata: the sidecar wins, the text fills in, a broken sidecar is a clear error."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import BEIJING, CORPUS, DOC_IDS, PUCHENG, RENHUAI

from ingest.chunking import ChunkSettings
from ingest.clean import clean_text
from ingest.metadata import SidecarError, infer_doc_type, infer_metadata, read_sidecar
from ingest.pipeline import IngestError, load_document, prepare_documents
from ingest.readers import read_text


def sidecar(doc_id: str) -> dict:
    return json.loads((CORPUS / f"{doc_id}.meta.json").read_text(encoding="utf-8"))


def inferred(doc_id: str) -> dict:
    return infer_metadata(clean_text(read_text(CORPUS / f"{doc_id}.txt")).text)


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_sidecar_fields_are_used(doc_id):
    doc = load_document(CORPUS / f"{doc_id}.txt")
    side = sidecar(doc_id)
    for key in ("title", "doc_number", "issuer", "date", "doc_type", "source"):
        if side.get(key):
            assert getattr(doc, key) == side[key], key
    # fields the pipeline does not interpret are kept, not dropped
    for key in set(side) - {"title", "doc_number", "issuer", "date", "doc_type", "source"}:
        assert doc.extra[key] == side[key]


def test_sidecar_overrides_inference():
    # The renhuai text opens with the cover notice; the sidecar names the plan itself.
    assert inferred(RENHUAI)["title"] == "关于印发《仁怀市品牌学校创建工作实施方案》的通知"
    doc = load_document(CORPUS / f"{RENHUAI}.txt")
    assert doc.title == "仁怀市品牌学校创建工作实施方案" == sidecar(RENHUAI)["title"]
    # pucheng: the text's signature says 蒲城县教育局 2020年11月5日, the sidecar's title is the plan's
    assert inferred(PUCHENG)["title"] != sidecar(PUCHENG)["title"]
    assert load_document(CORPUS / f"{PUCHENG}.txt").title == sidecar(PUCHENG)["title"]


def test_inference_from_renhuai_text_without_sidecar(tmp_path):
    path = tmp_path / f"{RENHUAI}.txt"
    shutil.copy(CORPUS / path.name, path)
    assert read_sidecar(path) == {}
    doc = load_document(path)
    assert doc.doc_number == "仁教字〔2017〕17号"
    assert doc.issuer == "仁怀市教育局"
    assert doc.date == "2017-05-15"
    assert doc.doc_type == "实施方案"  # the notice 印发《…实施方案》, so it is the plan
    assert "仁怀市品牌学校创建工作实施方案" in doc.title
    assert doc.extra == {}


def test_inference_ignores_other_doc_numbers_in_body():
    """The body cites 仁办发〔2016〕85号; the document's own 文号 is the one on its own line near the top."""
    meta = inferred(RENHUAI)
    assert meta["doc_number"] == "仁教字〔2017〕17号"


def test_inference_from_pucheng_signature():
    meta = inferred(PUCHENG)
    assert (meta["issuer"], meta["date"]) == ("蒲城县教育局", "2020-11-05")


def test_inference_without_signature_leaves_fields_empty():
    meta = inferred(BEIJING)
    assert meta["doc_number"] == meta["issuer"] == meta["date"] == ""
    assert meta["title"] == "推进义务教育学校管理标准化建设实施方案"  # the title glued to the run-on body


def test_empty_sidecar_values_do_not_blank_inferred_ones(tmp_path):
    path = tmp_path / f"{RENHUAI}.txt"
    shutil.copy(CORPUS / path.name, path)
    (tmp_path / f"{RENHUAI}.meta.json").write_text(
        json.dumps({"doc_number": "", "issuer": "仁怀市教育局(测试)", "reviewer": "张三"}, ensure_ascii=False),
        encoding="utf-8")
    doc = load_document(path)
    assert doc.doc_number == "仁教字〔2017〕17号"  # inferred, the sidecar was silent
    assert doc.issuer == "仁怀市教育局(测试)"  # the sidecar wins
    assert doc.date == "2017-05-15"
    assert doc.extra == {"reviewer": "张三"}


@pytest.mark.parametrize("content,why", [
    (b"{not json", "not valid"),
    (b"[1, 2, 3]", "JSON object"),
    ("{\"title\": \"仁怀\"}".encode("gb18030"), "UTF-8"),
])
def test_broken_sidecar_is_a_clear_error_naming_the_file(tmp_path, content, why):
    path = tmp_path / f"{RENHUAI}.txt"
    shutil.copy(CORPUS / path.name, path)
    side = tmp_path / f"{RENHUAI}.meta.json"
    side.write_bytes(content)
    with pytest.raises(SidecarError) as direct:
        read_sidecar(path)
    assert str(side) in str(direct.value) and why in str(direct.value)
    with pytest.raises(IngestError) as exc:
        load_document(path)
    message = str(exc.value)
    assert str(side) in message
    assert "\n" not in message


def test_broken_sidecar_skips_only_its_document(tmp_path):
    for doc_id in (RENHUAI, PUCHENG):
        shutil.copy(CORPUS / f"{doc_id}.txt", tmp_path)
        shutil.copy(CORPUS / f"{doc_id}.meta.json", tmp_path)
    (tmp_path / f"{RENHUAI}.meta.json").write_text("{\"title\": ", encoding="utf-8")
    report = prepare_documents([tmp_path], ChunkSettings())
    assert [d.doc_id for d in report.documents] == [PUCHENG]
    assert len(report.errors) == 1 and f"{RENHUAI}.meta.json" in report.errors[0]


@pytest.mark.parametrize("title,doc_type", [
    ("关于印发《仁怀市品牌学校创建工作实施方案》的通知", "实施方案"),
    ("蒲城县教育质量提升三年行动计划(2021—2023年)(征求意见稿)", "行动计划"),
    ("泾源县新优质学校培育规划", "规划"),
    ("关于做好招生工作的通知", "通知"),
    ("会议纪要", ""),
])
def test_infer_doc_type(title, doc_type):
    assert infer_doc_type(title) == doc_type
