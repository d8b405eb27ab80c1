"""Comparisons settled by the context's numbers: which option a "which came first" or "which has more"
question asks for, and when the numbers do not settle it."""
from __future__ import annotations

import pytest

from longflow.nodes.compare import alike, compared, in_common, one_sided, two_names
from longflow.nodes.grounding import terms

BORN = "Orla Venn was born on 12 March 1931. The rain kept on. Tomas Quill was born in 1948 in a mill town."


@pytest.mark.parametrize("question, expected, name", [
    ("Who was born first, Orla Venn or Tomas Quill?", 0, "Orla Venn"),
    ("Who is older, Tomas Quill or Orla Venn?", 1, "Orla Venn"),
    ("Who is younger, Orla Venn or Tomas Quill?", 1, "Tomas Quill"),
    ("谁先出生，Orla Venn还是Tomas Quill？", 0, "Orla Venn"),
    ("Tomas Quill还是Orla Venn先出生？", 1, "Orla Venn"),          # the options open the question
])
def test_years_pick_the_earlier_or_the_later_option(question, expected, name):
    index, sentence = compared(question, BORN)
    assert index == expected and sentence.startswith(name)


@pytest.mark.parametrize("question, context, expected", [
    ("Which band has more members, Gray Harbor or Lantern Choir?",
     "Gray Harbor consists of four members. Lantern Choir has 7 members.", 1),
    ("Which band has fewer members, Gray Harbor or Lantern Choir?",
     "Gray Harbor consists of four members. Lantern Choir has 7 members.", 0),
    # a day of a date is no count, and a number in the question is what is asked, not a value
    ("As of 2016, which town had more people, Brask or Ellow?",
     "Brask had 12,400 people on 3 May 2016. Ellow had 9,800 people in 2016.", 0),
    ("哪个乐队成员更多，灰港乐队还是灯笼合唱团？", "灰港乐队由四名成员组成。灯笼合唱团由十二名成员组成。", 1),
])
def test_counts_pick_the_larger_or_the_smaller_option(question, context, expected):
    assert compared(question, context)[0] == expected


@pytest.mark.parametrize("question, context", [
    # no comparison asked
    ("Which genus is aquatic, Pellano or Verrick?", "Pellano was named in 1901. Verrick was named in 1950."),
    # "the first" is an ordinal: the years say when, not which came first
    ("Who was the first woman to fly solo, Orla Venn or Tomas Quill?", BORN),
    # one option has no number, or two, or both the same
    ("Who was born first, Orla Venn or Tomas Quill?", "Orla Venn was born in 1931. Tomas Quill was a miller."),
    ("Who was born first, Orla Venn or Tomas Quill?",
     "Orla Venn was born in 1931. Tomas Quill lived 1948 to 1990."),
    ("Who was born first, Orla Venn or Tomas Quill?", "Orla Venn was born in 1931. Tomas Quill was born in 1931."),
    # a sentence naming both options gives neither a number
    ("Who was born first, Orla Venn or Tomas Quill?", "Orla Venn and Tomas Quill met in 1950."),
    # a number in an option's name is not a count
    ("Which canal is larger, the 17th Street Canal or Brem Canal?",
     "The 17th Street Canal is the largest drainage canal. Brem Canal is a 60 mi canal."),
])
def test_what_the_numbers_do_not_settle(question, context):
    assert compared(question, context) is None


@pytest.mark.parametrize("question, context, expected", [
    ("Orla Venn and Tomas Quill, have which occupation in common?",
     "Orla Venn is a harbour pilot. The rain kept on. Tomas Quill was a harbour pilot in Brask.", "harbour pilot"),
    ("Orla Venn and Tomas Quill, have which mutual occupation?",
     "Orla Venn is a harbour pilot. The rain kept on. Tomas Quill was a harbour pilot in Brask.", "harbour pilot"),
    ("Gray Harbor和Lantern Choir都是什么？", "Gray Harbor是一支冰岛民谣乐队。雨一直下。Lantern Choir是一支英国乐队。", "乐队"),
    ("Gray Harbor和Lantern Choir这两个乐队演奏什么音乐？",
     "Gray Harbor是一支民谣摇滚乐队。雨一直下。Lantern Choir演奏民谣摇滚。", "民谣摇滚"),
])
def test_what_two_named_things_share(question, context, expected):
    answer, said = in_common(question, context)
    assert answer == expected and len(said) == 2


