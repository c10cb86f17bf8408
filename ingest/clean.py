"""Remove web-page and document-sharing-site noise from scraped policy text.

Every rule is a named kind so that ingest can report what it removed (`CleanResult.removed`).
Real content (addressees, phone and e-mail for feedback, signatures, dates) is never matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

# (kind, pattern). A line matching any pattern is dropped whole.
NOISE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("breadcrumb", re.compile(r"^(当前位置|您当前的位置|您现在的位置|当前页面)[::]")),
    ("view_counter", re.compile(r"(人气指数|浏览次数|阅读次数|点击数|浏览[::]\s*\d+\s*次)")),
    ("page_list", re.compile(r"^第\s*\d+\s*页\s*/\s*共\s*\d+\s*页$")),
    ("page_list", re.compile(r"_第\d+页$")),
    ("page_list", re.compile(r"^(资源预览内容|点击查看更多>*|展开阅读全文|资源描述)$")),
    ("page_list", re.compile(r"该文档总共\d+页")),
    ("download_share", re.compile(r"^(附件下载|相关资源|相关搜索|收藏\s*下载该资源|分享到.*|打印本页|关闭窗口)$")),
    ("download_share", re.compile(r"^返回\s+下载\s+相关\s+举报$")),
    ("uploader", re.compile(r"(上传人[::]|文档编号[::]|上传时间[::])")),
    ("uploader", re.compile(r"由会员分享.*可在线阅读")),
    ("copyright", re.compile(r"(ICP备|公网安备|版权所有|All Rights Reserved|^©|客服QQ|举报电话|不良信息举报)")),
    ("copyright", re.compile(r"(本站为文档.*交易模式|经营许可证[::])")),
    ("scan_prompt", re.compile(r"^扫一扫")),
    ("file_name", re.compile(r"^\S{2,80}\.(docx?|pdf|wps|txt)$", re.IGNORECASE)),
]

# A scraped header line such as "作者:王晓锋 浏览:2416次发布时间:2020-11-06 16:37".
POST_META = re.compile(r"^(作者[::].*)?(发布时间|时间)[::]\s*\d{4}")

TERMINAL_PUNCT = "。;;!!??::」』)"
PAGE_MARKER = re.compile(r"^(\d{1,3})、")


PAGE_SENTINEL = "\f"  # readers separate PDF pages with a form feed


@dataclass
class CleanResult:
    text: str
    removed: Counter = field(default_factory=Counter)
    removed_lines: list[tuple[str, str]] = field(default_factory=list)  # (kind, line) for auditing
    page_starts: list[int] = field(default_factory=list)  # offset where each page begins (PDF only)


def normalize_line(line: str) -> str:
    # NFKC folds full-width letters/digits/parentheses to half-width, so "(一)" and "(一)" match alike.
    return unicodedata.normalize("NFKC", line).strip()


def _noise_kind(line: str) -> str | None:
    if POST_META.search(line) and len(line) < 80:
        return "post_meta"
    for kind, pattern in NOISE_RULES:
        if pattern.search(line):
            return kind
    return None


def _nav_words(lines: list[str]) -> set[str]:
    """Words of breadcrumb lines ("首页 > 政务公开 > 文件发布"): a short line repeating one is navigation."""
    words: set[str] = set()
    for line in lines:
        if re.match(NOISE_RULES[0][1], line) or line.count(">") >= 2:
            words.update(w.strip() for w in re.split(r">+|[::]", line) if w.strip())
    return words


def ends_sentence(line: str) -> bool:
    """A closing quote ends a sentence only after 。 (…“一校一品”建设 goes on; …要求。” does not)."""
    if line.endswith(("”", "’")):
        return len(line) > 1 and line[-2] in "。!?!?"
    return line[-1] in TERMINAL_PUNCT


def rejoin_page_markers(lines: list[str], result: CleanResult) -> list[str]:
    """Drop the "1、" "2、" page markers that sharing sites put where each page starts.

    They number consecutive pages, start at 1, and most pages end mid-sentence; a real numbered list
    does not end its items mid-sentence, so it is left alone.
    """
    marked = [i for i, line in enumerate(lines) if PAGE_MARKER.match(line)]
    numbers = [int(PAGE_MARKER.match(lines[i]).group(1)) for i in marked]
    if len(marked) < 3 or numbers != list(range(1, len(numbers) + 1)):
        return lines
    # Each page boundary: is the text before the marker cut mid-sentence?
    cut = sum(1 for i in marked[1:] if lines[i - 1] and not ends_sentence(lines[i - 1]))
    if cut < (len(marked) - 1) / 2:
        return lines
    out: list[str] = []
    marked_set = set(marked)
    for i, line in enumerate(lines):
        if i in marked_set:
            result.removed["page_marker"] += 1
            result.removed_lines.append(("page_marker", line[: PAGE_MARKER.match(line).end()]))
            body = line[PAGE_MARKER.match(line).end():]
            if out and out[-1] and out[-1] != PAGE_SENTINEL and not ends_sentence(out[-1]):
                out[-1] += body  # the page broke a sentence (or a word): join it back
                continue
            line = body
        out.append(line)
    return out


def clean_text(raw: str) -> CleanResult:
    result = CleanResult(text="")
    raw = raw.replace(PAGE_SENTINEL, f"\n{PAGE_SENTINEL}\n")
    lines = [line if line == PAGE_SENTINEL else normalize_line(line) for line in raw.split("\n")]
    nav = _nav_words(lines)
    kept: list[str] = []
    for line in lines:
        if not line:
            continue
        kind = None if line == PAGE_SENTINEL else _noise_kind(line)
        if kind is None and line in nav and len(line) <= 8:
            kind = "navigation"
        if kind:
            result.removed[kind] += 1
            result.removed_lines.append((kind, line))
            continue
        kept.append(re.sub(r"[ \t\u3000]{2,}", "  ", line))
    kept = rejoin_page_markers(kept, result)
    out, offset = [], 0
    if PAGE_SENTINEL in kept:
        result.page_starts.append(0)
    for line in kept:
        if line == PAGE_SENTINEL:
            result.page_starts.append(offset)
            continue
        out.append(line)
        offset += len(line) + 1
    result.text = "\n".join(out) + "\n"
    return result
