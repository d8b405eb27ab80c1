"""Run methods on cases and keep every result: one JSON line per (case, method), written as it finishes.

A run is resumable: a line already in the results file for the same case, method and model is not run
again, and the model's replies are cached (`$LONGFLOW_CACHE/replies.sqlite`), so a case interrupted
half-way repeats none of its finished calls.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, TextIO

from ...core.models import ModelConfig
from ...core.run import run_flow
from ...core.spec import Flow, load_flow
from .cases import Case
from .scoring import score

FLOWS = Path(__file__).resolve().parents[3] / "flows"
BUILT_IN = {name: FLOWS / f"{name}.yaml" for name in ("full", "lv1", "lv2", "lv3")}


@dataclass
class Method:
    name: str
    flow: Flow


def methods(names: Iterable[str], extra_flows: Iterable[str] = ()) -> list[Method]:
    """Built-in methods by name, and any flow file (named after its `flow:`) that takes documents and a
    question and gives an answer."""
    out = []
    for name in names:
        if name not in BUILT_IN:
            raise ValueError(f"unknown method {name!r}: built-in methods are {', '.join(BUILT_IN)}; give "
                             f"your own flow with --flow FILE")
        out.append(Method(name, load_flow(BUILT_IN[name])))
    for path in extra_flows:
        flow = load_flow(path)
        missing = {"documents", "question"} - set(flow.inputs) or ({"answer"} - set(flow.outputs))
        if missing:
            raise ValueError(f"{path}: a benchmarked flow takes inputs documents and question and gives the "
                             f"output answer; it lacks {', '.join(sorted(missing))}")
        out.append(Method(flow.name, flow))
    return out


def run_cases(cases: list[Case], methods_: list[Method], model: ModelConfig, results: Path,
              work: Path, stream: TextIO | None = sys.stderr) -> list[dict]:
    """Every method on every case not yet in `results`; returns all rows for these cases and methods."""
    done = {(r["case"], r["method"], r["model"]): r for r in read_rows(results)}
    todo = [(c, m) for c in cases for m in methods_ if (c.id, m.name, model.model) not in done]
    work.mkdir(parents=True, exist_ok=True)
    started, spent = time.perf_counter(), 0.0
    for i, (case, method) in enumerate(todo):
        row = run_one(case, method, model, work)
        append_row(results, row)
        done[(case.id, method.name, model.model)] = row
        spent = time.perf_counter() - started
        if stream is not None:
            eta = spent / (i + 1) * (len(todo) - i - 1)
            stream.write(f"[{i + 1}/{len(todo)}] {method.name} {case.id}: score {row['score']:.0f}, "
                         f"{row['seconds']:.0f}s; ETA {eta / 60:.0f} min\n")
            stream.flush()
    return [done[(c.id, m.name, model.model)] for c in cases for m in methods_
            if (c.id, m.name, model.model) in done]


def run_one(case: Case, method: Method, model: ModelConfig, work: Path) -> dict:
    """One case with one method: the prediction, its scores, and what it cost. A run that fails is a
    row too (score 0, with the error), so that one bad case does not stop a night's benchmark."""
    doc = work / f"{case.id}.txt"
    if not doc.exists():
        doc.write_text(case.document(), encoding="utf-8")
    started = time.perf_counter()
    row = {"case": case.id, "method": method.name, "model": model.model, "task": case.task,
           "language": case.language, "length": case.length, "depth": case.depth, "question": case.question,
           "gold": case.answer, "keywords": case.keywords, "instruction": case.instruction}
    try:
        # Asked as `engine run` asks it: stripped. NeedleBench's questions may end in a blank, and a 0.5B
        # model answers "...Charles Lindbergh? " and "...Charles Lindbergh?" differently: Lv3, whose lookup
        # of the question itself is stripped, would not be comparing itself with the Lv2 it runs.
        result = run_flow(method.flow, documents=[str(doc)], question=case.question.strip(), model=model,
                          stream=None, cache=True)
    except Exception as exc:  # noqa: BLE001 - recorded in the row: the benchmark goes on
        return {**row, "prediction": "", "error": f"{type(exc).__name__}: {exc}"[:500],
                "score": 0.0, "f1": 0.0, "parts": {}, "seconds": round(time.perf_counter() - started, 2),
                "calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    record = result.record
    return {**row, "prediction": result.answer, "error": "", **score(case.to_dict(), result.answer),
            "seconds": round(time.perf_counter() - started, 2), "calls": record["model_calls"],
            "prompt_tokens": record["prompt_tokens"], "completion_tokens": record["completion_tokens"],
            "cached_replies": record["counters"].get("cached_replies", 0),
            "fallbacks": len(record["fallbacks"]), "failures": len(record["failures"]),
            # what a step-by-step flow looked up, and what each lookup answered: why Lv3 got there
            **({"lookups": result.outputs["memory"]} if result.outputs.get("memory") else {})}


def read_rows(path: Path) -> list[dict]:
    """The rows written so far, scored again: a scorer mended since applies to old runs (the score
    depends on the case and the prediction only). A line cut short by an interruption is skipped (its
    case runs again)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(rescored(json.loads(line)))
        except json.JSONDecodeError:
            continue
    return rows


def rescored(row: dict) -> dict:
    """The row with the current scorer's score; a run that failed keeps its 0."""
    if row.get("error") or "task" not in row:
        return row
    case = {"task": row["task"], "language": row.get("language", "en"), "question": row.get("question", ""),
            "answer": row.get("gold", ""), "keywords": row.get("keywords", []),
            "instruction": row.get("instruction", "")}
    return {**row, **score(case, row.get("prediction"))}


def append_row(path: Path, row: dict) -> None:
    """One line, flushed to disk before the next case starts."""
    cut_short = path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n")
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if cut_short else "") + json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