@pytest.mark.parametrize("question, context", [
    # whether they share it is a yes or no, not a thing to name
    ("Are Orla Venn and Tomas Quill both harbour pilots?", "Orla Venn is a harbour pilot. Tomas Quill is a harbour pilot."),
    # nothing shared beyond the question's words, or one of the two never named alone
    ("Orla Venn and Tomas Quill, have which occupation in common?", "Orla Venn is a pilot. Tomas Quill is a miller."),
    ("Orla Venn and Tomas Quill, have which occupation in common?", "Orla Venn and Tomas Quill are pilots."),
    # a shared word in a script the answer's span is not cut from
    ("Orla Venn and Tomas Quill, have which word in common?", "Orla Venn is Ελλην. Tomas Quill is Ελλην."),
    # "一名" is shared by every sentence that says what someone is
    ("Orla Venn和Tomas Quill都从事什么职业？", "Orla Venn是一名飞行员。Tomas Quill是一名磨坊主。"),
])
def test_what_is_not_found_in_common(question, context):
    assert in_common(question, context) is None


MILL_TOWN = "Orla Venn was born in a mill town in 1931. Tomas Quill was born in a mill town in 1948."
PORTS = ("Orla Venn is a harbour pilot at Brask. The river was cold. Tomas Quill is a miller at Brask. "
         "Ida Marsh is a weaver at Sorrel.")


@pytest.mark.parametrize("question, context, expected", [
    ("Do Orla Venn and Tomas Quill work in the same town?", PORTS, True),     # "Brask" of both
    ("Do Tomas Quill and Ida Marsh work in the same town?", PORTS, False),    # nothing of both
    # what the question says of both: held by the sentences about both, or about one only
    ("Are Tomas Quill and Ida Marsh both millers?", PORTS.replace("weaver", "miller"), True),
    ("Are Orla Venn and Tomas Quill both harbour pilots?", PORTS, False),
    ("Orla Venn和Tomas Quill都是领航员吗？", "Orla Venn是一名领航员。Tomas Quill是一名磨坊主。", False),
    # the years decide a year, though "mill town" is shared: 1931 and 1948; 1931 and 1938 for a decade
    ("Were Orla Venn and Tomas Quill born in the same year?", MILL_TOWN, False),
    ("Were Orla Venn and Tomas Quill born in the same decade?", MILL_TOWN.replace("1948", "1938"), True),
    ("Orla Venn和Tomas Quill是同一年出生的吗？", "Orla Venn生于1931年。Tomas Quill生于1931年。", True),
    # names with small words in them, joined by "and" after the verb; "Brask", a word of one name, in the
    # sentence about the other; a word shared by sentences in English that is no name ("harbour pilot") is
    # no nationality
    ("Were the films Night at the Old Mill and The Grey Harbour released in the same town?",
     "Night at the Old Mill was released in Brask. The Grey Harbour was released in Sorrel.", False),
    ("Do Brask Harbour School and the Quill Mill stand in the same town?",
     "Brask Harbour School stands in Brask. The Quill Mill stands in Brask.", True),
    ("Are Orla Venn and Tomas Quill of the same nationality?",
     "Orla Venn is an Icelandic harbour pilot. Tomas Quill is an English harbour pilot.", False),
    ("Are Orla Venn and Tomas Quill both from Brask?", PORTS, True),
    ("Orla Venn和Tomas Quill在同一个乐队演奏吗？", "Orla Venn是灰港乐队的 lead singer。Tomas Quill是白湾乐队的 lead guitarist。",
     False),
    # a one-character Chinese name; a name the sentence writes with marks in it ("灰港（李）")
    ("桃和灰港李属于同一科吗？", "桃属于蔷薇科。雨一直下。灰港（李）属于蔷薇科。", True),
    # a Chinese word shared as a name (jieba's tag, or three characters), not a common word: "电影" is no
    # nationality, "属于" no family, "恩" (one character of a transliteration) no director
    ("奥拉·文恩和托马斯·奎尔是否具有相同的国籍？", "奥拉·文恩是一位美国电影导演。托马斯·奎尔是一位英国电影演员。", False),
    ("奥拉·文恩和托马斯·奎尔是否具有相同的国籍？", "奥拉·文恩是一位美国电影导演。托马斯·奎尔是一位美国电影演员。", True),
    ("灰港李和白湾桃是否来自同一个科？", "灰港李属于鸢尾科。白湾桃属于桔梗科。", False),
    ("纪录片《灰港》和《白湾》是否有同一个导演？", "《灰港》由约翰·格伦恩执导。《白湾》由肖恩·费恩执导。", False),
    # what the question says of both, counted in its parts: "动画电影" is held where "动画" and "电影" are;
    # "年" of "2001年" is a unit, not something said of them
    ("《灰港》和《白湾》都是动画电影吗？", "《灰港》是一部成人动画悬疑电影。《白湾》是一部土耳其动画电影。", True),
    ("《灰港》和《白湾》都是在2001年发布的吗？", "《灰港》是一部2001年的纪录片。《白湾》是在2007年至2011年间发布的。", False),
    # a sentence that names both says nothing of either alone
    ("Tomas Quill和Ida Marsh是否在同一个城镇工作？",
     "Tomas Quill是布拉斯克的磨坊主。Tomas Quill和Ida Marsh都在布拉斯克。Ida Marsh是索雷尔的织工。", False),
])
def test_whether_two_things_are_alike_is_read_from_the_sentences_about_each(question, context, expected):
    same, said = alike(question, context)
    assert same is expected and len(said) == 2


