"""What a question asks: analysed once (`analyse`) into a typed `Question` that search, composition and
refusal all read.

It holds the question as typed and normalised (answer.normalise), its weighted terms, the kind of answer
it wants (a value such as a sum or a date, an office, a list, yes or no), and the places, laws and
documents it names. Nothing here is about one document or one eval question: the patterns are the
grammar of asking, the word lists are data files under answer/data/ with their sources.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jieba

from answer.normalise import normalise_question
from answer.vocab import (
    english_laws,
    english_places,
    history_words,
    national_law_names,
    ordinal_measures,
    ordinal_nouns,
    surnames,
    unit_words,
)
from retrieval.tokenize import (
    STOPWORDS,
    content_terms,
    dictionary_generation,
    english_words,
    glossary_terms,
    synonyms,
)

CN_NUM = "一二三四五六七八九十百千万两零〇"
UNITS = "人名个所岁年月日天次项条元米分倍课时学时周岁节支类门批届级期"

Groups = list[tuple[float, list[str]]]

# -- the kind of answer --------------------------------------------------------------------------

WHO_ZH = re.compile(r"(牵头|负责|谁|哪个(股室|部门|单位|科室|处室)|哪些(股室|部门|单位)|责任单位|协助|配合)")
WHO_EN = re.compile(r"\b(lead|leads|leading|responsible|in charge|which office|which department|who)\b", re.I)
DOC_NUMBER = re.compile(r"(文号|发文字号|字号|document number|reference number)", re.I)
LIST_Q = re.compile(rf"(哪[几些][条项个种类方面支句部分所]?|几[条项个种类方面支句]|分哪|包括哪|包括什么|包括啥|有哪|都有啥|"
                    rf"叫啥|叫什么|是哪[{CN_NUM}]+|哪[{CN_NUM}]+[条项个种支句所部])|\bwhat are\b|\blist\b|\bwhich\b.*\bare\b",
                    re.I)
# Yes/no questions and "what does the law say": answered by quoting the clause that governs the case
# (its 不得/应当/可以), never by a value.
POLAR_ZH = re.compile(r"([吗嘛么][??。!!\s]*$|是否|能否|能不能|可不可以|可以不|会不会|要不要|算不算|是不是|有没有|"
                      r"有权|无权|违法|合法|犯法|合理|允许|可以吗|行吗)")
POLAR_EN = re.compile(r"^\s*(can|could|is|are|was|does|do|did|may|must|should|will|has|have)\b|\b(legal|illegal|"
                      r"allowed|permitted|entitled|lawful)\b", re.I)
RULE_Q = re.compile(r"(规定|怎么说|咋说|说的是|有关规定|相关规定|法律依据|依据是|怎么处理|如何处理|怎么办|如何处罚|怎么处罚|"
                    r"what does .{0,40}\bsay|\bregulations?\b|\brules?\b|\blaw says\b)", re.I)
# Question words ask for a value; they are not terms an answer must contain.
INTERROGATIVE = re.compile(r"^(哪|几|多少|多远|多久|多长|多大|咋|啥|怎|什么|为何|是否|能否|得多)")

# A question wanting one of these kinds of value is answered only by a sentence that holds one.
VALUE_QUESTIONS = {
    "amount": re.compile(r"(多少(万|钱|元|亿)|(经费|资金|预算|奖金|补助|补贴|津贴|工资|薪酬|报酬|学费|费用|拨款).{0,8}多少|"
                         r"多少.{0,4}(经费|资金|预算|钱|补助|补贴|津贴|工资|薪酬|报酬|学费|费用|奖金)|"
                         r"\bhow much\b.{0,40}\b(fund|funding|money|budget|grant|subsid\w*|pay|salary|cost|fee|"
                         r"allowance|stipend|tuition)|"
                         r"\bpay rate\b|\bhourly pay\b|\bprize money\b|\bbudget of\b)", re.I),
    # 完成时限 / 截止期限 / 办结时间: a task table's deadline column, asked for by its name
    "date": re.compile(r"(哪天|哪一天|哪年|哪一年|几号|几月|什么时候|啥时候|何时|什么时间|截止|最晚|多会儿|日期|"
                       r"(完成|办结|整改|上报|报送)(时限|期限|时间)|"
                       r"施行时间|生效时间|\bwhen\b|what date|which date|deadline|by when|what year|effective date|"
                       r"implementation (date|time)|(entry|come|comes|came) into force|tak(e|es|en) effect|took effect)",
                       re.I),
    # a span with its start and its end ("起止时间", "从何时到何时"): a single date does not answer it
    "period": re.compile(r"(起止|起讫|从(什么时候|何时|哪年|哪一年|几月|哪天)(开始)?到(什么时候|何时|哪年|哪一年|几月|哪天)|"
                         r"什么时间段|哪个时间段|\bfrom when\b|\bstart and end\b|\bbegin and end\b|"
                         r"\bstart and finish\b|\b(what|which) period\b)", re.I),
    "percent": re.compile(r"(比例|百分之|占.{0,6}多少|percentage|\bratio\b|\bshare of\b)", re.I),
    "count": re.compile(r"((?<![这那哪])几[个人名岁所次天分年项倍级档批轮届]|配比|多少|多远|多大|多久|多长|"
                        r"how many|how old|how long|how far|maximum|minimum|\bratio\b|\bsize\b|\bcap\b|\blimit\b|"
                        r"分数线|多少分|passing score)", re.I),
    "address": re.compile(r"(地址|在哪办公|在哪儿办公|办公地点|(?<!e-mail )(?<!email )\baddress\b)", re.I),
    "email": re.compile(r"(邮箱|电子邮件|e-?mail)", re.I),
    "phone": re.compile(r"(电话|联系方式|手机号|\bphone\b|telephone)", re.I),
    "hours": re.compile(r"(办公时间|几点|上班时间|office hours|opening hours|what time)", re.I),
    # a person's name, not a post ("主任由谁兼任" is answered by a post): "主任姓什么", "what is her name"
    "person": re.compile(r"(叫什么名字|叫啥名字|叫什么名|姓什么|姓名|名字是什么|名字叫什么|"
                         r"\b(his|her|their) (full )?names?\b|\bname of the (person|official|director|head|"
                         r"principal|chair\w*|leader)\b)", re.I),
    # which place: "试点在哪个区", "which city is it in" (not "哪个县教育局", "which county bureaus": offices)
    "place": re.compile(r"(哪(个|一个)?(省|市|县|区)(?!(教育|人民|政府|委|局|部门|学校|中学|小学|财政|人社))|"
                        r"\bwhich (county|city|province|district|region)(\s+(is|was|does|did)\b|\s*[?,]|\s*$))", re.I),
    # what a thing is: "什么是X", "X是指什么", "X的含义", "what is X", "what does X mean" (not "what is the
    # X of Y": a value of something, asked with a preposition)
    "definition": re.compile(r"(什么是|啥是|什么叫|何为|何谓|是什么意思|是啥意思|什么意思|是指什么|指什么|指的是什么|"
                             r"的定义|的含义|的概念|怎么定义|如何定义|^[^,,。??的]{2,10}是(什么|啥)[??!!。\s]*$|"
                             r"^\s*what (is|are) (a |an |the )?(?!.*\b(for|of|to|from|with|when|if|in (?!china))\b)"
                             r"[a-z' -]{3,40}?\s*\??\s*$|"
                             r"\bwhat does .{2,40} mean\b|\bmeaning of\b|\bdefinition of\b|\bdefine\b)", re.I),
    "names": re.compile(rf"(名单[里上中都]|哪些(学校|高校|大学|院校)|哪几所|哪[\d{CN_NUM}]+所|哪所(学校|高校|大学|院校)|"
                        r"跟哪些大学|"
                        r"which (schools|universities|colleges))", re.I),
}
_NUMBER = rf"(\d|[{CN_NUM}]+[{UNITS}])"
VALUE_PATTERNS = {
    "amount": re.compile(rf"(\d[\d.,]*\s*(万|亿)?元|[{CN_NUM}]+(万|亿)?元|\d+(\.\d+)?\s*万)"),
    "date": re.compile(rf"(\d{{1,4}}\s*[年月日号时点:]|[{CN_NUM}]+[年月日号]|学年|年底|年初|年前|月底|春季|秋季|"
                       r"之日起|起施行|前完成|前上报|前报|\d{4}\.\d|\d{4}\s*[-—–~至到]\s*\d{4})"),
    "count": re.compile(_NUMBER + "|%|以上|以下|不超过|不少于|不低于|每[年月周天学季]|年度|学期"),
    # two dates joined by 至/到/a dash: "2016年9月至2019年8月", "2019年7月—8月", "2019.1-2020.3", "2021—2023年"
    # (not "2016-2017学年度": one school year)
    "period": re.compile(r"(\d{4}\s*年\s*\d{1,2}\s*月[^,,。;;]{0,3}?[至到—–~-]\s*(\d{4}\s*年\s*)?\d{1,2}\s*月|"
                         r"\d{4}\.\d{1,2}\s*[至到—–~-]\s*\d{4}\.\d{1,2}|\d{1,2}\s*月\s*[至到—–~-]\s*\d{1,2}\s*月|"
                         r"\d{4}\s*[至到—–~-]\s*\d{4}\s*年(?!度))"),
    "percent": re.compile(r"\d\s*%|百分之|\d+成|\d+分之"),
    # a street and number ("人民路12号"), a building, or a line that says it is an address ("街道" alone is a
    # subdistrict, not an address)
    "address": re.compile(r"((路|街|巷|大道)\s*\d+\s*号|\d+\s*号楼|地址\s*[::为是])"),
    "phone": re.compile(r"\d{3,4}-?\d{7,8}|\d{8,11}"),
    "email": re.compile(r"[\w.-]+@[\w-]+\.\w+"),
    "hours": re.compile(r"\d{1,2}[::]\d{2}\s*[-—–~至到]\s*\d{1,2}[::]\d{2}|[上下]午\s*\d|工作日"),
    # the drafting formulas of a definition: "本法所称的X是…", "X,是指…", "X是…的教育类型", "X主要包括…"
    # (a statute rarely says 是 near a sentence's start otherwise)
    "definition": re.compile(r"(本(法|条例|办法|规定|意见|方案|细则)所称(的)?[^,。;:]{1,24}?,?(是指|系指|是)|"
                             r"^[^,。;:]{2,16}?,?(是指|系指)|^[^,。;:是]{2,14}是(?![否不])|^[^,。;:]{2,16}?(主要)?包括)"),
    "names": re.compile(r"(?=([\u4e00-\u9fff]{2,8}?(?:中学|小学|大学|学院|学校|幼儿园))[、,和及与]"
                        r"([\u4e00-\u9fff]{2,12}?(?:中学|小学|大学|学院|学校|幼儿园)))"),
}
# A call made or taken ("接到老师的电话", "打完电话"): what happened to the asker, not a number asked for.
CALL = re.compile(r"[接打挂回][了完到过]?(?:[^,，。;；!！?？]{0,8}?的)?电话")
CONTACT_KINDS = ("phone", "email", "address", "hours")  # found on contact lines that share no topic words
# Kinds that choose the sentence but are not required of it: a law does not define every term it regulates, so
# a question asking what a thing is is answered by the clause about it when no clause defines it.
PREFERRED_KINDS = ("definition",)
# Kinds of value a rule may leave to other rules ("按照国家有关规定收取费用"): figures, not names or contacts.
FIGURE_KINDS = ("amount", "date", "period", "percent", "count")
# A standard or grade asked for without a value word: "补贴标准是多少", "收费标准", "须达到哪一级别",
# "what level is required".
STANDARD_Q = re.compile(r"((什么|哪个|哪一|何种|啥)(标准|等级|级别|档次)|标准\s*(是|为)?\s*(什么|多少|怎样的?|如何|啥)?\s*[??]?\s*$|"
                        r"\bwhat (level|grade|standard)\b|\bhow high\b)", re.I)
# Words that make "X学校" a kind of school rather than a school's name.
GENERIC_SCHOOL = re.compile(r"[各全本该每所等直属类]|优质|特色|培育|品牌|薄弱|达标|试点|高等|中小|义务|民办|公办|城乡|农村")
PERSON_NOUN = re.compile(r"^[\u4e00-\u9fff]{0,3}?(老师|教师|学生|人员|名额|员工|保安|孩子|儿童|幼儿|小孩)")
ENGLISH_UNIT = re.compile(r"how many (\w+)|(class size|score)\b", re.I)

# "教师法规定…", "学前教育法是…", "民法典第…", "体育法哪年修订的": a law named in the question,
# followed by a word that starts the rest of the question (a verb, a question word, a preposition), not by
# more of a longer word ("教育法律"). (Regulations, 条例, are left out: people abbreviate their names too
# freely to check them.)
LAW_NAME = re.compile(r"(?:^|[按依据照和与及的、《“??,,。 ])([\u4e00-\u9fff]{1,8}?法典?)"
                      r"(?=[是里中的规说对和与》”要得咋怎如第什哪何几有施实修自从在关为明于,,??]|$)")
# A law's name between book-title marks is exact whatever its length (《中华人民共和国某某促进法》).
LAW_IN_MARKS = re.compile(r"《([^《》\s]{2,40}?法典?)》")
NOT_LAW = re.compile(r"(办法|方法|做法|看法|想法|说法|用法|算法|手法|写法|违法|合法|犯法|守法|执法|立法|司法|非法|依法|无法|设法)$")
# "哪部法律规定…", "依据哪条法律": the answer names the law and its article.
WHICH_LAW = re.compile(r"(哪(一)?(部|个|条|项)(法律|法规|法)|什么法(律|规)?(规定|里)|(依据|根据)(是)?(哪|什么)|第几条|"
                       r"\b(which|what) (law|article|statute|legal provision)s?\b|\bunder which\b)", re.I)
# The article a question names: "第二十七条", "第27条", "Article 27".
ARTICLE_NO = re.compile(rf"第\s*([{CN_NUM}]+|\d+)\s*条|\barticle\s+(\d+)\b|\bart\.\s*(\d+)\b", re.I)
# A place in a list: "第三步", "最后一批", "the last stage" (not 第X条/章/款: those name a law's parts). The
# measure word says what is counted; the English ones map to the Chinese a document heads its list with.
# Measure words and English nouns: answer/data/ordinals.tsv.
ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "last": -1, "final": -1}


@lru_cache(maxsize=1)
def ordinal_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    measures = "|".join(sorted(ordinal_measures(), key=len, reverse=True))
    nouns = "|".join(ordinal_nouns())
    return (re.compile(rf"(?:第([{CN_NUM}]{{1,3}}|\d{{1,2}})|最后一?)({measures})"),
            re.compile(rf"\b({'|'.join(ORDINAL_WORDS)})\s+({nouns})s?\b", re.I))
# A version named by its year: "2018年版", "2015年修正的", "2006修订", "the 2015 version", "as amended in 2018".
VERSION_YEAR = re.compile(r"((?:19|20)\d\d)\s*年?\s*(?:版|修订|修正|修改)|"
                          r"\b((?:19|20)\d\d) (?:version|edition|revision|amendment)\b|"
                          r"\b(?:amended|revised) in ((?:19|20)\d\d)\b", re.I)
SEVERAL = re.compile(r"(分别|各自|都提|两个文件|\beach\b|\bboth\b|\brespectively\b)", re.I)
# The sentences of a long question that ask (a story ends in its question): those ending in a question
# mark or particle, else those with a question word.
ASKED = re.compile(r"([??]|[吗嘛呢么])\s*$")
ASKING = re.compile(r"怎么|怎样|如何|是否|能否|能不能|可不可以|有没有|多少|什么|哪|谁|咋|啥")
LONG_QUESTION = 40  # Chinese characters: past this a question is a story around its asking sentence


# Texts up to this long are cached where the answer step meets the same ones for every question (sentences,
# clause paths, titles: some 180 normalisations an answer); longer ones (a document's whole text, normalised once
# per index) are not kept, so the caches stay small whatever the corpus.
CACHED_CHARS = 600


def norm(text: str) -> str:
    return normalised(text) if len(text) <= CACHED_CHARS else re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=16384)
def normalised(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def is_english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return letters > cjk * 2


@dataclass(frozen=True)
class Question:
    text: str  # as asked
    normalised: str  # simplified script, half-width, without greetings: what search and analysis read
    english: bool
    style: str  # "english", "long" (a story around its question) or "short"
    focus: str  # the asking sentence(s) of a long question; the whole question otherwise
    groups: Groups  # weighted alternatives: each group is satisfied by any of its terms
    quoted: tuple[str, ...]  # phrases the asker put in quotes: they must be found
    value_kinds: tuple[str, ...]  # kinds of value wanted (amount, date, count, ...)
    units: tuple[str, ...]  # the unit a count is asked in ("多少学时" -> 学时), when it says
    asks_who: bool
    asks_list: bool
    asks_doc_number: bool
    polar: bool  # yes/no, or "what does the law say": answered by the governing clause
    names: tuple[str, ...]  # places and laws the question names: the answer must come from them
    several: bool  # about two or more documents ("分别")
    history: bool = False  # asks for an earlier version of a law ("修订前", "旧版", a version's year)
    version_year: int | None = None  # the year of the version it names ("2018年版")
    article: int | None = None  # the article it names ("第二十七条", "Article 27")
    asks_law: bool = False  # "哪部法律规定…": which law and article say so
    # The place in a list it asks about and what is counted: (3, "步") for "第三步", (-1, "批") for
    # "最后一批" (-1: the last); the last one named counts (a follow-up's comes after its carried topic).
    ordinal: tuple[int, str] | None = None

    @property
    def asks_figure(self) -> bool:
        """Whether it asks for a figure or a standard (a sum, a date, a count, a grade): what a rule may
        leave to other rules."""
        return any(k in FIGURE_KINDS for k in self.value_kinds) or bool(STANDARD_Q.search(self.focus))

    @property
    def required_kinds(self) -> tuple[str, ...]:
        """The kinds of value an answer must hold (PREFERRED_KINDS only choose among sentences)."""
        return tuple(k for k in self.value_kinds if k not in PREFERRED_KINDS)

    @property
    def terms(self) -> list[str]:
        return [alt for _, alts in self.groups for alt in alts]

    def holds(self, kind: str, text: str) -> bool:
        """Whether the text holds the kind of value asked for; a count in the asked unit when known."""
        if kind == "count" and self.units:
            numbers = rf"(\d+(\.\d+)?|[{CN_NUM}]{{2,4}}|[二三四五六七八九十两半]|(?<![第每逐统唯同之])一)\s*[余多]?({'|'.join(self.units)})"
            return bool(re.search(numbers, CLAUSE_NUMBER.sub("", norm(text))))
        return holds_value(kind, text)


def question_groups(question: str) -> Groups:
    """A Chinese term is its own group (with the policy words for a colloquial one); an English word
    becomes its glossary translations (or itself, weighing less, when the glossary has no entry)."""
    groups: Groups = []
    for term in content_terms(question):
        if re.search(r"[a-z]", term) or INTERROGATIVE.match(term):  # English words are handled below
            continue
        groups.append((float(min(len(term), 4)), [term, *synonyms().get(term, [])]))
    for word in sorted(english_words(question)):
        if word in STOPWORDS:
            continue
        translated = glossary_terms(word)
        groups.append((3.0, translated) if translated else (1.0, [word]))
    return groups


def focus_of(text: str) -> str:
    """The sentences of a long question that ask (the last one, with the one before it when that asks
    too); the whole text for a short question or when no sentence asks."""
    if sum("\u4e00" <= ch <= "\u9fff" for ch in text) <= LONG_QUESTION:
        return text
    sentences = [s.strip() for s in re.split(r"(?<=[。!?!?;;])|\n", text) if s.strip()]
    asking = [s for s in sentences if ASKED.search(s)] or [s for s in sentences if ASKING.search(s)]
    return "".join(asking[-2:]).strip() or text


def asked_units(question: str) -> tuple[str, ...]:
    for key, units in unit_words().items():  # "多久", "多长时间": a length of time
        word = key.removeprefix("how long:")
        # "多久一次" asks how often (每学期, 每年): not a length of time
        if word != key and word in question and not re.search(rf"{word}.{{0,8}}一次", question):
            return units
    m = re.search(r"(多少|几)([\u4e00-\u9fff]{1,2})", question)
    if m:
        after = m.group(2)
        for word, units in unit_words().items():
            if after.startswith(word):
                return units
        if PERSON_NOUN.match(question[m.end(1):]):
            return ("人", "名")
    m = ENGLISH_UNIT.search(question)
    if m:
        return unit_words().get(f"en:{(m.group(1) or m.group(2)).lower()}", ())
    return ()


NAME_FILLERS = {"the", "of", "on", "a", "an", "for"}  # "law on the protection of minors" = "law protecting minors"


def word_stems(text: str) -> list[str]:
    """English words cut to their first five letters, so that the forms people write of one law's name
    meet ("patriotism"/"patriotic", "teachers'"/"teacher", "minors"/"minor")."""
    words = re.findall(r"[a-z]+", text.lower().replace("'s", "").replace("-", ""))
    return [w[:5] for w in words if w not in NAME_FILLERS]


# Administrative levels a place name ends with, or that jieba's dictionary knows it by ("宁波" as 宁波市).
PLACE_LEVELS = ("省", "市", "县", "区", "州", "盟", "旗", "镇", "乡", "自治区", "自治州", "自治县", "特别行政区")


def is_place(word: str) -> bool:
    """Whether a word jieba tags as a place (ns) is one: it carries an administrative level ("海淀区"), or
    jieba's dictionary holds it with one ("泉州" -> 泉州市). jieba's dictionary also tags common words and
    phrases ns ("城市", "福利", "中考", "遵循原则"): taken as places, they would confine an answer to the
    documents that mention them. A two-character word ending in a level ("城市", "上市") must pass the
    dictionary test too."""
    import jieba.posseg

    if len(word) < 2:
        return False
    if len(word) >= 3 and word.endswith(PLACE_LEVELS):
        return True
    tags = jieba.posseg.dt.word_tag_tab
    return any(tags.get(word + level) == "ns" for level in PLACE_LEVELS)


def names_a_law(name: str, end: int, words: list[tuple[str, str]]) -> bool:
    """Whether "…法" read without book-title marks (ending at `end` in the question) is a law's name. One whose
    ending is a national law's short name is (我想知道民法典, 学前教育法). Any other must be a word of the
    question (`words`: its jieba segmentation, word and part of speech): its 法 ends a word that is not a verb.
    "有关法律法|规" cuts a word in two; "近视防控入法" ends in the verb 入法 (to be written into law), not in a law;
    "校园安全法", "反欺凌法" stay names (of laws the index may not hold, which the answer then says)."""
    if any(name[i:] in national_law_names() for i in range(len(name) - 2)):
        return True
    at = 0
    for word, flag in words:
        at += len(word)
        if at >= end:
            return at == end and (not flag.startswith("v") or flag == "vn")  # vn: a verb as a noun
    return True


def law_name_from(name: str, end: int, words: list[tuple[str, str]]) -> str:
    """The unmarked name of a law the catalogue lacks without the words of the clause before it: what follows the
    first verb of two or more characters that leaves more than 法 ("一切违反交通法" -> "交通法", "最好能创建反霸凌法" ->
    "反霸凌法"; "反霸凌法" itself stays whole; "违反宪法" -> "宪法", a name too short to be read, as when asked
    alone). The span read starts at a sentence start or a word like 按, so it may hold those words, and the refusal
    quotes the name. A name ending in a national law's is left as it was read (names_a_law)."""
    if any(name[i:] in national_law_names() for i in range(len(name) - 2)):
        return name
    start, at = end - len(name), 0
    for word, flag in words:
        at += len(word)
        if at >= end:
            break
        if at > start and len(word) >= 2 and flag.startswith("v") and flag != "vn" and end - at >= 2:
            return name[at - start:]
    return name


