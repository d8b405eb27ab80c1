"""The `engine` command: exit codes, messages and output formats."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from longflow.apps.cli import main, node_reference
from longflow.core.registry import load_registry
from longflow.testing.scripted_server import Script, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "flows"
NEEDLE = "The bicycle, a two-wheeled vehicle, was invented in 1817 by Karl Drais, in the 19th century."


def test_validate_ok(capsys):
    assert main(["validate", *map(str, sorted(FLOWS.glob("*.yaml")))]) == 0
    out = capsys.readouterr().out
    assert "ok: " in out and "flow lv3: 5 nodes" in out and "imports lv2" in out


def test_validate_reports_every_error_with_its_place(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text((FLOWS / "lv1.yaml").read_text().replace("use: chunk,", "use: chunks,")
                   .replace("budget_tokens: 6000", "budget_tokens: lots"))
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(bad))}:\d+:\d+: node 'chunk': unknown node kind 'chunks'; "
                     r"did you mean 'chunk'", err)
    assert "parameter 'budget_tokens' must be int, got 'lots'" in err
    assert "2 error(s)" in err


def test_set_reaches_the_node_and_is_checked(capsys):
    assert main(["validate", str(FLOWS / "lv2.yaml"), "--set", "read.concurrency=64"]) == 0
    assert main(["validate", str(FLOWS / "lv2.yaml"), "--set", "read.concurrency=many"]) == 1
    assert "must be int, got 'many'" in capsys.readouterr().err
    assert main(["validate", str(FLOWS / "lv2.yaml"), "--set", "concurrency=3"]) == 1
    assert "expected NODE.PARAM=VALUE" in capsys.readouterr().err


def test_nodes_lists_every_kind_with_its_contract(capsys):
    assert main(["nodes"]) == 0
    out = capsys.readouterr().out
    for kind in ("load_document", "chunk", "split_query", "extract_keywords", "bm25_retrieve", "read_chunk",
                 "answer", "next_subquestion", "remember"):
        assert re.search(rf"^{kind}  \(builtin\)$", out, re.M), kind
    assert "param   budget_tokens: int = 8000" in out


def test_readme_node_reference_is_current():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- nodes:start -->")[1].split("<!-- nodes:end -->")[0]
    assert section.strip() == node_reference(load_registry(plugins=False), markdown=True).strip(), \
        "README's node reference is stale: regenerate it with `python scripts/update_readme.py`"


def test_run_prints_the_answer_and_a_summary(tmp_path, capsys):
    doc = tmp_path / "doc.txt"
    doc.write_text((ROOT / "tests/data/moby_dick_excerpt.txt").read_text()[:6000] + "\n" + NEEDLE + "\n")
    with ScriptedServer(Script(needles=[NEEDLE])) as server:
        code = main(["run", str(FLOWS / "lv2.yaml"), "--doc", str(doc), "--question",
                     "When was the bicycle invented?", "--model", "scripted", "--base-url", server.base_url,
                     "--set", "read.concurrency=2"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out.strip() == NEEDLE
    assert re.search(r"lv2: [\d.]+s, \d+ model calls, .*; read (\d+)/\1 items, 0 failed", captured.err)
    assert re.search(r"read: (\d+)/\1 items, [\d.]+/s, ETA 0s, 0 failed", captured.err)


def test_run_json_and_resume_from_the_reply_cache(tmp_path, capsys):
    doc = tmp_path / "doc.txt"
    doc.write_text((ROOT / "tests/data/moby_dick_excerpt.txt").read_text()[:6000] + "\n" + NEEDLE + "\n")
    args = ["run", str(FLOWS / "lv1.yaml"), "--doc", str(doc), "--question", "When was the bicycle invented?",
            "--model", "scripted", "--json", "--quiet"]
    with ScriptedServer(Script(needles=[NEEDLE])) as server:
        assert main([*args, "--base-url", server.base_url]) == 0
        first = json.loads(capsys.readouterr().out)
        assert main([*args, "--base-url", server.base_url]) == 0
        second = json.loads(capsys.readouterr().out)
        calls = server.stats.calls
    assert first["outputs"]["answer"] == NEEDLE == second["outputs"]["answer"]
    assert first["record"]["model_calls"] == 3 and calls == 3  # the second run asked the model nothing
    assert second["record"]["counters"]["cached_replies"] == 3


def test_run_with_a_missing_document_says_what_exists(tmp_path, capsys):
    (tmp_path / "book.txt").write_text("text")
    code = main(["run", str(FLOWS / "lv1.yaml"), "--doc", str(tmp_path / "bok.txt"), "--question", "q",
                 "--model", "m", "--base-url", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == 1 and "bok.txt" in err and "book.txt" in err


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_text_formats(fmt, capsys):
    assert main(["graph", str(FLOWS / "lv3.yaml"), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "plan" in out and "read" in out  # lv2's nodes are drawn inside lv3's


# -- bad input: a message naming the problem and the fix, exit 1, no model started --------------------

def bad_inputs(tmp_path):
    import os
    doc = tmp_path / "doc.txt"
    doc.write_text("Some text.")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.txt")
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "binary.yaml").write_bytes(b"flow: \xff\xfe\n")
    lv1, lv2 = str(FLOWS / "lv1.yaml"), str(FLOWS / "lv2.yaml")
    run = ["run", lv1, "--doc", str(doc), "-q"]
    return [
        (["validate", lv2, "--set", "read.concurrency=0"], "'concurrency' must be >= 1"),
        (["validate", lv2, "--set", "read.concurrency=[1,"], "the value is not valid YAML"),
        (["validate", lv1, "--set", "retrieve.budget_tokens=-5"], "'budget_tokens' must be >= 1, got -5"),
        (["validate", lv1, "--set", "retrieve.min_coverage=1.5"], "'min_coverage' must be 0 to 1"),
        (["validate", str(FLOWS)], "this is a folder; give a flow file in it: full.yaml"),
        (["validate", str(tmp_path / "fifo.yaml")], "not a flow file"),
        (["validate", str(tmp_path / "binary.yaml")], "not UTF-8 text"),
        (["run", lv1, "--doc", str(tmp_path / "zero.txt"), "-q", "x"], "is not a regular file"),
        (["run", lv1, "--doc", str(tmp_path / "fifo.txt"), "-q", "x"], "is not a regular file"),
        (run + ["  \n "], "the question is empty"),
        (run + ["why " * 2500], "the question is 9,999 characters; up to 8,000"),
        (run + ["x", "--retries", "0"], "--retries must be at least 1"),
        (run + ["x", "--timeout", "-1"], "--timeout must be a number of seconds above 0"),
        (run + ["x", "--timeout", "nan"], "--timeout must be a number of seconds above 0"),
        (run + ["x", "--timeout", "inf"], "up to 86400"),
        (["bench", "quality", "--timeout", "-5", "--out", str(tmp_path / "q")], "--timeout must be a number"),
        (["bench", "quality", "--case", "reasoning-en-8000", "--out", str(tmp_path / "q")], "is not a case id"),
    ]


def test_bad_input_gets_a_message_and_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "cache"))
    for argv, says in bad_inputs(tmp_path):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, (argv, err)


def test_a_run_that_read_too_little_says_so_and_exits_3(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "cache"))
    doc = tmp_path / "doc.txt"
    doc.write_text((ROOT / "tests/data/moby_dick_excerpt.txt").read_text()[:6000] + "\n" + NEEDLE + "\n")
    with ScriptedServer(Script(needles=[NEEDLE])) as server:
        original = server.complete
        server.complete = lambda body: (500, {"error": {"message": "down"}}) \
            if "using only the passage below" in str(body["messages"][-1]["content"]) else original(body)
        argv = ["run", str(FLOWS / "lv2.yaml"), "--doc", str(doc), "-q", "When was the bicycle invented?",
                "--model", "scripted", "--base-url", server.base_url, "--retries", "1", "--no-cache"]
        assert main(argv) == 3
        captured = capsys.readouterr()
        assert captured.out.strip()   # the answer from what could be used is still given
        assert re.search(r"only 0 of (\d+) items were read \(0%, below --min-coverage 1\)", captured.err)
        assert main(argv + ["--min-coverage", "0", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["record"]["coverage"]["read"] == 0
