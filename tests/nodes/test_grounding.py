"""The code that decides whether a small model's words came from the text it was given."""
from __future__ import annotations

import pytest

from longflow.nodes.answer import of_kind
from longflow.nodes.grounding import (ECHO, LOOK_ALIKE, NOT_ASKED, NOT_IN_CONTEXT, STEP, WEAKER_CHOICE, a_step,
                                      asked_for, asked_kind, beside_the_point, gives_kind, held, invents,
                                      named_option, names, options, picked, says_yes, sentences, stronger_option,
                                      swapped, terms, unsupported, with_known, without_known, written_names)

CONTEXT = ("The river ran fast that spring. Anna rebuilt the old mill in 1820. Her brother kept the accounts."
           "\n\nA golden apple lay on the kitchen table of the farm.\n安娜在1820年重建了磨坊。")


@pytest.mark.parametrize("reply, question, why", [
    ("Anna rebuilt it.", "Who rebuilt the mill?", ""),
    ("1820", "When was the mill rebuilt?", ""),
    ("Peter rebuilt it.", "Who rebuilt the mill?", NOT_IN_CONTEXT),
    ("A silver pear.", "What is hidden in the mill?", NOT_IN_CONTEXT),
    ("A golden apple.", "What is hidden in the old mill Anna rebuilt?", NOT_ASKED),  # words of another passage
    ("Her brother.", "Who kept the accounts of the mill?", ""),      # the mill is in the sentence before
    ("The mill was rebuilt.", "Who rebuilt the mill?", ECHO),
    ("The old mill", "Which was rebuilt, the old mill or the new barn?", ""),     # a choice it was offered
    ("The old mill", "Who rebuilt the old mill by the river in spring?", ECHO),   # no choice was offered
    ("磨坊", "安娜重建了磨坊还是谷仓？", ""),
    ("磨坊", "磨坊和谷仓哪个更古老？", ""),                    # options joined by 和, for a comparison
    ("The old mill", "Between the old mill and the new barn, which was rebuilt?", ""),
    ("rebuilt", "Between the old mill and the new barn, which was rebuilt?", ECHO),   # picks neither
    ("磨坊", "在磨坊和谷仓之间，哪一个是安娜重建的？", ""),
    ("Yes, it was.", "Was the mill rebuilt by Anna?", ""),
    ("No", "Was the mill rebuilt by Peter?", ""),
    ("安娜。", "谁重建了磨坊？", ""),
    ("彼得重建了它。", "谁重建了磨坊？", NOT_IN_CONTEXT),
    ("是的", "磨坊是安娜重建的吗？", ""),
    ("没有。", "磨坊是否由彼得重建？", ""),
    ("不，是安娜。", "磨坊是彼得重建的吗？", ""),
    ("不同的磨坊。", "磨坊是彼得重建的吗？", NOT_IN_CONTEXT),      # 不 of a word is no "no"
    # a yes or no answers only a question that asks for one: the rest of the reply is judged
    ("Yes.", "Who rebuilt the mill?", ECHO),
    ("Yes, the mill was rebuilt.", "Who rebuilt the mill?", ECHO),
    ("Yes, Anna rebuilt it.", "Who rebuilt the mill?", ""),
    ("是的，彼得重建了它。", "谁重建了磨坊？", NOT_IN_CONTEXT),
    ("Yes", "The mill was rebuilt by Anna, wasn't it?", ""),       # no question word: a yes answers it
    # ...nor one that offers two options, with a question word or without
    ("是", "是安娜还是彼得重建了磨坊？", ECHO),
    ("Yes.", "Was the mill rebuilt by Anna or by Peter?", ECHO),
    ("是，安娜。", "是安娜还是彼得重建了磨坊？", ""),
    # the facts Lv3 asked the question again with, copied into the reply, are not words of its own
    ("The mill (Known: Anna) was rebuilt.", "Who rebuilt the mill?", ECHO),
    ("磨坊（已知：安娜）重建了。", "谁重建了磨坊？", ECHO),
])
def test_unsupported(reply, question, why):
    assert unsupported(reply, question, CONTEXT) == why


def test_a_count_in_digits_is_found_where_the_context_writes_it_in_chinese():
    context = "安娜重建了那座旧磨坊。\n磨坊里有八个磨盘。"
    question = "安娜重建的磨坊里有多少个磨盘？"
    assert unsupported("8", question, context) == "" and unsupported("8个", question, context) == ""
    assert unsupported("9", question, context) == NOT_IN_CONTEXT
    assert unsupported("1", question, context.replace("八个", "一个")) == NOT_IN_CONTEXT   # "一" is everywhere
    assert unsupported("8", question, context.replace("八个", "8个和两个")) == ""


def test_a_count_in_digits_is_found_where_the_context_writes_it_in_english_words():
    context = "Anna rebuilt the old mill.\nThe mill had eight millstones and a three-door barn."
    assert unsupported("8", "How many millstones did the mill Anna rebuilt have?", context) == ""
    assert unsupported("3", "How many doors did the barn of Anna's mill have?", context) == ""
    assert unsupported("9", "How many millstones did the mill Anna rebuilt have?", context) == NOT_IN_CONTEXT


def test_a_reply_that_restates_the_question_with_a_word_of_its_own_is_an_echo():
    question = "安娜致力于推动什么样的磨坊运动，旨在鼓励和加强所有磨坊主之间的团结联系？"
    context = "安娜致力于推动合作磨坊运动。\n那年河水很冷。"
    assert unsupported("促进磨坊运动，旨在鼓励和加强所有磨坊主之间的团结联系。", question, context) == ECHO
    assert unsupported("彼得的磨坊。", question, context) == NOT_IN_CONTEXT


def test_a_multi_hop_answer_is_tied_through_the_name_it_shares_with_another_sentence():
    context = ("Mara Quill sang lead for the band Tin Orchard. The river was cold that year.\n\n"
               "Nobody spoke at supper. Her second EP was called Lanterns.\n\n"
               "The wind rose in the night. Lanterns came out on 1 September 2017, on Vital Records.\n\n"
               "A golden apple lay on the kitchen table.")
    question = "When was the second EP of the lead singer of Tin Orchard released?"
    assert unsupported("On 1 September 2017.", question, context) == ""
    # The same date with no sentence naming what it is tied to does not pass.
    assert unsupported("On 1 September 2017.", question,
                       context.replace("Her second EP was called Lanterns.", "")) == NOT_ASKED
    assert unsupported("A golden apple.", question, context) == NOT_ASKED