def named_entities(question: str) -> tuple[str, ...]:
    """Places (provinces and cities by their Chinese or English names, and places jieba tags) and law
    names in the question."""
    import jieba.posseg  # loads its model on first use only

    words = [(w.word, w.flag) for w in jieba.posseg.cut(question)]  # once: for places and for law names
    places = [word for word, flag in words if flag == "ns" and is_place(word)]
    lowered = question.lower()
    for zh, names in english_places().items():
        if zh in question or any(re.search(rf"\b{re.escape(n)}\b", lowered) for n in names):
            places.append(zh)
    marked = LAW_IN_MARKS.findall(question)  # whole: not also the ending the unmarked pattern reads of it
    unmarked = [(re.split(r"[按依据照和与及的]", m.group(1))[-1], m.end(1)) for m in LAW_NAME.finditer(question)]
    laws = marked + [law_name_from(law, end, words) for law, end in unmarked
                     if not any(m.endswith(law) for m in marked) and names_a_law(law, end, words)]
    words = word_stems(lowered)
    for en, zh in english_laws():  # longest first; a name inside a longer one found is not another law
        name = word_stems(en)
        at = next((i for i in range(len(words) - len(name) + 1) if words[i:i + len(name)] == name), None)
        if at is not None:
            laws.append(zh)
            words[at:at + len(name)] = ["|"]
    laws = [law for law in laws if len(law) >= 3 and not NOT_LAW.search(law)]
    return tuple(dict.fromkeys(places + laws))


