"""What one run shares across its nodes: the record, the models (one limiter per endpoint), the reply
cache and the stream for progress lines."""
from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from .context import Context, ToolSpec
from .models import Limiter, ModelClient, ModelConfig, ModelError, RetryPolicy, chat_model, refined
from .record import RunRecord


@dataclass
class Runtime:
    model: ModelClient | None = None        # the run's default model
    config: ModelConfig | None = None       # its config, which a flow's `models:` entries refine
    record: RunRecord = field(default_factory=RunRecord)
    stream: TextIO | None = field(default_factory=lambda: sys.stderr)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    replies: Any = None                     # core.replies.ReplyCache: resume and Lv3 re-reads
    cancelled: threading.Event = field(default_factory=threading.Event)   # Ctrl-C: maps take no more items
    _named: dict[str, ModelClient] = field(default_factory=dict)
    _limiters: dict[str, Limiter] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use_model(self, chat: Any, name: str = "", config: ModelConfig | None = None, limit: int = 0) -> None:
        """Make `chat` (a langchain chat model) the run's default model."""
        endpoint = config.base_url if config else ""
        self.config = config
        self.model = ModelClient(chat, name, limiter=self.limiter(endpoint, limit), retry=self.retry,
                                 endpoint=(config.served_by or endpoint) if config else "")

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
                       replies=self.replies, tools=tools, flow_dir=flow.directory,
                       roots=tuple(flow.roots))

    def model_for(self, flow, node) -> ModelClient | None:
        """The node's model: the run's, or the flow's `models:` entry it names, refining the run's."""
        if not node.model:
            return self.model
        config = refined(self.config or ModelConfig(), flow.models[node.model])
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
