"""Questions typed in traditional script, full width or wrapped in greetings reach search and analysis in
one form; the text cited is never touched."""

from __future__ import annotations

import pytest

from answer.normalise import normalise_question, strip_preambles, to_simplified


def test_traditional_script_becomes_simplified():
    assert to_simplified("學校有權強迫國中生退學嗎") == "学校有权强迫国中生退学吗"
    assert to_simplified("老师可以体罚学生吗") == "老师可以体罚学生吗"  # simplified text is left as it is


def test_taiwans_words_in_traditional_script_become_the_mainlands():
    assert to_simplified("孩子在網路上玩遊戲儲值") == "孩子在网络上玩游戏储值"
    assert to_simplified("學校電腦的軟體") == "学校电脑的软件"
    # in a question already simplified, a word that only looks like a Taiwan entry is kept
    assert to_simplified("学校软体操训练") == "学校软体操训练"


def test_full_width_letters_digits_and_punctuation_become_half_width():
    assert normalise_question("ＡＢＣ学校１２３？") == "ABC学校123?"


@pytest.mark.parametrize(("typed", "read"), [
    ("律師您好，學校有權強迫國中生退學嗎？謝謝", "学校有权强迫国中生退学吗"),
    ("请问一下：老师可以体罚学生吗?", "老师可以体罚学生吗?"),
    ("急！！孩子在学校摔伤了，学校要赔吗？在线等", "孩子在学校摔伤了,学校要赔吗"),
    ("各位，学校能收费吗", "学校能收费吗"),
])
def test_greetings_and_thanks_around_the_question_are_dropped(typed, read):
    assert normalise_question(typed) == read


@pytest.mark.parametrize("question", ["急救措施有哪些?", "孩子很急", "各位家长怎么看", "请问"])
def test_words_that_only_look_like_greetings_stay(question):
    assert strip_preambles(question) == question


def test_a_characters_reading_in_brackets_is_dropped():
    # mirror sites copy pages that print each character's pinyin after it
    assert normalise_question("家長可以報(bào)警嗎") == "家长可以报警吗"
    assert normalise_question("學校規(guī)定時(shí)間") == "学校规定时间"
    # brackets that are not a reading stay
    assert normalise_question("教育法(2021年修正)") == "教育法(2021年修正)"
    assert normalise_question("第三条(一)") == "第三条(一)"
