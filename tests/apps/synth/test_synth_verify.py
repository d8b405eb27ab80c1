"""engine synth verify and engine run --record, against the scripted server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from longflow.apps.cli import main
from longflow.apps.synth.jsonl import rows
from longflow.testing.scripted_server import Script, ScriptedServer

from test_synth_generate import corpus

ROOT = Path(__file__).resolve().parents[3]
LV1 = ["--flow", str(ROOT / "flows" / "lv1.yaml"), "--quiet"]


def pairs_file(tmp_path: Path, pairs: list[dict]) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    return path


def test_verify_keeps_the_pairs_the_agent_agrees_with(tmp_path):
    facts = corpus(tmp_path / "docs", 2)
    qa = pairs_file(tmp_path, [
        {"document": "docs/doc000.txt", "question": "Who was the lighthouse keeper of Port Amber0?",
         "answer": "Silas Wendt0."},
        {"document": "docs/doc000.txt", "question": "Who was the lighthouse keeper of Port Amber0?",
         "answer": "Captain Ahab."},                                     # made elsewhere, and wrong
        {"text": (tmp_path / "docs" / "doc001.txt").read_text(), "question": "Who was the lighthouse keeper "
         "of Port Amber1?", "answer": "The keeper was Silas Wendt1.", "id": "mine-1"},
    ])
    out = tmp_path / "v.jsonl"
    with ScriptedServer(Script(needles=facts)) as server:
        assert main(["synth", "verify", str(qa), "-o", str(out), "--model", "scripted", "--base-url",
                     server.base_url, *LV1]) == 0
        calls = server.stats.calls
        assert main(["synth", "verify", str(qa), "-o", str(out), "--model", "scripted", "--base-url",
                     server.base_url, *LV1]) == 0                     # again: every pair was done
        assert server.stats.calls == calls
    kept = sorted(rows(out), key=lambda s: s["meta"]["line"])     # written as they finish
    assert [s["messages"][2]["content"] for s in kept] == ["Silas Wendt0.", "The keeper was Silas Wendt1."]
    assert kept[1]["id"] == "mine-1" and kept[0]["meta"]["agreement"]["score"] >= 0.5
    [wrong] = rows(tmp_path / "v.rejected.jsonl")
    assert wrong["answer"] == "Captain Ahab." and wrong["reason"].startswith("agreement:")
    assert "Silas Wendt0" in wrong["meta"]["agent_answer"]
    summary = json.loads((tmp_path / "v.summary.json").read_text())
    assert summary["skipped_done_samples"] == 3 and summary["kept"] == 0     # the second run's


@pytest.mark.parametrize("content, message", [
    ('{"document": "d.txt", "question": "Q?", "answer": "A"}\n{oops\n', "qa.jsonl:2: not JSON"),
    ('["a list"]\n', "qa.jsonl:1: a list, not an object"),
    ('{"document": "d.txt", "answer": "A"}\n', "qa.jsonl:1: no 'question' string"),
    ('{"document": "missing.txt", "question": "Q?", "answer": "A"}\n', "the document 'missing.txt' is not found"),
    ('\n\n', "no pairs in it"),
])
def test_bad_pairs_files_end_in_a_message(tmp_path, capsys, content, message):
    (tmp_path / "d.txt").write_text("Some text.\nMore text.")
    (tmp_path / "qa.jsonl").write_text(content)
    code = main(["synth", "verify", str(tmp_path / "qa.jsonl"), "-o", str(tmp_path / "o.jsonl"), "--model", "m",
                 "--base-url", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists(), "a bad file is found out before anything runs"


def test_engine_run_record_appends_the_run_as_a_sample(tmp_path, capsys):
    facts = corpus(tmp_path / "docs", 1)
    doc = str(tmp_path / "docs" / "doc000.txt")
    out = tmp_path / "mine.jsonl"
    with ScriptedServer(Script(needles=facts)) as server:
        for question in ("Who was the lighthouse keeper of Port Amber0?", "Who kept the lighthouse of Port Amber0?"):
            assert main(["run", str(ROOT / "flows" / "lv2.yaml"), "--doc", doc, "-q", question, "--model",
                         "scripted", "--base-url", server.base_url, "--record", str(out), "--quiet"]) == 0
    first, second = rows(out)
    assert first["messages"][1]["content"].endswith("Question: Who was the lighthouse keeper of Port Amber0?")
    assert "Silas Wendt0" in first["messages"][2]["content"]
    meta = first["meta"]
    assert meta["kind"] == "asked" and meta["flow"] == "lv2" and meta["agreement"] is None
    assert meta["documents"][0]["id"] == doc and meta["evidence_chunks"]
    assert meta["filters"]["format"]["passed"] and meta["filters"]["grounding"]["passed"]
    assert first["id"] != second["id"]
    assert "recorded as a sample in" in capsys.readouterr().err


def test_a_record_file_that_cannot_be_written_is_a_message(tmp_path, capsys):
    facts = corpus(tmp_path / "docs", 1)
    (tmp_path / "folder.jsonl").mkdir()
    with ScriptedServer(Script(needles=facts)) as server:
        code = main(["run", str(ROOT / "flows" / "lv1.yaml"), "--doc", str(tmp_path / "docs" / "doc000.txt"),
                     "-q", "Who was the lighthouse keeper of Port Amber0?", "--model", "scripted", "--base-url",
                     server.base_url, "--record", str(tmp_path / "folder.jsonl"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot write" in err and "folder.jsonl" in err and "Traceback" not in err
