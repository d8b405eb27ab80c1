"""What a running node may use: its model (with retries and accounting), its prompts, the run record,
progress reporting and the run's caches. The compiler makes one Context per node of a flow."""
from __future__ import annotations

import functools
import random
import string
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from .record import RunRecord

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "nodes" / "prompts"


class ModelError(RuntimeError):
    """A model call that still failed after its retries."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        # Full jitter, so that 64 parallel readers hitting one 429 do not come back in lock-step.
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: connection trouble, timeouts, 429, 5xx. Not: bad requests, auth, our own bugs."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return status == 429 or status == 408 or status >= 500
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & {"APIConnectionError", "APITimeoutError", "ConnectionError", "TimeoutError",
                         "RemoteProtocolError", "ReadTimeout", "ConnectTimeout", "TransientModelError"})


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
    record: RunRecord = field(default_factory=RunRecord)
    model: Any = None                  # a langchain BaseChatModel
    model_name: str = ""
    flow_dir: Path | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stream: TextIO | None = field(default_factory=lambda: sys.stderr)
    services: dict[str, Any] = field(default_factory=dict)   # run-wide shared objects (caches, tools)
    replies: Any = None                # engine.replies.ReplyCache, or None for no reply cache
    tools: dict[str, "ToolSpec"] = field(default_factory=dict)  # imported-flow nodes of the same flow

    # -- models -------------------------------------------------------------------------------------
    def chat(self, prompt: str | list, *, system: str | None = None, **kwargs) -> str:
        """Send one prompt (or a message list) to this node's model; return the reply's text.
        Served from the run's reply cache when the same call was answered before."""
        if self.replies is None:
            return text_of(self.invoke(prompt, system=system, **kwargs))
        key = self.replies.key(self.model_name, _messages(prompt, system), kwargs)
        cached = self.replies.get(key)
        if cached is not None:
            self.record.count("cached_replies")
            return cached
        reply = text_of(self.invoke(prompt, system=system, **kwargs))
        self.replies.put(key, reply)
        return reply

    def invoke(self, prompt: str | list, *, system: str | None = None, tools: list | None = None,
               **kwargs) -> Any:
        """Call the model with retries and backoff; count calls and tokens; raise ModelError at the end."""
        if self.model is None:
            raise ModelError(f"node {self.node!r} needs a model, and the run has none configured")
        messages = _messages(prompt, system)
        try:
            model = self.model.bind_tools(tools) if tools else self.model
        except NotImplementedError:
            raise ModelError(f"{self.model_name or 'model'} in node {self.node!r} does not support tool "
                             f"calling") from None
        last: BaseException | None = None
        for attempt in range(self.retry.attempts):
            started = time.perf_counter()
            try:
                reply = model.invoke(messages, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified just below
                last = exc
                if not is_transient(exc) or attempt == self.retry.attempts - 1:
                    break
                self.record.retry()
                time.sleep(self.retry.delay(attempt))
                continue
            self.record.model_call(*_usage(messages, reply), time.perf_counter() - started)
            return reply
        raise ModelError(f"{self.model_name or 'model'} failed in node {self.node!r} after "
                         f"{attempt + 1} attempt(s): {type(last).__name__}: {last}") from last

    # -- prompts ------------------------------------------------------------------------------------
    def prompt(self, name: str, lang: str, override: str = "", **values: Any) -> str:
        """Fill the template `name` for `lang` ('en' or 'zh'); `override` is a path, relative to the
        flow file, that may contain `{lang}`."""
        return _template(self._prompt_path(name, lang, override)).safe_substitute(
            {k: "" if v is None else str(v) for k, v in values.items()})

    def _prompt_path(self, name: str, lang: str, override: str) -> Path:
        if override:
            path = Path(override.replace("{lang}", lang))
            return path if path.is_absolute() or self.flow_dir is None else self.flow_dir / path
        path = PROMPTS_DIR / f"{name}.{lang}.txt"
        return path if path.exists() else PROMPTS_DIR / f"{name}.en.txt"

    # -- progress -----------------------------------------------------------------------------------
    def progress(self, total: int, what: str) -> "Progress":
        return Progress(self.node, total, what, self.stream)

    def service(self, name: str, factory: Callable[[], Any]) -> Any:
        """A run-wide object shared by all nodes (a cache, a tool), made on first use."""
        with _SERVICES_LOCK:
            if name not in self.services:
                self.services[name] = factory()
            return self.services[name]


_SERVICES_LOCK = threading.Lock()


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


@functools.lru_cache(maxsize=64)
def _template(path: Path) -> string.Template:
    """Templates are read once per process: a map asks for the same one for every chunk."""
    return string.Template(path.read_text(encoding="utf-8"))


def text_of(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def _messages(prompt: str | list, system: str | None) -> list:
    from langchain_core.messages import HumanMessage, SystemMessage
    messages = [HumanMessage(prompt)] if isinstance(prompt, str) else list(prompt)
    return ([SystemMessage(system)] if system else []) + messages


def _usage(messages: list, reply: Any) -> tuple[int, int]:
    usage = getattr(reply, "usage_metadata", None)
    if usage and usage.get("input_tokens"):
        return usage["input_tokens"], usage.get("output_tokens", 0)
    from nodes.tokens import count_tokens  # fake models report no usage: count it ourselves
    return sum(count_tokens(text_of(m)) for m in messages), count_tokens(text_of(reply))
