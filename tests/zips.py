"""Zip archives built in tests: attachments (附件) zipped as Chinese Windows does, and hostile ones."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

from helpers import CORPUS, DATA, PUCHENG, RENHUAI

ZIP_NAME = "关于印发劳动教育等三个方案的通知附件.zip"
LABOUR_MEMBER = "附件1：青溪县中小学劳动教育实施方案.docx"
RENHUAI_MEMBER = "附件2：仁怀市品牌学校创建工作实施方案.txt"
PUCHENG_MEMBER = "附件3/蒲城县教育质量提升三年行动计划.txt"  # in a folder of the archive
# Their document ids: the archive's name and the member's path (ingest.pipeline.member_doc_id).
LABOUR_ZIP_ID = "关于印发劳动教育等三个方案的通知附件-附件1-青溪县中小学劳动教育实施方案"
RENHUAI_ZIP_ID = "关于印发劳动教育等三个方案的通知附件-附件2-仁怀市品牌学校创建工作实施方案"
PUCHENG_ZIP_ID = "关于印发劳动教育等三个方案的通知附件-附件3-蒲城县教育质量提升三年行动计划"
# A question each member answers, and what the answer and its first citation must hold.
QUESTIONS = {
    LABOUR_ZIP_ID: ("青溪县到2025年底要建成多少个县级劳动教育实践基地?", "7个"),
    RENHUAI_ZIP_ID: ("哪个股室牵头实施特色创新课程构建工程?", "教研室"),
    PUCHENG_ZIP_ID: ("蒲城每个学科中心组每学年列支多少经费?", "10万元"),
}
ARCHIVE_SOURCE = "https://jyj.example.gov.cn/tzgg/附件.zip"  # the archive's sidecar: shared by its members


class GbkName(zipfile.ZipInfo):
    """An entry named in GBK without the UTF-8 flag, as Explorer and WinRAR write them on Chinese Windows."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def labour_docx() -> bytes:
    """The labour plan of tests/data as a Word file written with python-docx, one paragraph a line."""
    import docx

    d = docx.Document()
    for line in (DATA / "qingxi-labour-plan.txt").read_text(encoding="utf-8").splitlines():
        d.add_paragraph(line)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def write_zip(path: Path, entries: list[tuple[str, bytes]], gbk: bool = True,
              method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as out:
        for name, data in entries:
            info = (GbkName if gbk else zipfile.ZipInfo)(name, (2024, 3, 6, 9, 0, 0))
            info.compress_type = method
            out.writestr(info, data)
    return path


def attachments() -> list[tuple[str, bytes]]:
    """Three documents from text in the repository, one a .docx, one in a folder, one with its own sidecar,
    and the litter a Mac leaves (never read)."""
    renhuai_meta = json.loads((CORPUS / f"{RENHUAI}.meta.json").read_text(encoding="utf-8"))
    return [
        (LABOUR_MEMBER, labour_docx()),
        (RENHUAI_MEMBER, (CORPUS / f"{RENHUAI}.txt").read_bytes()),
        (RENHUAI_MEMBER.replace(".txt", ".meta.json"), json.dumps(renhuai_meta, ensure_ascii=False).encode()),
        ("附件3/", b""),
        (PUCHENG_MEMBER, (CORPUS / f"{PUCHENG}.txt").read_bytes()),
        (f"__MACOSX/._{LABOUR_MEMBER}", b"\x00\x05\x16\x07 resource fork"),
    ]


def attachments_zip(folder: Path, name: str = ZIP_NAME) -> Path:
    """The three attachments zipped with GBK names, and the archive's sidecar (its source)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = write_zip(folder / name, attachments())
    (folder / name.replace(".zip", ".meta.json")).write_text(json.dumps({"source": ARCHIVE_SOURCE}),
                                                             encoding="utf-8")
    return path


def with_symlink(path: Path, link: str, target: str, entries: list[tuple[str, bytes]]) -> Path:
    """An archive with a symbolic link entry (as `zip --symlinks` writes one) beside ordinary members."""
    write_zip(path, entries, gbk=False)
    with zipfile.ZipFile(path, "a") as out:
        info = zipfile.ZipInfo(link)
        info.create_system = 3  # Unix: the mode in external_attr is read
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(info, target)
    return path


def bomb_zip(path: Path, member: str, mb: int, entries: list[tuple[str, bytes]]) -> Path:
    """An archive one of whose members is `mb` MB of spaces (~1000-fold deflated), written in 1 MB pieces."""
    write_zip(path, entries, gbk=False)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as out, out.open(member, "w", force_zip64=True) as f:
        block = b" " * (1 << 20)
        for _ in range(mb):
            f.write(block)
    return path