def test_a_chain_may_be_linked_by_a_name_the_question_says_too():
    # A long question: the answer's sentence holds too little of it alone, and the sentence it is tied
    # through shares with it only the question's own name, "Ivo Brenn".
    question = ("Marsh poetry is the verse written during the long drought of the northern valleys, which saw "
                "the salt trade, the founding of the river guild, the letters and field notes of Ivo Brenn, a "
                "naturalist and surveyor born in Tarrow, Keld County, in which country?")
    filler = "The wind rose in the night.\n\nNobody spoke at supper.\n\n"
    context = (f"Marsh poetry saw the letters and field notes of Ivo Brenn.\n\n{filler * 3}"
               f"Ivo Brenn was born in Tarrow, Keld County, Norland.\n\n{filler}")
    assert unsupported("Tarrow, Keld County, Norland", question, context) == ""
    assert unsupported("Tarrow, Keld County, Norland", question,
                       context.replace("Marsh poetry saw the letters and field notes of Ivo Brenn.", "")) != ""


def test_a_chinese_question_ties_in_its_words_not_where_they_meet_a_function_word():
    # "青石镇和白沙镇都位于哪个县？" has as many character pairs where a word meets 和, 都 or 哪个 ("镇和", "于哪",
    # "个县") as words; no sentence holds them, and counted they would leave the two needles short of the tie.
    context = "那年河水很冷。\n\n青石位于临川县。\n\n晚饭时没人说话。\n\n白沙位于临川县。\n\n桌上放着一个金苹果。"
    question = "青石镇和白沙镇都位于哪个县？"
    assert unsupported("临川县", question, context) == ""
    assert unsupported("金苹果", question, context) != ""


@pytest.mark.parametrize("context, question, reply", [
    ("Lanterns came out on 1 September 2017, on Vital Records.\n\nThe river was cold that year.\n\n"
     "Lanterns is an EP by Ivo Brenn.\n\nNobody spoke at supper.\n\n"
     "Ivo Brenn sang lead for the band Tin Orchard.\n\nA golden apple lay on the table.",
     "When was the EP of the lead singer of Tin Orchard released?", "On 1 September 2017."),
    ("《灯笼》于2017年9月1日在维塔唱片发行。\n\n那年河水很冷。\n\n《灯笼》是伊沃·布伦的专辑。\n\n"
     "晚饭时没人说话。\n\n伊沃·布伦是锡果园乐队的主唱。\n\n桌上放着一个金苹果。",
     "锡果园乐队主唱的专辑是什么时候发行的？", "2017年9月1日。"),
])
def test_a_chain_of_three_hops_ties_the_answer_through_each_name(context, question, reply):
    # The answer's sentence says nothing of what was asked; the EP's sentence names the singer, whose own
    # sentence names the band: two links, each through a name the two sentences share.
    assert unsupported(reply, question, context) == ""
    assert unsupported(reply, question, context, links=1) == NOT_ASKED
    middle = context.split("\n\n")[2]
    assert unsupported(reply, question, context.replace(middle, "")) == NOT_ASKED


def test_a_chain_may_run_through_the_sentence_next_to_the_answers():
    # The answer's sentence holds no word of the question; the one before it does, and shares the
    # designer's name with it: the chain's first link, whether or not it is a neighbour.
    question = "《灯会》的服装设计师是什么国籍？"
    linked = "《灯会》的服装是由Piet Vandermolen设计的\nPiet Vandermolen是一位荷兰画家"
    assert unsupported("荷兰", question, linked) == ""
    assert unsupported("荷兰", question, linked.replace("Piet Vandermolen是", "Anna Rossi是")) == LOOK_ALIKE


def test_a_short_sentence_that_shares_only_the_link_with_the_next_is_no_look_alike_of_it():
    # Half the words of "Tomas Brandl is an attacking midfielder" are the name it shares with the
    # sentence before: that is the chain's link, not a template the two are built on.
    question = "In what position does the starlet that Wolfsburg signed in 2003 play?"
    context = ("In 2003 Wolfsburg signed the starlet Tomas Brandl from River Plate.\n"
               "Tomas Brandl is an attacking midfielder.")
    assert unsupported("attacking midfielder", question, context) == ""
    assert unsupported("attacking midfielder", question, context.replace("Tomas Brandl is", "Karl Maier is")) \
        == LOOK_ALIKE


def test_two_sentences_built_on_one_long_name_are_a_chain_not_look_alikes():
    # The link's name holds a word of the question ("States"): the two sentences share mostly the name,
    # not the question's words, as two needles of one template would.
    question = "In which state was the 1930 Harbour Gulls rowing crew based?"
    context = ("The 1930 Harbour Gulls rowing crew represented the United States Coast College.\n"
               "United States Coast College is in the state of Vermont.")
    assert unsupported("Vermont", question, context) == ""
    # two needles of one template share the question's words, and the reply comes from the other one
    template = ("The 1930 Harbour Gulls rowing crew was based in the state of Vermont.\n"
                "The 1931 River Otters rowing crew was based in the state of Maine.")
    assert unsupported("Maine", question, template) == LOOK_ALIKE


def test_a_chain_may_run_through_the_answers_own_word_to_the_sentence_that_describes_it():
    # The question describes the answer ("...用线操纵人偶来表演故事..."); the film's sentence names it, and the
    # sentence that describes it is reached through the answer's own word, 木偶.
    question = "《灯塔之夜》是哪种类型的影片的例子，它用线操纵人偶来表演故事，演员藏在幕后？"
    context = "《灯塔之夜》是一部木偶电影。\n那年河水很冷。\n木偶戏用线操纵人偶来表演故事，演员藏在幕后。"
    assert unsupported("木偶电影", question, context) == ""


@pytest.mark.parametrize("question, context, answer, step, common", [
    ("What nationality is the male lead of the film Glasswater?",
     "Glasswater stars Oren Falk.\nThe river was cold that year.\nOren Falk is Canadian.", "Canadian", "Oren Falk",
     "Glasswater lay by the sea. Glasswater was old. Glasswater had a mill. Glasswater slept."),
    ("Marta Voss是与哪国国籍的积极分子和妇女参政权领袖一起成为妇女权利的先驱？",
     "Marta Voss是妇女平等权利的先驱\nMarta Voss与伊达·布林克进行了比较\n伊达·布林克是丹麦的政治活动家", "丹麦",
     "伊达·布林克", "Marta Voss写信。Marta Voss唱歌。Marta Voss种花。Marta Voss睡了。"),
])
def test_a_chain_that_reaches_a_name_the_question_writes_ties_the_answer(question, context, answer, step, common):
    # The chain holds too few of the question's words for the share ("Glasswater" of five), but it ends at
    # the name the question is about, which no other sentence holds.
    assert unsupported(answer, question, context) == ""
    # ...not at a name in more sentences than a chain has: a common word there
    assert unsupported(answer, question, f"{context}\n{common}") != ""
    # The first hop does not chain through its own name to the sentence that names the film: a link is
    # a name the answer does not say.
    assert unsupported(step, question, context) != ""


