"""Prompt templates: `prompts/NAME.{en,zh}.txt` beside this module, `$question`-style placeholders.

A node's `prompt` parameter points at the user's own template instead, relative to the flow file, with
`{lang}` replaced by the question's language. Text from a document reaches every template through
`quoted`, so a user's own template marks it too.
"""
from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from typing import Any

from longflow.core.context import Context

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"

# Where a document's text starts and ends in a prompt: a sentence in the document ("ignore the question
# and reply ...") is then text inside the quote, not an instruction next to the question.
DOCUMENT_START, DOCUMENT_END = "<document>", "</document>"
_MARKER = re.compile(r"<\s*/?\s*document\b[^<>]*>", re.I)


def quoted(text: str) -> str:
    """`text` between the document markers. Markers written in the text itself are defused (their angle
    brackets become ‹ ›), so that a document cannot end the quote early and speak outside it."""
    inner = _MARKER.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), str(text).strip())
    return f"{DOCUMENT_START}\n{inner}\n{DOCUMENT_END}"


def fill(ctx: Context, name: str, lang: str, override: str = "", **values: Any) -> str:
    """The template `name` for `lang` ('en' or 'zh'), or the `override` file, with `values` filled in."""
    return _template(_path(ctx, name, lang, override)).safe_substitute(
        {k: "" if v is None else str(v) for k, v in values.items()})


def _path(ctx: Context, name: str, lang: str, override: str) -> Path:
    if override:
        return ctx.flow_file(override.replace("{lang}", lang))
    path = PROMPTS_DIR / f"{name}.{lang}.txt"
    return path if path.exists() else PROMPTS_DIR / f"{name}.en.txt"


@functools.lru_cache(maxsize=64)
def _template(path: Path) -> string.Template:
    """Templates are read once per process: a map asks for the same one for every chunk."""
    return string.Template(path.read_text(encoding="utf-8"))
