"""The condition language: what each expression means, a missing value included."""
from __future__ import annotations

import pytest

from longflow.core.conditions import ConditionError, parse_condition

CASES = [
    # (condition, state, expected)
    ("subquestion", {"subquestion": "who?"}, True),
    ("subquestion", {"subquestion": ""}, False),
    ("subquestion", {}, False),
    ("not done", {}, True),
    ('verdict == "yes"', {"verdict": "yes"}, True),
    # A missing value satisfies no comparison, `!=` and `not in` included.
    ('verdict != "yes"', {}, False),
    ('verdict != "yes"', {"verdict": None}, False),
    ('verdict != "yes"', {"verdict": "no"}, True),
    ('"a" not in tags', {}, False),
    ('"a" not in tags', {"tags": ["b"]}, True),
    ("n < 3", {}, False),
    ("n >= 0", {}, False),
    # Arithmetic on a missing value is missing: no TypeError mid-run.
    ("n + 1 > 3", {}, False),
    ("n + 1 > 3", {"n": 3}, True),
    ("-n < 0", {}, False),
    ('n - 1 > 0', {"n": "text"}, False),
    ("n / 0 > 1", {"n": 1}, False),
    # len() of a missing key is 0; lower() of it is missing.
    ("len(evidence) > 0", {}, False),
    ("len(evidence) == 0", {}, True),
    ("len(evidence) > 1 and steps < 5", {"evidence": [1, 2], "steps": 1}, True),
    ('lower(verdict) == "yes"', {"verdict": "YES"}, True),
    ('lower(verdict) != "yes"', {}, False),
    ("x in [1, 2]", {"x": 2}, True),
    ("1 < n < 3", {"n": 2}, True),
    ("1 < n < 3", {"n": 3}, False),
    ("a or b", {"b": 1}, True),
]


@pytest.mark.parametrize("text, state, expected", CASES)
def test_condition_means(text, state, expected):
    assert parse_condition(text)(state) is expected


@pytest.mark.parametrize("text", ["x == none", "x == None", "x != null", "x == None or y"])
def test_no_null_literal_to_compare_with(text):
    with pytest.raises(ConditionError, match="test it with `not KEY`"):
        parse_condition(text)


@pytest.mark.parametrize("text", ["__import__('os')", "x.y", "x[0]", "lambda: 1", "open('f')"])
def test_unsafe_expressions_are_rejected(text):
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_names_are_the_state_keys_it_reads():
    assert parse_condition("len(evidence) > 0 and not done or lower(v) == 'x'").names == {"evidence", "done", "v"}