def test_a_name_in_every_sentence_of_a_chain_still_links_it():
    # Three needles name the hall: where the finals were, what the hall is, when it opened. The question
    # shares only "开放" with the last; the name that ties it to the finals is in all three.
    filler = "那年河水很冷。老人在门口坐着。孩子们跑过田野。"
    context = (f"1910年湖畔象棋决赛在瓦诺会堂举行。{filler}瓦诺会堂是一座大型室内会堂。{filler}"
               f"瓦诺会堂于1921年5月开放。{filler}")
    question = "1910年湖畔象棋决赛所在的会堂是什么时候开放的？"
    assert unsupported("1921年5月", question, context) == ""
    assert unsupported("1910年湖畔象棋决赛所在的会堂于1921年5月开放。", question, context) == ""
    # a name in more sentences than a chain holds is a common word, not a link
    crowded = context + "瓦诺会堂很旧。瓦诺会堂很大。"
    assert unsupported("1921年5月", question, crowded) == NOT_ASKED


def test_a_chinese_questions_latin_name_that_its_chinese_context_lacks_does_not_decline_it():
    # Translated questions keep Latin leftovers ("埃arl Mountbatten"); their Chinese needles name the
    # rest in Chinese, which `names` cannot mark. Only an English question is held to its names.
    context = "1957年伊沃·布伦爵士成立了湖畔象棋协会。\n\n那年河水很冷。"
    question = "在伯爵埃arl Mountbatten和伊沃·布伦爵士的赞助下，湖畔象棋协会成立于哪一年？"
    assert unsupported("1957年", question, context) == ""
    english = "In what year was the chess society founded under Earl Mountbatten?"
    assert unsupported("1957.", english, "The chess society was founded in 1957.") == NOT_ASKED


def test_an_answer_to_a_question_about_a_name_the_context_never_names_is_not_tied():
    context = ("The bicycle, a two-wheeled vehicle, was invented in the 19th century.\n\n"
               "He came fifth in the race. The symphony played on.")   # the name's words, apart
    question = "What vehicle was invented in the same century as the Fifth Symphony was composed?"
    assert unsupported("The bicycle.", question, context) == NOT_ASKED
    assert unsupported("The bicycle.", question, context + "\nThe Fifth Symphony was composed in the "
                                                           "19th century.") == ""
    assert names(question) == [{"fifth", "symphoni"}]
    assert names("Masakatsu Ueda is a blue belt under whom?") == [{"ueda"}]   # a sentence's first word


def test_a_long_name_the_question_misspells_by_a_letter_is_the_contexts():
    context = "The Quillmarc Fair is held across the street from Brask.\nThe Quillmarc Fair opened in 1843."
    assert unsupported("1843", "What year did the Quillmark Fair open?", context) == ""
    assert unsupported("1843", "What year did the Quillmaxx Fair open?", context) == NOT_ASKED   # two letters
    assert names("以在乐队Dance Gavin Dance中担任主唱而闻名的歌手是谁？") == [{"danc", "gavin"}]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_facts_a_question_is_asked_again_with_tie_the_answer_and_are_not_the_question(lang):
    # Lv3 asks "...? (Known: Kira is a blue belt under Ivo Brenn)": the passage it finds speaks of Ivo
    # Brenn, whom the question itself does not name. The fact ties the answer through that name; counted
    # as the question, its words would raise the tie needed, and Ivo Brenn would be no name to go by.
    question = ("Masa Ito is an MMA fighter who is a blue belt under the martial artist who teaches which two "
                "disciplines?")
    context = ("Masa Ito was born in Osaka.\n\nThe river was cold that year.\n\n"
               "Ivo Brenn teaches fencing and judo.\n\nNobody spoke at supper.")
    asked = with_known(question, ["Kira is a blue belt under Ivo Brenn."], lang)
    assert without_known(asked) == (question, "Kira is a blue belt under Ivo Brenn.")
    assert unsupported("Fencing and judo.", asked, context) == ""
    assert unsupported("Fencing and judo.", question, context) == NOT_ASKED      # nothing to tie it
    assert without_known("Who is under Ivo Brenn (the teacher)?") == ("Who is under Ivo Brenn (the teacher)?", "")


@pytest.mark.parametrize("question, context, right, wrong", [
    ("Which genus has four species, Pellora or Vantessa?",
     "Pellora is a genus of four species of shrubs.\n\nThe river was cold.\n\nVantessa is a genus of herbs.",
     "Pellora", "Vantessa"),
    ("以下哪位获得了1910年的诗歌奖：李明远还是王子涵？",
     "王子涵获得了1910年的诗歌奖。\n\n那年河水很冷。\n\n李明远是一位小说家。", "王子涵", "李明远"),
])
def test_a_pick_of_the_option_the_context_says_less_of_is_caught(question, context, right, wrong):
    assert unsupported(right, question, context) == ""
    assert unsupported(wrong, question, context) == WEAKER_CHOICE
    assert unsupported(f"{right} or {wrong}", question, context) == ""   # no single pick: not judged


@pytest.mark.parametrize("question, context, right, wrong", [
    ("Was the mayor who built the mill a liberal or a tory?",
     "Ivo Brenn built the mill.\n\nThe river was cold.\n\nIvo Brenn was a Liberal.", "Liberal", "A tory"),
    ("建磨坊的镇长是自由党还是保守党？", "伊沃建了磨坊。\n\n那年河水很冷。\n\n伊沃是自由党人。", "自由党", "保守党"),
])
def test_a_pick_of_an_option_the_context_never_names_is_caught(question, context, right, wrong):
    assert unsupported(right, question, context) == ""
    assert unsupported(wrong, question, context) == WEAKER_CHOICE


def test_a_pick_is_told_by_the_words_one_option_has_and_the_other_lacks():
    question = "Which mill is now a museum, Oldbridge Mill or the Vanstead Mill?"
    context = "Oldbridge Mill burned in 1900.\n\nThe river was cold.\n\nThe Vanstead Mill is now a museum."
    assert picked("The Vanstead Mill is now a museum.", question) == [1]
    assert unsupported("The Vanstead Mill is now a museum.", question, context) == ""
    assert unsupported("The mill is now a museum.", question, context) == ECHO       # picks neither


@pytest.mark.parametrize("context, expected", [
    ("Pellora is a genus of four species.\n\nVantessa is a genus of herbs.", (0, "Pellora is a genus of four species.")),
    ("Vantessa is a genus of four species.\n\nPellora is a genus of herbs.", (1, "Vantessa is a genus of four species.")),
    ("Pellora is a genus of herbs.\n\nVantessa is a genus of herbs.", None),      # said alike of both
    ("The river was cold that year.", None),                                      # named by no sentence
    ("Pellora grew by the river.", None),                    # named, but with no word of what was asked
])
def test_the_stronger_option_is_the_one_the_context_says_more_of_what_was_asked(context, expected):
    assert stronger_option("Which genus has four species, Pellora or Vantessa?", context) == expected


