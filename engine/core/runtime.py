"""What one run shares across its nodes: the record, the models (one limiter per endpoint), the reply
cache, progress lines and the maps in progress."""
from __future__ import annotations

import json
import sys
import threading
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from .context import Context, Progress, ToolSpec
from .models import Limiter, ModelClient, ModelConfig, ModelError, RetryPolicy, chat_model
from .record import RunRecord


@dataclass
class Runtime:
    model: ModelClient | None = None        # the run's default model
    config: ModelConfig | None = None       # its config, which a flow's `models:` entries refine
    record: RunRecord = field(default_factory=RunRecord)
    stream: TextIO | None = field(default_factory=lambda: sys.stderr)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    replies: Any = None                     # core.replies.ReplyCache: resume and Lv3 re-reads
    _named: dict[str, ModelClient] = field(default_factory=dict)
    _limiters: dict[str, Limiter] = field(default_factory=dict)
    _maps: dict[str, "MapRun"] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use_model(self, chat: Any, name: str = "", config: ModelConfig | None = None, limit: int = 0) -> None:
        """Make `chat` (a langchain chat model) the run's default model."""
        endpoint = config.base_url if config else ""
        self.config = config
        self.model = ModelClient(chat, name, limiter=self.limiter(endpoint, limit), retry=self.retry,
                                 endpoint=endpoint)

    def limiter(self, endpoint: str, limit: int = 0) -> Limiter:
        """One per endpoint, so that two models on one server together stay within what it serves."""
        with self._lock:
            if not endpoint:
                return Limiter(limit)
            if endpoint not in self._limiters:
                self._limiters[endpoint] = Limiter(limit)
            return self._limiters[endpoint]

    def context(self, flow, node, label: str) -> Context:
        tools = {n.name: ToolSpec(n.subflow.name, n.subflow.description, n.name)
                 for n in flow.nodes.values() if n.subflow is not None}
        return Context(node=label, model=self.model_for(flow, node), record=self.record, stream=self.stream,
                       replies=self.replies, tools=tools, flow_dir=flow.directory)

    def model_for(self, flow, node) -> ModelClient | None:
        """The node's model: the run's, or the flow's `models:` entry it names, refining the run's."""
        if not node.model:
            return self.model
        config = (self.config or ModelConfig()).with_fields(**flow.models[node.model])
        if config.provider:
            raise ModelError(f"node {node.name!r}: model {node.model!r} names {config.model!r}, which a "
                             f"flow cannot start; run with --model {config.model} instead")
        key = json.dumps(asdict(config), sort_keys=True, default=str)
        limiter = self.limiter(config.base_url, config.max_concurrency)
        with self._lock:  # built once per run, whichever node asks first
            if key not in self._named:
                self._named[key] = ModelClient(chat_model(config), config.model, limiter=limiter,
                                               retry=self.retry, endpoint=config.base_url)
            return self._named[key]

    # -- maps ---------------------------------------------------------------------------------------
    def start_map(self, label: str, items: list, workers: int) -> str:
        """Register a map pass: its items wait in a queue that its worker tasks take from."""
        map_id = f"{label}:{uuid.uuid4().hex}"
        progress = Progress(label, len(items), "items", self.stream)
        with self._lock:
            self._maps[map_id] = MapRun(items, workers, progress)
        self.record.count("maps")
        return map_id

    def map_run(self, map_id: str) -> "MapRun":
        with self._lock:
            return self._maps[map_id]

    def end_map(self, map_id: str) -> None:
        with self._lock:
            self._maps.pop(map_id, None)


class MapRun:
    """One pass of a mapped node: the items not yet taken, the results so far (by item index), and how
    many workers are still at work. The last worker to finish hands on every result, in item order."""

    def __init__(self, items: list, workers: int, progress: Progress):
        self.queue = deque(enumerate(items))
        self.total, self.workers, self.progress = len(items), workers, progress
        self.results: list[tuple[int, dict]] = []
        self.stopped = False
        self._lock = threading.Lock()

    def take(self) -> tuple[int, Any] | None:
        with self._lock:
            return None if self.stopped or not self.queue else self.queue.popleft()

    def done(self, index: int, result: dict) -> None:
        with self._lock:
            self.results.append((index, result))
        self.progress.advance()

    def failed(self) -> None:
        self.progress.advance(failed=1)

    def stop(self) -> None:
        """Take no more items (a worker hit an error that ends the run)."""
        with self._lock:
            self.stopped = True

    def finish(self) -> bool:
        """A worker is done; True for the last one."""
        with self._lock:
            self.workers -= 1
            return self.workers == 0

    def ordered(self) -> list[dict]:
        return [result for _, result in sorted(self.results, key=lambda r: r[0])]
