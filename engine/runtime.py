"""What one run shares across its nodes: the record, the models, progress lines and caches."""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Any, TextIO

from .context import Context, Progress, RetryPolicy, ToolSpec
from .models import ModelConfig, chat_model
from .record import RunRecord


@dataclass
class Runtime:
    model: Any = None                       # the run's default chat model (a langchain BaseChatModel)
    model_name: str = ""
    model_config: ModelConfig | None = None  # to derive a flow's named models from
    named_models: dict[str, Any] = field(default_factory=dict)  # "flow file:name" -> chat model, built once
    record: RunRecord = field(default_factory=RunRecord)
    stream: TextIO | None = field(default_factory=lambda: sys.stderr)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency_cap: int = 0                # what the model server can serve at once (0: unbounded)
    replies: Any = None                     # engine.replies.ReplyCache: resume and Lv3 re-reads
    services: dict[str, Any] = field(default_factory=dict)
    _progress: dict[str, Progress] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def context(self, flow, node, label: str) -> Context:
        model, name = self.model_for(flow, node)
        tools = {n.name: ToolSpec(n.subflow.name, n.subflow.description, n.name)
                 for n in flow.nodes.values() if n.subflow is not None}
        return Context(node=label, record=self.record, model=model, model_name=name, flow_dir=flow.directory,
                       retry=self.retry, stream=self.stream, services=self.services, replies=self.replies,
                       tools=tools)

    def model_for(self, flow, node) -> tuple[Any, str]:
        if not node.model:
            return self.model, self.model_name
        key = f"{flow.file}:{node.model}"  # two flows may name different models alike
        with self._lock:
            if key not in self.named_models:
                base = self.model_config or ModelConfig()
                self.named_models[key] = chat_model(base.with_fields(**flow.models[node.model]))
            model = self.named_models[key]
        return model, str(flow.models.get(node.model, {}).get("model", node.model))

    def progress_for(self, label: str, total: int, map_id: str) -> Progress:
        """One progress line per map, shared by all of its batches."""
        with self._lock:
            if map_id not in self._progress:
                self._progress[map_id] = Progress(label, total, "items", self.stream)
                self.record.count("maps")
            return self._progress[map_id]