def name_found(name: str, text: str) -> bool:
    """Whether a named place/law occurs in normalised text ("宁波市" also matches "宁波"). A place counts
    only where it starts a word (`starts_word`). A law name read from a question may carry the words before
    it ("我想知道民法典"): an ending of three or more characters that names a law counts, unless a longer
    ending is a national law's own name (学前教育法 is not 教育法)."""
    if not name.endswith(("法", "法典")):
        short = name[:-1] if len(name) > 2 and name[-1] in "省市县区" else None
        return starts_word(name, text) or (short is not None and starts_word(short, text))
    if name in text:
        return True
    laws = national_law_names()
    for ending in (name[i:] for i in range(len(name) - 2)):  # longest first, the whole name included
        if ending in text:
            return True
        if ending in laws:  # a law of its own, not in the text: shorter endings name other laws
            return False
    return False


# Characters either side of an occurrence that jieba reads to see where the words around it begin.
WORD_WINDOW = 6


def starts_word(name: str, text: str) -> bool:
    """Whether the name occurs in the text at the start of a word: 广安 is not in 推广安全 (推广|安全), 长沙 not
    in 延长沙漠. A longer word it begins still counts (广安市, 仁怀市人民政府)."""
    at = text.find(name)
    while at >= 0:
        start = max(0, at - WORD_WINDOW)
        offset, starts = start, set()
        for word in jieba.cut(text[start:at + len(name) + WORD_WINDOW]):
            starts.add(offset)
            offset += len(word)
        if at in starts:
            return True
        at = text.find(name, at + 1)
    return False


