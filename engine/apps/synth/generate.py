"""`engine synth generate`: the driver. It lists the documents, skips what an earlier run finished,
hands the rest to an executor, writes every result as it comes (samples, rejections, then the document's
line in the `.done` file), shows progress with an ETA, and ends with a summary (also written as JSON).

Files, for `-o data.jsonl`: `data.jsonl` (samples), `data.rejected.jsonl` (every rejection, with its
reason), `data.done.jsonl` (finished documents and their sample ids: what resuming skips),
`data.summary.json`.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from . import jsonl
from .corpus import DocRef
from .executors import Balancer, run_local, run_ray
from .worker import DocResult, DocTask, Settings


@dataclass
class Paths:
    samples: Path

    @property
    def rejected(self) -> Path:
        return self._beside("rejected.jsonl")

    @property
    def done(self) -> Path:
        return self._beside("done.jsonl")

    @property
    def summary(self) -> Path:
        return self._beside("summary.json")

    def _beside(self, suffix: str) -> Path:
        stem = self.samples.name[:-len(".jsonl")] if self.samples.name.endswith(".jsonl") else self.samples.name
        return self.samples.with_name(f"{stem}.{suffix}")


@dataclass
class Totals:
    documents: int = 0
    finished_before: int = 0
    failed: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    processed: int = 0

    def add(self, result: DocResult) -> None:
        self.processed += 1
        if result.error:
            self.failed.append({"document": result.ref.id, "error": result.error})
        self.counts.update(result.stats)

    def summary(self, seconds: float, paths: Paths, balancer: Balancer) -> dict:
        c = self.counts
        rejected = {k[len("rejected_"):]: v for k, v in sorted(c.items()) if k.startswith("rejected_")}
        return {"documents": self.documents, "documents_done_now": self.processed,
                "documents_finished_before": self.finished_before, "documents_failed": self.failed[:100],
                "proposed": c["proposed"], "kept": c["kept"], "rejected": rejected,
                "rejected_total": sum(rejected.values()), "skipped_done_samples": c["skipped"],
                "model_calls": c["calls"], "prompt_tokens": c["prompt_tokens"],
                "completion_tokens": c["completion_tokens"], "seconds": round(seconds, 1),
                "kept_per_hour": round(c["kept"] * 3600 / seconds, 1) if seconds > 0 else 0.0,
                "endpoints": {u or "(default)": n for u, n in balancer.given.items()},
                "files": {"samples": str(paths.samples), "rejected": str(paths.rejected),
                          "done": str(paths.done)}}


def generate(refs: list[DocRef], out: Path, settings: Settings, *, base_urls: list[str], executor: str = "local",
             workers: int = 1, ray_address: str = "", given: dict | None = None,
             stream: TextIO | None = sys.stderr) -> dict:
    """`given`: document id -> questions for it from --questions (`read_questions`)."""
    paths = Paths(Path(out))
    finished, leftover = resume_state(paths, refs)
    totals = Totals(documents=len(refs), finished_before=sum(1 for r in refs if r.id in finished))
    todo = [i for i, r in enumerate(refs) if r.id not in finished]
    given = given or {}
    tasks = (DocTask(refs[i], done=leftover, other=refs[(i + 1) % len(refs)] if len(refs) > 1 else None,
                     given=tuple(given.get(refs[i].id, ()))) for i in todo)
    balancer = Balancer(base_urls)
    if stream is not None and totals.finished_before:
        stream.write(f"synth: {totals.finished_before} of {len(refs)} documents were finished by an earlier "
                     f"run: skipped\n")
    run = run_ray(tasks, settings, balancer, workers, ray_address) if executor == "ray" \
        else run_local(tasks, settings, balancer, workers)
    started = time.perf_counter()
    try:
        with jsonl.JsonlWriter(paths.samples) as kept, jsonl.JsonlWriter(paths.rejected) as rejected, \
                jsonl.JsonlWriter(paths.done) as done:
            for result in run:
                write_result(result, kept, rejected, done)
                totals.add(result)
                if stream is not None:
                    stream.write(progress(result, totals, len(todo), time.perf_counter() - started) + "\n")
                    stream.flush()
    finally:
        summary = totals.summary(time.perf_counter() - started, paths, balancer)
        write_atomically(paths.summary, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary


QUESTION_FORM = ('each line is one JSON object: {"document": "ID or PATH", "question": "...", "chunks": [3], '
                 '"unanswerable": false} (chunks and unanswerable optional)')


def read_questions(path: Path, refs: list[DocRef]) -> dict[str, list[dict]]:
    """Questions to ask besides the proposed ones, by document id; ValueError naming the first bad line."""
    by_name = {r.id: r.id for r in refs} | {str(Path(r.path).resolve()): r.id for r in refs}
    out: dict[str, list[dict]] = {}
    for where, _, row in jsonl.objects(path, QUESTION_FORM, "--questions "):
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            raise ValueError(f"{where}: no 'question' string; {QUESTION_FORM}")
        chunks = row.get("chunks", [])
        if not isinstance(chunks, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in chunks):
            raise ValueError(f"{where}: 'chunks' must be a list of chunk indexes; {QUESTION_FORM}")
        name = str(row.get("document", ""))
        doc = by_name.get(name) or by_name.get(str(Path(name).resolve())) if name else None
        if doc is None:
            raise ValueError(f"{where}: the document {name!r} is none of those given with --docs (name it "
                             f"by its path, or as it appears in the output: e.g. {refs[0].id!r})")
        out.setdefault(doc, []).append({"question": row["question"], "chunks": chunks,
                                        "unanswerable": bool(row.get("unanswerable"))})
    return out


def resume_state(paths: Paths, refs: list[DocRef]) -> tuple[set[str], frozenset]:
    """(ids of documents finished unchanged, ids of samples written for documents not finished). A
    document whose file changed since (size or time) is done again."""
    stamps = {r.id: _stamp(r) for r in refs}
    finished, claimed = set(), set()
    for row in jsonl.rows(paths.done):
        if row.get("stamp") == stamps.get(row.get("document")):
            finished.add(row["document"])
        claimed.update(row.get("samples", []))
    written = set(jsonl.ids(paths.samples)) | set(jsonl.ids(paths.rejected))
    return finished, frozenset(written - claimed)


def write_result(result: DocResult, kept: jsonl.JsonlWriter, rejected: jsonl.JsonlWriter,
                 done: jsonl.JsonlWriter) -> None:
    """A document's samples and rejections first, synced, then its line in the done file: a kill in
    between leaves samples that the next run skips by id."""
    for row in result.samples:
        kept.write(row)
    for row in result.rejects:
        rejected.write(row)
    kept.sync()
    rejected.sync()
    if not result.error:
        done.write({"document": result.ref.id, "stamp": _stamp(result.ref), "sha256": result.sha256,
                    "samples": [r["id"] for r in result.samples + result.rejects]})
        done.sync()


def _stamp(ref: DocRef) -> str:
    try:
        st = os.stat(ref.path)
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def progress(result: DocResult, totals: Totals, todo: int, seconds: float) -> str:
    n = totals.processed
    eta = seconds / n * (todo - n) if n else 0.0
    s = result.stats
    if result.error:
        what = f"failed: {result.error[:200]}"
    else:
        reasons = Counter({k[len("rejected_"):]: v for k, v in s.items() if k.startswith("rejected_")})
        why = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
        what = f"{s['kept']} kept, {sum(reasons.values())} rejected" + (f" ({why})" if why else "") + \
            (f", {s['skipped']} done before" if s["skipped"] else "") + f"; {s['calls']} calls, {s['seconds']:.1f}s"
    return (f"[{n}/{todo}] {result.ref.id}: {what}; kept so far {totals.counts['kept']}, "
            f"elapsed {_clock(seconds)}, ETA {_clock(eta)}")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render(summary: dict) -> str:
    """The summary as lines for stderr."""
    rejected = ", ".join(f"{k} {v}" for k, v in summary["rejected"].items()) or "none"
    lines = [f"documents: {summary['documents']} ({summary['documents_done_now']} done now, "
             f"{summary['documents_finished_before']} finished before, {len(summary['documents_failed'])} failed)",
             f"questions proposed: {summary['proposed']}; kept {summary['kept']}; rejected "
             f"{summary['rejected_total']} ({rejected}); done before: {summary['skipped_done_samples']}",
             f"model calls: {summary['model_calls']}; tokens: {summary['prompt_tokens']} prompt + "
             f"{summary['completion_tokens']} completion; {summary['seconds']:.0f}s "
             f"({summary['kept_per_hour']:.0f} kept per hour)"]
    for failure in summary["documents_failed"][:5]:
        lines.append(f"failed: {failure['document']}: {failure['error'][:300]}")
    return "\n".join(lines)
