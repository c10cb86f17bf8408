"""Question analysis: what kind of value a question wants, its terms, the places and laws it names."""

from __future__ import annotations

import pytest

from answer.question import analyse, focus_of, holds_value, is_place, name_found, norm, word_stems
from retrieval.tokenize import add_user_words


@pytest.mark.parametrize(("question", "slots"), [
    ("仁怀品牌学校那个专项经费一年到底拨多少万?", {"amount", "count"}),
    ("品牌学校申报表最晚几号报上去?", {"date"}),
    ("When is the deadline for feedback on the Pucheng plan?", {"date"}),
    ("首批达标学校占全市的多大比例?", {"percent", "count"}),
    ("仁怀市教育局办公地址在哪?", {"address"}),
    ("What email address should written comments be sent to?", {"email"}),
    ("北京第一批达标学校名单里都有哪些学校?", {"names"}),
    ("哪个股室牵头实施特色创新课程构建工程?", set()),
    ("重庆这几项展评活动由谁承办?", set()),  # 这几项 points back, it does not ask for a count
    ("泾源说的五育并举要深化哪几个育人?", set()),  # a list, not a number
    ("试点工作从什么时候开始到什么时候?", {"date", "period"}),
    ("验收阶段的起止时间?", {"period"}),
    ("驻村教师每月的津贴是多少?", {"amount", "count"}),
    ("How much allowance does a rural teacher get?", {"amount"}),
    ("教研室主任叫什么名字?", {"person"}),
    ("每个小班最多多少个孩子?", {"count"}),
    ("What is the name of the principal?", {"person"}),
    ("这种考核办法叫什么?", set()),  # the name of a thing, not of a person
    ("这个试点是哪个区的?", {"place"}),
    ("Which city is the pilot in?", {"place"}),
    ("哪个县教育局负责验收?", set()),  # an office, not a place
    ("Which county offices check the schools?", set()),
    ("When does the pilot start and end?", {"date", "period"}),
    ("Effective date of the sports law", {"date"}),  # when a law takes effect, in the words people use
    ("Has the vocational education law come into force?", {"date"}),
    ("体育法的施行日期", {"date"}),
    ("信息化工程的完成时限?", {"date"}),  # a task table's deadline column, by its name
    ("整改期限呢?", {"date"}),
    ("每节课的时限是多少分钟?", {"count"}),  # a length of time, not a date
    ("什么是专门学校?", {"definition"}),  # what a thing is
    ("家长学校是指什么", {"definition"}),
    ("减负的含义", {"definition"}),
    ("What is a special school?", {"definition"}),
    ("What does family education mean?", {"definition"}),
    ("What is the deadline for applications?", {"date"}),  # a value of something, not what it is
    ("什么是学费减免的标准,每年多少元?", {"amount", "count"}),  # the value asked for, not a definition
    ("教育局的邮箱是多少?", {"email"}),  # 是多少 asks for the contact itself, not a count
    ("办公室电话是多少", {"phone"}),
    ("我接到老师的电话,说孩子在学校打架了,几个同学都有份,学校怎么处理?", {"count"}),  # a call taken, not a number
    ("打完电话我才知道孩子被罚站了,这合法吗?", set()),
])
def test_value_kinds(question, slots):
    assert set(analyse(question).value_kinds) == slots


def test_definition_sentences():
    """The drafting formulas of a definition hold one; a rule about the thing does not."""
    for text in ("本法所称专门学校,是指对有严重不良行为的未成年人进行专门教育的学校。",
                 "第二条 职业教育是与普通教育具有同等重要地位的教育类型。", "家长学校,是指学校组织家长学习的机构。",
                 "学校美术课程主要包括绘画、书法和手工。"):
        assert holds_value("definition", text), text
    for text in ("学校应当加强对专门学校的管理。", "学生违纪的,学校应当予以批评教育。", "是否收费由学校决定。"):
        assert not holds_value("definition", text), text


