from __future__ import annotations

import pytest

from longflow.nodes.cloze import in_its_place

CONSUL = "托马斯·奎尔生于磨坊镇。\n奥拉·文恩被任命为下一任驻布拉斯克的领事。\n河水很冷。"


@pytest.mark.parametrize("question, context, expected", [
    # the sentence holds the question around its question word; the answer is in its place
    ("那位磨坊主的女儿奥拉·文恩，被任命为下一任驻哪个城市的领事？", CONSUL, "布拉斯克"),
    ("托马斯·奎尔在哪一年成为磨坊主？", "托马斯·奎尔在1931年成为磨坊主。雨一直下。", "1931年"),
    # the question's noun that ends it is the answer's last part
    ("灰港机场位于哪个州？", "雨一直下。灰港机场位于北河州。", "北河州"),
    ("这家磨坊卖出了多少袋面粉？", "这家磨坊卖出了1,200袋面粉。", "1,200"),
    # a question word that comes first: what precedes the rest of the question
    ("谁在布拉斯克担任领事？", "奥拉·文恩在布拉斯克担任领事。", "奥拉·文恩"),
    # Chinese names a work after its kind: the title that follows the question's noun
    ("她以在哪部长篇小说中塑造磨坊主一角而闻名？", "雨一直下。奥拉·文恩在长篇小说《河边磨坊》中塑造磨坊主一角。", "《河边磨坊》"),
    # another name for the answer, in brackets after it, is part of it
    ("她因在哪家电视台的角色而出名？", "奥拉·文恩因在北河电视台（NRT）的角色而出名", "北河电视台（NRT）"),
])
def test_the_answer_is_what_the_sentence_has_in_the_question_words_place(question, context, expected):
    answer, sentence = in_its_place(question, context)
    assert answer == expected and answer in sentence


@pytest.mark.parametrize("question, context", [
    ("To which city was Orla Venn sent as consul?", "Orla Venn was sent to Brask as consul."),   # English
    ("谁被任命为驻哪个城市的领事？", CONSUL),                         # two question words, two things asked
    ("奥拉·文恩被任命为下一任驻布拉斯克的领事吗？", CONSUL),            # no question word
    ("奥拉·文恩被任命为下一任驻哪个城市的领事？",                        # two sentences fit alike, and disagree
     "奥拉·文恩被任命为下一任驻布拉斯克的领事。奥拉·文恩被任命为下一任驻索雷尔的领事。"),
    ("托马斯·奎尔在哪一年成为磨坊主？", "托马斯·奎尔在磨坊镇成为磨坊主。"),   # asked when: no time in its place
    ("奥拉·文恩被任命为哪里的领事？", "河水很冷，磨坊主在那里等候。"),      # no sentence fits around it
    ("奥拉·文恩和托马斯·奎尔谁更早出生？", "奥拉·文恩生于1931年。托马斯·奎尔生于1948年。"),   # a choice
    ("奥拉·文恩被任命为下一任驻哪个城市的领事？", "奥拉·文恩被任命为下一任驻那座城市的领事。"),  # points back
])
def test_no_answer_is_read_where_none_fits(question, context):
    assert in_its_place(question, context) is None
