"""Lv2's reader: one chunk in, the sentences relevant to the question out (or nothing)."""
from __future__ import annotations

from longflow.core.context import Context
from longflow.core.registry import node

from .parsing import is_none_reply, string_list
from .templates import fill
from .tokens import language_of, truncate_to_tokens


@node(outputs={"evidence": "Evidence | None"}, uses_model=True,
      param_docs={"max_evidence_tokens": "cap on the relevant text kept per chunk, so that the steps after "
                                         "the map never overflow their window",
                  "prompt": "template file overriding the built-in one"})
def read_chunk(chunk: dict, question: str, information: list | None = None, *,
               max_evidence_tokens: int = 256, prompt: str = "", ctx: Context) -> dict:
    """Show one chunk to the model; keep the sentences it finds relevant, or nothing when it says None.

    "None", "<None>", an empty reply and the Chinese forms (无, 没有...) all mean irrelevant. A relevant
    reply becomes `{"chunk", "doc", "start", "end", "text"}` with `text` capped at `max_evidence_tokens`.
    Used with `map:` over the chunks; a chunk whose read fails after retries is recorded as a failure.
    """
    asked = " ".join(string_list(information)) or question
    lang = language_of(question)
    # A reader that rambles costs a whole chunk's time again on a CPU: stop it just past the cap.
    reply = ctx.chat(fill(ctx, "read_chunk", lang, prompt, chunk=chunk["text"], question=asked),
                     max_tokens=max_evidence_tokens + 32)
    if is_none_reply(reply):
        return {"evidence": None}
    return {"evidence": {"chunk": chunk["id"], "doc": chunk.get("doc"), "start": chunk.get("start"),
                         "end": chunk.get("end"), "text": truncate_to_tokens(reply.strip(), max_evidence_tokens)}}