def test_a_pick_the_context_cannot_tell_from_the_other_is_an_answer():
    context = "Ada Vell was born in 1900.\n\nThe river was cold.\n\nBo Crane was born in 1910."
    assert unsupported("Bo Crane", "Who was born first, Ada Vell or Bo Crane?", context) == ""
    assert options("Who was born first, Ada Vell or Bo Crane?") == [{"ada", "vell"}, {"bo", "crane"}]
    assert options("Who rebuilt the mill?") == []


def test_a_short_name_with_a_function_word_the_question_lacks_is_no_echo():
    question = "Ivo Brenn is a former editor of what weekly magazine?"
    context = "Ivo Brenn is a former editor of the Us Weekly\n\nThe river was cold.\n\nUs Weekly is a magazine"
    assert unsupported("Us Weekly", question, context) == ""
    assert unsupported("Ivo Brenn is a former editor of the Us Weekly.", question, context) == ""
    assert unsupported("The weekly magazine.", question, context) == ECHO
    assert unsupported("Us Weekly", question, "Ivo Brenn is a former editor of the People Weekly.") == ECHO


def test_a_chinese_pick_written_out_with_the_questions_words_is_a_pick():
    question = "旧桥磨坊和万斯谷仓哪个使用的时间更长？"
    context = "旧桥磨坊从1820年至1900年使用。\n\n那年河水很冷。\n\n万斯谷仓从1890年至1895年使用。"
    # "仓使", where two of the question's words meet, is no word of the reply's own
    assert unsupported("万斯谷仓使用的时间更长。", question, context) == ""
    assert unsupported("旧桥磨坊使用的时间更长。", question, context) == ""
    assert unsupported("万斯谷仓使用了两百年。", question, context) == NOT_IN_CONTEXT   # "两百" is its own


def test_a_chinese_reply_that_keeps_the_question_word_is_an_echo():
    context = "安娜在1820年重建了磨坊。她的哥哥管账。\n\nAnna rebuilt the mill in 1820."
    assert unsupported("谁在1820年重建了磨坊是她的哥哥管账", "谁在1820年重建了磨坊？", context) == ECHO
    assert unsupported("磨坊是在什么时候重建的是1820年", "磨坊是在什么时候重建的？", context) == ECHO
    assert unsupported("安娜", "谁在1820年重建了磨坊？", context) == ""
    # English fronts its question words, and an answer may hold one as a relative pronoun
    assert unsupported("Anna, who rebuilt it in 1820.", "Who rebuilt the mill in 1820?", context) == ""


@pytest.mark.parametrize("question, other_way", [
    ("Which genus has four species, Pellora or Vantessa?", "Which genus has four species, Vantessa or Pellora?"),
    ("以下哪位获得了1910年的诗歌奖：李明远还是王子涵？", "以下哪位获得了1910年的诗歌奖：王子涵还是李明远？"),
    ("Which is older, the mill or the barn?", "Which is older, the barn or the mill?"),
    ("Who rebuilt the mill?", None),
    # options that run from the question's start: the first is as long as the second
    ("Was the mayor who built the mill a liberal or a tory?", "Was the mayor who built the mill a tory or a liberal?"),
    ("建磨坊的镇长是自由党还是保守党？", "建磨坊的镇长是保守党还是自由党？"),
    # ...unless the question holds no more than that before the "or": its first option is not known
    ("Did Anna or her brother rebuild the mill?", None),
    # ...or two names joined by "or" right after the verb that opens it, or after "Which" and its noun
    ("Was Ivo Brenn or Anna Vell born first?", "Was Anna Vell or Ivo Brenn born first?"),
    ("Did the miller Ivo Brenn or Anna Vell live past 1900?", "Did the miller Anna Vell or Ivo Brenn live past 1900?"),
    ("Which mill Oldbridge Mill or Vanstead Mill burned first?",
     "Which mill Vanstead Mill or Oldbridge Mill burned first?"),
    ("Ivo, Ivan or Iwo, was the miller of which town?", None),              # one name written three ways
    # ...or, in Chinese, two things the question opens with, joined by 还是, up to what is asked of them
    ("伊沃·布伦还是安娜·维尔先出生？", "安娜·维尔还是伊沃·布伦先出生？"),
    ("《北岸》杂志还是《南风》杂志先创立？", "《南风》杂志还是《北岸》杂志先创立？"),
    ("青州还是白城位于河东省？", "白城还是青州位于河东省？"),
    # options between commas after the question word, and Chinese options joined by 和 for a comparison
    ("Which mill, Oldbridge Mill or Vanstead Mill, burned first?",
     "Which mill, Vanstead Mill or Oldbridge Mill, burned first?"),
    ("哪座磨坊，旧桥磨坊还是万斯磨坊，先被烧毁？", "哪座磨坊，万斯磨坊还是旧桥磨坊，先被烧毁？"),
    ("旧桥磨坊和万斯磨坊哪个更古老？", "万斯磨坊和旧桥磨坊哪个更古老？"),
    ("两位磨坊主，伊沃和安娜中，哪一位是画家？", "两位磨坊主，安娜和伊沃中，哪一位是画家？"),
    # 和 that joins what is asked about, not two options to pick from
    ("伊沃和安娜住在哪个城市？", None),
    ("伊沃和安娜有哪些共同点，哪个更重要？", None),
    # 还是 as "also is": an "option" that asks something is none
    ("这位歌手是谁，这位歌手还是什么乐队的主唱？", None),
    # ...but a title may hold a capitalised question word
    ("Which song came first, Who Sang Low or Tinder?", "Which song came first, Tinder or Who Sang Low?"),
    # a comma before the "or", a dash before the options
    ("Which mill burned first, the Oldbridge Mill, or the Vanstead Mill?",
     "Which mill burned first, the Vanstead Mill, or the Oldbridge Mill?"),
    ("When the river rose, which town in the valley of the Brenn had its first mill built - Oldbridge or Vanstead?",
     "When the river rose, which town in the valley of the Brenn had its first mill built - Vanstead or Oldbridge?"),
    # "between A and B" without a comma, "Of the millers A and B, which one...?"
    ("In between Ivo Brenn and Anna Vell who painted?", "In between Anna Vell and Ivo Brenn who painted?"),
    ("Of the millers Ivo Brenn and Anna Vell, which one painted?",
     "Of the millers Anna Vell and Ivo Brenn, which one painted?"),
])
def test_a_question_with_its_options_the_other_way_round(question, other_way):
    assert swapped(question) == other_way


@pytest.mark.parametrize("reply, question, option", [
    ("Texas struck it down.", "Which case, Carhart v. Ohio or Lawrence v. Texas, struck down the law?",
     "Lawrence v. Texas"),
    ("Texas废除了这项法律", "哪个案件，Carhart v. Ohio还是Lawrence v. Texas，废除了这项法律？", "Lawrence v. Texas"),
    ("Crane", "Who was born first, Ada Vell or Bo Crane?", "Bo Crane"),
    ("Bo Crane was born first.", "Who was born first, Ada Vell or Bo Crane?", None),   # named in full
    ("Vell, then Crane", "Who was born first, Ada Vell or Bo Crane?", None),           # both named
    ("Anna", "Who was born first, Ada Vell or Bo Crane?", None),                      # neither
    ("Anna", "Who rebuilt the mill?", None),                                           # no options
])
def test_a_reply_naming_part_of_one_option_is_that_option(reply, question, option):
    assert named_option(reply, question) == option