def test_a_definition_is_preferred_not_required():
    assert analyse("什么是专门学校?").required_kinds == ()
    assert analyse("专门学校每年招多少人?").required_kinds == ("count",)


def test_a_place_found_by_its_tags_is_looked_up_again_when_the_dictionary_grows():
    # Whether a sentence names a place is cached per sentence (the same corpus sentences are tagged for
    # every question asking "where"), but a word joining jieba's dictionary changes how the sentence is cut:
    # a corpus term spanning the place leaves no place word in it.
    text = "经费由东城区统筹协调安排"
    assert holds_value("place", text)
    add_user_words(["东城区统筹协调"])
    assert not holds_value("place", text)


def test_value_patterns():
    assert holds_value("amount", "每年安排专项经费50万元")
    assert not holds_value("amount", "每年设立创建培育工作专项经费")
    assert holds_value("date", "于5月30日前上报")
    assert holds_value("date", "《蒲城县教育布局专项规划(2021-2030)》")
    assert holds_value("count", "距中小学周围最近路程二百米范围内")
    assert holds_value("percent", "比例为全市义务教育学校的30%")
    assert not holds_value("percent", "第一批达标学校")
    assert holds_value("email", "发送至pcjjyg@163.com")
    # a period is two dates joined: a single date, or one school year, does not give a start and an end
    for span in ("2016年9月至2019年8月", "2019年7月—8月举行", "阶段(2019.1-2020.3)", "三年行动计划(2021—2023年)"):
        assert holds_value("period", span)
    for single in ("到2020年全面达到", "从2016-2017学年度起实施", "2019年8月底前完成"):
        assert not holds_value("period", single)
    # a person is named by a contact line or a name that starts with a common surname; a post names no one,
    # nor a county jieba tags as a name
    assert holds_value("person", "联系人:龚斌,电话:63833655") and holds_value("person", "由王小红同志担任组长")
    assert not holds_value("person", "成立以局长为组长的领导小组") and not holds_value("person", "仁怀市教育局负责解释")
    # a length of time is asked in units of time: "县级以上" and "第二批" hold no span; "多久一次" asks how often
    how_long = analyse("见习期要多久?")
    assert "年" in how_long.units and how_long.holds("count", "见习期为三年") and how_long.holds("count", "不少于6个月")
    assert not how_long.holds("count", "由县级以上人民政府认定") and not how_long.holds("count", "第二批学校")
    assert analyse("督导组多久检查一次?").units == ()
    assert analyse("每个小班最多多少个孩子?").units == ("人", "名")  # children are counted in persons
    # a place by its name, not the document's own "全县", "我市"
    assert holds_value("place", "确定海淀区为试点区") and not holds_value("place", "全县各校要形成我县特色")


def test_question_words_are_not_terms_and_colloquial_words_get_policy_synonyms():
    q = analyse("广西三年要补多少美育老师?")
    terms = q.terms
    assert "多少" not in terms
    assert ["老师", "教师"] in [alts for _, alts in q.groups]


def test_lists_who_and_quotes():
    assert analyse("蒲城三年行动计划定了哪几条基本原则?").asks_list
    assert analyse("一校一品那五项原则具体叫啥?").asks_list
    assert not analyse("品牌学校申报表最晚几号报上去?").asks_list
    assert analyse("Which office leads the curriculum project?").asks_who
    assert analyse("师资强基工程里说的“四支队伍”是哪四支?").quoted == ("四支队伍",)


def test_named_places_and_laws():
    assert "宁波" in analyse("宁波中小学保安按多少学生配一个?").names
    assert "学前教育法" in analyse("学前教育法是哪天开始施行的?").names
    assert "教育法" in analyse("办一所学校按教育法得具备啥基本条件?").names
    assert name_found("仁怀", "仁怀市教育局") and name_found("仁怀市", "仁怀教育")
    assert not name_found("宁波", "浙江省中小学校安全管理条例")
    assert {"海淀区", "泉州"} <= set(analyse("海淀区和泉州的学校午休时间一样吗?").names)


