"""The run record: what a run did, for the user (`--json`) and for tests.

Nodes run in parallel threads, so every mutation takes the lock.
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class NodeRun:
    node: str
    seconds: float
    items: int = 0


@dataclass
class RunRecord:
    flow: str = ""
    nodes: list[NodeRun] = field(default_factory=list)
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0
    retries: int = 0
    failures: list[dict] = field(default_factory=list)
    fallbacks: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    context: list[dict] = field(default_factory=list)     # which chunks each retrieval handed on
    timings: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def node_ran(self, node: str, seconds: float, items: int = 0) -> None:
        with self._lock:
            self.nodes.append(NodeRun(node, round(seconds, 4), items))

    def model_call(self, prompt_tokens: int, completion_tokens: int, seconds: float) -> None:
        with self._lock:
            self.model_calls += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.model_seconds += seconds

    def retry(self) -> None:
        with self._lock:
            self.retries += 1

    def failure(self, node: str, error: str, **where: Any) -> None:
        """A step that failed after its retries: kept, so that nothing is lost silently."""
        with self._lock:
            self.failures.append({"node": node, "error": error, **where})

    def fallback(self, node: str, reason: str, **data: Any) -> None:
        """A model reply we could not use as asked for, and what we did instead."""
        with self._lock:
            self.fallbacks.append({"node": node, "reason": reason, **data})

    def note(self, node: str, message: str, **data: Any) -> None:
        with self._lock:
            self.notes.append({"node": node, "message": message, **data})

    def used(self, node: str, chunk_ids: list[str], tokens: int, sections: dict[str, str] | None = None) -> None:
        """The evidence a retrieval passed to the answer: which chunks, how many tokens, and where in their
        documents those of a PDF, a Word file... are (chunk id -> "page 3")."""
        entry = {"node": node, "chunks": chunk_ids, "tokens": tokens}
        if sections:
            entry["sections"] = sections
        with self._lock:
            self.context.append(entry)

    def time(self, phase: str, seconds: float) -> None:
        """Add to the time spent in a phase outside the model (load, chunk, index, retrieve...)."""
        with self._lock:
            self.timings[phase] = self.timings.get(phase, 0.0) + seconds

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def to_dict(self) -> dict:
        with self._lock:
            d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}
            d["nodes"] = [asdict(n) for n in self.nodes]
            d = copy.deepcopy(d)
        d["wall_seconds"] = round(time.time() - self.started, 3)
        items = sum(n["items"] for n in d["nodes"])
        failed = sum(1 for f in d["failures"] if "item" in f)
        d["coverage"] = {"items": items, "failed": failed,
                         "read": round((items - failed) / items, 4) if items else 1.0}
        return d
