"""longflow.apps.quality.scoring: every scorer, in English and Chinese, including the replies that must
score 0 (a confident invention for an absent case, the right form without the keyword, a decline that
names a candidate)."""
from __future__ import annotations

import math
import subprocess
import sys
import time

import pytest

from longflow.apps.quality.scoring import (NEEDLEBENCH_WEIGHTS, absent, declines, instruction,
                                           keyword_recall_f1, levenshtein, multi_needle, names_nothing,
                                           other_option, overall, picks_other_option, reads_french,
                                           reasoning, score, single_needle)

GOLD_EN = "The lighthouse keeper's parrot was named Captain Biscuit."
GOLD_ZH = "灯塔看守人的鹦鹉名叫饼干船长。"
Q_EN = "Who led the expedition to the frozen lake?"
Q_ZH = "谁带领了前往冰湖的探险队？"
Q_VENUS = "第一支在金星上演奏的乐队是哪一支？"


@pytest.mark.parametrize("a, b, distance", [
    ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("", "abc", 3), ("abc", "", 3), ("same", "same", 0),
    ("灯塔鹦鹉", "灯塔的鹦鹉", 1),
])
def test_levenshtein(a, b, distance):
    assert levenshtein(a, b) == distance == levenshtein(b, a)


def test_levenshtein_of_a_long_reply_is_capped_and_stays_an_upper_bound():
    reply = "x" * 200_000 + GOLD_EN
    started = time.perf_counter()
    distance = levenshtein(reply, GOLD_EN)
    assert time.perf_counter() - started < 2
    assert 200_000 <= distance <= len(reply)


@pytest.mark.parametrize("prediction, keyword, reference, expected", [
    ("It was Captain Biscuit.", "Captain Biscuit", GOLD_EN, 100.0),
    ("鹦鹉叫饼干船长。", "饼干船长", GOLD_ZH, 100.0),
    # not found: a fifth of the similarity to the gold sentence, whitespace removed
    ("The lighthouse keeper's parrot was named Captain Biscut.", "Captain Biscuit", GOLD_EN,
     0.2 * 100 * (1 - 1 / 50)),
    ("灯塔看守人的鹦鹉名叫饼干舰长。", "饼干船长", GOLD_ZH, 0.2 * 100 * (1 - 1 / 15)),
    ("captain biscuit", "Captain Biscuit", None, 0.2 * 100 * (1 - 2 / 14)),    # case-sensitive
    ("", "Captain Biscuit", GOLD_EN, 0.0),
])
def test_single_needle(prediction, keyword, reference, expected):
    assert single_needle(prediction, keyword, reference) == pytest.approx(expected)


THREE = ["Captain Biscuit", "Amber Kite", "Lake Osmer"]


@pytest.mark.parametrize("prediction, keywords, expected", [
    ("Captain Biscuit, the Amber Kite and Lake Osmer.", THREE, 100.0),
    ("Captain Biscuit and Lake Osmer.", THREE, 200 / 3),
    ("饼干船长，琥珀风筝。", ["饼干船长", "琥珀风筝", "奥斯默湖", "青铜钟"], 50.0),
    ("I do not know.", ["Captain Biscuit", "Amber Kite"], 0.0),
    ("anything", [], 0.0),
])
def test_multi_needle(prediction, keywords, expected):
    assert multi_needle(prediction, keywords) == pytest.approx(expected)


@pytest.mark.parametrize("prediction, answer, expected", [
    ("The mapmaker was ORLA QUINCE of Tarrow.", "Orla Quince", 100.0),
    ("It was someone named Quince.", "Orla Quince", 50.0),
    ("Nobody knows.", "Orla Quince", 0.0),
    ("绘图师是奥拉·昆斯。", "奥拉·昆斯", 100.0),
    ("绘图师姓昆斯。", "奥拉·昆斯", 0.0),      # a Chinese answer is one word: all or nothing
])
def test_reasoning(prediction, answer, expected):
    assert reasoning(prediction, answer) == pytest.approx(expected)


