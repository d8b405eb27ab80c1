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


# -- engine run ------------------------------------------------------------------------------------------

NEEDLE = "The bicycle, a two-wheeled vehicle, was invented in 1817 by Karl Drais, in the 19th century."
EXCERPT = (Path(__file__).resolve().parents[1] / "data" / "moby_dick_excerpt.txt").read_text()[:4000]
# Values a user mistypes or an attacker tries, for any option of `engine run`.
RUN_JUNK = JUNK | st.sampled_from([
    "-q", "--json", "0.5", "-0.1", "1.5", "nan", "inf", "100000", "http://127.0.0.1:1/v1", "ftp://host/v1",
    "local:7b", "flows", "/dev/null", "/dev/zero", ".", "x" * 9000, " ", "read.concurrency=0",
    "read.prompt=/etc/passwd", "nowhere.x=1", "answer.focus=-3", "chunk.tokens=[]", "ask.read.concurrency=2",
])
OPTIONS = ["--doc", "--question", "--model", "--base-url", "--set", "--timeout", "--retries", "--allow-dir",
           "--min-coverage"]
FLAGS = ["--json", "--no-cache", "--quiet"]


@st.composite
def mutated_run(draw, doc: str, base_url: str) -> list[str]:
    flow = draw(st.sampled_from(["lv1.yaml", "lv2.yaml", "lv3.yaml", "full.yaml"]))
    argv = [str(FLOWS / flow), "--doc", doc, "--question", "When was the bicycle invented?",
            "--model", "scripted", "--base-url", base_url, "--quiet"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "delete", "add", "flag", "flow"]))
        values = [i for i in range(2, len(argv)) if argv[i - 1] in OPTIONS]
        if kind == "value" and values:
            argv[draw(st.sampled_from(values))] = draw(RUN_JUNK)
        elif kind == "delete" and len(argv) > 1:
            del argv[draw(st.integers(0, len(argv) - 1))]
        elif kind == "add":
            argv += [draw(st.sampled_from(OPTIONS)), draw(RUN_JUNK)]
        elif kind == "flag":
            argv.append(draw(st.sampled_from(FLAGS)))
        else:
            argv[0] = draw(RUN_JUNK | st.sampled_from([doc, str(FLOWS), str(FLOWS / "missing.yaml")]))
    # Last, so that they win over a mutated copy: an unreachable endpoint fails in seconds, not minutes.
    return ["run", *argv, "--retries", "1", "--timeout", "5"]


def test_hostile_run_arguments_end_in_a_run_or_a_message(tmp_path, capsys):
    """`engine run` with mutated arguments exits 0 (an answer), 1 (a message), 2 (a usage error) or 3 (too
    little read), in bounded time, and never prints a traceback."""
    import threading
    from longflow.testing.scripted_server import Script, ScriptedServer
    doc = tmp_path / "doc.txt"
    doc.write_text(EXCERPT + "\n" + NEEDLE + "\n")

    with ScriptedServer(Script(needles=[NEEDLE])) as server:
        @settings(max_examples=60, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(argv=mutated_run(str(doc), server.base_url))
        def check(argv):
            outcome: list = []

            def run() -> None:
                try:
                    outcome.append(main(argv))
                except SystemExit as exc:      # argparse's usage errors
                    outcome.append(exc.code)
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            worker.join(60)
            err = capsys.readouterr().err
            assert not worker.is_alive(), f"hung: {argv}"
            assert outcome and outcome[0] in (0, 1, 2, 3) and "Traceback" not in err, (argv, outcome, err[-2000:])
            if outcome[0] in (1, 2):
                assert err.strip(), argv            # a message, not silence
        check()
