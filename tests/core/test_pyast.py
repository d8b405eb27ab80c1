"""CPython 3.11's AST builder shares a depth counter between threads: a parse disturbed by another
thread's is parsed again, and a text that does not parse is still a SyntaxError."""
from __future__ import annotations

import ast

import pytest

from longflow.core import pyast


def test_a_parse_disturbed_by_another_thread_is_parsed_again(monkeypatch):
    real, calls = ast.parse, []

    def disturbed(source, mode="exec"):
        calls.append(source)
        if len(calls) < 3:
            raise SystemError("AST constructor recursion depth mismatch (before=126, after=36)")
        return real(source, mode=mode)
    monkeypatch.setattr(ast, "parse", disturbed)
    assert isinstance(pyast.parse("a and b", mode="eval"), ast.Expression)
    assert len(calls) == 3


def test_a_parse_that_keeps_failing_and_bad_text_raise(monkeypatch):
    with pytest.raises(SyntaxError):
        pyast.parse("a and", mode="eval")

    def always(source, mode="exec"):
        raise SystemError("AST constructor recursion depth mismatch")
    monkeypatch.setattr(ast, "parse", always)
    with pytest.raises(SystemError):
        pyast.parse("a")