@pytest.mark.parametrize("prediction, answer, lang, expected", [
    (GOLD_EN, GOLD_EN, "en", 100.0),
    # tokens: parrot was named captain biscuit (5) vs lighthouse keeper's parrot was named captain biscuit (7)
    ("The parrot was named Captain Biscuit!", GOLD_EN, "en", 100 * 2 * (5 / 5) * (5 / 7) / (5 / 5 + 5 / 7)),
    ("Captain Biscuit", GOLD_EN, "en", 100 * 2 * 1 * (2 / 7) / (1 + 2 / 7)),
    # recall 1/7 of the keywords is under 0.2; and "was" (blacklisted) never counts as recalled
    ("Biscuit, I think.", GOLD_EN, "en", 0.0),
    ("It was a dog that was named.", GOLD_EN, "en", 0.0),
    ("", GOLD_EN, "en", 0.0),
    (GOLD_ZH, GOLD_ZH, "zh", 100.0),
    ("是一只狗。", GOLD_ZH, "zh", 0.0),
])
def test_keyword_recall_f1(prediction, answer, lang, expected):
    assert keyword_recall_f1(prediction, answer, lang) == pytest.approx(expected)


def test_keyword_recall_f1_in_chinese_needs_two_fifths_of_the_keywords():
    partial = keyword_recall_f1("鹦鹉名叫饼干船长。", GOLD_ZH, "zh")
    assert 0 < partial < 100
    assert keyword_recall_f1("看守人。", GOLD_ZH, "zh") == 0.0


@pytest.mark.parametrize("reply, lang, expected", [
    ("The document does not say who led the expedition.", "en", True),
    ("The passages don't mention it.", "en", True),
    ("There is no information about the expedition's leader in the text.", "en", True),
    ("The leader is not mentioned in the document.", "en", True),
    ("I cannot find who led it.", "en", True),
    ("That is not in the provided passages.", "en", True),
    ("None of the passages name the leader.", "en", True),
    ("The answer is not known from the text.", "en", True),
    ("Unknown.", "en", True),
    ("The leader remains unknown.", "en", True),
    ("I don\u2019t know.", "en", True),
    ("Captain Ilse Varga led the expedition.", "en", False),
    ("The unknown soldier led the expedition.", "en", False),          # describes, does not decline
    ("The lost map was not found until 1820.", "en", False),           # a fact about the world
    ("I can find it: Ilse Varga.", "en", False),
    ("文档中没有提到谁带领了探险队。", "zh", True),
    ("文中未提及。", "zh", True),
    ("材料中没有相关信息。", "zh", True),
    ("无法回答。", "zh", True),
    ("根据提供的材料，无法确定。", "zh", True),
    ("未找到答案。", "zh", True),
    ("不知道。", "zh", True),
    ("答案未知。", "zh", True),
    ("The document does not say.", "zh", True),       # a Chinese case answered in English
    ("李明带领了探险队。", "zh", False),
    ("未知的星球上有一支探险队。", "zh", False),
])
def test_declines(reply, lang, expected):
    assert declines(reply, lang) is expected


@pytest.mark.parametrize("reply, question, lang, expected", [
    ("The document does not say who led the expedition to the frozen lake.", Q_EN, "en", True),
    ("The document does not say who led the team.", "Who led the team?", "en", True),
    ("However, the passages do not mention who led the expedition.", Q_EN, "en", True),
    ("The document does not say, but it was probably Mike Leach.", "Who led the team?", "en", False),
    ("The text doesn't say. Varga, perhaps.", Q_EN, "en", False),
    ("The document does not say; the leader was a tall sailor from the north.", Q_EN, "en", False),
    ("It is not stated, although 1904 is likely.", Q_EN, "en", False),
    ("I could not find who led the expedition.", Q_EN, "en", True),        # a modal is not a guess
    ("The expedition leader might be Varga, but the text does not say.", Q_EN, "en", False),
    ("Sorry, the provided passages contain nothing about an expedition to a frozen lake.", Q_EN, "en", True),
    ("文档中没有提到谁带领了前往冰湖的探险队。", Q_ZH, "zh", True),
    ("根据提供的材料，无法确定带领探险队的人。", Q_ZH, "zh", True),
    ("文档没有说明，但可能是李明。", Q_ZH, "zh", False),
    ("文档中没有提到，带领者是王大锤。", Q_ZH, "zh", False),
    ("文档没有提到，不过 Mike Leach 带领了球队。", Q_ZH, "zh", False),
    ("文档中没有提到银河旋律演奏乐队。", Q_ZH, "zh", False),
    ("文档中没有提到第一支在金星上演奏的乐队是哪一支。", Q_VENUS, "zh", True),   # 是 + the question's words
    ("材料里没有说第一支在金星上演奏的乐队是谁。", Q_VENUS, "zh", True),
    ("文档中没有提到第一支在金星上演奏的乐队是哪一支，但提到了星际飞行乐队。", Q_VENUS, "zh", False),
])
def test_names_nothing(reply, question, lang, expected):
    assert names_nothing(reply, question, lang) is expected


