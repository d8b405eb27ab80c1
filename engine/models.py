"""Chat-model providers: any OpenAI-compatible endpoint through langchain-openai, or the embedded
llama.cpp model (engine.local_model) when no endpoint is configured.

Precedence for each setting: a flow's `models:` entry (for the nodes that name it) > command-line flags
(`--model`, `--base-url`, `--api-key`) > environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`,
`LONGFLOW_MODEL`) > the embedded default (`local:0.5b`).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from typing import Any

LOCAL_PREFIX = "local:"
DEFAULT_LOCAL = "local:0.5b"


@dataclass(frozen=True)
class ModelConfig:
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout: float = 120.0
    max_concurrency: int = 0          # what the endpoint can serve at once; 0 = no known bound
    extra: dict = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.model.startswith(LOCAL_PREFIX) or (not self.base_url and not self.model)

    def with_fields(self, **fields: Any) -> "ModelConfig":
        known = {k: v for k, v in fields.items() if k in ModelConfig.__dataclass_fields__ and k != "extra"}
        extra = {k: v for k, v in fields.items() if k not in known}
        return replace(self, **known, extra={**self.extra, **extra})


def config_from(model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                **fields: Any) -> ModelConfig:
    """The run's default model from flags, then the environment."""
    base_url = base_url or os.environ.get("OPENAI_BASE_URL", "")
    model = model or os.environ.get("LONGFLOW_MODEL", "") or ("" if base_url else DEFAULT_LOCAL)
    if base_url and not model:
        raise ValueError("an endpoint is configured (--base-url / OPENAI_BASE_URL) but no model: "
                         "pass --model NAME (the name the server serves)")
    return ModelConfig(model=model, base_url=base_url if not model.startswith(LOCAL_PREFIX) else "",
                       api_key=api_key or os.environ.get("OPENAI_API_KEY", "") or "not-needed",
                       **fields)


def chat_model(config: ModelConfig):
    """A langchain ChatOpenAI for an endpoint. Retries are ours (engine.context), so the client's are off:
    each retry then shows in the run record."""
    return _compatible_chat_openai()(model=config.model, base_url=config.base_url or None,
                                     api_key=config.api_key, temperature=config.temperature,
                                     max_tokens=config.max_tokens, timeout=config.timeout, max_retries=0,
                                     **config.extra)


@functools.lru_cache(maxsize=1)
def _compatible_chat_openai() -> type:
    from langchain_openai import ChatOpenAI  # imported on first use: `engine validate` never pays for it

    class CompatibleChatOpenAI(ChatOpenAI):
        """langchain-openai sends the token cap as `max_completion_tokens`, which OpenAI wants but
        llama.cpp's server, vLLM and Ollama ignore (a small model then rambles up to the context size).
        Other endpoints get the classic `max_tokens`."""

        def _get_request_payload(self, input_, *, stop=None, **kwargs):
            payload = super()._get_request_payload(input_, stop=stop, **kwargs)
            if "max_completion_tokens" in payload and not _is_openai(self.openai_api_base):
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            return payload

    return CompatibleChatOpenAI


def _is_openai(base_url: str | None) -> bool:
    return not base_url or "api.openai.com" in base_url