def coverage(groups: Groups, text: str) -> float:
    """Weighted share of the question's groups that the text contains."""
    total = sum(w for w, _ in groups)
    if not total:
        return 0.0
    text = norm(text).lower()
    return sum(w for w, alts in groups if any(a in text for a in alts)) / total


DIGITS = {ch: n for n, chars in enumerate(("零〇", "一", "二两", "三", "四", "五", "六", "七", "八", "九")) for ch in chars}
POWERS = {"十": 10, "百": 100, "千": 1000}


def cn_number(text: str) -> int | None:
    """The value of a number written in Chinese numerals or digits: 二十七 27, 一千一百九十九 1199, 一百零五 105."""
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in POWERS:
            total += (1 if digit is None else digit) * POWERS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def asked_ordinal(question: str) -> tuple[int, str] | None:
    """The last place-in-a-list the question names, as (position, measure word); -1 is the last."""
    chinese, english = ordinal_patterns()
    found = [(m.start(), -1 if m.group(1) is None else cn_number(m.group(1)), m.group(2))
             for m in chinese.finditer(question)]
    found += [(m.start(), ORDINAL_WORDS[m.group(1).lower()], ordinal_nouns()[m.group(2).lower()])
              for m in english.finditer(question)]
    found = [f for f in found if f[1]]
    return max(found)[1:] if found else None


