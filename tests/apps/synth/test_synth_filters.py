"""The four filters of engine synth, each on the cases that make it pass and fail."""
from __future__ import annotations

from longflow.apps.synth.filters import (Dedup, agreement_score, answer_f1, check_agreement, check_format,
                                         check_grounding)

Q = "When was the bicycle invented?"
BICYCLE = "The bicycle, a two-wheeled vehicle, was invented in 1817 by Karl Drais in Mannheim."
WHALES = "Whales are the largest animals that ever lived, and they breathe air."


def test_format_takes_a_plain_answer():
    assert check_format("It was invented in 1817.", Q).passed


def test_format_rejects_empty_refusal_wrong_language_and_length():
    assert check_format("  ", Q).reason == "format: the answer is empty"
    assert "refusal" in check_format("The document does not say.", Q).reason
    assert "refusal" in check_format("I cannot find this in the text.", Q).reason
    assert "Chinese" in check_format("自行车是在一八一七年发明的。", Q).reason
    assert "not" in check_format("It was invented in the year 1817 by Drais.", "自行车是哪一年发明的？").reason
    long = " ".join(["word"] * 300)
    assert "over the cap of 200" in check_format(long, Q).reason
    assert check_format(long, Q, max_tokens=1000).passed


def test_format_lets_a_chinese_question_have_a_bare_name_or_number():
    assert check_format("1817", "自行车是哪一年发明的？").passed
    assert check_format("Karl Drais", "自行车是谁发明的？").passed


def test_format_wants_a_refusal_for_a_question_built_to_have_no_answer():
    assert check_format("The document does not say.", Q, unanswerable=True).passed
    assert "gives one" in check_format("In 1817.", Q, unanswerable=True).reason


def test_grounding_wants_the_proposing_chunks_among_those_used():
    verdict = check_grounding("It was invented in 1817.", Q, {3: BICYCLE}, [5])
    assert not verdict.passed and "chunk(s) 5" in verdict.reason and "it used 3" in verdict.reason
    assert check_grounding("It was invented in 1817.", Q, {3: BICYCLE, 5: WHALES}, [3]).passed


def test_grounding_rejects_an_answer_not_in_the_chunks_used():
    verdict = check_grounding("It was invented in 1903 by the Wright brothers.", Q, {3: BICYCLE, 4: WHALES}, [3])
    assert not verdict.passed and verdict.reason.startswith("grounding: the answer")
    assert not check_grounding("In 1817.", Q, {}, None).passed     # nothing used: nothing supports it


def test_grounding_needs_no_evidence_for_a_refusal_built_for():
    assert check_grounding("The document does not say.", Q, {}, [], unanswerable=True).passed


def test_f1_compares_what_the_answers_add_to_the_question():
    assert answer_f1("The bicycle was invented in 1817.", "1817", Q) == 1.0
    assert answer_f1("In 1817, by Karl Drais.", "1817", Q) == 0.5          # {1817, karl, drai} vs {1817}
    assert answer_f1("In 1903.", "In 1817.", Q) == 0.0
    assert answer_f1("自行车发明于1817年。", "1817年", "自行车是哪一年发明的？") > 0.5


def test_a_terse_answer_inside_a_full_sentence_agrees():
    full = "The bicycle was invented in 1817 by Karl Drais in Mannheim."
    assert answer_f1(full, "1817", Q) < 0.5 and agreement_score(full, "1817", Q) == 1.0
    assert agreement_score(full, "In 1903.", Q) == 0.0


def test_agreement_threshold_refusals_and_judge():
    assert check_agreement("In 1817.", "It was 1817.", Q, 0.5).passed
    low = check_agreement("In 1817.", "In 1903.", Q, 0.5)
    assert not low.passed and low.score == 0.0 and "agrees 0.00, below 0.5" in low.reason
    assert check_agreement("The document does not say.", "Not mentioned in the text.", Q, 0.5).passed
    assert "refuses" in check_agreement("In 1817.", "The document does not say.", Q, 0.5).reason
    asked = []
    judged = check_agreement("In 1817.", "In 1903.", Q, 0.5, judge=lambda q, a, b: asked.append(b) or True)
    assert judged.passed and asked == ["In 1903."]
    assert not check_agreement("In 1817.", "In 1903.", Q, 0.5, judge=lambda q, a, b: False).passed


def test_dedup_rejects_near_identical_questions_of_a_document():
    dedup = Dedup(0.8)
    assert dedup.check("When was the bicycle invented?").passed
    repeat = dedup.check("When was the bicycle invented ?")
    assert not repeat.passed and "near-identical" in repeat.reason and repeat.score == 1.0
    assert not dedup.check("When were bicycles invented?").passed           # stems match
    assert dedup.check("Who invented the bicycle in Mannheim?").passed
