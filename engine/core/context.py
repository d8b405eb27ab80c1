"""What a running node may use, each named: its model (with the run's reply cache), the run record, the
flow's folder (for the files its parameters name), the flow's tools and progress lines. The compiler
makes one Context per node of a flow."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .models import ModelClient, ModelError, ToolsRejected, text_of
from .paths import inside
from .record import RunRecord

__all__ = ["Context", "ModelError", "Progress", "ToolSpec", "ToolsRejected", "text_of"]


@dataclass(frozen=True)
class ToolSpec:
    """An imported flow offered to a tool-calling model: `name(question=...)`, described by the flow."""
    name: str
    description: str
    node: str                          # the flow node that runs it

    def schema(self) -> dict:
        return {"type": "function", "function": {
            "name": self.name, "description": self.description or f"Run the {self.name} flow.",
            "parameters": {"type": "object", "required": ["question"], "properties": {
                "question": {"type": "string", "description": "one simple question to look up"}}}}}


@dataclass
class Context:
    node: str
    model: ModelClient | None = None   # a langchain chat model given here is wrapped in a ModelClient
    record: RunRecord = field(default_factory=RunRecord)
    stream: TextIO | None = field(default_factory=lambda: sys.stderr)
    replies: Any = None                # core.replies.ReplyCache, or None for no reply cache
    tools: dict[str, ToolSpec] = field(default_factory=dict)  # imported-flow nodes of the same flow
    flow_dir: Path | None = None       # where the flow file is: files its parameters name are inside it
    roots: tuple = ()                  # the folders those files may be in (empty: any, outside a flow)

    def __post_init__(self) -> None:
        if self.model is not None and not isinstance(self.model, ModelClient):
            self.model = ModelClient(self.model)

    # -- models -------------------------------------------------------------------------------------
    def chat(self, prompt: str | list, *, system: str | None = None, **kwargs) -> str:
        """Send one prompt (or a message list) to this node's model; return the reply's text.
        Served from the run's reply cache when the same call was answered before."""
        if self.replies is None:
            return text_of(self.invoke(prompt, system=system, **kwargs))
        key = self.replies.key(self._model().identity, _messages(prompt, system), kwargs)
        cached = self.replies.get(key)
        if cached is not None:
            self.record.count("cached_replies")
            return cached
        reply = text_of(self.invoke(prompt, system=system, **kwargs))
        self.replies.put(key, reply)
        return reply

    def invoke(self, prompt: str | list, *, system: str | None = None, tools: list | None = None,
               **kwargs) -> Any:
        """Call the model with retries and backoff; count calls and tokens; raise ModelError at the end
        (ToolsRejected when the endpoint refuses tools)."""
        return self._model().invoke(_messages(prompt, system), tools=tools, record=self.record,
                                    node=self.node, stream=self.stream, **kwargs)

    def _model(self) -> ModelClient:
        if self.model is None:
            raise ModelError(f"node {self.node!r} needs a model, and the run has none configured")
        return self.model

    # -- files and progress -------------------------------------------------------------------------
    def flow_file(self, path: str) -> Path:
        """A file a parameter names, relative to the flow's folder, and inside it (or an allowed folder)
        when the node runs in a flow: `engine validate` reports the rest, and this is the last guard."""
        p = Path(path)
        full = p if p.is_absolute() or self.flow_dir is None else self.flow_dir / p
        if self.roots and not inside(full, self.roots):
            raise ValueError(f"{path!r} is outside the flow's folder; keep the files a flow names beside it, "
                             f"or name their folder with --allow-dir")
        return full

    def progress(self, total: int, what: str) -> "Progress":
        return Progress(self.node, total, what, self.stream)


class Progress:
    """`read: 512/2000 chunks, 61.2/s, ETA 24s, 0 failed` on stderr, at most twice a second."""

    def __init__(self, node: str, total: int, what: str, stream: TextIO | None):
        self.node, self.total, self.what, self.stream = node, total, what, stream
        self.done = self.failed = 0
        self.started = self._shown = time.perf_counter()
        self._lock = threading.Lock()
        self._tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def advance(self, n: int = 1, failed: int = 0) -> None:
        with self._lock:
            self.done += n
            self.failed += failed
            now = time.perf_counter()
            # A terminal gets a line redrawn twice a second; a log file a new line every 10 s.
            every = 0.5 if self._tty else 10.0
            if self.done < self.total and now - self._shown < every:
                return
            self._shown = now
            self._show(now)

    def _show(self, now: float) -> None:
        if self.stream is None:
            return
        rate = self.done / max(now - self.started, 1e-9)
        eta = (self.total - self.done) / rate if rate else 0
        end = "\n" if self.done >= self.total or not self._tty else "\r"
        self.stream.write(f"{self.node}: {self.done}/{self.total} {self.what}, {rate:.1f}/s, "
                          f"ETA {eta:.0f}s, {self.failed} failed{end}")
        self.stream.flush()


def _messages(prompt: str | list, system: str | None) -> list:
    from langchain_core.messages import HumanMessage, SystemMessage
    messages = [HumanMessage(prompt)] if isinstance(prompt, str) else list(prompt)
    return ([SystemMessage(system)] if system else []) + messages
