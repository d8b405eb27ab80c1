"""The model client: what counts as a refusal of tools, the endpoint limiter, and what names a model in
the reply cache."""
from __future__ import annotations

import io
import threading
import time

import pytest

from langchain_core.messages import HumanMessage

from longflow.core.models import (Limiter, ModelClient, ModelConfig, ModelError, RetryPolicy, chat_model, refined,
                                  rejects_tools)
from longflow.core.runtime import Runtime
from longflow.testing.scripted_server import ScriptedServer


class HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status_code = status


@pytest.mark.parametrize("status, message, refused", [
    (400, "tools are not supported by this model", True),
    (400, '"auto" tool choice requires --enable-auto-tool-choice', True),
    (422, "unknown field: functions", True),
    (400, "This model's maximum context length is 8192 tokens", False),   # a 400, but not about tools
    (500, "tool parser crashed", False),                                 # transient: retried, not refused
    (401, "invalid api key", False),
])
def test_what_counts_as_a_refusal_of_tools(status, message, refused):
    assert rejects_tools(HTTPError(status, message)) is refused


def test_the_limiter_bounds_calls_in_flight():
    limiter, done = Limiter(2), []

    def call():
        with limiter.slot():
            time.sleep(0.02)
            done.append(1)
    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 8 and limiter.peak == 2


def test_two_models_on_one_endpoint_share_its_limit():
    runtime = Runtime(stream=None)
    assert runtime.limiter("http://a/v1", 1) is runtime.limiter("http://a/v1", 1)
    assert runtime.limiter("http://a/v1", 1) is not runtime.limiter("http://b/v1", 1)


def test_a_provider_served_model_keeps_its_cache_identity_across_ports():
    """The embedded model listens on a new port each run; resuming must still find its replies."""
    first, second = Runtime(stream=None), Runtime(stream=None)
    config = ModelConfig(model="qwen", base_url="http://127.0.0.1:4001/v1", served_by="local:0.5b")
    first.use_model(object(), "qwen", config)
    second.use_model(object(), "qwen", config.with_fields(base_url="http://127.0.0.1:4999/v1"))
    assert first.model.identity == second.model.identity == "local:0.5b|qwen"
    other = Runtime(stream=None)
    other.use_model(object(), "qwen", ModelConfig(model="qwen", base_url="http://gpu-box:8000/v1"))
    assert other.model.identity != first.model.identity


RUN = ModelConfig(model="big", base_url="https://api.example.com/v1", api_key="sk-users-key")


@pytest.mark.parametrize("entry", [
    {"model": "small"},                                                  # the run's endpoint
    {"model": "small", "base_url": "https://api.example.com/v1/"},       # the same one, written otherwise
    {"model": "small", "base_url": "https://API.example.com/other"},
])
def test_the_runs_key_goes_to_the_runs_endpoint(entry):
    assert refined(RUN, entry).api_key == "sk-users-key"


@pytest.mark.parametrize("url", ["https://collector.example.net/v1", "http://api.example.com/v1",
                                 "https://api.example.com:8443/v1", "https://api.example.com.evil.io/v1"])
def test_the_runs_key_never_goes_to_another_endpoint(url):
    config = refined(RUN, {"model": "small", "base_url": url})
    assert config.api_key == "not-needed" and config.base_url == url


def test_another_endpoint_takes_its_key_from_the_variable_the_flow_names(monkeypatch):
    entry = {"model": "small", "base_url": "https://other.example.org/v1", "api_key_env": "OTHER_KEY"}
    with pytest.raises(ModelError, match=r"\$OTHER_KEY, which is not set"):
        refined(RUN, entry)
    monkeypatch.setenv("OTHER_KEY", "sk-other")
    assert refined(RUN, entry).api_key == "sk-other"


def test_a_model_entry_cannot_reach_the_client_options():
    config = refined(RUN, {"model": "small", "openai_api_base": "https://evil/v1", "extra": {"x": 1}})
    assert config.extra == {} and config.base_url == RUN.base_url


# -- failing endpoints: bounded, said, and never an empty answer --------------------------------------

class Retry(Exception):
    def __init__(self, after: str):
        super().__init__("slow down")
        self.status_code = 429
        self.response = type("R", (), {"headers": {"retry-after": after}, "status_code": 429})()


def test_retry_after_is_obeyed_up_to_a_cap():
    policy = RetryPolicy(max_retry_after=30)
    assert policy.delay(0, Retry("2")) == 2.0
    assert policy.delay(0, Retry("3600")) == 30
    assert 0 <= policy.delay(0, Retry("soon")) <= policy.base_delay   # unreadable: the usual backoff


def scripted_client(server, **retry) -> ModelClient:
    return ModelClient(chat_model(ModelConfig(model="scripted", base_url=server.base_url, api_key="k",
                                              timeout=0.5)),
                       retry=RetryPolicy(base_delay=0.01, **retry))


def test_a_hung_endpoint_is_cut_off_by_the_timeout_and_the_deadline():
    with ScriptedServer(latency=30) as server:
        client, said = scripted_client(server, attempts=4, deadline=1.2), io.StringIO()
        started = time.perf_counter()
        with pytest.raises(ModelError, match=r"after \d attempt\(s\).*no complete reply within"):
            client.invoke([HumanMessage("Split the request: hi")], stream=said)
    assert time.perf_counter() - started < 10   # the server would hold each attempt for 30 s
    assert "retrying in" in said.getvalue() and "TimeoutError" in said.getvalue()


@pytest.mark.parametrize("payload, says", [
    ({"choices": []}, "has no choices"),
    ({"choices": [{"index": 0, "message": {"role": "assistant", "content": None}}]}, "content: null"),
])
def test_a_reply_that_is_not_one_is_a_failed_call(payload, says):
    with ScriptedServer() as server:
        calls = []
        server.complete = lambda body: calls.append(1) or (200, {"id": "x", "object": "chat.completion",
                                                                 "created": 0, "model": "m", **payload})
        with pytest.raises(ModelError, match=says):
            scripted_client(server, attempts=2).invoke([HumanMessage("hi")])
    assert len(calls) == 2   # retried, then reported


def test_the_reply_cache_tells_apart_what_changes_a_reply():
    def identity(**fields) -> str:
        config = ModelConfig(model="qwen", base_url="http://gpu-box:8000/v1", api_key="k").with_fields(**fields)
        runtime = Runtime(stream=None)
        runtime.use_model(chat_model(config), config.model, config)
        return runtime.model.identity
    assert identity() == identity()
    assert len({identity(), identity(model="llama"), identity(base_url="http://other:8000/v1"),
                identity(temperature=0.7), identity(max_tokens=64)}) == 5