def asked_article(question: str) -> int | None:
    m = ARTICLE_NO.search(question)
    return cn_number(next(g for g in m.groups() if g)) if m else None


def asks_history(question: str) -> tuple[bool, int | None]:
    """Whether the question asks for an earlier version of a law, and the year of the version it names."""
    lowered = question.lower()
    m = VERSION_YEAR.search(question)
    year = int(next(g for g in m.groups() if g)) if m else None
    words = any((re.search(rf"\b{re.escape(w)}\b", lowered) if w.isascii() else w in question) for w in history_words())
    return words or year is not None, year


# "第三条", "本法第五十八条", "仁教字〔2017〕17号": the numbers of clauses and documents are references,
# not values a question asks for.
CLAUSE_NUMBER = re.compile(rf"第[{CN_NUM}\d]+[条章节款项编]|[〔\[((]\d{{4}}[〕\]))]\s*\d+\s*号")


# A named person: "联系人:龚斌", or a word jieba tags as a person's name that starts with a common surname
# (jieba tags some place names nr: 仁怀, 蒲城).
CONTACT_NAME = re.compile(r"(联系人|负责人|经办人)\s*[::]?\s*[\u4e00-\u9fff]{2,3}")


def names_person(text: str) -> bool:
    import jieba.posseg

    if CONTACT_NAME.search(text):
        return True
    return any(w.flag == "nr" and 2 <= len(w.word) <= 3 and w.word[0] in surnames()
               for w in jieba.posseg.cut(text))