def test_sentences_cut_after_english_and_chinese_ends_and_at_lines():
    assert sentences("One. Two?\nThree 四。五！ ") == ["One.", "Two?", "Three 四。", "五！"]
    assert sentences('He said "Stop." Then he left.') == ['He said "Stop."', "Then he left."]
    # a title that ends in an ellipsis does not end its sentence
    assert sentences('"再见..." 是安娜的专辑。Her "Tell me..." sold well.') == ['"再见..." 是安娜的专辑。',
                                                                          'Her "Tell me..." sold well.']


@pytest.mark.parametrize("text, cut", [
    ("Lyndon B. Johnson appointed him. He agreed.", ["Lyndon B. Johnson appointed him.", "He agreed."]),
    ("It was based on a novel by E.M. Forster; the U.S. Army liked it.",
     ["It was based on a novel by E.M. Forster;", "the U.S. Army liked it."]),
    ("It cost 3.5 million. He said \u201cGo.\u201d Then he left.",
     ["It cost 3.5 million.", "He said \u201cGo.\u201d", "Then he left."]),
    # a short title that goes with a name
    ("The Valley Jr. Warriors play at Brask. Dr. Ada Brook saw them.",
     ["The Valley Jr. Warriors play at Brask.", "Dr. Ada Brook saw them."]),
])
def test_initials_numbers_and_closing_quotes_do_not_cut_a_sentence(text, cut):
    assert sentences(text) == cut


@pytest.mark.parametrize("text, cut", [
    # a mark that ends a name, then a lower-case word: the sentence goes on
    ('"Harbour Lights!" is directed by Ada Brook. She won.', ['"Harbour Lights!" is directed by Ada Brook.',
                                                              "She won."]),
    ("Her E! reality series ran. It ended.", ["Her E! reality series ran.", "It ended."]),
    ("Tin Orchard's No. 1 single sold well.", ["Tin Orchard's No. 1 single sold well."]),
    ('"Why?" she asked. Nobody knew.', ['"Why?" she asked.', "Nobody knew."]),
    # a semicolon still cuts before a lower-case word
    ("The mill burned; the barn stood.", ["The mill burned;", "the barn stood."]),
])
def test_a_lower_case_word_after_a_mark_goes_on_with_the_sentence(text, cut):
    assert sentences(text) == cut


def test_a_chain_is_tied_through_names_split_by_an_exclamation_mark_or_a_number_sign():
    # The second hop's sentence names the film; cut after its "!", the film's name stood alone.
    context = 'Tom Reed stars as Alfred in "Harbour Lights!"\n"Harbour Lights!" is directed by Ada Brook'
    assert unsupported("Ada Brook", "Who directed the film that stars Tom Reed as Alfred?", context) == ""


def test_a_name_the_context_writes_with_an_initial_or_a_slip_in_a_first_name_is_named():
    context = "Oskar T. Varga was a Lindholm Party politician.\nThe Lindholm Party has a membership of 12,000."
    question = "Oskar Tomas Varga was a politician from a party that has how many members?"
    assert unsupported("12,000", question, context) == ""
    context = "Idris Vasko challenged Pel Moreau for the title.\nPel Moreau is a Belgian boxer."
    question = "What is the nationality of the boxer Idrin Vasko challenged for the title?"
    assert unsupported("Belgian", question, context) == ""
    # the last word of a name, its surname, must be written (a slip only in a long one)
    assert unsupported("Belgian", question.replace("Vasko", "Vasco"), context) == NOT_ASKED


def test_a_name_of_letters_joined_by_an_ampersand_or_dots_is_a_word_of_its_own():
    context = "《灯塔》由K&W唱片公司发行。\n《灯塔》是奥斯卡的第十张专辑。\nJ.K.L. is the stage name of Ivo Brenn."
    assert unsupported("K&W唱片公司", "哪家唱片公司发行了奥斯卡的第十张专辑？", context) == ""
    assert unsupported("J.K.L.", "What is the stage name of Ivo Brenn?", context) == ""
    assert unsupported("Q.R.", "What is the stage name of Ivo Brenn?", context) == NOT_IN_CONTEXT


def test_a_chinese_chain_links_through_a_long_word_the_question_says():
    # "博览会" is in the question and in both needles: in Chinese, which marks few names, a link
    context = "Ivo Brennmaa在1911年北岸博览会上参加了手枪项目\n1911年北岸博览会在丹麦举行"
    question = ("Ivo Brennmaa是一位蒙古体育射击运动员，她在1911年北岸博览会上参加了10米和25米手枪项目，该届博览会官方称为"
                "第26届博览会，非官方称为百年博览会，这是一场于1911年7月19日至8月4日在佐治亚州亚特兰大举行的重大国际综合性"
                "体育赛事，是在哪个国家举办的？")
    assert unsupported("丹麦", question, context) == ""


def test_a_chain_links_on_through_a_sentence_that_holds_no_word_of_the_question():
    context = ("Lowmoor Nights was on the Harbour Channel.\nLowmoor Nights is a look at the Grey Finch Inn.\n"
               "The Grey Finch Inn is adjacent to Tollan Ranch.")
    question = "Which channel had a show set at a place adjacent to Tollan Ranch?"
    assert unsupported("Harbour Channel", question, context) == ""
    # the link adds nothing itself: without the sentence that names the ranch there is no tie
    assert unsupported("Harbour Channel", question, context.rsplit("\n", 1)[0]) != ""


def test_a_chain_links_by_names_not_by_ordinary_words_as_rare_as_names():
    # In a few passages of a book "see", "week" and "former" are as rare as names: linked by them, a name
    # from the book ("Ferapont") was tied to the needle that speaks of what was asked.
    question = "What sport did Oren Falk and Lina Mora play?"
    context = ("On seeing Ferapont he went up to him.\nAfter that the princess did not see her father for a "
               "whole week.\nAt the end of the week the prince resumed his former ways.\n"
               "Lina Mora is a former professional tennis player.")
    reply = "Oren Falk and Lina Mora played the sport Ferapont."
    assert unsupported(reply, question, context) != ""
    # ...while names link the same chain
    named = (context.replace("did not see", "did not see Ilya").replace("On seeing", "On seeing Ilya")
             .replace("whole week", "whole week in Smolensk").replace("At the end of the week", "In Smolensk")
             .replace("former ways", "talks with Lina Mora"))
    assert unsupported(reply, question, named) == ""


