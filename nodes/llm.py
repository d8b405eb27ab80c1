"""Asking a model for JSON, the way small models need it: parse leniently, ask once more with a firmer
nudge, and let the caller fall back (and record that it did) when the reply is still unusable."""
from __future__ import annotations

from typing import Any

from longflow.core.context import Context

from .parsing import parse_json

NUDGE = {"en": "\n\nReply with the JSON object only, no other text.", "zh": "\n\n只回复 JSON 对象，不要其他文字。"}


def ask_json(ctx: Context, prompt: str, keys: tuple[str, ...], lang: str = "en",
             max_tokens: int = 300) -> dict | None:
    """The first reply that parses to a dict holding at least one of `keys`, over two tries; else None.
    Replies are short JSON objects, so generation is capped (a cut-off reply is still parsed)."""
    for attempt in range(2):
        reply = ctx.chat(prompt if attempt == 0 else prompt + NUDGE.get(lang, NUDGE["en"]),
                         max_tokens=max_tokens)
        value = parse_json(reply)
        if isinstance(value, dict) and any(k in value for k in keys):
            return value
    return None


def bullet_list(items: list[Any]) -> str:
    return "\n".join(f"- {item}" for item in items)
