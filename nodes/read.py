"""Lv2's reader: one chunk in, the sentences relevant to the question out (or nothing)."""
from __future__ import annotations

import math
from typing import Annotated

from longflow.core.context import Context
from longflow.core.registry import Range, node

from .grounding import closest, question_terms, sentences, terms, word_terms
from .parsing import is_decline, is_none_reply, string_list
from .templates import fill, quoted
from .tokens import language_of, truncate_to_tokens


@node(outputs={"evidence": "Evidence | None"}, uses_model=True,
      param_docs={"max_evidence_tokens": "cap on the relevant text kept per chunk, so that the steps after "
                                         "the map never overflow their window",
                  "prompt": "template file overriding the built-in one"})
def read_chunk(chunk: dict, question: str, information: list | None = None, *,
               max_evidence_tokens: Annotated[int, Range(minimum=1)] = 256, prompt: str = "",
               ctx: Context) -> dict:
    """Ask the model to answer the question from one chunk; keep the chunk's sentences that hold its answer.

    "None", "<None>", an empty reply, a reply saying the passage does not tell, and the Chinese forms
    (无, 没有...) all mean that the chunk does not answer: its sentences that hold a third of the question's
    terms (at least two; `question_terms`) are still kept, since a reader says None to the first hop of a
    multi-hop question, and without them the chunk is irrelevant. Otherwise the evidence is the chunk's own sentences that hold the
    reply's words (so it is never text the model made up) and share a word with the question. A small
    model answers from a passage far more readily than it quotes one, and invents answers for passages
    that hold none: the check against the chunk catches those. When the chunk does not hold the reply,
    its sentences that hold a good part of the question (`closest_sentences`) are kept, and without
    those the chunk is irrelevant: a small model answers a passage about the question with the
    question's own words ("Ajax"), or with the wrong one of two options, far more often than a passage
    about something else holds the question's words.
    Evidence is `{"chunk", "doc", "start", "end", "text"}`, `text` capped at `max_evidence_tokens`, plus
    the chunk's `section` ("page 3") when its document has sections, and `said_none: true` when the reader
    said None (the answer step does not answer from those sentences alone; retrieval searches with them).
    Used with `map:` over the chunks; a chunk whose read fails after retries is recorded as a failure.
    """
    asked = " ".join(string_list(information)) or question
    lang = language_of(question)
    # A reader that rambles costs a whole chunk's time again on a CPU: stop it just past the cap.
    reply = ctx.chat(fill(ctx, "read_chunk", lang, prompt, chunk=quoted(chunk["text"]), question=asked),
                     max_tokens=max_evidence_tokens + 32)
    if is_none_reply(reply) or is_decline(reply):
        # Asked a multi-hop question, a reader says None to the passage that holds its first hop ("X was
        # the costume designer of Y" does not give X's nationality), and without it nothing leads the
        # search to the next hop. A sentence that holds a third of the question's terms is about the
        # question: in 80 absent and multi-needle 32k documents of each language no book sentence does,
        # and of 40 reasoning chains, the first needle does in 30 (English) and 22 (Chinese).
        kept = closest_sentences(chunk["text"], asked, share=ABOUT_THE_QUESTION, terms_of=question_terms)
        if not kept:
            return {"evidence": None}
        ctx.record.count("reads_kept_on_none")
        return {"evidence": {**_evidence(chunk, kept, max_evidence_tokens), "said_none": True}}
    kept = supporting(reply, chunk["text"], f"{asked} {question}")
    if not kept:
        ctx.record.count("reads_not_in_chunk")
        # The model found the passage relevant and answered with words it does not hold: the question's
        # own ("Ajax"), the wrong one of two options, a date from elsewhere. Its sentences that hold a
        # good part of the question are still what the question is about.
        kept = closest_sentences(chunk["text"], asked)
        if not kept:
            return {"evidence": None}
        ctx.record.count("reads_kept_by_the_question")
    return {"evidence": _evidence(chunk, kept, max_evidence_tokens)}


# The share of the question's terms a sentence must hold to be kept from a chunk the reader said None to.
ABOUT_THE_QUESTION = 0.3


def _evidence(chunk: dict, kept: str, max_tokens: int) -> dict:
    evidence = {"chunk": chunk["id"], "doc": chunk.get("doc"), "start": chunk.get("start"),
                "end": chunk.get("end"), "text": truncate_to_tokens(kept, max_tokens)}
    if chunk.get("section"):
        evidence["section"] = chunk["section"]
    return evidence


def supporting(reply: str, chunk: str, question: str, share: float = 0.6) -> str:
    """The sentences of `chunk` that hold a sentence of the reply (at least `share` of its terms are in
    the chunk sentence and its neighbours) and share a word with `question` (`word_terms`: a small reader
    copies a line of a Chinese book that shares "上" with the question), in chunk order; '' when the chunk
    holds none of the reply."""
    asked = word_terms(question)
    own_sentences = sentences(chunk)
    held = [terms(s) for s in own_sentences]
    kept = set()
    for said in (terms(r) for r in sentences(reply)):
        for i, own in enumerate(held):
            around = own | (held[i - 1] if i else set()) | (held[i + 1] if i + 1 < len(held) else set())
            if said and own & said and len(said & around) >= share * len(said) and own & asked:
                kept.add(i)
    return " ".join(own_sentences[i] for i in sorted(kept))


def closest_sentences(chunk: str, question: str, share: float = 0.15, most: int = 3,
                      terms_of=terms) -> str:
    """The sentences of `chunk` that hold at least two of the question's terms (`terms_of` it) and `share`
    of them (the `most` that hold most), in chunk order; '' when none do."""
    own, asked = sentences(chunk), terms_of(question)
    least = max(2, math.ceil(share * len(asked)))
    return " ".join(own[i] for i in closest(own, question, most, least, asked))
