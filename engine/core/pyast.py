"""`ast.parse` for code that runs beside other threads.

CPython 3.11 converts every parse to Python objects with one depth counter per interpreter, so a parse in
another thread (LangGraph inspects node functions' source with `ast` while a flow compiles) can make ours
fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905). The text is
fine: parsed again, it parses.
"""
from __future__ import annotations

import ast

_ATTEMPTS = 5


def parse(source: str, mode: str = "exec") -> ast.AST:
    """`ast.parse(source, mode=mode)`, parsed again when another thread's parse disturbed it."""
    for _ in range(_ATTEMPTS - 1):
        try:
            return ast.parse(source, mode=mode)
        except SystemError:
            pass
    return ast.parse(source, mode=mode)
