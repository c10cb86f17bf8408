"""Noise removal on the real scraped corpus: page furniture goes, policy content stays."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from helpers import BEIJING, CORPUS, JINGYUAN, ONE_BRAND, PUCHENG, RENHUAI

from ingest.chunking import ChunkSettings
from ingest.clean import clean_text, normalize_line
from ingest.pipeline import load_document, prepare_documents
from ingest.readers import read_text


def raw(doc_id: str) -> str:
    return read_text(CORPUS / f"{doc_id}.txt")


def cleaned(doc_id: str):
    return clean_text(raw(doc_id))


# Noise seen in the scraped files (view counters, breadcrumbs, page lists, sharing-site furniture).
NOISE_MARKERS = [
    "人气指数", "当前位置", "ICP备", "公网安备", "扫一扫", "上传人", "文档编号", "附件下载", "资源描述",
    "收藏 下载该资源", "展开阅读全文", "资源预览内容", "点击查看更多", "相关搜索", "相关资源", "客服QQ",
    "All Rights Reserved", "由会员分享", "该文档总共", "举报电话", "版权所有", "浏览:2416次", ".docx",
]
PAGE_LIST = re.compile(r"第\s*\d+\s*页\s*/\s*共\s*\d+\s*页")


def test_every_noise_marker_is_really_in_the_raw_corpus():
    """Guards the next test against checking for noise that no file contains."""
    raws = ["\n".join(normalize_line(line) for line in raw(d).split("\n")) for d in
            (BEIJING, JINGYUAN, ONE_BRAND, PUCHENG, RENHUAI)]
    for marker in NOISE_MARKERS:
        assert any(marker in text for text in raws), marker
    assert sum(len(PAGE_LIST.findall(text)) for text in raws) >= 11  # 9 in beijing, 2 in one-brand


@pytest.mark.parametrize("doc_id", [BEIJING, JINGYUAN, ONE_BRAND, PUCHENG, RENHUAI])
def test_no_noise_line_survives(doc_id):
    text = cleaned(doc_id).text
    for marker in NOISE_MARKERS:
        assert marker not in text, f"{doc_id}: {marker!r} survived cleaning"
    assert not PAGE_LIST.search(text)
    assert "_第1页" not in text and "_第2页" not in text


@pytest.mark.parametrize("doc_id", [BEIJING, JINGYUAN, ONE_BRAND, PUCHENG, RENHUAI])
def test_policy_text_is_kept(doc_id):
    """Cleaning must not eat the document: most of the raw CJK text is still there."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    result = cleaned(doc_id)
    removed_chars = sum(len(cjk.findall(line)) for _, line in result.removed_lines)
    assert len(cjk.findall(result.text)) + removed_chars == len(cjk.findall(raw(doc_id)))
    assert len(cjk.findall(result.text)) > 0.8 * len(cjk.findall(raw(doc_id)))


def test_pucheng_contact_details_survive():
    text = cleaned(PUCHENG).text
    lines = text.split("\n")
    assert "电话:0913-7221932" in lines
    assert "pcjjyg@163.com" in text
    # The notice's signature: issuer, then the date on its own line.
    i = lines.index("2020年11月5日")
    assert lines[i - 1] == "蒲城县教育局"
    assert lines[0] == "蒲城县教育局"  # the scraped "作者:… 浏览:…次发布时间:…" header line is gone


def test_renhuai_addressee_signature_and_dates_survive():
    text = cleaned(RENHUAI).text
    lines = text.split("\n")
    assert any(line.startswith("市直各学校") for line in lines)
    assert "仁教字〔2017〕17号" in lines
    i = lines.index("2017年5月15日")
    assert lines[i - 1] == "仁怀市教育局"
    assert "2017年5月22日印发" in text
    assert "仁怀市教育局办公室" in text
    assert "附件:1.仁怀市品牌学校创建申报表" in text  # an attachment list is content, "附件下载" is not
    assert lines[0] == "关于印发《仁怀市品牌学校创建工作实施方案》的通知"
    assert "文件发布" not in lines  # a breadcrumb word standing alone on a line is navigation


