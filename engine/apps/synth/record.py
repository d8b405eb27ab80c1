"""`engine run ... --record data.jsonl`: a person's question and the agent's answer, appended as a sample
with the metadata `engine synth generate` writes (no second answer: a person asked once), so that people
using the agent build a dataset as they go. The format and grounding filters are run and their results
kept in the metadata, not enforced: what to train on is chosen later, e.g. `meta.filters.*.passed`."""
from __future__ import annotations

from pathlib import Path

from longflow.core.context import Context
from longflow.core.spec import Flow
from longflow.nodes.documents import chunk, load_document, sha256_of
from longflow.nodes.tokens import language_of

from . import jsonl, samples
from .agent import evidence_ids, trajectory
from .corpus import chunk_tokens
from .filters import check_format, check_grounding


def record_run(path: str | Path, flow: Flow, documents: list[str], question: str, answer: str, model: str,
               run_record: dict, outputs: dict) -> dict:
    """Append the run to `path` as one sample line; return it."""
    ctx = Context(node="record", stream=None)
    docs = load_document(list(documents), ctx=ctx)["documents"]   # read once already: from the file cache
    chunks = chunk(docs, tokens=chunk_tokens(flow) or 512, ctx=ctx)["chunks"]
    by_id = {c["id"]: c for c in chunks}
    used_ids = evidence_ids(run_record, outputs)
    lang = language_of(question)
    filters = {"format": check_format(answer, question, unanswerable=False).to_dict(),
               "grounding": check_grounding(answer, question, {i: by_id[c]["text"] for i, c in
                                                               enumerate(used_ids) if c in by_id}, None).to_dict()}
    digest = sha256_of("\n".join(d["sha256"] for d in docs))
    meta = {"flow": flow.name, "model": model, "kind": "asked", "lang": lang,
            "documents": [{"id": d["source"], "tokens": sum(c["tokens"] for c in chunks if c["doc"] == d["id"]),
                           "sha256": d["sha256"]} for d in docs],
            "evidence_chunks": used_ids,
            "agreement": None, "filters": filters, "calls": run_record.get("model_calls", 0),
            "prompt_tokens": run_record.get("prompt_tokens", 0),
            "completion_tokens": run_record.get("completion_tokens", 0),
            "seconds": run_record.get("wall_seconds", 0)}
    if trajectory(outputs):
        meta["trajectory"] = trajectory(outputs)
    row = samples.line(samples.sample_id(digest, question, flow.name), [d["text"] for d in docs], question,
                       answer, lang, meta)
    with jsonl.JsonlWriter(Path(path)) as writer:
        writer.write(row)
    return row