@pytest.mark.parametrize("reply, question, lang, expected", [
    ("The document does not say who led the expedition to the frozen lake.", Q_EN, "en", 100.0),
    ("Captain Ilse Varga led the expedition to the frozen lake in 1904.", Q_EN, "en", 0.0),   # invention
    ("The text does not say, but it was most likely Ilse Varga.", Q_EN, "en", 0.0),          # names one
    ("", Q_EN, "en", 0.0),
    ("文档中没有提到谁带领了前往冰湖的探险队。", Q_ZH, "zh", 100.0),
    ("李明在一九零四年带领了前往冰湖的探险队。", Q_ZH, "zh", 0.0),
    ("文中没有提及，但应该是李明。", Q_ZH, "zh", 0.0),
])
def test_absent(reply, question, lang, expected):
    assert absent(reply, question, lang) == expected


@pytest.mark.parametrize("reply, keyword, kind, lang, expected", [
    ('{"answer": "Captain Biscuit"}', "Captain Biscuit", "json", "en", (100.0, True, True)),
    ('```json\n{"answer": "The parrot is Captain Biscuit."}\n```', "Captain Biscuit", "json", "en",
     (100.0, True, True)),
    ('{"answer": "a grey dog"}', "Captain Biscuit", "json", "en", (0.0, False, True)),      # form, no keyword
    ('Sure! {"answer": "Captain Biscuit"}', "Captain Biscuit", "json", "en", (0.0, True, False)),
    ('{"reply": "Captain Biscuit"}', "Captain Biscuit", "json", "en", (0.0, True, False)),
    ('["Captain Biscuit"]', "Captain Biscuit", "json", "en", (0.0, True, False)),
    ('{"answer": "饼干船长"}', "饼干船长", "json", "zh", (100.0, True, True)),
    ("  ANSWER: Captain Biscuit", "Captain Biscuit", "prefix", "en", (100.0, True, True)),
    ("ANSWER: a grey dog", "Captain Biscuit", "prefix", "en", (0.0, False, True)),
    ("Answer: Captain Biscuit", "Captain Biscuit", "prefix", "en", (0.0, True, False)),
    ("答案：饼干船长", "饼干船长", "prefix", "zh", (100.0, True, True)),
    ("答案:饼干船长", "饼干船长", "prefix", "zh", (100.0, True, True)),
    ("答案：一只灰狗", "饼干船长", "prefix", "zh", (0.0, False, True)),
    ("鹦鹉叫饼干船长。", "饼干船长", "prefix", "zh", (0.0, True, False)),
    ("Le perroquet du gardien de phare s'appelait Captain Biscuit.", "Captain Biscuit", "french", "en",
     (100.0, True, True)),
    ("Le perroquet s'appelait Capitaine Biscuit.", "Captain Biscuit", "french", "en", (0.0, False, True)),
    ("The parrot of the keeper was named Captain Biscuit.", "Captain Biscuit", "french", "en",
     (0.0, True, False)),
])
def test_instruction(reply, keyword, kind, lang, expected):
    value, parts = instruction(reply, keyword, kind, lang)
    assert (value, parts["keyword"], parts["obeyed"]) == expected


def test_instruction_rejects_an_unknown_kind_and_french_for_chinese():
    with pytest.raises(ValueError, match="unknown instruction kind"):
        instruction("x", "x", "haiku")
    with pytest.raises(ValueError, match="English cases only"):
        instruction("x", "x", "french", "zh")