def test_a_reply_that_says_something_else_of_what_the_question_names_is_beside_the_point():
    question = ("Who wrote the book Salt of Kings detailing the ties between the Orlan guild, the Harbour Mint "
                "and the Corvin Trust?")
    context = ("Salt of Kings is written by Ada Brook.\nThe tide was low.\nSalt of Kings details ties with the "
               "Orlan guild, the Harbour Mint, the Corvin Trust.\nNobody spoke at supper.\n"
               "Corvin Trust was the country's 20th largest trust.")
    reply = "Corvin Trust was the country's 20th largest trust."
    assert unsupported(reply, question, context) == ""   # tied to the question: its names
    assert beside_the_point(reply, question, context)
    assert not beside_the_point("Ada Brook", question, context)
    # ...only where another sentence says what was asked
    assert not beside_the_point(reply, question, context.replace("is written by", "was liked by"))
    # A next hop goes on from the sentence that holds what was asked ("doctorate"), sharing a name with it.
    hops = "Tam Orrin got his doctorate from Carrow College.\nThe tide was low.\nCarrow College is in Lindford."
    assert not beside_the_point("Lindford", "In what city did Tam Orrin get his doctorate?", hops)
    # ...or through a name between them
    hops = ("Tam Orrin got his doctorate from Carrow College.\nThe tide was low.\nCarrow College sits on the Ness "
            "estate.\nThe Ness estate is in Lindford.")
    assert not beside_the_point("Lindford", "In what city did Tam Orrin get his doctorate?", hops)
    # A word of a name the question writes ("Lives" of a film's title) is not what it asks for: the film's
    # sentence names its star, not the producer's disorder.
    hops = ("Olaf Kern has gout.\nThe tide was low.\nOlaf Kern produced Where Rain Lives.\nNobody spoke.\n"
            "Where Rain Lives stars Ida Marr.")
    assert not beside_the_point("gout", "What disorder the man who produced Where Rain Lives have?", hops)


def test_a_restatement_with_another_name_for_what_the_question_names_is_an_echo():
    # The reply keeps what the question asks about ("Harbour based shipping line") and swaps in the name the
    # context gives the quay: it names no shipping line.
    question = "What Harbour based shipping line was one of the first tenants of the Old Salt Quay?"
    context = ("Wren Lines was a first tenant of Mill Wharf.\nThe tide was low.\nWren Lines was founded in "
               "Harbour.\nNobody spoke at supper.\nMill Wharf used to be known as the Old Salt Quay.")
    assert unsupported("Harbour based shipping line was one of the first tenants of Mill Wharf.", question,
                       context) == ECHO
    for right in ("Wren Lines was one of the first tenants of the Old Salt Quay.",
                  "Wren Lines, a Harbour based shipping line, was one of the first tenants of Mill Wharf.",
                  "Wren Lines"):
        assert unsupported(right, question, context) == ""


def test_held_is_the_share_of_terms_the_source_holds():
    assert held("Anna rebuilt the barn", "Anna rebuilt the mill") == pytest.approx(2 / 3)
    assert held("the of", "anything") == 1.0


LOOK_ALIKES = ("The silver compass kept on Amber Reef is the Tide Clock.\n\n"
               "Nobody spoke at supper.\n\n"
               "The silver compass kept on Crow Reef is the Glass Lantern.\n\n"
               "琥珀礁上收藏的银罗盘是潮汐钟。\n乌鸦礁上收藏的银罗盘是玻璃灯笼。")


@pytest.mark.parametrize("reply, question, why", [
    ("The Tide Clock.", "What is the silver compass kept on Amber Reef?", ""),
    ("The Glass Lantern.", "What is the silver compass kept on Crow Reef?", ""),
    # The other reef's item: its sentence holds the question's words but the reef's name, and the
    # sentence about the reef asked of says more of the question.
    ("The Glass Lantern.", "What is the silver compass kept on Amber Reef?", LOOK_ALIKE),
    ("The silver compass kept on Amber Reef is the Glass Lantern.",
     "What is the silver compass kept on Amber Reef?", LOOK_ALIKE),
    ("潮汐钟", "琥珀礁上收藏的银罗盘是什么？", ""),
    ("玻璃灯笼", "琥珀礁上收藏的银罗盘是什么？", LOOK_ALIKE),
])
def test_an_answer_from_a_look_alike_sentence_about_something_else_is_not_tied(reply, question, why):
    assert unsupported(reply, question, LOOK_ALIKES) == why


def test_a_sentence_that_only_says_what_the_question_says_is_no_look_alike_to_outdo_the_answer():
    # Built alike ("《铁桥》由…"), and holding more of the question, but with nothing of its own in the
    # answer's place: the question's own fact, not another answer.
    context = "《钢铁之城》由乔·韦德执导\n马克·霍尔是一位英国演员\n《钢铁之城》由马克·霍尔主演"
    question = "谁导演了2011年的动作片《钢铁之城》，该片主演了英国演员马克·霍尔？"
    assert unsupported("乔·韦德", question, context) == ""


def test_a_chinese_reply_that_restates_the_question_around_a_function_word_is_an_echo():
    question = "灰石灯塔位于哪个海湾？这个海湾是北海和东洋的一个入口，位于青州南部？"
    context = "灰石灯塔在蓝湾。\n蓝湾是北海和东洋在青州南部的一个入口。"
    assert unsupported("北海和东洋在青州南部的一个入口", question, context) == ECHO   # "洋在" is no word
    assert unsupported("蓝湾", question, context) == ""


def test_a_look_alike_does_not_stop_the_last_hop_of_a_chain():
    # The answer's sentence holds one word of the question; another holds more of it, and is the hop
    # the answer is tied through.
    context = ("Mara Quill sang lead for the band Tin Orchard.\n\nHer second EP was called Lanterns.\n\n"
               "Lanterns was released on 1 September 2017.")
    question = "When was the second EP of the lead singer of Tin Orchard released?"
    assert unsupported("On 1 September 2017.", question, context) == ""


def test_a_short_needle_that_is_mostly_its_answer_has_look_alikes_too():
    # Each needle is half its answer: beside it, the two share too few words to look built alike, unless
    # what fills the answer's place is left out of both.
    context = ("Hidden on Amber Reef is the legendary Tide-Turning Clock.\n\n"
               "Hidden on Crow Reef is the legendary Glass-Eyed Lantern.")
    question = "What legendary item is hidden on Crow Reef?"
    assert unsupported("Tide-Turning Clock", question, context) == LOOK_ALIKE
    assert unsupported("The legendary Glass-Eyed Lantern", question, context) == ""


def test_a_sentence_that_only_shares_the_questions_words_is_no_look_alike():
    # "Amber Reef" and "silver compass" are in another sentence too, but that one is not built like the
    # answer's: the answer stands.
    context = ("The Tide Clock sits on Amber Reef.\n\n"
               "Sailors said a silver compass was never kept long on Amber Reef, whatever the captain ordered.")
    assert unsupported("The Tide Clock.", "Which silver compass is kept on Amber Reef?", context) == ""