def test_a_place_is_found_where_a_word_starts_not_inside_other_words():
    # the law library's 网络安全法 says 推广安全…: it does not mention 广安
    assert not name_found("广安", "国家推广安全可信的网络产品和服务")
    assert not name_found("长沙", "期限延长沙漠化防治")
    assert name_found("广安", "广安市实验学校") and name_found("广安市", "在广安的学校")
    assert name_found("城厢区", "城厢区教育局门牌")


@pytest.mark.parametrize("word, place", [
    ("海淀区", True), ("泉州", True), ("东莞", True), ("内蒙古", True),  # a level, or known with one (泉州市)
    ("遵循原则", False), ("福利", False), ("中考", False), ("城市", False), ("上市", False),  # jieba tags these ns
])
def test_a_place_jieba_tags_is_checked_against_its_dictionary(word, place):
    assert is_place(word) is place
    assert (word in analyse(f"{word}的学校有什么要求?").names) is place
    # the words before a law's name are not part of it
    assert name_found("我想知道民法典", "中华人民共和国民法典") and not name_found("我想知道民法典", "教育法")
    # unless they make the name of another national law (the law source's catalogue says which)
    assert not name_found("学前教育法", "中华人民共和国教育法") and not name_found("请问学前教育法", "教育法")
    assert name_found("请问学前教育法", "中华人民共和国学前教育法")


def test_a_law_name_is_read_before_the_words_that_ask_about_it():
    for question in ("职业教育法什么时候施行?", "教师法有没有规定体罚?", "体育法哪条说了学校运动会?", "民法典关于监护怎么说"):
        assert analyse(question).names[-1] in question and analyse(question).names[-1].endswith(("法", "法典"))
    assert analyse("教育法律有哪些?").names == ()  # 法律 is not a law's name



@pytest.mark.parametrize("question", ["校园欺凌已经入法,学校怎么处理?", "近视防控入法是真的吗", "查了有关法律法规,还是不清楚"])
def test_a_phrase_ending_in_fa_is_not_a_law_unless_it_is_a_word_naming_one(question):
    # 入法 (written into law) is a verb; 法律法|规 cuts a word in two: no law is named, so none is refused by name
    assert analyse(question).names == ()


def test_an_unmarked_law_the_catalogue_lacks_is_still_named():
    # a colloquial or hoped-for law's name is a word ending in 法: the answer says no document mentions it
    assert "交通法" in analyse("按交通法,校车可以超员吗").names
    assert "校园安全法" in analyse("校园安全法有没有这一条").names

def test_an_unmarked_law_is_named_without_the_words_before_it():
    # the span before 法 starts at the sentence: the clause's verb and what precedes it are not the law's name
    assert analyse("一切违反交通法的行为都要处罚,校车超员怎么办").names == ("交通法",)
    assert "校园安全法" in analyse("学校违背校园安全法怎么办").names
    assert not any("违背" in name for name in analyse("学校违背校园安全法怎么办").names)
    assert "反霸凌法" in analyse("最好能创建反霸凌法,严惩霸凌者").names  # 霸凌 is a verb inside the name: kept whole
    assert analyse("一切违反宪法的行为都要追究,学校这样做对吗").names == ()  # 宪法 alone is too short a name to read


def test_a_law_name_between_book_title_marks_is_read_whole():
    assert analyse("《中华人民共和国学位法》对论文答辩有何规定").names == ("中华人民共和国学位法",)
    assert analyse("请发一下《中国少年儿童网络游戏管理法》全文").names == ("中国少年儿童网络游戏管理法",)
    assert not name_found("中国少年儿童网络游戏管理法", "中华人民共和国未成年人保护法 网络游戏")
    assert analyse("《学校体育美育兼职教师管理办法》有哪些要求").names == ()  # 办法: not a law


