"""Running a flow from Python.

    from longflow import run_flow
    result = run_flow("flows/lv1.yaml", documents=["book.txt"], question="When were bicycles invented?",
                      model="qwen2.5-7b-instruct", base_url="http://127.0.0.1:8000/v1")
    print(result.answer)
    result.record["model_calls"], result.record["failures"], result.outputs["context"]

With no endpoint configured (no `base_url`, no OPENAI_BASE_URL) the default model, `local:0.5b`, is
served for the run by its provider (the embedded llama.cpp model, longflow.apps.local_model) and stopped
after it. `model` may also be a ModelConfig or a langchain chat model instance (tests use fakes).
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, TextIO

from .models import ModelConfig, chat_model, config_from, serve
from .record import RunRecord
from .runtime import Runtime
from .spec import Flow, load_flow


@dataclass
class RunResult:
    outputs: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        return str(self.outputs.get("answer", ""))


def run_flow(flow: Flow | str | Path, *, model: Any = None, base_url: str | None = None,
             api_key: str | None = None, overrides: dict[str, Any] | None = None,
             stream: TextIO | None = sys.stderr, cache: bool = False, runtime: Runtime | None = None,
             **inputs: Any) -> RunResult:
    """Load (if given a path), compile and run a flow on `inputs`; return its outputs and run record."""
    if not isinstance(flow, Flow):
        flow = load_flow(flow, overrides=overrides)
    missing = [k for k in flow.inputs if inputs.get(k) is None]
    if missing:
        raise ValueError(f"flow {flow.name!r} needs input(s) {', '.join(missing)}; it takes "
                         f"{', '.join(flow.inputs)}")
    runtime = runtime or Runtime(stream=stream)
    runtime.record.flow = flow.name
    with _model(runtime, model, base_url, api_key, stream), _reply_cache(runtime, cache), \
            _stop_on_interrupt(runtime):
        from .compiler import compile_flow
        graph = compile_flow(flow, runtime)
        state = graph.invoke({k: inputs[k] for k in flow.inputs})
    return RunResult({k: state.get(k) for k in flow.outputs}, runtime.record.to_dict())


@contextlib.contextmanager
def _model(runtime: Runtime, model: Any, base_url: str | None, api_key: str | None,
           stream: TextIO | None) -> Iterator[None]:
    """The run's default model in `runtime`, its endpoint (or its provider's server) live meanwhile."""
    if model is not None and not isinstance(model, (str, ModelConfig)):  # a langchain chat model
        runtime.use_model(model)
        yield
        return
    config = model if isinstance(model, ModelConfig) else config_from(model, base_url, api_key)
    with serve(config, stream) as (live, limit):
        runtime.use_model(chat_model(live), live.model, live, limit)
        yield


@contextlib.contextmanager
def _stop_on_interrupt(runtime: Runtime) -> Iterator[None]:
    """On Ctrl-C, tell the maps to take no more items at once: otherwise the worker threads would run the
    whole map on (spending a paid endpoint's money) while the interrupt unwinds."""
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() \
        else signal.SIG_IGN
    if previous in (signal.SIG_IGN, None):   # not the main thread, or Ctrl-C is ignored here: leave it so
        yield
        return

    def interrupted(signum, frame):
        runtime.cancelled.set()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _reply_cache(runtime: Runtime, enabled: bool):
    if not enabled or runtime.replies is not None:
        yield
        return
    from .paths import cache_dir
    from .replies import ReplyCache
    runtime.replies = ReplyCache(cache_dir() / "replies.sqlite")
    try:
        yield
    finally:
        runtime.replies.close()
        runtime.replies = None


__all__ = ["run_flow", "RunResult", "RunRecord"]