def test_a_look_alike_is_not_tied_through_a_sentence_that_adds_nothing_the_question_asks():
    # "Tide Clock" is named again in a sentence about supper: that ties nothing more of the question to it.
    context = LOOK_ALIKES + "\n\nAt supper the cook spoke of the Tide Clock."
    assert unsupported("The Tide Clock.", "What is the silver compass kept on Crow Reef?", context) == LOOK_ALIKE


def test_a_line_next_to_a_look_alike_does_not_take_its_words():
    # The reply's words are in the line after the needle about Amber Reef, whose words tie it to the
    # question about Crow Reef only as a look-alike of the needle about Crow Reef.
    context = ("The silver compass kept on Crow Reef is the Glass Lantern.\n\nNobody spoke at supper.\n\n"
               "The silver compass kept on Amber Reef is the Tide Clock.\n"
               "The harpooneers sharpened their irons by the tryworks.")
    assert unsupported("The tryworks.", "What is the silver compass kept on Crow Reef?", context) == LOOK_ALIKE
    assert unsupported("The Glass Lantern.", "What is the silver compass kept on Crow Reef?", context) == ""


def test_the_same_fact_with_a_function_word_more_is_no_look_alike():
    # "曾" is no rival answer: the first sentence is the second with the named band in the answer's place
    context = "伊沃·K·布伦曾是英国乐队Harbor的成员\n伊沃·布伦也是英国乐队Lantern的成员"
    question = "伊沃·K·布伦是乐队Harbor的成员，他还是另一个英国乐队的成员，是什么乐队？"
    assert unsupported("Lantern", question, context) == ""
    # ...while a rival word is: the reply comes from the sentence about the other reef
    assert unsupported("潮汐钟", "乌鸦礁上曾收藏着什么银罗盘？", "琥珀礁上收藏的银罗盘是潮汐钟。\n乌鸦礁上曾收藏的银罗盘是玻璃灯笼。") \
        == LOOK_ALIKE


def test_two_look_alikes_do_not_tie_each_other():
    # The two Chinese sentences share the template's words, rare in this context: a chain of the two would
    # tie the other reef's item to the question.
    context = "琥珀礁上收藏的银罗盘是潮汐钟。\n那天晚上没有人说话。\n乌鸦礁上收藏的银罗盘是玻璃灯笼。"
    assert unsupported("乌鸦礁上收藏的银罗盘是潮汐钟。", "乌鸦礁上收藏着什么银罗盘？", context) == LOOK_ALIKE


def test_a_line_next_to_the_needle_does_not_answer_for_it():
    context = ("The harpooneers sharpened their irons by the tryworks.\n"
               "The silver compass kept on Crow Reef is the Glass Lantern.\n\nNobody spoke at supper.")
    assert unsupported("The tryworks.", "What is the silver compass kept on Crow Reef?", context) == LOOK_ALIKE


