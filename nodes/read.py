"""Lv2's reader: one chunk in, the sentences relevant to the question out (or nothing)."""
from __future__ import annotations

import re

from longflow.core.context import Context
from longflow.core.registry import node

from .bm25_text import analyze
from .lang import CJK_RUN
from .parsing import is_none_reply, string_list
from .templates import fill
from .tokens import language_of, truncate_to_tokens


_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")


@node(outputs={"evidence": "Evidence | None"}, uses_model=True,
      param_docs={"max_evidence_tokens": "cap on the relevant text kept per chunk, so that the steps after "
                                         "the map never overflow their window",
                  "prompt": "template file overriding the built-in one"})
def read_chunk(chunk: dict, question: str, information: list | None = None, *,
               max_evidence_tokens: int = 256, prompt: str = "", ctx: Context) -> dict:
    """Show one chunk to the model; keep the sentences it finds relevant, or nothing when it says None.

    "None", "<None>", an empty reply and the Chinese forms (无, 没有...) all mean irrelevant. Of any
    other reply only the sentences the chunk holds and that share a term with the question are kept (a
    small model quotes sentences it made up, or explains why nothing is relevant); a relevant reply becomes `{"chunk", "doc", "start", "end", "text"}` with `text` capped at `max_evidence_tokens`.
    Used with `map:` over the chunks; a chunk whose read fails after retries is recorded as a failure.
    """
    asked = " ".join(string_list(information)) or question
    lang = language_of(question)
    # A reader that rambles costs a whole chunk's time again on a CPU: stop it just past the cap.
    reply = ctx.chat(fill(ctx, "read_chunk", lang, prompt, chunk=chunk["text"], question=asked),
                     max_tokens=max_evidence_tokens + 32)
    if is_none_reply(reply):
        return {"evidence": None}
    kept = quoted(reply, chunk["text"], f"{asked} {question}")
    if not kept:
        # A small model "quotes" what it invents, or comments instead of saying None: keep only what the
        # chunk holds and what touches the question.
        ctx.record.count("reads_not_in_chunk")
        return {"evidence": None}
    return {"evidence": {"chunk": chunk["id"], "doc": chunk.get("doc"), "start": chunk.get("start"),
                         "end": chunk.get("end"), "text": truncate_to_tokens(kept, max_evidence_tokens)}}


def quoted(reply: str, chunk: str, question: str, share: float = 0.6) -> str:
    """The sentences of `reply` that `chunk` holds (at least `share` of their terms are in it) and that
    share a term with `question`, joined; '' when there are none."""
    in_chunk, asked = terms(chunk), terms(question)
    kept = []
    for sentence in _SENTENCE_END.split(reply.strip()):
        own = terms(sentence)
        if own and len(own & in_chunk) >= share * len(own) and own & asked:
            kept.append(sentence.strip())
    return " ".join(kept)


def terms(text: str) -> set[str]:
    """BM25's terms of the text (stemmed words, jieba's words) and its Chinese character pairs, which
    match however a quote was segmented."""
    pairs = {run[i:i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)}
    return set(analyze(text)) | pairs
