"""Hostile or broken input: mutated flow files and command-line values end in a run or a located error
(exit 0 or 1), never in a traceback."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longflow.apps.cli import main

FLOWS = Path(__file__).resolve().parents[2] / "flows"
TEXTS = {p.name: p.read_text() for p in sorted(FLOWS.glob("*.yaml"))}

# What a careless edit or an attacker puts where a value was.
JUNK = st.sampled_from([
    "", "~", "null", "-1", "0", "1e309", "[]", "{}", "[[[", "{a: [1, {b: }", "!!python/name:os.system",
    "&a [*a]", "*nowhere", "'unterminated", "\"\\x00\"", "/etc/passwd", "../../x.txt", "99999999999999999999",
    "true", "{use: lv3}", "[START, END]", "{from: [a, b]}", "len(", "a == none", "🙂", "\t", ": :",
    "[" * 3000, "[" * 600 + "]" * 600, "\x1f",
]) | st.text(max_size=12)


@st.composite
def mutated_flow(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    lines = TEXTS[name].splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["value", "delete", "duplicate", "indent"]))
        if kind == "value":
            values = list(re.finditer(r"(?<=: )[^,{}\[\]#]+", lines[i]))
            if values:
                m = draw(st.sampled_from(values))
                lines[i] = lines[i][:m.start()] + draw(JUNK) + lines[i][m.end():]
        elif kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        else:
            lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip()
        if not lines:
            lines = [""]
    return name, "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(flow=mutated_flow())
def test_a_mutated_flow_file_validates_or_is_a_located_error(tmp_path, capsys, flow):
    name, text = flow
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    for other, original in TEXTS.items():   # its imports, as they ship
        (folder / other).write_text(original)
    (folder / name).write_text(text)
    code = main(["validate", str(folder / name)])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err
    if code == 1:
        assert re.search(r":\d+:\d+: ", err), err


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=st.sampled_from(["read", "retrieve", "chunk", "answer", "ask", "plan", "nowhere"]),
       param=st.sampled_from(["concurrency", "budget_tokens", "min_coverage", "tokens", "prompt", "focus",
                              "read.concurrency", "mode", "check", ""]),
       value=JUNK)
def test_a_hostile_set_value_validates_or_is_a_message(capsys, node, param, value):
    code = main(["validate", str(FLOWS / "lv3.yaml"), str(FLOWS / "lv2.yaml"), "--set", f"{node}.{param}={value}"])
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err
