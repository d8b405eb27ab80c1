"""Chat models: how a run reaches them, and how each one is called.

- `ModelConfig` and `config_from`: a model from flags, then the environment. Precedence for each setting:
  a flow's `models:` entry (for the nodes that name it) > command-line flags (`--model`, `--base-url`,
  `--api-key`) > environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `LONGFLOW_MODEL`) > the default,
  `local:0.5b`.
- A name with a provider prefix (`local:0.5b`) is served by the provider published under that name in
  the entry-point group `longflow.providers` (the embedded llama.cpp model is one); the core knows none.
- `ModelClient`: one model as the run uses it. It bounds the calls in flight to what the endpoint can
  serve (so every map keeps its own `concurrency`, and branches that call no model run beside a busy
  one), retries transient failures with backoff, accounts calls and tokens, and remembers whether the
  endpoint takes tools.
"""
from __future__ import annotations

import contextlib
import contextvars
import email.utils
import functools
import os
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from typing import Any, Callable, ContextManager, TextIO

PROVIDER_GROUP = "longflow.providers"
DEFAULT_MODEL = "local:0.5b"


class ModelError(RuntimeError):
    """A model call that still failed after its retries."""


class ToolsRejected(ModelError):
    """The endpoint does not take tools (no tool calling, or not enabled on the server)."""


@dataclass(frozen=True)
class ModelConfig:
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout: float = 120.0
    max_concurrency: int = 0          # what the endpoint can serve at once; 0 = no known bound
    served_by: str = ""               # the provider's model ('local:0.5b') behind a provider's endpoint,
    #                                   whose port changes from run to run: the reply cache keys on it
    extra: dict = field(default_factory=dict)

    @property
    def provider(self) -> str:
        """The provider prefix of `model` ('local' for 'local:0.5b'), or '' for a plain endpoint model."""
        prefix, sep, _ = self.model.partition(":")
        return prefix if sep and prefix in providers() else ""

    def with_fields(self, **fields: Any) -> "ModelConfig":
        known = {k: v for k, v in fields.items() if k in ModelConfig.__dataclass_fields__ and k != "extra"}
        extra = {k: v for k, v in fields.items() if k not in known}
        return replace(self, **known, extra={**self.extra, **extra})


def refined(run: ModelConfig, entry: dict) -> ModelConfig:
    """The run's model refined by a flow's `models:` entry (fields checked by the spec).

    The run's key goes only to the run's endpoint. An entry at another endpoint (scheme, host and port)
    gets the key in the environment variable its `api_key_env` names, or none: a flow file is untrusted,
    and must not be able to send the user's key to a host of its choosing."""
    fields = {k: v for k, v in entry.items() if k in ModelConfig.__dataclass_fields__
              and k not in ("api_key", "served_by", "extra")}
    config = replace(run, **fields)
    if _origin(config.base_url) != _origin(run.base_url):
        config = replace(config, api_key="not-needed", served_by="")
    if entry.get("api_key_env"):
        key = os.environ.get(entry["api_key_env"], "")
        if not key:
            raise ModelError(f"model {config.model!r} takes its key from ${entry['api_key_env']}, which is "
                             f"not set: export {entry['api_key_env']}=... before the run")
        config = replace(config, api_key=key)
    return config


def _origin(url: str) -> tuple:
    parts = urllib.parse.urlsplit(url or "")
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def config_from(model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                **fields: Any) -> ModelConfig:
    """The run's default model from flags, then the environment."""
    base_url = base_url or os.environ.get("OPENAI_BASE_URL", "")
    model = model or os.environ.get("LONGFLOW_MODEL", "") or ("" if base_url else DEFAULT_MODEL)
    if base_url and not model:
        raise ValueError("an endpoint is configured (--base-url / OPENAI_BASE_URL) but no model: "
                         "pass --model NAME (the name the server serves)")
    config = ModelConfig(model=model, base_url=base_url,
                         api_key=api_key or os.environ.get("OPENAI_API_KEY", "") or "not-needed", **fields)
    return replace(config, base_url="") if config.provider else config