def holds_value(kind: str, text: str) -> bool:
    if kind in ("person", "place"):
        if len(text) > CACHED_CHARS:
            return names_by_tags(kind, text)
        return names_by_tags_cached(kind, text, dictionary_generation())
    text = CLAUSE_NUMBER.sub("", norm(text))
    if kind == "names":  # two schools named side by side ("城北初级中学、第十一小学"), not kinds of school
        return any(not GENERIC_SCHOOL.search(m.group(1)) and not GENERIC_SCHOOL.search(m.group(2))
                   for m in VALUE_PATTERNS["names"].finditer(text))
    return bool(VALUE_PATTERNS[kind].search(text))


def names_by_tags(kind: str, text: str) -> bool:
    """Whether a text names a person or a place (`kind`), by jieba's part-of-speech tags."""
    text = CLAUSE_NUMBER.sub("", norm(text))
    if kind == "person":
        return names_person(text)
    import jieba.posseg  # a place by its name ("东城区", "泉州"), not "全县" or "我市"

    return any(w.flag == "ns" and is_place(w.word) for w in jieba.posseg.cut(text))


@lru_cache(maxsize=8192)
def names_by_tags_cached(kind: str, text: str, generation: int) -> bool:
    """names_by_tags, cached per text and jieba dictionary generation (a word joining the dictionary changes
    how a text is cut): a tagging pass costs ~0.1 ms a sentence, and every question asking "who" or "where"
    tags the sentences of the clauses it reads, the same corpus sentences again and again."""
    return names_by_tags(kind, text)