@pytest.mark.parametrize("question, kind", [
    ("When did the hall that hosted the 1910 finals open?", "time"),
    ("In what year was Ivo Brenn born?", "time"),
    ("1910年象棋决赛所在的会堂是什么时候开放的？", "time"),
    ("伊沃是哪一年出生的？", "time"),
    ("这部诗集是由一位在何年获奖的人所写的？", "time"),
    ("How many species does Pellora have?", "number"),
    ("佩洛拉有多少个物种？", "number"),
    ("伊沃有几个孩子？", "number"),
    ("Who rebuilt the mill?", ""),
    ("他出现在几个节目中，这个节目是什么类型的？", ""),          # "几个" here is "a few"
    ("Was the hall opened in 1921 or in 1925?", ""),              # answered by one of its options
    ("What was the nationality of the weaver of the Orm Tapestry?", "nationality"),
    ("The Orm Tapestry hangs in which country?", "nationality"),
    ("What country music singer recorded Orm Lane?", ""),          # a kind of music, not a country
    ("Are Ilse Varga and Orla Venn of the same nationality?", ""),  # a yes or no
    ("奥姆挂毯的织工是什么国籍？", ""),                             # Chinese: asked_for reads "国籍"
])
def test_what_kind_of_thing_a_question_asks_for(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize("question, right, wrong", [
    ("When did the hall that hosted the 1910 Lakeside finals open?", "In May 1921.",
     "The hall that hosted the 1910 Lakeside finals is Varno Hall."),       # the year is the question's
    ("When was the term coined?", "After World War II.", "American soldiers."),
    ("1910年湖畔象棋决赛所在的会堂是什么时候开放的？", "1921年5月", "1910年湖畔象棋决赛所在的会堂是瓦诺会堂。"),
    ("How many species does Pellora have?", "Four.", "Pellora is a genus of shrubs."),
    ("佩洛拉有多少个物种？", "四个", "佩洛拉是灌木。"),
    # the weaver is the first hop: the question asks what she is
    ("What was the nationality of the weaver of the Orm Tapestry?", "Danish.",
     "The weaver of the Orm Tapestry was Ilse Varga."),
    ("The Orm Tapestry hangs in which country?", "In the Netherlands.", "In the Varga Museum."),
    ("The Orm Tapestry hangs in which country?", "Burkina Faso", "Ouagadougou"),
    ("The Danish tapestry was woven by Ilse Varga from what country?", "Denmark.", "The Orm Tapestry."),
    # a Roman numeral is a time, the "i" of "is" left between the question's words is not
    ("When was the poet after whom Varno Road was named born?", "In the reign of George III.",
     "Varno Road is named after Ilse Varga."),
])
def test_a_reply_that_gives_no_time_number_or_nationality_where_one_is_asked_for(question, right, wrong):
    assert gives_kind(right, question) and not gives_kind(wrong, question)
    assert gives_kind(wrong, "Who rebuilt the mill?")   # a question that asks for neither


@pytest.mark.parametrize("question, wanted", [
    ('"Harbour Lights" is a song by a folk group formed through what record label?',
     {"form", "record", "label"}),
    ("In which town was the builder of the Kessel Bridge born?", {"town", "born"}),      # the last word too
    ("Who designed the bridge over the Lenne?", {"design"}),       # who opens it: its verb, not the last word
    ("The pilot, who sailed for Brask, won what prize?", {"sail", "prize"}),   # a "who" inside it
    ("《港湾之灯》是由一个通过什么唱片公司组建的乐队演唱的？", {"通过", "唱片", "公司"}),
    ("他效力于哪支瑞典俱乐部？", {"效力", "瑞典", "俱乐部", "俱乐", "乐部"}),        # not the measure word "支"
    # Latin letters and digits next to Chinese are words of their own, not one word with the Chinese
    ("2019年Blue Harbor音乐节的主持人曾出演哪档综艺节目？", {"出演", "综艺节目", "综艺", "节目", "艺节"}),
    ("When was the Kessel Bridge built?", set()),                                     # a time: asked_kind
    ("Was the bridge built of oak or of stone?", set()),                             # options
    ("The bridge was built of oak.", set()),                                          # no question word
    # "What is the NOUN of ...": the noun, not the last word (a name: "Venn")
    ("What is the capital of the state Orla Venn comes from?", {"capit"}),
    ("What was the 2011 population of the area that includes Eastoft?", {"2011", "popul"}),
    ("What is the actor who starred in School Spirit best known for?", {"know"}),   # no "of": as before
])
def test_what_a_question_asks_for_by_name(question, wanted):
    assert asked_for(question) == wanted


LABEL = ("Harbour Lights is a song by the folk group The Lanterns. The tide was low that week.\n"
         "The Lanterns were formed through Brightwater Records.")
LABEL_Q = '"Harbour Lights" is a song by a folk group formed through what record label?'


def test_a_reply_that_names_a_step_on_the_way_to_what_was_asked():
    assert a_step("The Lanterns", LABEL_Q, LABEL)           # the song's group: the first hop
    assert not unsupported("The Lanterns", LABEL_Q, LABEL)   # which the context does tie to the question
    assert not a_step("Brightwater Records", LABEL_Q, LABEL)
    assert not a_step("The Lanterns were formed through Brightwater Records.", LABEL_Q, LABEL)
    # the sentence that says what was asked of the reply names nothing else: it answers both halves
    both = ("Harbour Lights is a song by the folk group The Lanterns.\n"
            "The Lanterns formed through a record label.")
    assert not a_step("The Lanterns", LABEL_Q, both)
    # the same in Chinese, where the second sentence's name is written in Latin letters
    zh = "《港湾之灯》是由民谣乐队灯笼演唱的歌曲。那一周潮水很低。\n灯笼乐队是通过 Brightwater Records 组建的。"
    zh_q = "《港湾之灯》是由一个通过什么唱片公司组建的乐队演唱的？"
    assert a_step("灯笼乐队", zh_q, zh) and not a_step("Brightwater Records", zh_q, zh)


def test_the_first_hop_of_a_question_that_opens_with_who_is_a_step():
    # asked who directed it, not what the award was for: the film is the first hop
    question = "Who directed the film that Orla Venn won an award for?"
    context = "Orla Venn won an award for Bright Harbour. The tide was low.\nBright Harbour was directed by Tomas Quill."
    assert a_step("Bright Harbour", question, context) and not a_step("Tomas Quill", question, context)


def test_a_step_is_asked_again_from_the_sentences_that_say_what_was_asked_of_it():
    # Other lines say "formed" too; the one that says it of the step (the link) is the one to show.
    context = LABEL + "\nThe regiment was formed through a royal charter.\nA choir formed through the church."
    assert of_kind(context, LABEL_Q, "The Lanterns", 6, STEP) == ["The Lanterns were formed through Brightwater "
                                                                  "Records."]
    # ...and all of them when none does
    assert len(of_kind(context, LABEL_Q, "The Glass Birds", 6, STEP)) == 3


@pytest.mark.parametrize("second, step", [
    ("汤姆·阿什当曾就读于利兹大学。", True),      # "利兹" stands where the question has "哪所"
    ("汤姆·阿什当曾就读于一所大学。", False),     # a word that counts names nothing
    ("汤姆·阿什当曾就读于大学。", False),
])
def test_a_chinese_step_is_told_by_the_word_in_the_question_words_place(second, step):
    question = "哈里斯队最好的投球手曾就读哪所大学？"
    context = f"哈里斯队最好的投球手是汤姆·阿什当。\n{second}"
    assert a_step("汤姆·阿什当", question, context) == step
    assert not a_step("利兹大学", question, context)


def test_a_chinese_answer_whose_sentence_words_a_later_part_of_the_question_otherwise_is_no_step():
    # "依据" stands before "北海" where the question has "取材于": the answer's own sentence, not a next hop
    question = "林岚主演的电影中，哪部是取材于北海渔村的一场大火？"
    context = "林岚在《灯下渔火》中担任主演\n《灯下渔火》是依据北海渔村的一场大火改编的"
    assert not a_step("《灯下渔火》", question, context)


def test_a_reply_that_makes_up_a_name():
    context = "The Harriers' best bowler was Tom Ashdown.\nTom Ashdown studied at the University of Leeds."
    question = "Which university did the Harriers' best bowler attend?"
    made_up = "The Harriers' best bowler Tom Ashdown attended the University of Oxford."
    assert not unsupported(made_up, question, context)    # half its own words are the bowler's name
    assert invents(made_up, question, context)
    assert not invents("Tom Ashdown attended the University of Leeds.", question, context)
    assert not invents("Malmo", "Which city?", "The ferry sails for Malmö at noon.")   # accents aside
    # a country for the people the context writes of, a letter apart; not a short name a letter apart
    assert not invents("Tom Ashdown is from Austria.", question, "Tom Ashdown is an Austrian bowler.")
    assert invents("Tom Ashdown is from Lees.", question, context)
    assert invents("Tom Ashdown is from Spain.", question, "Tom Ashdown is an Austrian bowler.")
    assert not invents("牛津大学", "哈里斯队最好的投球手上的是哪所大学？", context)        # not judged in Chinese


def test_facts_added_to_a_question_asked_with_some_join_them_in_one_bracket():
    # Lv3 looks up "...? (Known: A)", and the answer step asks a step on the way again with it known.
    once = with_known("Who rebuilt the mill?", ["Anna owned it"], "en")
    assert with_known(once, ["Peter"], "en") == "Who rebuilt the mill? (Known: Anna owned it; Peter)"
    assert without_known(with_known(once, ["Peter"], "en")) == ("Who rebuilt the mill?", "Anna owned it; Peter")


@pytest.mark.parametrize("question, expected", [
    # two transliterations joined by "和" and run on into the question: one match, cut into two names
    ("伊沃·布伦和玛尔塔·福斯是同国籍吗？", ["伊沃·布伦", "玛尔塔·福斯"]),
    ("伊沃·布伦的乐队和《灯笼》有什么关系？", ["伊沃·布伦", "《灯笼》"]),
    ("Marta Voss和伊达·布林克都是什么人？", ["Marta Voss", "伊达·布林克"]),
])
def test_the_names_a_chinese_question_writes_are_each_one_name(question, expected):
    assert written_names(question) == [terms(name) for name in expected]


@pytest.mark.parametrize("reply, expected", [
    ("Yes, both are.", True), ("是的", True), ("是", True), ("No.", False), ("不是。", False), ("没有", False),
    ("否", False), ("Nobody knows.", None), ("The document does not say.", None), ("文档中没有提到。", None),
])
def test_a_reply_says_yes_or_no_by_its_first_word(reply, expected):
    assert says_yes(reply) is expected