@functools.lru_cache(maxsize=1)
def providers() -> dict[str, Any]:
    """Provider name -> entry point. A provider is `provide(config, stream)`, a context manager that
    yields (the config of a live endpoint, how many calls it serves at once)."""
    return {ep.name: ep for ep in entry_points(group=PROVIDER_GROUP)}


def serve(config: ModelConfig, stream: TextIO | None) -> ContextManager[tuple[ModelConfig, int]]:
    """A live endpoint for `config`: its provider's, or the endpoint it names, for the run's lifetime."""
    if not config.provider:
        return contextlib.nullcontext((config, config.max_concurrency))
    provide: Callable = providers()[config.provider].load()
    return provide(config, stream)


def chat_model(config: ModelConfig):
    """A langchain ChatOpenAI for an endpoint. Retries are ours (ModelClient), so the client's are off:
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

        def _create_chat_result(self, response, generation_info=None):
            """A reply with no choices, or `content: null` and no tool call, is a failed call (retried,
            then reported), not an empty answer."""
            data = response if isinstance(response, dict) else \
                getattr(response, "model_dump", lambda **_: None)(warnings=False)
            if isinstance(data, dict) and not data.get("error"):   # an error is langchain's to raise
                if not data.get("choices"):
                    raise TransientModelError("the endpoint's reply has no choices")
                message = data["choices"][0].get("message") or {}
                if message.get("content") is None and not message.get("tool_calls"):
                    raise TransientModelError("the endpoint's reply has no content (content: null)")
            return super()._create_chat_result(response, generation_info)

    return CompatibleChatOpenAI


def _is_openai(base_url: str | None) -> bool:
    return not base_url or "api.openai.com" in base_url


# -- calling a model --------------------------------------------------------------------------------

class TransientModelError(RuntimeError):
    """A reply that is not one (no choices, or `content: null` and no tool call): retried like a 5xx."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    deadline: float = 600.0           # seconds for a call, all its attempts and waits together
    max_retry_after: float = 60.0     # the longest Retry-After a server is obeyed for

    def delay(self, attempt: int, exc: BaseException | None = None) -> float:
        """The server's Retry-After (capped), else full jitter, so that 64 parallel readers hitting one
        429 do not come back in lock-step."""
        asked = _retry_after(exc)
        if asked is not None:
            return min(asked, self.max_retry_after)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))