def test_english_law_names_in_the_forms_people_write_them():
    # The data file lists one form of each name; plural, adjective and possessive forms meet it by stem.
    assert analyse("When did the patriotism education law take effect?").names == ("爱国主义教育法",)
    assert analyse("What does the law on protecting minors say about school bullying?").names == ("未成年人保护法",)
    assert analyse("Does the Teacher's Law set a salary floor?").names == ("教师法",)
    # the longer name wins: the compulsory education law is not also the education law
    assert analyse("What does the compulsory education law say about fees?").names == ("义务教育法",)
    assert word_stems("Teachers' law, pre-school") == ["teach", "law", "presc"]


def test_a_count_must_come_in_the_asked_unit():
    q = analyse("教师法规定老师五年要培训满多少学时?")
    assert q.units == ("学时",)
    assert q.holds("count", "每五年接受不少于360学时的培训") and not q.holds("count", "每五年培训一次,共5项")
    persons = analyse("广西三年要补多少美育老师?")
    assert persons.holds("count", "补充美育教师5000余名") and not persons.holds("count", "同一个节目")
    assert analyse("How many points is the arts assessment worth?").units == ("分",)


def test_ge_asks_a_count_in_any_unit():
    q = analyse("每年要评几个示范项目?")  # 个, the general measure word: 5项 answers it
    assert q.units == () and q.holds("count", "每年评选示范项目5项")


def test_an_email_address_is_not_a_postal_address():
    assert analyse("报名表能发到邮箱吗?地址是什么?").value_kinds == ("email",)
    assert "address" in analyse("教育局的办公地址在哪?").value_kinds


def test_english_place_names_and_units():
    assert analyse("When does the spring semester start for primary schools in Ningxia this year?").names == ("宁夏",)
    assert analyse("What is the maximum class size allowed in Beijing?").units == ("人", "名")
    assert "count" in analyse("What is the passing score for the teacher recruitment exam?").value_kinds


def test_school_names_are_told_from_kinds_of_school():
    assert holds_value("names", "加快城北初级中学、第十一小学和第六、第十幼儿园等工程建设速度")
    assert holds_value("names", "确定泾源县第二中学及泾源县城关第二小学为新优质校培育对象")
    assert not holds_value("names", "市直各学校、各镇中心学校作为区域内学校品牌提升工作的牵头单位")
    assert not holds_value("names", "1、优化学校布局、2、加快学校建设")


def test_english_words_split_unknown_hyphenated_words():
    from retrieval.tokenize import english_words

    assert english_words("the State Council's aesthetic-education opinion") == \
        ["the", "state", "council", "aesthetic", "education", "opinion"]
    assert "part-time" in english_words("part-time teachers")  # the glossary knows it whole


def test_traditional_script_and_greetings_are_normalised_once():
    q = analyse("律師您好，學校有權強迫國中生退學嗎？謝謝")
    assert q.normalised == "学校有权强迫国中生退学吗" and q.text.startswith("律師")
    assert q.polar and not q.english and q.style == "short"
    assert ["退学"] in [alts[:1] for _, alts in q.groups]


@pytest.mark.parametrize("question", ["老师占体育课犯法吗", "幼儿园可以收赞助费吗?", "学校有权没收手机吗",
                                      "体罚学生有什么规定", "Can a kindergarten teach pinyin?",
                                      "Is it legal to keep a pupil after school?"])
def test_yes_no_and_what_the_law_says_questions_are_polar(question):
    assert analyse(question).polar


@pytest.mark.parametrize("question", ["教师节是几月几号", "哪个股室牵头?", "What is the deadline for comments?"])
def test_value_and_who_questions_are_not_polar(question):
    assert not analyse(question).polar


def test_a_long_story_is_searched_by_its_question():
    story = ("我家是山区农村的,孩子今年十三岁,上六年级。前几天老师安排他爬到树上挂彩带,结果孩子不小心"
             "摔了下来,左臂骨折,在县医院和市医院花了好几千块钱。学校是否应该承担责任?")
    q = analyse(story)
    assert q.style == "long" and focus_of(q.normalised).endswith("学校是否应该承担责任?")
    assert q.focus == "学校是否应该承担责任?"
    assert q.names == ()  # the story's places are not what it asks about


