"""Document metadata: read from a sidecar file, inferred from the text where the sidecar is silent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOC_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,10}[〔\[【(（]\d{4}[〕\]】)）]\s?\d{1,4}号")
DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
DOC_TYPES = ("实施方案", "行动计划", "实施意见", "指导意见", "意见", "通知", "规划", "办法", "条例", "规定",
             "决定", "方案", "计划", "法")
TITLE_HINT = re.compile(rf"({'|'.join(DOC_TYPES)})(\(.*\))?$")
ISSUER_HINT = re.compile(r"(教育局|教育厅|教育委员会|教育部|人民政府|办公厅|办公室|教育体育局|科技体育局)$")
# Co-signers of a joint document: any government body, when one of them is a known issuer (ISSUER_HINT).
JOINT_ISSUER = re.compile(r"^[\u4e00-\u9fff()()]{3,30}(厅|局|委员会|办公室|部|政府|委|院|会)$")
MAX_JOINT_ISSUERS = 12
TITLE_ISSUER = re.compile(r"^([\u4e00-\u9fff()()、]{4,60}?)(?:关于|印发)")
SIDECAR_FIELDS = ("title", "doc_number", "issuer", "date", "doc_type", "source", "issued_date",
                  "effective_date", "superseded_by")
LIFECYCLE_FLAGS = ("abolished",)
ISSUED = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*印发")


class SidecarError(ValueError):
    pass


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.json")


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar next to a document (`name.meta.json`), or {} when there is none."""
    side = sidecar_path(path)
    return load_sidecar(side, str(side), "fix it or delete it") if side.exists() else {}


def load_sidecar(side: Path, shown: str, fix: str) -> dict[str, Any]:
    """A sidecar file's JSON object; SidecarError naming it as `shown`, saying what to do (`fix`)."""
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SidecarError(f"{shown}: not valid UTF-8 JSON ({exc}); {fix}.") from exc
    if not isinstance(data, dict):
        raise SidecarError(f"{shown}: must hold a JSON object with keys such as {', '.join(SIDECAR_FIELDS)}.")
    return data


def infer_title(text: str) -> str:
    for line in text.split("\n")[:15]:
        line = line.strip()
        if 6 <= len(line) <= 80 and TITLE_HINT.search(line) and not DOC_NUMBER.fullmatch(line):
            return line
    first = text.strip().split("\n", 1)[0]
    run_on = re.match(rf"^(.{{4,60}}?(?:{'|'.join(DOC_TYPES[:-1])}))", first)  # title glued to the body
    if run_on:
        return run_on.group(1)
    return re.split(r"[。,,]", first, maxsplit=1)[0][:40]


def infer_doc_type(title: str) -> str:
    # A cover notice that 印发 a plan is the plan: 关于印发《X实施方案》的通知 -> 实施方案.
    inner = re.search(r"印发.*《(.+)》", title)
    target = inner.group(1) if inner else title
    return next((t for t in DOC_TYPES if re.search(rf"{t}(\(.*\))?$", target)), "")


def iso(m: re.Match) -> str:
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def cover_notice_parts(text: str, title: str) -> list[dict]:
    """关于印发《X》的通知 followed by X itself: a cover notice, then the plan it issues, as two parts."""
    inner = re.search(r"印发.*?《(.+?)》", title)
    if not inner:
        return []
    plan_title = inner.group(1)
    first_line_end = text.find("\n") + 1
    at = next((m.start() for m in re.finditer(re.escape(plan_title), text)
               if m.start() >= first_line_end and (m.start() == 0 or text[m.start() - 1] == "\n")), -1)
    if at < 0:
        return []
    return [{"kind": "cover_notice", "title": title, "start": 0, "end": at},
            {"kind": "issued_document", "title": plan_title, "start": at, "end": len(text)}]


def signature_issuers(lines_above: list[str]) -> list[str]:
    """The issuing bodies signed above a date line: one, or several for a joint document (教育厅, 发展和改革
    委员会, 财政厅 … each on its own line), in the order signed."""
    found: list[str] = []
    for line in reversed(lines_above[-MAX_JOINT_ISSUERS:]):
        if len(line) > 30 or not (ISSUER_HINT.search(line) or JOINT_ISSUER.search(line)):
            break
        found.insert(0, line)
    return found if any(ISSUER_HINT.search(line) for line in found) else []


def infer_metadata(text: str) -> dict[str, str]:
    """Best-effort title, 文号, dates (成文, 印发) and issuer from the cleaned text."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    meta = {"title": infer_title(text), "doc_number": "", "issuer": "", "date": ""}
    issued = ISSUED.search(text)
    if issued:
        meta["issued_date"] = iso(issued)
    numbers = [m.group(0) for line in lines[:12] for m in [DOC_NUMBER.search(line)] if m]
    if numbers:
        meta["doc_number"] = numbers[0].replace(" ", "")
    for i, line in enumerate(lines):
        m = DATE.fullmatch(line)
        if m:  # a signature: the issuer(s) on the lines above, the date on its own line
            meta["date"] = iso(m)
            meta["issuer"] = "、".join(signature_issuers(lines[:i]))
            break
    if not meta["issuer"]:  # "泉州市人民政府办公室关于印发…的通知": unsigned, but the title says who
        m = TITLE_ISSUER.match(meta["title"])
        meta["issuer"] = m.group(1) if m and all(JOINT_ISSUER.search(b) for b in m.group(1).split("、")) else ""
    meta["doc_type"] = infer_doc_type(meta["title"])
    return meta
