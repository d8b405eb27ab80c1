"""The benchmark's runner: a row per (case, method), with what a step-by-step flow looked up."""
from __future__ import annotations

from longflow.apps.quality.cases import generate
from longflow.apps.quality.runner import methods, run_one
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
