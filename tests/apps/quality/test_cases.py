"""longflow.apps.quality.cases: generated cases are reproducible, ask the same thing in English and
Chinese, and place their needles where they say."""
from __future__ import annotations

import re

import pytest

from longflow.apps.quality.cases import _needles, _reasoning, case_by_id, generate
from longflow.nodes.tokens import count_tokens

GRID = {"lengths": (4000,), "depths": (50,), "per_cell": 3}


def _by_language(cases):
    """The English and the Chinese cases, each by its id without the language."""
    split = {"en": {}, "zh": {}}
    for c in cases:
        split[c.language][(c.task, c.id.replace(f"-{c.language}-", "-"))] = c
    return split["en"], split["zh"]


def test_the_same_arguments_give_the_same_cases_and_another_seed_others():
    first, again = generate(**GRID, seed=3), generate(**GRID, seed=3)
    assert [c.to_dict() for c in first] == [c.to_dict() for c in again]
    other = generate(**GRID, seed=4)
    assert [c.question for c in other] != [c.question for c in first]


def test_a_reasoning_case_asks_the_same_chain_in_both_languages():
    en, zh = _by_language(generate(tasks=("reasoning",), **GRID, seed=0))
    assert en.keys() == zh.keys() and len(en) == 3
    for key in en:
        ids = {lang: next(i for i, r in _reasoning(lang).items() if r["question"] == case.question)
               for lang, case in (("en", en[key]), ("zh", zh[key]))}
        assert ids["en"] == ids["zh"]
        assert re.search(r"[\u4e00-\u9fff]", zh[key].question), "a Chinese case asks in Chinese"
        assert len(en[key].needles) == len(zh[key].needles) >= 2
    assert len({c.question for c in en.values()}) == 3   # the index draws differ


@pytest.mark.parametrize("task", ["single", "multi", "absent", "instruction"])
def test_a_needle_case_asks_the_same_needles_in_both_languages(task):
    en, zh = _by_language(generate(tasks=(task,), **GRID, seed=0))
    assert en.keys() == zh.keys()

    def asked(case, lang):
        """Where in the language's needle file the case's needles (or, when absent, its question) are."""
        pool = _needles(lang)
        if case.needles:
            return [next(i for i, n in enumerate(pool) if n["needle"] == needle) for needle in case.needles]
        return [next(i for i, n in enumerate(pool) if n["retrieval_question"] == case.question)]

    for key in en:
        assert asked(en[key], "en") == asked(zh[key], "zh")
    assert len({tuple(asked(c, "en")) for c in en.values()}) > 1


def test_the_needles_are_in_the_document_at_their_depth():
    for case in generate(tasks=("reasoning", "single", "absent"), languages=("en", "zh"), lengths=(4000,),
                         depths=(0, 50), seed=1):
        text = case.document()
        assert abs(count_tokens(text) - case.length) < 0.05 * case.length
        for needle, at in zip(case.needles, case.positions()):
            assert abs(text.index(needle) / len(text) - at) < 0.05, (case.id, needle)
        if case.task == "absent":
            assert case.needles == [] and case.answer == ""


def test_a_case_is_made_again_from_its_id_alone():
    for case in generate(tasks=("reasoning", "absent"), lengths=(4000,), depths=(0, 50), per_cell=2, seed=11):
        assert case_by_id(case.id).to_dict() == case.to_dict()


@pytest.mark.parametrize("bad", ["reasoning-en-8000-50-2", "riddle-en-8000-50-2-s1", "reasoning-fr-8000-50-2-s1", ""])
def test_an_id_that_names_no_case_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="not a case id: TASK-LANGUAGE-LENGTH-DEPTH-INDEX-sSEED"):
        case_by_id(bad)


def test_length_needles_is_the_needles_alone_and_the_command_takes_it():
    from longflow.apps.quality.command import _tokens
    assert _tokens("needles") == 0 and _tokens("8k") == 8000
    case, = generate(tasks=["reasoning"], languages=["zh"], lengths=[_tokens("needles")], depths=[50],
                     per_cell=1)
    assert case.document() == "\n".join(case.needles) and len(case.needles) >= 2
    assert case_by_id(case.id).document() == case.document()
    from longflow.apps.quality.report import _tokens as spoken
    assert spoken(0) == "needles" and spoken(8000) == "8k"
