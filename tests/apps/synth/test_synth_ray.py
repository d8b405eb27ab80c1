"""The Ray executor on a local instance gives the samples the local executor gives for the same seed.
Skipped without the ray extra (`pip install 'longflow[ray]'`); a local instance takes ~10-20 s to start
on two cores."""
from __future__ import annotations

import json

import pytest

from longflow.apps.cli import main
from longflow.testing.scripted_server import Script, ScriptedServer

from test_synth_generate import FAST, corpus, samples_of


@pytest.mark.ray
def test_ray_and_local_executors_give_the_same_samples(tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="the Ray executor needs `pip install 'longflow[ray]'`")
    facts = corpus(tmp_path / "docs", 12)
    for executor in ("local", "ray"):
        monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / f"cache-{executor}"))   # no shared replies
        with ScriptedServer(Script(needles=facts)) as server:
            code = main(["synth", "generate", "--docs", str(tmp_path / "docs"), "-o",
                         str(tmp_path / executor / "data.jsonl"), "--model", "scripted", "--base-url",
                         server.base_url, "--executor", executor, "--workers", "2", *FAST])
            assert code == 0
            assert server.stats.calls > 0
        summary = json.loads((tmp_path / executor / "data.summary.json").read_text())
        assert summary["documents_done_now"] == 12 and not summary["documents_failed"], executor
    local, ray_ = samples_of(tmp_path / "local" / "data.jsonl"), samples_of(tmp_path / "ray" / "data.jsonl")
    assert local and local == ray_


def test_without_ray_the_ray_executor_says_what_to_install(tmp_path, monkeypatch, capsys):
    import sys
    corpus(tmp_path / "docs", 1)
    monkeypatch.setitem(sys.modules, "ray", None)      # `import ray` raises ImportError
    with ScriptedServer(Script()) as server:
        code = main(["synth", "generate", "--docs", str(tmp_path / "docs"), "-o", str(tmp_path / "d.jsonl"),
                     "--model", "scripted", "--base-url", server.base_url, "--executor", "ray", *FAST])
    err = capsys.readouterr().err
    assert code == 1 and "pip install 'longflow[ray]'" in err and "Traceback" not in err
