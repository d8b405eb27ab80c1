"""Whether a small model's words come from a given text: the test behind every "decide in code" check
of the node library (a reader's answer against its chunk, a split question against the question).

Terms are BM25's (stemmed English words without stop words, jieba's Chinese words) plus Chinese character
pairs, which match however either side was segmented.
"""
from __future__ import annotations

from .bm25_text import analyze
from .lang import CJK_RUN


def terms(text: str) -> set[str]:
    pairs = {run[i:i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)}
    return set(analyze(text)) | pairs


def held(text: str, source: str | set[str]) -> float:
    """The share of `text`'s terms that `source` holds (1.0 for a text with no terms)."""
    own = terms(text)
    if not own:
        return 1.0
    return len(own & (source if isinstance(source, set) else terms(source))) / len(own)
