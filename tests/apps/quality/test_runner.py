"""The benchmark's runner: a row per (case, method), with what a step-by-step flow looked up."""
from __future__ import annotations

import json
from dataclasses import replace

from longflow.apps.quality.cases import generate
from longflow.apps.quality.runner import methods, read_rows, run_one
from longflow.core.models import ModelConfig
from longflow.testing.scripted_server import Script, ScriptedServer


def test_a_row_holds_what_lv3_looked_up_and_lv1s_row_has_no_lookups(tmp_path):
    case = generate(tasks=("reasoning",), languages=("en",), lengths=(4000,), depths=(50,), seed=7)[0]
    by_name = {m.name: m for m in methods(["lv1", "lv3"])}
    with ScriptedServer(Script(needles=case.needles)) as server:
        model = ModelConfig(model="scripted", base_url=server.base_url, api_key="test")
        lv1 = run_one(case, by_name["lv1"], model, tmp_path)
        lv3 = run_one(case, by_name["lv3"], model, tmp_path)
    assert not lv1["error"] and not lv3["error"]
    assert "lookups" not in lv1
    # the planner of the script stops at once: the question itself is looked up first
    assert lv3["lookups"][0]["question"] == case.question
    assert all(set(step) == {"question", "answer"} for step in lv3["lookups"])


def test_a_case_is_asked_as_engine_run_asks_it_stripped(tmp_path):
    # NeedleBench's questions may end in a blank; `engine run` strips it, and so does Lv3's lookup of the
    # question itself, which is meant to be Lv2's own run: the same prompts, the same cached replies.
    case = generate(tasks=("single",), languages=("en",), lengths=(4000,), depths=(50,), seed=7)[0]
    case = replace(case, question=f"  {case.question} ")
    with ScriptedServer(Script(needles=case.needles)) as server:
        model = ModelConfig(model="scripted", base_url=server.base_url, api_key="test")
        row = run_one(case, methods(["lv1"])[0], model, tmp_path)
    assert not row["error"] and row["question"] == case.question
    assert f"{case.question.strip()}\n" in server.stats.last_prompt["answer"]
    assert case.question not in server.stats.last_prompt["answer"]


def test_rows_read_back_are_scored_by_the_current_scorer(tmp_path):
    # a scorer mended since a run applies to it: the score is the case's and the prediction's
    base = {"method": "lv3", "model": "m", "task": "reasoning", "language": "en", "length": 8000, "depth": 50,
            "question": "Who is older, Ada Brook or Carl Dunn?", "gold": "Carl Dunn",
            "keywords": ["Carl Dunn"], "instruction": "", "error": "", "score": 100.0, "f1": 40.0,
            "parts": {"words": 2}}
    rows = [{**base, "case": "wrong-pick", "prediction": "Ada Brook (Carl Dunn was born in 1951)"},
            {**base, "case": "right", "prediction": "Carl Dunn", "score": 0.0},
            {**base, "case": "failed", "prediction": "", "error": "TimeoutError", "score": 0.0, "f1": 0.0}]
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"case": "cut sh', encoding="utf-8")
    read = {r["case"]: r for r in read_rows(path)}
    assert set(read) == {"wrong-pick", "right", "failed"}
    assert read["wrong-pick"]["score"] == 0 and read["wrong-pick"]["parts"]["picked"] == "the other option"
    assert read["right"]["score"] == 100
    assert read["failed"]["score"] == 0 and read["failed"]["error"] == "TimeoutError"