@pytest.mark.parametrize("text, expected", [
    ("Le gardien du phare avait un perroquet.", True),
    ("L'île est loin et la mer était grise.", True),
    ("The keeper of the lighthouse had a parrot.", False),
    ("Captain Biscuit.", False),
])
def test_reads_french(text, expected):
    assert reads_french(text) is expected


@pytest.mark.parametrize("case, prediction, expected_score", [
    ({"task": "single", "language": "en", "question": "What was the parrot called?", "answer": GOLD_EN,
      "keywords": ["Captain Biscuit"]}, "Captain Biscuit.", 100.0),
    ({"task": "multi", "language": "zh", "question": "……", "answer": "饼干船长。琥珀风筝。",
      "keywords": ["饼干船长", "琥珀风筝"]}, "饼干船长。", 50.0),
    ({"task": "reasoning", "language": "en", "question": "Who drew the map?", "answer": "Orla Quince",
      "keywords": ["Orla Quince"]}, "Orla Quince drew it.", 100.0),
    ({"task": "absent", "language": "en", "question": Q_EN, "answer": "", "keywords": []},
     "The document does not say.", 100.0),
    ({"task": "absent", "language": "en", "question": Q_EN, "answer": "", "keywords": []},
     "Ilse Varga led it.", 0.0),
    ({"task": "instruction", "language": "zh", "question": "鹦鹉叫什么？请以“答案：”开头回答。",
      "answer": GOLD_ZH, "keywords": ["饼干船长"], "instruction": "prefix"}, "答案：饼干船长", 100.0),
])
def test_score_dispatches_on_the_task(case, prediction, expected_score):
    result = score(case, prediction)
    assert set(result) == {"score", "f1", "parts"}
    assert result["score"] == pytest.approx(expected_score)
    assert 0 <= result["f1"] <= 100
    if case["task"] == "absent":
        assert result["f1"] == result["score"]


@pytest.mark.parametrize("question, gold, expected", [
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn", ("left", "Ada Brook")),
    ("Was Ada Brook or Carl Dunn born first?", "Ada Brook", ("right", "Carl Dunn born first")),
    ("Was Ada Brook or Carl Dunn born first?", "Carl Dunn", ("left", "Was Ada Brook")),
    ('Which film came first, "Red Hill", or "Blue Lake"?', "Blue Lake", ("left", "Red Hill")),
    ("Which is extinct: the Marsh Hound or the Hill Terrier?", "Hill Terrier", ("left", "the Marsh Hound")),
    ("谁先出生，林远还是周安？", "周安", ("left", "林远")),
    ("《山河》杂志还是《海风》杂志先创立？", "《山河》", ("right", "海风》杂志先创立")),
    ("林远和周安谁年纪更大？", "林远", ("right", "周安谁年纪更大")),
    ("Were Ada Brook and Carl Dunn born in the same city?", "no", None),     # yes or no: no options
    ("林远和周安是否出生在同一个城市？", "否", None),
    ("Where was Ada Brook born?", "Oslo", None),                              # the gold is not offered
    ("Which city hosted the fair where Ada Brook met Carl Dunn?", "Carl Dunn", None),
])
def test_other_option_is_what_the_question_offers_beside_the_gold(question, gold, expected):
    assert other_option(question, gold) == expected


@pytest.mark.parametrize("question, gold, reply, expected", [
    # the reply's own words pick; the sentence it quotes in brackets does not
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn", "Ada Brook (Carl Dunn was born in 1951)", True),
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn", "Carl Dunn (Ada Brook was born in 1958)", False),
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn",
     "Ada Brook (Carl Dunn was born in 1951) is older than Carl Dunn.", True),
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn", "Carl Dunn is older than Ada Brook.", False),
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn", "Brook, born in 1958.", True),   # a part of a name
    ("Was Ada Brook or Carl Dunn born first?", "Ada Brook", "Carl Dunn was born on May 2, 1960.", True),
    ("Was Ada Brook or Carl Dunn born first?", "Ada Brook", "Ada Brook", False),
    ("Who is older, Ada Brook or Carl Dunn?", "Carl Dunn", "The document does not say.", False),
    ("谁先出生，林远还是周安？", "周安", "林远（周安出生于1930年1月1日）", True),
    ("谁先出生，林远还是周安？", "周安", "周安（周安出生于1930年1月1日）", False),
    ("《山河》杂志还是《海风》杂志先创立？", "《山河》", "《海风》杂志先创立。", True),
    ("《山河》杂志还是《海风》杂志先创立？", "《山河》", "《山河》先创立，比《海风》早。", False),
    ("林远和周安是否出生在同一个城市？", "否", "林远", False),            # no options: not this rule's to judge
])
def test_picks_other_option_reads_the_reply_without_what_it_quotes(question, gold, reply, expected):
    assert picks_other_option(question, gold, reply) is expected


