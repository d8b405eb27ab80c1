"""The condition language of `when:` edges: a small, safe subset of Python expressions over state keys.

    when: subquestion                      # the key is set and non-empty
    when: not done
    when: len(evidence) > 0 and steps < 5
    when: verdict == "unanswerable"

Allowed: state-key names, literals, `and`/`or`/`not`, comparisons (== != < <= > >= in, not in), + - * /,
and the functions len(), lower(). Nothing is `eval`ed: the expression is parsed once and walked.

A missing value (a key not set, or set to null) satisfies no comparison, `!=` and `not in` included;
arithmetic on it, or arithmetic that cannot be done (a string minus a number, a division by zero), is
missing too; `len()` of it is 0. So a condition never fails mid-run: it is true or false. Test for a
missing key with `not KEY` (there is no `none` literal to compare with).
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any

from . import pyast

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_FUNCS = {"len": len, "lower": lambda s: str(s).lower()}
_LITERALS = {"true": True, "false": False, "True": True, "False": False}
_NONE = ("none", "None", "null")


class _Missing:
    """A value that is not there: false, and no comparison holds for it."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


class ConditionError(ValueError):
    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.col = col  # 0-based offset in the expression


@dataclass(frozen=True)
class Condition:
    text: str
    tree: ast.expr
    names: frozenset[str]

    def __call__(self, state: dict) -> bool:
        return bool(_eval(self.tree, state))


def parse_condition(text: str) -> Condition:
    try:
        tree = pyast.parse(str(text).strip(), mode="eval").body
    except SyntaxError as exc:
        raise ConditionError(f"cannot parse condition {text!r}: {exc.msg}", (exc.offset or 1) - 1) from None
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ConditionError(f"{type(node).__name__} is not allowed in a condition; use state keys, "
                                 f"literals, and/or/not, comparisons, + - * /, len() and lower()",
                                 getattr(node, "col_offset", 0))
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCS) or node.keywords:
                raise ConditionError(f"only {', '.join(f + '()' for f in _FUNCS)} may be called",
                                     node.col_offset)
        if isinstance(node, ast.Name) and node.id in _NONE or isinstance(node, ast.Constant) and \
                node.value is None:
            raise ConditionError(f"there is no null value to compare with: a missing key satisfies no "
                                 f"comparison; test it with `not KEY` (or `KEY` for set and non-empty)",
                                 node.col_offset)
        if isinstance(node, ast.Name) and node.id not in _FUNCS and node.id not in _LITERALS:
            names.add(node.id)
    return Condition(str(text), tree, frozenset(names))


_ALLOWED = (ast.Name, ast.Load, ast.Constant, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
            ast.USub, ast.Compare, ast.Call, ast.BinOp, ast.List, ast.Tuple, *_COMPARE, *_ARITH)


def _eval(node: ast.expr, state: dict) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _LITERALS:
            return _LITERALS[node.id]
        value = state.get(node.id)
        return MISSING if value is None else value
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, state) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, state)
        if isinstance(node.op, ast.Not):
            return not value
        return _apply(operator.neg, value)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, state)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, state)
            if left is MISSING or right is MISSING or not _apply(_COMPARE[type(op)], left, right):
                return False  # a missing value, or values that do not compare (None < 3): not satisfied
            left = right
        return True
    if isinstance(node, ast.BinOp):
        return _apply(_ARITH[type(node.op)], _eval(node.left, state), _eval(node.right, state))
    if isinstance(node, ast.Call):
        arg = _eval(node.args[0], state) if node.args else MISSING
        if node.func.id == "len":
            return 0 if arg is MISSING else _apply(len, arg)
        return _apply(_FUNCS[node.func.id], arg)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, state) for e in node.elts]
    raise ConditionError(f"unsupported expression {ast.dump(node)}")


def _apply(func, *args: Any) -> Any:
    """func(*args), or MISSING when an argument is missing or the operation cannot be done."""
    if any(a is MISSING for a in args):
        return MISSING
    try:
        return func(*args)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return MISSING