@lru_cache(maxsize=4096)
def analyse(text: str) -> Question:
    q = normalise_question(text)
    english = is_english(q)
    # English law names stay whole ("Compulsory Education Law" is not also "education law").
    quoted = tuple(norm(x) for x in re.findall(r"[“\"'‘「《]([^”\"'’」》]{2,20})[”\"'’」》]", q)
                   if re.search(r"[\u4e00-\u9fff]", x))
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in q)
    style = "english" if english else ("long" if cjk > LONG_QUESTION else "short")
    focus = focus_of(q)
    # A story's numbers and phone calls are the asker's circumstances ("他在电话中说…", "13岁"); the values
    # it asks for are in its asking sentence(s).
    asking = focus if style == "long" else q
    kinds = tuple(name for name, pattern in VALUE_QUESTIONS.items() if pattern.search(CALL.sub("", asking)))
    if "email" in kinds:  # 邮箱地址, "email address": the address asked for is the email's
        kinds = tuple(k for k in kinds if k != "address")
    if any(k in CONTACT_KINDS for k in kinds):  # "电话是多少", "邮箱是多少": the 多少 asks for the contact, not a count
        kinds = tuple(k for k in kinds if k != "count")
    if len(kinds) > 1:  # "什么是…的标准, 多少": the value asked for, not what the thing is
        kinds = tuple(k for k in kinds if k not in PREFERRED_KINDS)
    who = (WHO_EN if english else WHO_ZH).search(q)
    polar = bool((POLAR_EN if english else POLAR_ZH).search(q) or RULE_Q.search(q))
    # A story's places are where the asker lives ("我家是…农村的"); the places its question names count.
    # the year of a version ("2006年版义务教育法") is not part of the law's name
    names = named_entities(VERSION_YEAR.sub(" ", asking))
    history, year = asks_history(q)
    which_law = bool(WHICH_LAW.search(q))
    return Question(text, q, english, style, focus, question_groups(q), quoted, kinds, asked_units(asking),
                    bool(who), bool(LIST_Q.search(q)) and not which_law, bool(DOC_NUMBER.search(q)), polar, names,
                    bool(SEVERAL.search(q)), history, year, asked_article(q), which_law, asked_ordinal(q))