def _retry_after(exc: BaseException | None) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: connection trouble, timeouts, 429, 5xx. Not: bad requests, auth, our own bugs."""
    status = _status(exc)
    if isinstance(status, int):
        return status == 429 or status == 408 or status >= 500
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & {"APIConnectionError", "APITimeoutError", "ConnectionError", "TimeoutError",
                         "RemoteProtocolError", "ReadTimeout", "ConnectTimeout", "TransientModelError"})


def rejects_tools(exc: BaseException) -> bool:
    """A refusal of the request's tools: a client error (400, 404, 422) or 501 that names tools or
    functions. A 400 about something else (the context length, say) is not one."""
    status = _status(exc)
    refused = status in (400, 404, 422, 501)
    return refused and any(word in str(exc).lower() for word in ("tool", "function"))


def _status(exc: BaseException) -> Any:
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)


class Limiter:
    """The calls one endpoint may have in flight (0: no bound). Every model on the endpoint shares it."""

    def __init__(self, limit: int = 0):
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit) if limit > 0 else None
        self._lock = threading.Lock()
        self.in_flight = self.peak = 0

    @contextlib.contextmanager
    def slot(self):
        """Held for the length of a request (not while backing off between attempts)."""
        if self._slots is not None:
            self._slots.acquire()
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            if self._slots is not None:
                self._slots.release()


class ModelClient:
    """One chat model as a run calls it (see the module docstring). `chat` is a langchain chat model."""

    def __init__(self, chat: Any, name: str = "", *, limiter: Limiter | None = None,
                 retry: RetryPolicy | None = None, endpoint: str = "", timeout: float | None = None):
        self.chat, self.endpoint = chat, endpoint
        given = timeout or getattr(chat, "request_timeout", None)
        self.timeout = float(given) if isinstance(given, (int, float)) and given > 0 else ModelConfig.timeout
        self.name = name or getattr(chat, "model_name", "") or type(chat).__name__
        self.limiter, self.retry = limiter or Limiter(), retry or RetryPolicy()
        self.takes_tools: bool | None = None   # None: not known yet; False once the endpoint refused them

    @property
    def identity(self) -> str:
        """What names this model for the reply cache: its endpoint, its name, and the settings that
        change its replies (temperature, token cap), so that a flow run against another model, or with
        other settings, never gets this one's replies."""
        settings = [f"{k}={getattr(self.chat, k)}" for k in ("temperature", "max_tokens")
                    if getattr(self.chat, k, None) is not None]
        return "|".join(([self.endpoint] if self.endpoint else []) + [self.name] + settings)

    def invoke(self, messages: list, *, tools: list | None = None, record: Any = None, node: str = "",
               stream: TextIO | None = None, **kwargs) -> Any:
        """Call the model with retries and backoff; account it in `record`; raise ModelError at the end
        (ToolsRejected when the endpoint refused the tools). Each attempt is bounded by `timeout` as a
        whole (a server that trickles bytes is cut off too), and the call by the policy's `deadline`;
        every retry is said on `stream`."""
        where = f" in node {node!r}" if node else ""
        try:
            model = self.chat.bind_tools(tools) if tools else self.chat
        except NotImplementedError:
            self.takes_tools = False
            raise ToolsRejected(f"{self.name}{where} does not support tool calling") from None
        last: BaseException | None = None
        attempt, spent = 0, 0.0          # time in attempts and waits, not queueing for a slot
        for attempt in range(self.retry.attempts):
            started = time.perf_counter()
            try:
                with self.limiter.slot():
                    started = time.perf_counter()
                    budget = min(self.timeout, self.retry.deadline - spent)
                    reply = _within(budget, model.invoke, messages, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified just below
                last = exc
                spent += time.perf_counter() - started
                if tools and rejects_tools(exc):
                    self.takes_tools = False
                    raise ToolsRejected(f"{self.name}{where} refused tools: {type(exc).__name__}: {exc}") \
                        from exc
                wait = self.retry.delay(attempt, exc)
                if not is_transient(exc) or attempt == self.retry.attempts - 1 or \
                        spent + wait >= self.retry.deadline:
                    break
                if record is not None:
                    record.retry()
                if stream is not None:
                    stream.write(f"{self.name}{where}: {_reason(exc)}; retrying in {wait:.1f}s "
                                 f"(attempt {attempt + 2} of {self.retry.attempts})\n")
                    stream.flush()
                time.sleep(wait)
                spent += wait
                continue
            if tools:
                self.takes_tools = True
            if record is not None:
                record.model_call(*_usage(messages, reply), time.perf_counter() - started)
            return reply
        raise ModelError(f"{self.name} failed{where} after {attempt + 1} attempt(s) and {spent:.0f}s: "
                         f"{_reason(last)}") from last


def _within(seconds: float, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`call(*args, **kwargs)`, or TimeoutError once `seconds` have passed (the call is left to finish on
    its own thread: an HTTP client cannot be stopped mid-read, and its reply is no longer wanted)."""
    if seconds <= 0:
        raise TimeoutError("no time left for another attempt")
    done, box = threading.Event(), {}

    def run() -> None:
        try:
            box["value"] = call(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
        done.set()
    threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True).start()
    if not done.wait(seconds):
        raise TimeoutError(f"no complete reply within {seconds:.0f}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _reason(exc: BaseException | None) -> str:
    status = _status(exc) if exc is not None else None
    text = str(exc).splitlines()[0][:200] if exc is not None else ""
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {text}"


def text_of(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def _usage(messages: list, reply: Any) -> tuple[int, int]:
    usage = getattr(reply, "usage_metadata", None)
    if usage and usage.get("input_tokens"):
        return usage["input_tokens"], usage.get("output_tokens", 0)
    # A model that reports no usage (a test fake): about four bytes of UTF-8 a token.
    return sum(_estimate(text_of(m)) for m in messages), _estimate(text_of(reply))


def _estimate(text: str) -> int:
    return (len(text.encode("utf-8")) + 3) // 4