# Chinese names of places and firms carry no mark: the two things a question opens with are its names.
AIRPORTS = "灰港机场位于北河州。雨一直下。白湾机场位于南湖州。黑松机场位于北河州，在白湾。"


@pytest.mark.parametrize("question, expected", [
    ("灰港机场和白湾机场是否位于同一个州？", False),
    ("灰港机场与黑松机场是否位于同一个州？", True),
    ("灰港机场和白湾机场都是军用机场吗？", False),
    ("灰港机场和黑松机场，都是军用机场吗？", True),
])
def test_two_chinese_names_without_marks_are_the_two_things_asked_of(question, expected):
    same, said = alike(question, AIRPORTS + "灰港机场是军用机场。黑松机场也是军用机场。白湾机场是民用机场。")
    assert same is expected and said[0].startswith("灰港机场")


@pytest.mark.parametrize("question, expected", [
    ("灰港机场和白湾机场是否位于同一个州？", ["灰港机场", "白湾机场"]),
    ("奥拉·文恩和白湾机场，是智利的吗？", ["奥拉·文恩", "白湾机场"]),    # one marked, one not
    ("Orla Venn和Tomas Quill都是领航员吗？", ["Orla Venn", "Tomas Quill"]),   # marked: as written
    ("谁在灰港机场工作？", []),                                              # no two things joined
    # English: the two joined by "and" after the opening verb, small words and commas inside names kept
    ("Is it true that both Orla Venn and Theo van Brask were pilots?", ["Orla Venn", "Theo van Brask"]),
    ("Were the films Night at the Old Mill and Brask, Sorrel both made in 1950?",
     ["Night at the Old Mill", "Brask, Sorrel"]),
    ("Are the Icelandic pilots Orla Venn and Tomas Quill both at work?", ["Icelandic", "Orla Venn", "Tomas Quill"]),
    # ...or the two the question opens with, before a comma, "are" or "both"
    ("Orla Venn and Tomas Quill, have which mutual occupation?", ["Orla Venn", "Tomas Quill"]),
    ("Night at the Old Mill and The Grey Harbour are both what?", ["Night at the Old Mill", "Grey Harbour"]),
])
def test_the_two_names_of_a_question(question, expected):
    assert two_names(question) == expected


@pytest.mark.parametrize("reply, expected", [
    ("音乐家", True),               # the first one's alone
    ("歌手", False),                # both's
    ("音乐家和歌手", False),         # both's among them
    ("文档中没有提到。", False),      # nothing of either
])
def test_a_reply_that_names_what_one_of_the_two_is(reply, expected):
    question = "奥拉·文恩和托马斯·奎尔共有的职业是什么？"
    context = "奥拉·文恩是一位冰岛的音乐家和歌手。雨一直下。托马斯·奎尔是一位英格兰的歌手。"
    assert one_sided(reply, question, context) is expected
    assert not one_sided(reply, "奥拉·文恩是什么职业？", context)        # asks nothing of two


def test_what_two_chinese_names_without_marks_share():
    answer, _ = in_common("灰港机场和黑松机场都位于哪里？", AIRPORTS)
    assert answer == "北河州"


@pytest.mark.parametrize("question", [
    "Are Orla Venn and Tomas Quill both from Sorrel?",                   # neither sentence says "Sorrel"
    "Are Orla Venn and Ida Marsh both at work?",                         # neither sentence says "work"
    "Which town do Orla Venn and Tomas Quill have in common?",           # asks what, not whether
    "Do Orla Venn and Edda Lorn work in the same town?",                 # no sentence about Edda Lorn
])
def test_whether_two_things_are_alike_is_left_to_the_model(question):
    assert alike(question, PORTS) is None
