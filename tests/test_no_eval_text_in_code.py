"""No eval question is written into the answer step or retrieval: a rule that exists because one eval
question failed is a defect. Fails when a piece of an eval question appears in a source or data file under
answer/ or retrieval/: 8 consecutive Chinese characters (after NFKC, whitespace and punctuation removed),
or, in English, 4 consecutive words (a window of 8 letters would be one common word such as "students"). Words
inside a law's official English title, and characters inside its Chinese name (answer/data/laws_en.tsv), do not
count: a question naming the law quotes the law, not the code."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CJK_WINDOW, WORD_WINDOW = 8, 4
SOURCE_SUFFIXES = {".py", ".json", ".txt", ".tsv", ".csv", ".md"}
CJK = re.compile(r"[\u3400-\u9fff]")


def cjk_only(text: str) -> str:
    """The Chinese characters of a text, in order (punctuation, spaces and Latin letters dropped)."""
    return "".join(CJK.findall(unicodedata.normalize("NFKC", text)))


def words_only(text: str) -> str:
    """The Latin words of a text, lower-cased, one space apart."""
    return " ".join(re.findall(r"[a-z0-9']+", unicodedata.normalize("NFKC", text).lower()))


def law_titles() -> str:
    """The official English titles of laws (answer/data/laws_en.tsv, from the NPC's translations), one space
    apart: a question naming a law by (part of) its title quotes the law's name, not the code."""
    rows = (REPO / "answer/data/laws_en.tsv").read_text(encoding="utf-8").splitlines()
    return " | ".join(words_only(r.split("\t")[0]) for r in rows if r.strip() and not r.startswith("#"))


def law_names() -> str:
    """The laws' Chinese names (answer/data/laws_en.tsv's second column), " | " apart: 国家通用语言文字 in a question
    names the law, not the code."""
    rows = (REPO / "answer/data/laws_en.tsv").read_text(encoding="utf-8").splitlines()
    return " | ".join(cjk_only(r.split("\t")[1]) for r in rows
                      if r.strip() and not r.startswith("#") and "\t" in r)


def windows(question: str) -> list[str]:
    chars, words = cjk_only(question), words_only(question).split()
    return ([chars[i:i + CJK_WINDOW] for i in range(len(chars) - CJK_WINDOW + 1)]
            + [" ".join(words[i:i + WORD_WINDOW]) for i in range(len(words) - WORD_WINDOW + 1)])


def eval_questions() -> list[tuple[str, str]]:
    found = []
    for path in sorted((REPO / "evals").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                found.append((f"{path.name}:{item['id']}", item["question"]))
    return found


def code_files() -> list[Path]:
    return [p for folder in ("answer", "retrieval") for p in sorted((REPO / folder).rglob("*"))
            if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts]


def shared_windows(question: str, code: tuple[str, str]) -> list[str]:
    """The question's windows found in code given as (its Chinese characters, its words)."""
    chars, words = code
    titles, names = f" {law_titles()} ", law_names()
    return [w for w in windows(question)
            if w in (words if " " in w else chars) and not (" " in w and f" {w} " in titles)
            and not (" " not in w and w in names)]


def as_code(text: str) -> tuple[str, str]:
    return cjk_only(text), " " + words_only(text) + " "


def test_the_check_sees_eval_sets_and_code():
    assert len(eval_questions()) > 300 and len(code_files()) > 10


def test_the_check_finds_a_copied_question():
    assert shared_windows("学校能开除初中生吗?", as_code('# e.g. "学校能开除初中生吗" -> 不得开除'))
    assert shared_windows("Which office leads the curriculum project?", as_code("# which office leads the x"))
    assert not shared_windows("学校能开除初中生吗?", as_code("学校 开除 初中生"))
    assert not shared_windows("Which office leads the curriculum project?", as_code("office leads curriculum"))
    # a law's official English title is the law's name, not eval text; the words around it still count
    title = "What does the Family Education Promotion Law say about parents and children?"
    assert not shared_windows(title, as_code("family education promotion law\t家庭教育促进法"))
    assert shared_windows(title, as_code("# say about parents and children"))
    # so is a law's Chinese name
    assert not shared_windows("国家通用语言文字法规定了什么?", as_code("national common language law\t国家通用语言文字法"))
    assert shared_windows("国家通用语言文字法规定了什么?", as_code("# 通用语言文字法规定了什么"))


def test_no_eval_question_appears_in_answer_or_retrieval_code():
    code = {p.relative_to(REPO).as_posix(): as_code(p.read_text(encoding="utf-8")) for p in code_files()}
    offences = []
    for where, question in eval_questions():
        for name, text in code.items():
            windows = shared_windows(question, text)
            if windows:
                offences.append(f"{where} in {name}: {windows[0]!r}")
    assert not offences, f"{len(offences)} eval question(s) quoted in code:\n" + "\n".join(offences[:40])
