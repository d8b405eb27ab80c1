"""Question proposal: where questions come from (seeded), and how a small model's replies are read and
checked."""
from __future__ import annotations

import random

from longflow.apps.synth.propose import (Seed, check_question, entities, far_pairs, holds_its_answer, plan,
                                         read_reply)


def chunks_of(texts: list[str]) -> list[dict]:
    return [{"index": i, "text": t, "tokens": 100} for i, t in enumerate(texts)]


def test_plan_is_deterministic_for_a_seed_and_samples_distinct_chunks():
    chunks = chunks_of([f"Chunk {i} about the harbour of Nantucket." for i in range(20)])
    one, two = plan(chunks, random.Random("0|a"), 3, 0), plan(chunks, random.Random("0|a"), 3, 0)
    assert [s.chunks for s in one] == [s.chunks for s in two]
    assert len({s.chunks[0] for s in one}) == 3
    assert [s.chunks for s in plan(chunks, random.Random("1|a"), 3, 0)] != [s.chunks for s in one]


def test_far_pairs_join_chunks_far_apart_that_name_one_entity():
    texts = ["The ship sailed at dawn."] * 9
    texts[1] = "Captain Ahab of Nantucket had lost a leg."
    texts[7] = "Years later the widow of Ahab sold the house."
    texts[2] = "Then Ishmael slept."           # a name in one chunk only ties nothing
    pairs = far_pairs(chunks_of(texts), random.Random(0), 3)
    assert pairs == [(1, 7, "Ahab")]


def test_entities_are_names_not_sentence_openers_and_chinese_words():
    found = entities("The bicycle was made by Karl Drais in Mannheim. Whales swim.\n孙悟空大闹天宫。")
    assert {"Karl Drais", "Mannheim", "孙悟空"} <= found
    assert "The" not in found and "Whales" not in found


def test_read_reply_takes_json_or_a_question_line_from_prose():
    assert read_reply('```json\n{"question": "Who built the press?", "answer": "Gutenberg"}\n```') == \
        ("Who built the press?", "Gutenberg")
    assert read_reply("Sure! Here it is:\nQuestion: Who built the press?\nAnswer: Gutenberg") == \
        ("Who built the press?", "")
    assert read_reply("") == ("", "")
    assert read_reply("I think the passage is about printing.") == ("", "")


def test_check_question_rejects_what_a_small_model_gets_wrong():
    passage = ["Johannes Gutenberg built his printing press in Mainz around 1440."]
    seed = Seed("single", [0])
    assert check_question("Where did Gutenberg build his printing press?", passage, "en", seed) is None
    reasons = [check_question(q, passage, "en", seed).reason for q in
               ["", "Mainz?", "Gutenberg built a press in Mainz.", "What does the passage say?",
                "Who painted the Mona Lisa in Florence?", "古登堡在哪里建造了印刷机？"]]
    assert reasons == ["proposal: the model gave no question", "proposal: a question of 6 characters",
                       "proposal: not a question", "proposal: the question speaks of the passage, not of what it says",
                       "proposal: the question shares no word with chunk 0",
                       "proposal: the question is not in the passage's language (en)"]


def test_a_question_that_already_holds_its_answer_is_rejected():
    assert holds_its_answer("What is the name of the bicycle?", "The bicycle").reason == \
        "proposal: the question already holds its answer"
    assert holds_its_answer("What was the name of the symphony Beethoven composed?", "The Fifth Symphony") is None
    assert holds_its_answer("Who built the press?", "") is None      # no answer given: nothing to compare


def test_a_chinese_question_about_the_passage_is_rejected_and_one_about_materials_is_not():
    passage = ["花果山上的猴王用石头和木头做建筑材料，建了水帘洞。"]
    seed = Seed("single", [0])
    assert check_question("猴王用什么做建筑材料？", passage, "zh", seed) is None
    assert check_question("根据材料，猴王建了什么？", passage, "zh", seed).reason == \
        "proposal: the question speaks of the passage, not of what it says"
