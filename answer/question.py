"""What a question asks for: its language, its weighted terms, and the kind of value it wants.

Answer composition uses this to pick sentences, and answerability uses it to refuse when the retrieved
clauses talk about the right topic but do not hold the value asked for ("专项经费一年拨多少万?" over a
clause that sets up the fund without naming a sum).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from retrieval.tokenize import STOPWORDS, content_terms, english_words, glossary, synonyms

CN_NUM = "一二三四五六七八九十百千万两零〇"
UNITS = "人名个所岁年月日天次项条元米分倍课时学时周岁节支类门批届级期"

RESPONSIBILITY_ZH = re.compile(r"(牵头|负责|谁|哪个(股室|部门|单位|科室|处室)|哪些(股室|部门|单位)|责任单位|协助|配合)")
RESPONSIBILITY_EN = re.compile(r"\b(lead|leads|leading|responsible|in charge|which office|which department|who)\b", re.I)
DOC_NUMBER_Q = re.compile(r"(文号|发文字号|字号|document number|reference number)", re.I)
NUMERIC_Q = re.compile(r"(几|多少|多久|多长|多远|多大|什么时候|何时|哪年|哪一年|时间|日期|截止|期限|周期|电话|邮箱|"
                       r"how many|how much|how long|how old|when|deadline|date|phone|e-?mail|number|year|ratio)", re.I)
LIST_Q = re.compile(r"(哪[几些][条项个种类方面支句部分所]?|几[条项个种类方面支句]|分哪|包括哪|包括什么|包括啥|有哪|都有啥|"
                    rf"叫啥|叫什么|是哪[{CN_NUM}]+|哪[{CN_NUM}]+[条项个种支句所部])|\bwhat are\b|\blist\b|\bwhich\b.*\bare\b",
                    re.I)

# A question wanting one of these kinds of value is answerable only by a sentence that holds one.
SLOT_QUESTIONS = {
    "amount": re.compile(r"(多少(万|钱|元|亿)|(经费|资金|奖金|补助|补贴|工资|费用|拨款).{0,8}多少|奖金|"
                         r"多少.{0,4}(经费|资金|钱|补助|补贴|费用|奖金)|"
                         r"how much (money|funding|is the|does|per)|\bhow much\b.{0,40}\b(fund|funding|money|budget|"
                         r"grant|subsid\w*|pay|salary|cost|fee)|\bpaid\b|\bsalary\b|\bpay rate\b|\bhourly pay\b|"
                         r"\bwages?\b|\bsubsidy\b|\bprize money\b|\bbudget of\b)", re.I),
    "date": re.compile(r"(哪天|哪一天|哪年|哪一年|几号|几月|什么时候|啥时候|何时|什么时间|截止|最晚|多会儿|"
                       r"\bwhen\b|what date|which date|deadline|by when|what year)", re.I),
    "percent": re.compile(r"(比例|百分之|占.{0,6}多少|percentage|\bratio\b|\bshare of\b)", re.I),
    "count": re.compile(r"((?<![这那哪])几[个人名岁所次天分年项倍级档批轮届]|配比|多少|多远|多大|多久|多长|"
                        r"how many|how old|how long|how far|maximum|minimum|\bratio\b|\bsize\b|\bcap\b|\blimit\b|分数线|多少分|passing score)", re.I),
    "address": re.compile(r"(地址|在哪办公|在哪儿办公|办公地点|(?<!e-mail )(?<!email )\baddress\b)", re.I),
    "email": re.compile(r"(邮箱|电子邮件|e-?mail)", re.I),
    "phone": re.compile(r"(电话|联系方式|手机号|\bphone\b|telephone)", re.I),
    "hours": re.compile(r"(办公时间|几点|上班时间|office hours|opening hours|what time)", re.I),
    "names": re.compile(rf"(名单[里上中都]|哪些(学校|高校|大学|院校)|哪几所|哪[\d{CN_NUM}]+所|跟哪些大学|"
                        r"which (schools|universities|colleges))", re.I),
}
_NUMBER = rf"(\d|[{CN_NUM}]+[{UNITS}])"
SLOT_VALUES = {
    "amount": re.compile(rf"(\d[\d.,]*\s*(万|亿)?元|[{CN_NUM}]+(万|亿)?元|\d+(\.\d+)?\s*万)"),
    "date": re.compile(rf"(\d{{1,4}}\s*[年月日号时点:]|[{CN_NUM}]+[年月日号]|学年|年底|年初|年前|月底|春季|秋季|"
                       r"之日起|起施行|前完成|前上报|前报|\d{4}\.\d|\d{4}\s*[-—–~至到]\s*\d{4})"),
    "count": re.compile(_NUMBER + "|%|以上|以下|不超过|不少于|不低于|每[年月周天学季]|年度|学期"),
    "percent": re.compile(r"\d\s*%|百分之|\d+成|\d+分之"),
    "address": re.compile(r"(路|街|巷|大道|号楼|\d+号|地址)"),
    "phone": re.compile(r"\d{3,4}-?\d{7,8}|\d{8,11}"),
    "email": re.compile(r"[\w.-]+@[\w-]+\.\w+"),
    "hours": re.compile(r"\d{1,2}[::]\d{2}\s*[-—–~至到]\s*\d{1,2}[::]\d{2}|[上下]午\s*\d|工作日"),
    "names": re.compile(r"(?=([\u4e00-\u9fff]{2,8}?(?:中学|小学|大学|学院|学校|幼儿园))[、,和及与]"
                        r"([\u4e00-\u9fff]{2,12}?(?:中学|小学|大学|学院|学校|幼儿园)))"),
}


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def is_english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return letters > cjk * 2


Groups = list[tuple[float, list[str]]]


@dataclass(frozen=True)
class Question:
    text: str
    english: bool
    groups: Groups  # weighted alternatives: each group is satisfied by any of its terms
    quoted: tuple[str, ...]  # phrases the asker put in quotes: they must be found
    slots: tuple[str, ...]  # kinds of value wanted (amount, date, count, ...)
    asks_who: bool
    asks_list: bool
    asks_doc_number: bool
    asks_number: bool
    names: tuple[str, ...]  # places and laws the question names: the answer must come from them
    units: tuple[str, ...] = ()  # the unit a count is asked in ("多少学时" -> 学时), when it says

    def holds(self, slot: str, text: str) -> bool:
        """Whether the text holds the kind of value asked for; a count in the asked unit when known."""
        if slot == "count" and self.units:
            numbers = rf"(\d+(\.\d+)?|[{CN_NUM}]{{2,4}}|[二三四五六七八九十两])\s*[余多]?({'|'.join(self.units)})"
            return bool(re.search(numbers, norm(text)))
        return holds_slot(slot, text)


    @property
    def terms(self) -> list[str]:
        return [alt for _, alts in self.groups for alt in alts]


# Question words ask for a value (see SLOT_QUESTIONS); they are not terms the answer must contain.
INTERROGATIVE = re.compile(r"^(哪|几|多少|多远|多久|多长|多大|咋|啥|怎|什么|为何|是否|能否|得多)")


def question_groups(question: str) -> Groups:
    """A Chinese term is its own group (with the policy words for a colloquial one); an English word
    becomes its glossary translations (or itself, weighing less, when the glossary has no entry)."""
    groups: Groups = []
    english = english_words(question)
    for term in content_terms(question):
        if re.search(r"[a-z]", term) or INTERROGATIVE.match(term):  # English words are handled below
            continue
        groups.append((float(min(len(term), 4)), [term, *synonyms().get(term, [])]))
    for word in sorted(english):
        if word in STOPWORDS:
            continue
        translated = glossary().get(word)
        groups.append((3.0, translated) if translated else (1.0, [word]))
    return groups


@lru_cache(maxsize=4096)
def analyse(question: str) -> Question:
    english = is_english(question)
    quoted = tuple(norm(q) for q in re.findall(r"[“\"'‘「《]([^”\"'’」》]{2,20})[”\"'’」》]", question)
                   if re.search(r"[\u4e00-\u9fff]", q))
    slots = tuple(name for name, pattern in SLOT_QUESTIONS.items() if pattern.search(question))
    who = RESPONSIBILITY_EN.search(question) if english else RESPONSIBILITY_ZH.search(question)
    return Question(question, english, question_groups(question), quoted, slots, bool(who),
                    bool(LIST_Q.search(question)), bool(DOC_NUMBER_Q.search(question)),
                    bool(NUMERIC_Q.search(question)), named_entities(question), asked_units(question))


# "多少人/几名/多少学时/几分", "how many points": the unit a count must come in. Persons count in 人 or 名.
UNIT_WORDS = {"人": ("人", "名"), "名": ("人", "名"), "学时": ("学时",), "课时": ("课时", "节"), "岁": ("岁", "周岁"),
              "分": ("分",), "天": ("天", "日"), "日": ("天", "日"), "次": ("次",), "所": ("所",), "米": ("米",),
              "倍": ("倍",), "万": ("万",), "个": ("个",), "级": ("级",), "档": ("档",)}
PERSON_NOUNS = re.compile(r"^[\u4e00-\u9fff]{0,3}?(老师|教师|学生|人员|名额|员工|保安)")
ENGLISH_UNITS = {"class size": ("人", "名"), "score": ("分",), "points": ("分",), "people": ("人", "名"), "persons": ("人", "名"), "teachers": ("人", "名"),
                 "students": ("人", "名"), "pupils": ("人", "名"), "hours": ("学时", "课时", "小时"), "days": ("天", "日"), "years": ("年",)}


def asked_units(question: str) -> tuple[str, ...]:
    m = re.search(r"(多少|几)([\u4e00-\u9fff]{1,2})", question)
    if m:
        after = m.group(2)
        for word, units in UNIT_WORDS.items():
            if after.startswith(word):
                return units
        if PERSON_NOUNS.match(question[m.end(1):]):
            return ("人", "名")
    m = re.search(r"how many (\w+)|(class size|score)\b", question, re.I)
    return ENGLISH_UNITS.get((m.group(1) or m.group(2)).lower(), ()) if m else ()


# "教师法规定…", "学前教育法是…": a law named in the question. (Regulations, 条例, are left out: staff
# abbreviate their names too freely to check them.)
LAW_NAME = re.compile(r"(?:^|[按依据照和与及、《“??,,。 ])([\u4e00-\u9fff]{2,8}?法)(?=[是里中的规说对和与》”要得咋怎如第,,??]|$)")


NOT_LAW = re.compile(r"(办法|方法|做法|看法|想法|说法|用法|算法|手法|写法)$")  # ends in 法, names no law

# Provinces and big cities as English questions write them (and their Chinese names, which jieba does not
# always tag as places: 仁怀, 蒲城).
ENGLISH_PLACES = {
    "beijing": "北京", "tianjin": "天津", "shanghai": "上海", "chongqing": "重庆", "hebei": "河北", "shanxi": "山西",
    "liaoning": "辽宁", "jilin": "吉林", "heilongjiang": "黑龙江", "jiangsu": "江苏", "zhejiang": "浙江",
    "anhui": "安徽", "fujian": "福建", "jiangxi": "江西", "shandong": "山东", "henan": "河南", "hubei": "湖北",
    "hunan": "湖南", "guangdong": "广东", "hainan": "海南", "sichuan": "四川", "guizhou": "贵州", "yunnan": "云南",
    "shaanxi": "陕西", "gansu": "甘肃", "qinghai": "青海", "taiwan": "台湾", "inner mongolia": "内蒙古",
    "guangxi": "广西", "tibet": "西藏", "ningxia": "宁夏", "xinjiang": "新疆", "hong kong": "香港", "macao": "澳门",
    "guangzhou": "广州", "shenzhen": "深圳", "hangzhou": "杭州", "nanjing": "南京", "wuhan": "武汉",
    "chengdu": "成都", "xi'an": "西安", "xian": "西安", "ningbo": "宁波", "nantong": "南通", "quanzhou": "泉州",
    "changping": "昌平", "haidian": "海淀", "renhuai": "仁怀", "pucheng": "蒲城", "jingyuan": "泾源",
}


# Laws as English questions name them (longest first, so "compulsory education law" is not also 教育法).
ENGLISH_LAWS = {
    "compulsory education law": "义务教育法", "higher education law": "高等教育法",
    "vocational education law": "职业教育法", "preschool education law": "学前教育法",
    "pre-school education law": "学前教育法", "private education promotion law": "民办教育促进法",
    "law on the protection of minors": "未成年人保护法", "minors protection law": "未成年人保护法",
    "teachers law": "教师法", "teachers' law": "教师法", "teacher law": "教师法", "education law": "教育法",
}
ENGLISH_LAW = re.compile("|".join(rf"\b{re.escape(k)}\b" for k in sorted(ENGLISH_LAWS, key=len, reverse=True)))


def named_entities(question: str) -> tuple[str, ...]:
    """Place names (jieba's ns tag, or a province/city in English) and law names in the question."""
    import jieba.posseg  # loads its model on first use only

    places = [w.word for w in jieba.posseg.cut(question) if w.flag == "ns" and len(w.word) >= 2]
    lowered = question.lower()
    places += [zh for en, zh in ENGLISH_PLACES.items() if re.search(rf"\b{re.escape(en)}\b", lowered) or zh in question]
    laws = [re.split(r"[按依据照和与及]", name)[-1] for name in LAW_NAME.findall(question)]
    laws += [ENGLISH_LAWS[m.group(0)] for m in ENGLISH_LAW.finditer(lowered)]
    laws = [law for law in laws if len(law) >= 3 and not NOT_LAW.search(law)]
    return tuple(dict.fromkeys(places + laws))


def name_found(name: str, text: str) -> bool:
    """Whether a named place/law occurs in normalised text ("宁波市" also matches "宁波")."""
    return name in text or (len(name) > 2 and name[-1] in "省市县区" and name[:-1] in text)


def coverage(groups: Groups, text: str) -> float:
    """Weighted share of the question's groups that the text contains."""
    total = sum(w for w, _ in groups)
    if not total:
        return 0.0
    text = norm(text).lower()
    return sum(w for w, alts in groups if any(a in text for a in alts)) / total


# Words that make "X学校" a kind of school rather than a school's name.
GENERIC_SCHOOL = re.compile(r"[各全本该每所等直属类]|优质|特色|培育|品牌|薄弱|达标|试点|高等|中小|义务|民办|公办|城乡|农村")


def holds_slot(slot: str, text: str) -> bool:
    text = norm(text)
    if slot == "names":  # two schools named side by side ("城北初级中学、第十一小学"), not kinds of school
        return any(not GENERIC_SCHOOL.search(m.group(1)) and not GENERIC_SCHOOL.search(m.group(2))
                   for m in SLOT_VALUES["names"].finditer(text))
    return bool(SLOT_VALUES[slot].search(text))
