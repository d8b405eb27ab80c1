"""An answer as the context writes it: a shortened name in full, a number with its unit or in Chinese
numerals, a title in its marks."""
from __future__ import annotations

import pytest

from longflow.nodes.as_written import as_written


@pytest.mark.parametrize("reply, context, written", [
    # a name shortened to its first part, or with a middle part left out
    ("奥斯卡", "《灯塔》的贝斯手是奥斯卡·韦恩布里。\n奥斯卡·韦恩布里是一位画家。", "奥斯卡·韦恩布里"),
    ("托马斯·奎尔", "托马斯·奎尔在港口工作。\n托马斯·阿尔文·奎尔获得了两次提名。", "托马斯·阿尔文·奎尔"),
    ("托马斯·奎尔", "托马斯·奎尔即托马斯·阿尔文·奎尔", "托马斯·阿尔文·奎尔"),
    # a number with the one unit the context gives it
    ("1400", "这条公路全程为1400英里", "1400英里"),
    ("1981", "这艘潜艇自1981年起对公众开放参观", "1981年"),
    ("35,000", "该党有35,000名党员", "35,000名"),
    # ...not a number inside a longer one
    ("3", "他在2003年出生", "3"),
    # ...the name, not the name run on into the words after it elsewhere ("...·韦恩布里出生")
    ("奥斯卡", "《灯塔》主演奥斯卡·韦恩布里\n奥斯卡·韦恩布里出生于1972年", "奥斯卡·韦恩布里"),
    # two longer names, or two units: not known which, the reply stays
    ("奥斯卡", "奥斯卡·韦恩布里是画家，奥斯卡·布朗是歌手", "奥斯卡"),
    ("5", "他有5个孩子，5年后离开了港口", "5"),
    # a name whose last part runs on into other characters, or one already in full
    ("奥斯卡", "奥斯卡·韦恩布里获得了奖", "奥斯卡"),
    ("托马斯·阿尔文·奎尔", "托马斯·奎尔即托马斯·阿尔文·奎尔", "托马斯·阿尔文·奎尔"),
    # a name with a different first part is another name
    ("迪克·奎尔", "迪克·奎尔即理查德·阿尔文·奎尔", "迪克·奎尔"),
    # a number in digits that the context writes only in Chinese numerals, with its unit or the one it gives
    ("5天", "这场战斗持续了五天。", "五天"),
    ("10周", "该单曲在榜上停留了十周", "十周"),
    ("3", "宝马推出了一款三门掀背车", "三门"),
    ("2", "他有两个孩子", "两个"),
    # ...not where it also writes the digits, nor inside a longer numeral ("二十五")
    ("5天", "持续了五天，后来又过了5天", "5天"),
    ("5", "二十五名成员", "5"),
    # ...or only in English words, in one way; not where it also writes the digits, nor "twenty" of
    # "twenty-one"
    ("8", "The Harrow crew caught eight wolves", "eight"),
    ("5", "Ruslan is an opera in Five acts. It has five scenes.", "five"),
    ("21", "The ship fired twenty-one guns", "twenty-one"),
    ("20", "The ship fired twenty-one guns", "20"),
    ("8", "eight wolves, and 8 more", "8"),
    # a title the context writes in 《》, given without them or in other quotes
    ("Loud", "他因《Loud》中的歌曲获奖", "《Loud》"),
    ('"死侍2"', "《死侍2》由大卫执导", "《死侍2》"),
    ("霍利橡树", "她在长寿肥皂剧霍利橡树中饰演", "霍利橡树"),
    # a name in Latin letters, shortened, as the one longer form the context writes
    ("Thomas Quill", "It was written by Thomas Alvin Quill.\nHe lived at Brask.", "Thomas Alvin Quill"),
    ("Brask", "Brask Harbour Club won the cup", "Brask Harbour Club"),
    ("Quill", "Quill Jr. was born in Brask", "Quill Jr."),
    ("Orla", "Orla Venn. Brask was cold.", "Orla Venn"),              # not the full stop, nor the next sentence
    # ...not where it writes two (an "and" joins two names), nor a name with another first word
    ("Thomas", "Thomas Quill and Thomas Venn sailed", "Thomas"),
    ("Tom Quill", "Thomas Alvin Quill sailed", "Tom Quill"),
    # a sentence is not completed
    ("他是奥斯卡", "奥斯卡·韦恩布里是一位画家。", "他是奥斯卡"),
])
def test_an_answer_as_the_context_writes_it(reply, context, written):
    assert as_written(reply, context) == written


def test_a_longer_name_is_read_from_a_sentence_about_the_question():
    # "Brask" is not "Brask Bridge" of a line about something else
    context = "Orla Venn was born in Brask.\nBrask Bridge was built in 1890."
    assert as_written("Brask", context, "Where was Orla Venn born?") == "Brask"
    assert as_written("Brask", context, "When was the bridge at Brask built?") == "Brask Bridge"


_FERRY = ("Tam Vorley ran the Gull Point ferry for the Harrow Line.\n"
          "The Gull Point ferry (1962 boat) was a 1962 paddle steamer built for the Harrow Line.\n"
          "Gull Point first sailed on June 4, 1962.\n"
          "The Brask lighthouse was lit on March 3, 1962.")


@pytest.mark.parametrize("reply, question, written", [
    # asked when: the one date of that year written in a sentence tied to the question, here through the
    # name its sentence shares with the one that writes the year ("Gull Point")
    ("1962", "When did the paddle steamer built for the Harrow Line begin service?", "June 4, 1962"),
    ("1962", "On what date did the Harrow Line's paddle steamer start?", "June 4, 1962"),
    # not asked for a year, nor for a year the sentences tied to the question do not write
    ("1962", "In what year was the paddle steamer built for the Harrow Line?", "1962"),
    ("1963", "When did the paddle steamer built for the Harrow Line first carry passengers?", "1963"),
    # two dates tied to the question: not known which
    ("1962", "When was the paddle steamer of the Harrow Line near the Brask lighthouse?", "1962"),
])
def test_a_year_asked_when_is_the_one_date_of_it_the_context_writes(reply, question, written):
    assert as_written(reply, _FERRY, question) == written


def test_a_year_is_not_a_date_of_a_sentence_about_something_else():
    # the lighthouse's sentence shares no word with the question, and no name with the steamer's
    context = _FERRY.replace("Gull Point first sailed on June 4, 1962.\n", "")
    assert as_written("1962", context, "When did the paddle steamer built for the Harrow Line first sail?") == "1962"
    zh = "海鸥角渡轮（1962年船）是为哈罗航线建造的明轮船。\n海鸥角号于1962年6月4日首航。"
    assert as_written("1962年", zh, "为哈罗航线建造的明轮船是什么时候首航的？") == "1962年6月4日"
