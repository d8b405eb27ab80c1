"""A flow's answer to one question about one document, through the same public run API as `engine run`,
with what a sample needs from the run: the chunks it used, its sub-questions, and what it cost."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from longflow.core.models import ModelConfig
from longflow.core.run import run_flow
from longflow.core.runtime import Runtime
from longflow.core.spec import Flow

_CHUNK_ID = re.compile(r"#(\d+)$")


@dataclass
class AgentAnswer:
    answer: str
    chunks: list[int]                 # indexes of the chunks the run handed to its answer steps
    trajectory: list[dict] = field(default_factory=list)   # Lv3's sub-questions and sub-answers
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error: str = ""                   # the run failed: no answer


def ask(flow: Flow, document: dict, question: str, model: ModelConfig, cache: bool = True) -> AgentAnswer:
    """Run `flow` on `document` (a loaded Document) and `question`. A failed run is an AgentAnswer with
    `error` set, so that one bad question does not stop a run over thousands of documents."""
    started = time.perf_counter()
    try:
        result = run_flow(flow, documents=[document], question=question, model=model, stream=None,
                          cache=cache, runtime=Runtime(stream=None))
    except Exception as exc:  # noqa: BLE001 - the sample is rejected with the reason; the run goes on
        return AgentAnswer("", [], error=f"{type(exc).__name__}: {exc}"[:500],
                           seconds=round(time.perf_counter() - started, 3))
    record = result.record
    return AgentAnswer(answer=result.answer.strip(), chunks=used_chunks(record, result.outputs),
                       trajectory=trajectory(result.outputs), calls=record["model_calls"],
                       prompt_tokens=record["prompt_tokens"], completion_tokens=record["completion_tokens"],
                       seconds=round(time.perf_counter() - started, 3))


def used_chunks(record: dict, outputs: dict) -> list[int]:
    """The run's evidence chunks (`evidence_ids`) of its one document, as sorted indexes."""
    return sorted({int(m.group(1)) for i in evidence_ids(record, outputs) if (m := _CHUNK_ID.search(i))})


def evidence_ids(record: dict, outputs: dict) -> list[str]:
    """The ids of the chunks ("doc0#7") whose sentences a reader kept or an answer was taken from (Lv2's
    `evidence`, Lv3's `found`), which is what the answer was asked from first; for a flow without them
    (Lv1), or whose readers kept nothing and whose answer was taken from nothing, the chunks its
    retrievals handed on (the record's `context`, nested lookups included).
    Retrieval alone would name every chunk of a document that fits its token budget."""
    ids = {str(e.get("chunk", "")) for key in ("evidence", "found") for e in outputs.get(key) or []
           if isinstance(e, dict)} - {""}
    if not ids:
        ids = {str(c) for entry in record.get("context", []) for c in entry.get("chunks", [])}
    return sorted(ids, key=_order)


def _order(chunk_id: str) -> tuple:
    doc, _, index = chunk_id.partition("#")
    return doc, int(index) if index.isdigit() else 0


def trajectory(outputs: dict) -> list[dict]:
    """Lv3's memory: the sub-questions asked and what each found."""
    memory: Any = outputs.get("memory") or []
    return [{"question": str(m.get("question", "")), "answer": str(m.get("answer", ""))}
            for m in memory if isinstance(m, dict)]
