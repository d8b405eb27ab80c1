"""engine synth generate against the scripted server (plumbing: it knows the form of each reply, never
which answer a test wants): 100 documents, a run killed and resumed, determinism, balanced endpoints,
and bad input ending in a message."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longflow.apps.cli import main
from longflow.apps.synth.jsonl import ids, rows
from longflow.testing.scripted_server import Script, ScriptedServer

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
FAST = ["--flow", str(ROOT / "flows" / "lv1.yaml"), "--set", "chunk.tokens=128", "--check-flow", "same",
        "--single", "1", "--multi", "1",
        "--quiet"]


def corpus(folder: Path, n: int) -> list[str]:
    """`n` small documents (every fifth Chinese), each with a fact of its own on a line mid-way; returns
    those facts, which the scripted reader treats as relevant sentences."""
    en, zh = (DATA / "moby_dick_excerpt.txt").read_text(), (DATA / "journey_to_the_west_excerpt.txt").read_text()
    folder.mkdir(parents=True, exist_ok=True)
    facts = []
    for i in range(n):
        if i % 5 == 4:
            text, fact = zh[i * 300 % 20000:][:1500], f"花果山第{i}号洞的守门人名叫石{i}郎。"
        else:
            text, fact = en[i * 700 % 25000:][:2500], f"The lighthouse keeper of Port Amber{i} was Silas Wendt{i}."
        middle = (text.find("\n", len(text) // 2) + 1 or len(text) // 2 + 1) - 1
        (folder / f"doc{i:03d}.txt").write_text(f"{text[:middle]}\n{fact}\n{text[middle:]}", encoding="utf-8")
        facts.append(fact)
    return facts


def generate(server: ScriptedServer, docs: Path, out: Path, *extra: str) -> int:
    return main(["synth", "generate", "--docs", str(docs), "-o", str(out), "--model", "scripted",
                 "--base-url", server.base_url, *FAST, *extra])


def samples_of(path: Path) -> dict[str, tuple]:
    """id -> (question, answer) of every sample: what two runs must agree on."""
    return {r["id"]: (r["messages"][1]["content"].rsplit("\n", 1)[-1], r["messages"][2]["content"])
            for r in rows(path)}


def test_a_hundred_documents_killed_and_resumed(tmp_path, monkeypatch):
    facts = corpus(tmp_path / "docs", 100)
    out = tmp_path / "out" / "data.jsonl"
    done = out.with_name("data.done.jsonl")
    with ScriptedServer(Script(needles=facts), latency=0.01) as server:
        args = ["synth", "generate", "--docs", str(tmp_path / "docs"), "-o", str(out), "--model", "scripted",
                "--base-url", server.base_url, *FAST]
        child = subprocess.Popen([sys.executable, "-c", "import sys; from longflow.apps.cli import main; "
                                  "sys.exit(main(sys.argv[1:]))", *args], env={**os.environ},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while (not done.exists() or len(done.read_text().splitlines()) < 15) and time.monotonic() < deadline:
                assert child.poll() is None, "the run ended before it could be killed"
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        finished_by_kill = len(list(rows(done)))
        assert 15 <= finished_by_kill < 100
        calls_before = server.stats.calls
        assert generate(server, tmp_path / "docs", out) == 0
        resumed_calls = server.stats.calls - calls_before
    summary = json.loads(out.with_name("data.summary.json").read_text())
    assert summary["documents"] == 100
    assert summary["documents_finished_before"] == finished_by_kill
    assert summary["documents_done_now"] == 100 - finished_by_kill
    assert len(list(rows(done))) == 100 and not summary["documents_failed"]
    every = list(ids(out)) + list(ids(out.with_name("data.rejected.jsonl")))
    assert len(every) == len(set(every)), "a sample was written twice"
    for line in out.read_text(encoding="utf-8").splitlines():   # no torn line: every one parses
        json.loads(line)
    kept, rejected = list(rows(out)), list(rows(out.with_name("data.rejected.jsonl")))
    assert {r["meta"]["document"]["id"] for r in kept + rejected} == {f"doc{i:03d}.txt" for i in range(100)}
    assert len(kept) >= 80 and {r["meta"]["lang"] for r in kept} == {"en", "zh"}
    assert {r["meta"]["kind"] for r in kept} == {"single", "multi"}
    assert all(r["reason"] for r in rejected)

    # The same corpus and seed in one uninterrupted run (a fresh reply cache): the same samples.
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "fresh-cache"))
    with ScriptedServer(Script(needles=facts)) as server:
        assert generate(server, tmp_path / "docs", tmp_path / "whole" / "data.jsonl") == 0
        assert resumed_calls < server.stats.calls, "the resumed run redid finished documents"
    assert samples_of(tmp_path / "whole" / "data.jsonl") == samples_of(out)


def test_one_sample_looks_as_trainers_and_auditors_want(tmp_path):
    facts = corpus(tmp_path / "docs", 1)
    out = tmp_path / "data.jsonl"
    with ScriptedServer(Script(needles=facts)) as server:
        assert generate(server, tmp_path / "docs", out, "--trajectory") == 0
    sample = next(rows(out))
    assert [m["role"] for m in sample["messages"]] == ["system", "user", "assistant"]
    document = (tmp_path / "docs" / "doc000.txt").read_text()
    user = sample["messages"][1]["content"]
    assert user.startswith(document.rstrip()) and "\n\nQuestion: " in user
    meta = sample["meta"]
    assert meta["flow"] == "lv1" and meta["model"] == "scripted" and meta["document"]["id"] == "doc000.txt"
    assert meta["document"]["tokens"] > 500 and meta["evidence_chunks"]
    assert set(meta["proposed_from"]) <= set(meta["evidence_chunks"])
    assert set(meta["filters"]) == {"dedup", "format", "grounding", "agreement"}
    assert all(f["passed"] for f in meta["filters"].values())
    assert meta["agreement"]["score"] >= 0.5 and meta["agreement"]["flow"] == "lv1 (another sample)"


def test_the_same_seed_gives_the_same_samples_and_another_seed_others(tmp_path, monkeypatch):
    facts = corpus(tmp_path / "docs", 6)
    runs = {}
    for name, seed in (("a", "0"), ("b", "0"), ("c", "5")):
        monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / f"cache-{name}"))
        with ScriptedServer(Script(needles=facts)) as server:
            assert generate(server, tmp_path / "docs", tmp_path / name / "data.jsonl", "--seed", seed,
                            "--single", "2", "--workers", "3") == 0
        runs[name] = samples_of(tmp_path / name / "data.jsonl")
    assert runs["a"] == runs["b"] and runs["a"]
    assert runs["a"] != runs["c"]


def test_documents_are_balanced_across_endpoints(tmp_path):
    facts = corpus(tmp_path / "docs", 8)
    with ScriptedServer(Script(needles=facts), latency=0.01) as one, ScriptedServer(Script(needles=facts),
                                                                                    latency=0.01) as two:
        code = main(["synth", "generate", "--docs", str(tmp_path / "docs"), "-o", str(tmp_path / "d.jsonl"),
                     "--model", "scripted", "--base-url", one.base_url, "--base-url", two.base_url, *FAST])
    assert code == 0
    summary = json.loads((tmp_path / "d.summary.json").read_text())
    assert sorted(summary["endpoints"].values()) == [4, 4]
    assert one.stats.calls > 0 and two.stats.calls > 0
    assert summary["model_calls"] == one.stats.calls + two.stats.calls


@pytest.mark.parametrize("args, message", [
    (["--docs", "nowhere"], "--docs nowhere: no such file or folder"),
    (["--docs", "{empty}"], "holds no document with a supported suffix"),
    (["--docs", "{docs}", "--agreement", "2"], "--agreement is an F1 from 0 to 1"),
    (["--docs", "{docs}", "--single", "0", "--multi", "0"], "not all 0"),
    (["--docs", "{docs}", "--flow", "nowhere.yaml"], "nowhere.yaml"),
    (["--docs", "{docs}", "--set", "read.nope=1"], "nope"),
    (["--docs", "{docs}", "--check-temperature", "nan"], "--check-temperature is from 0 to 2"),
    (["--docs", "{docs}", "--executor", "dask"], "invalid choice: 'dask'"),
])
def test_bad_input_ends_in_a_message_not_a_traceback(tmp_path, capsys, args, message):
    corpus(tmp_path / "docs", 1)
    (tmp_path / "empty").mkdir()
    args = [a.format(docs=tmp_path / "docs", empty=tmp_path / "empty") for a in args]
    try:
        code = main(["synth", "generate", "-o", str(tmp_path / "o.jsonl"), "--model", "m",
                     "--base-url", "http://127.0.0.1:9/v1", *args])
    except SystemExit as exc:   # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and "Traceback" not in err


@pytest.mark.parametrize("content, message", [
    ("{oops\n", "q.jsonl:1: not JSON"),
    ('{"document": "doc000.txt"}\n', "q.jsonl:1: no 'question' string"),
    ('{"document": "doc000.txt", "question": "Q?", "chunks": "3"}\n', "'chunks' must be a list"),
    ('{"document": "other.txt", "question": "Q?"}\n', "the document 'other.txt' is none of those given"),
])
def test_a_bad_questions_file_ends_in_a_message(tmp_path, capsys, content, message):
    corpus(tmp_path / "docs", 1)
    (tmp_path / "q.jsonl").write_text(content)
    code = main(["synth", "generate", "--docs", str(tmp_path / "docs"), "-o", str(tmp_path / "o.jsonl"),
                 "--questions", str(tmp_path / "q.jsonl"), "--model", "m", "--base-url", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err


def test_given_questions_are_filtered_like_proposed_ones(tmp_path):
    facts = corpus(tmp_path / "docs", 1)
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(q) + "\n" for q in [
        {"document": "doc000.txt", "question": "Who was the lighthouse keeper of Port Amber0?"},
        {"document": "doc000.txt", "question": "Who was the lighthouse keeper of Port Amber0 ?"},
        {"document": "doc000.txt", "question": "Who kept the lighthouse of Port Amber0?", "chunks": [99]},
        {"document": "doc000.txt", "question": "Who painted the Sistine Chapel?", "unanswerable": True},
    ]))
    out = tmp_path / "data.jsonl"
    with ScriptedServer(Script(needles=facts)) as server:
        assert generate(server, tmp_path / "docs", out, "--single", "0", "--multi", "0", "--questions",
                        str(tmp_path / "q.jsonl")) == 0
    kept = {s["messages"][1]["content"].rsplit("Question: ", 1)[1]: s for s in rows(out)}
    assert set(kept) == {"Who was the lighthouse keeper of Port Amber0?", "Who painted the Sistine Chapel?"}
    assert "Silas Wendt0" in kept["Who was the lighthouse keeper of Port Amber0?"]["messages"][2]["content"]
    assert kept["Who painted the Sistine Chapel?"]["meta"]["kind"] == "unanswerable"
    reasons = sorted(r["reason"] for r in rows(tmp_path / "data.rejected.jsonl"))
    assert reasons == ["dedup: near-identical to 'Who was the lighthouse keeper of Port Amber0?'",
                       "proposal: chunk(s) [99] are not in the document, which has 6 (0 to 5)"]


def test_an_answer_disagreeing_with_its_proposer_is_rejected_before_the_second_run(tmp_path, monkeypatch):
    """The proposer saw the chunk: when the agent's answer and the proposer's differ, no second answer is
    asked for, and the sample is rejected (unless --no-proposer-check)."""
    from longflow.apps.synth import worker
    facts = corpus(tmp_path / "docs", 1)
    real = worker.propose

    def proposing_a_wrong_answer(ctx, seed, chunks):
        proposal = real(ctx, seed, chunks)
        proposal.answer = "Captain Ahab of Nantucket"
        return proposal
    monkeypatch.setattr(worker, "propose", proposing_a_wrong_answer)
    for name, extra in (("checked", []), ("unchecked", ["--no-proposer-check"])):
        with ScriptedServer(Script(needles=facts)) as server:
            assert generate(server, tmp_path / "docs", tmp_path / name / "d.jsonl", "--multi", "0", *extra) == 0
            calls = server.stats.calls
        rejected = list(rows(tmp_path / name / "d.rejected.jsonl"))
        if name == "checked":
            assert [r["reason"][:40] for r in rejected] == ["agreement: with the proposer's answer: i"]
            checked_calls = calls
        else:
            assert not rejected and len(list(rows(tmp_path / name / "d.jsonl"))) == 1
            assert calls > checked_calls    # the second answer was asked for
