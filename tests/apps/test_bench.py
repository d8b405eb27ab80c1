"""The performance benchmark runs end to end at a small size (its figures are for people, not asserts)."""
from __future__ import annotations

import re

from longflow.apps.cli import main


def test_bench_perf_runs_small(capsys):
    code = main(["bench", "perf", "--tokens", "4000", "--latency", "0", "--concurrency", "8"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = re.findall(r"^\| (lv\d) \| (cold|warm) \|.*\| yes \|$", out, re.M)
    assert rows == [(lv, phase) for lv in ("lv1", "lv2", "lv3") for phase in ("cold", "warm")]
    assert "wall/bound" in out and "prompt/doc" in out