def test_a_reasoning_reply_that_picks_the_other_option_scores_0_though_it_quotes_the_gold():
    case = {"task": "reasoning", "language": "en", "question": "Who is older, Ada Brook or Carl Dunn?",
            "answer": "Carl Dunn", "keywords": ["Carl Dunn"]}
    assert reasoning("Ada Brook (Carl Dunn was born in 1951)", "Carl Dunn") == 100   # NeedleBench's match
    wrong = score(case, "Ada Brook (Carl Dunn was born in 1951)")
    assert wrong == {"score": 0.0, "f1": 0.0, "parts": {"words": 2, "picked": "the other option"}}
    right = score(case, "Carl Dunn (Carl Dunn was born in 1951)")
    assert right["score"] == 100 and "picked" not in right["parts"]


@pytest.mark.parametrize("lang, question, gold, reply, expected", [
    # NeedleBench's match finds "no" in "does not say", "the" of the gold in "The document..."
    ("en", "Are Ada Brook and Carl Dunn from the same country?", "no", "The document does not say.", 0),
    ("en", "Are Ada Brook and Carl Dunn from the same country?", "no", "No, the document does not say.", 0),
    ("en", "What show did Ada Brook star in?", "The Mill Hour", "The document does not say.", 0),
    ("zh", "林远和周安是否来自同一个国家？", "没有", "文档中没有提到。", 0),
    # a no that says why is an answer
    ("en", "Are Ada Brook and Carl Dunn from the same country?", "no",
     "No (Ada Brook is Danish; Carl Dunn is Welsh)", 100),
])
def test_a_reasoning_reply_that_declines_scores_0(lang, question, gold, reply, expected):
    if expected == 0:
        assert reasoning(reply, gold) > 0   # NeedleBench's word match gives the decline credit
    case = {"task": "reasoning", "language": lang, "question": question, "answer": gold, "keywords": [gold]}
    assert score(case, reply)["score"] == expected


def test_score_reports_what_was_found_and_rejects_unknown_tasks():
    case = {"task": "multi", "language": "en", "question": "?", "answer": "A. B.", "keywords": ["A", "B"]}
    multi = score(case, "A only")
    assert multi["parts"] == {"found": ["A"], "missing": ["B"]}
    assert score({"task": "single", "language": "en", "question": "?", "answer": GOLD_EN,
                  "keywords": ["Captain Biscuit"]}, None)["score"] < 20
    with pytest.raises(ValueError, match="unknown task"):
        score({"task": "poetry", "language": "en", "question": "?", "answer": "", "keywords": []}, "x")


@pytest.mark.parametrize("task_scores, expected", [
    ({"single": 100, "multi": 0, "reasoning": 0}, 40.0),
    ({"single": 50, "multi": 100, "reasoning": 0, "absent": 0, "instruction": 0}, 50.0),   # ours are ignored
    ({"single": 100, "multi": 50}, (100 * 0.4 + 50 * 0.3) / 0.7),                         # reweighted
    ({"absent": 100}, math.nan),
])
def test_overall_uses_needlebench_v1_weights(task_scores, expected):
    assert sum(NEEDLEBENCH_WEIGHTS.values()) == pytest.approx(1)
    result = overall(task_scores)
    assert math.isnan(result) if math.isnan(expected) else result == pytest.approx(expected)


def test_importing_scoring_loads_neither_jieba_nor_matplotlib():
    code = ("import sys, longflow.apps.quality.scoring, longflow.apps.quality.report; "
            "print([m for m in ('jieba', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