@pytest.mark.parametrize(("question", "history", "year"), [
    ("修订前的义务教育法对学生违纪怎么规定?", True, None),
    ("旧版教师法对教师工资怎么说的?", True, None),
    ("原来的规定是什么?", True, None),
    ("2018年版义务教育法第二十七条", True, 2018),
    ("2015年修正的教育法怎么规定学校的权利?", True, 2015),
    ("What did the old version of the Teachers Law say?", True, None),
    ("What did the 2015 version of the Education Law say?", True, 2015),
    ("义务教育法第二十七条说的是什么?", False, None),
    ("6月30日以前报名,还能改志愿吗?", False, None),  # a deadline, not a version
    ("2018年有多少学校达标?", False, None),  # a year, not a version's
])
def test_history_and_version_year(question, history, year):
    q = analyse(question)
    assert (q.history, q.version_year) == (history, year)


@pytest.mark.parametrize(("question", "article", "law"), [
    ("义务教育法第二十七条说的是什么?", 27, "义务教育法"),
    ("義務教育法第二十七條說的是什麼?", 27, "义务教育法"),  # traditional script
    ("民法典第1199条怎么规定的", 1199, None),
    ("未成年人保护法第一百零五条", 105, "未成年人保护法"),
    ("What does Article 27 of the Compulsory Education Law say?", 27, "义务教育法"),
    ("2018年版义务教育法第二十七条", 27, "义务教育法"),  # the version's year is not in the law's name
    ("义务教育法对学生违纪怎么规定?", None, "义务教育法"),
])
def test_article_named(question, article, law):
    q = analyse(question)
    assert q.article == article
    assert (law in q.names) if law else True
    assert "教育法" not in q.names  # the Compulsory Education Law is not also the Education Law


def test_which_law():
    assert analyse("哪部法律规定学校不得开除学生?").asks_law
    assert analyse("开除学生依据的是哪条法律?").asks_law
    assert analyse("Which law says schools may not expel students?").asks_law
    assert not analyse("学校能开除学生吗?").asks_law
    assert not analyse("哪一部分内容是重点?").asks_law and analyse("哪一部分内容是重点?").asks_list


def test_a_budget_and_a_named_university_are_values_to_be_found():
    assert "amount" in analyse("这个平台的预算是多少?").value_kinds  # a budget is a sum, not any number
    assert analyse("跟哪所大学合作?").value_kinds == ("names",)  # a name, not a kind of school


def test_a_storys_numbers_and_calls_are_circumstances_not_asked_values():
    story = ("孩子的爸爸昨天在电话中说,儿子今年十三岁,在县城一所中学读初二,上周在学校的走廊上和同学推搡时摔倒受伤,"
             "学校一直不肯处理。请问这种情况下学校应当承担什么责任?")
    q = analyse(story)
    assert q.style == "long" and q.value_kinds == ()  # not 'phone' for 电话, not a count for 十三岁
    assert "phone" in analyse("学校的联系电话是多少?").value_kinds


def test_a_standard_or_grade_asked_for_is_a_figure():
    assert analyse("学生在校骨折赔偿标准").asks_figure
    assert analyse("当老师普通话要达到什么等级").asks_figure
    assert analyse("What level of Putonghua must teachers reach?").asks_figure
    assert analyse("幼儿园一个班最多多少人?").asks_figure  # a count
    assert not analyse("学校开展培训可以收费吗?").asks_figure
    assert not analyse("标准化建设由哪个部门负责?").asks_figure


def test_only_short_texts_are_kept_by_the_normalisation_cache():
    from answer.question import CACHED_CHARS, normalised

    normalised.cache_clear()
    sentence, document = "第一条 为了 规范管理。", "全文。" * CACHED_CHARS
    assert norm(sentence) == "第一条为了规范管理。"
    assert norm(document) == document
    assert normalised.cache_info().currsize == 1  # the sentence, not the document's whole text
