"""The model client: what counts as a refusal of tools, the endpoint limiter, and what names a model in
the reply cache."""
from __future__ import annotations

import threading
import time

import pytest

from longflow.core.models import Limiter, ModelConfig, ModelError, refined, rejects_tools
from longflow.core.runtime import Runtime


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
