"""Reading structured replies from small models, which wrap JSON in code fences, add prose around it,
use single quotes, leave trailing commas or stop before the closing brace."""
from __future__ import annotations

import ast
import json
import re
from typing import Any

from longflow.core.pyast import parse as parse_python

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_NONE_FORMS = {"none", "<none>", "[none]", "(none)", "null", "n/a", "无", "没有", "无相关内容", "无关",
               "无相关信息", "没有相关内容", "没有相关信息", "不相关", "none."}


def parse_json(text: str) -> Any | None:
    """The first JSON object or list in `text`, or None if there is none worth trusting."""
    if not text:
        return None
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        for snippet in _balanced_snippets(candidate):
            value = _loads(snippet)
            if value is not None:
                return value
    return None


def _balanced_snippets(text: str):
    """{...} or [...] runs from the first few opening brackets, balanced or (if cut off) closed by us."""
    starts = [i for i, ch in enumerate(text) if ch in "{["][:8]
    for start in starts:
        stack, in_str, esc = [], None, False
        for i in range(start, len(text)):
            c = text[i]
            if in_str:
                esc = not esc and c == "\\"
                if c == in_str and not esc:
                    in_str = None
                continue
            if c in "\"'":
                in_str = c
            elif c in "{[":
                stack.append("}" if c == "{" else "]")
            elif c in "}]":
                if not stack or stack.pop() != c:
                    break
                if not stack:
                    yield text[start:i + 1]
                    break
        else:
            if stack:  # a reply cut off by the token limit: close what is open
                tail = text[start:] + (in_str or "")
                yield tail.rstrip().rstrip(",") + "".join(reversed(stack))


def _loads(snippet: str) -> Any | None:
    for attempt in (snippet, re.sub(r",\s*([}\]])", r"\1", snippet)):
        try:
            return json.loads(attempt)
        except ValueError:
            pass
        try:  # single quotes, True/False/None
            value = ast.literal_eval(parse_python(attempt.lstrip(" \t"), mode="eval"))   # as literal_eval does
            if isinstance(value, (dict, list)):
                return value
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):  # TypeError: {{}: 1}
            pass
    return None


def string_list(value: Any) -> list[str]:
    """A list of non-empty strings from whatever a model gave for a list field."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[\n,，;；、]", value)
        return [p.strip(" -*\t\"'") for p in parts if p.strip(" -*\t\"'")]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def is_none_reply(text: str) -> bool:
    """'None', '<None>', empty, and their Chinese forms, with or without punctuation or fences, also
    when followed by an explanation ('None. The passage is about whales.'), as small models write."""
    stripped = re.sub(r"^```\w*|```$", "", (text or "").strip()).strip()
    first = re.split(r"[.。!！\n]", stripped, maxsplit=1)[0]
    return any(not s or s.lower() in _NONE_FORMS or s.lower().strip("<>[]()") in _NONE_FORMS
               for s in (stripped.strip(" \t\n\"'`*.。!！:："), first.strip(" \t\"'`*:：")))


_DECLINES = re.compile(
    r"(does not|doesn't|do not|don't|did not|didn't) (say|mention|state|contain|include|tell|provide|specify)"
    r"|(no|not enough|insufficient) (information|mention|answer)|not (mentioned|stated|found|given|provided|"
    r"specified|in the (document|text|passages?))|cannot (be )?(find|found|determine|answer)|can't (find|tell)"
    r"|文档中没有|没有提到|未提及|未提到|没有说明|没有相关|未找到|无法(回答|确定|找到)|不知道|没有答案|材料中没有",
    re.I)


def is_decline(text: str) -> bool:
    """A reply that says the document does not hold the answer (in English or Chinese)."""
    return bool(_DECLINES.search(text or ""))