def test_page_markers_removed_and_split_text_rejoined():
    text = cleaned(ONE_BRAND).text
    assert "创办人民满足的教化" in text  # "创办人" | "2、民满足的教化" across a page break
    assert "7、、" not in text
    assert "先导作用、促进作用" in text  # page 7 began "7、、促进作用"
    assert not [line for line in text.split("\n") if re.match(r"^\d+、", line)]
    # The real numbered list of 六、工作要求 (1、… 4、 mid-line) is not mistaken for page markers.
    for item in ("1、加强领导", "2、狠抓落实", "3、强化督查", "4、嘉奖激励"):
        assert item in text


def test_every_page_break_is_rejoined_mid_sentence():
    """Each page of the sharing-site dump ends mid-sentence; the text on both sides must be contiguous."""
    source = raw(ONE_BRAND)
    text = cleaned(ONE_BRAND).text
    pages = re.split(r"\n\s*\n(?=\d{1,2}、)", source)
    pages = [p for p in pages if re.match(r"^\d{1,2}、", p)]
    assert len(pages) == 13
    broken = []
    for before, after in zip(pages, pages[1:], strict=False):
        tail = before.rstrip()[-10:]
        head = re.sub(r"^\d{1,2}、", "", after.lstrip())[:10]
        if tail + head not in text:
            broken.append(tail + "|" + head)
    assert not broken, f"page breaks left split: {broken}"


def test_removed_counts_reported_by_kind():
    result = cleaned(RENHUAI)
    # From the raw file: line 1 breadcrumb, line 3 "文件发布", line 7 view counter, last line "附件下载".
    assert result.removed == Counter(breadcrumb=1, navigation=1, view_counter=1, download_share=1)
    assert sum(result.removed.values()) == len(result.removed_lines)
    assert Counter(kind for kind, _ in result.removed_lines) == result.removed


def test_page_marker_count_matches_the_raw_file():
    source = raw(ONE_BRAND)
    markers = [line for line in source.split("\n") if re.match(r"^\d{1,3}、", line.strip())]
    result = cleaned(ONE_BRAND)
    assert result.removed["page_marker"] == len(markers) == 13
    assert [line for kind, line in result.removed_lines if kind == "page_marker"] == \
        [f"{n}、" for n in range(1, 14)]


def test_beijing_page_list_and_jingyuan_scan_prompt_counts():
    beijing = cleaned(BEIJING)
    pages = [line for line in raw(BEIJING).split("\n") if PAGE_LIST.fullmatch(line.strip())]
    assert len(pages) == 9
    assert beijing.removed["page_list"] >= len(pages)
    assert beijing.removed["copyright"] == 3  # 网站客服QQ, 金锄头文库版权所有, 经营许可证/ICP
    assert cleaned(JINGYUAN).removed == Counter(scan_prompt=1)


def test_each_removed_line_is_noise_of_its_kind():
    kinds_words = {"view_counter": "人气指数", "breadcrumb": "当前位置", "scan_prompt": "扫一扫"}
    for doc_id in (BEIJING, JINGYUAN, ONE_BRAND, PUCHENG, RENHUAI):
        for kind, line in cleaned(doc_id).removed_lines:
            if kind in kinds_words:
                assert kinds_words[kind] in line


def test_document_and_report_carry_removed_counts(corpus_dir):
    doc = load_document(corpus_dir / f"{RENHUAI}.txt")
    assert doc.removed == dict(cleaned(RENHUAI).removed)
    report = prepare_documents([corpus_dir], ChunkSettings())
    total = Counter()
    for d in report.documents:
        total.update(d.removed)
    assert report.removed == total
    assert report.removed["page_marker"] == 13


def test_clean_is_idempotent():
    for doc_id in (BEIJING, ONE_BRAND, RENHUAI):
        once = cleaned(doc_id).text
        again = clean_text(once)
        assert again.text == once
        assert sum(again.removed.values()) == 0


def test_fullwidth_forms_are_folded():
    result = clean_text("(一)总体目标:到2020年\n")
    assert result.text == "(一)总体目标:到2020年\n"
