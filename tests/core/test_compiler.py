"""The compiler as a table of graph shapes and the order their nodes must run in."""
from __future__ import annotations

import textwrap
import threading
import time
from collections import Counter

import pytest

from longflow.core.compiler import compile_flow, state_schema
from longflow.core.context import ModelError
from longflow.core.registry import describe
from longflow.core.runtime import Runtime
from longflow.core.spec import load_flow, parse_flow


def run(text: str, registry, inputs: dict, runtime: Runtime | None = None):
    flow = parse_flow(textwrap.dedent(text), "t.yaml", registry=registry)
    runtime = runtime or Runtime(stream=None)
    state = compile_flow(flow, runtime).invoke(inputs)
    return state, [n.node for n in runtime.record.nodes], runtime


BRANCH = """\
        flow: branch
        inputs: [n]
        nodes:
          count: {use: count}
          big:   {use: count, with: {step: 100}}
        edges:
          - [START, count]
          - {from: count, to: big, when: "n >= 2"}
          - {from: count, to: END, otherwise: true}
          - [big, END]
        """

SHAPES = {
    "chain": ("""\
        flow: chain
        inputs: [text]
        nodes:
          split: {use: split}
          shout: {use: shout, map: items, into: outs}
          join:  {use: join}
        edges:
          - [START, split, shout, join, END]
        """, {"text": "a b"}, ["split", "shout", "shout", "join"], {"joined": "A B"}),
    "branch taken": (BRANCH, {"n": 1}, ["count", "big"], {"n": 102}),
    "branch not taken": (BRANCH, {"n": 0}, ["count"], {"n": 1}),
    "loop stops at its limit": ("""\
        flow: loop
        nodes:
          count: {use: count}
        edges:
          - [START, count]
          - {from: count, to: count, when: "n < 1000", limit: 4}
          - {from: count, to: END, otherwise: true}
        """, {}, ["count"] * 4, {"n": 4}),
    "loop stops on its condition": ("""\
        flow: loop
        nodes:
          count: {use: count}
        edges:
          - [START, count]
          - {from: count, to: count, when: "n < 3", limit: 10}
          - {from: count, to: END, otherwise: true}
        """, {}, ["count"] * 3, {"n": 3}),
    "two-node loop": ("""\
        flow: loop
        inputs: [text]
        state: {outs: append}
        nodes:
          count: {use: count}
          shout: {use: shout, in: {item: text}, out: {out: outs}}
        edges:
          - [START, count]
          - {from: count, to: shout, when: "n < 10", limit: 2}
          - {from: count, to: END, otherwise: true}
          - [shout, count]
        """, {"text": "x"}, ["count", "shout", "count", "shout", "count"], {"outs": ["X", "X"], "n": 3}),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_shape_runs_in_order(name, toy_registry):
    text, inputs, order, expected = SHAPES[name]
    state, ran, _ = run(text, toy_registry, inputs)
    assert ran == order
    assert {k: state[k] for k in expected} == expected


def test_fan_out_runs_branches_in_parallel_and_joins(toy_registry):
    text = """\
    flow: fan
    inputs: [text]
    state: {done: append}
    nodes:
      a: {use: slow, with: {seconds: 0.3}}
      b: {use: slow, with: {seconds: 0.3}}
      c: {use: split}
    edges:
      - [START, a, c]
      - [START, b, c]
      - [c, END]
    """
    started = time.perf_counter()
    state, ran, _ = run(text, toy_registry, {"text": "x y"})
    assert time.perf_counter() - started < 0.55  # both slow branches at once, not one after the other
    assert Counter(ran) == {"a": 1, "b": 1, "c": 1} and ran[-1] == "c"
    assert state["done"] == ["x y", "x y"]


def test_join_waits_for_branches_of_unequal_length(toy_registry):
    text = """\
    flow: join
    inputs: [text]
    nodes:
      a:     {use: slow, with: {seconds: 0.2}}
      b:     {use: split, in: {text: done}}
      c:     {use: count}
      shout: {use: shout, in: {item: text}}
    edges:
      - [START, a, b]
      - [START, c]
      - {from: [b, c], to: shout}
      - [shout, END]
    """
    state, ran, _ = run(text, toy_registry, {"text": "x y"})
    assert Counter(ran) == {"a": 1, "b": 1, "c": 1, "shout": 1} and ran[-1] == "shout"
    assert state["items"] == ["x", "y"] and state["out"] == "X Y"


def test_map_batches_items_and_keeps_their_order(toy_registry):
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split: {use: split}
      shout: {use: shout, map: items, into: outs, with: {batch: 3, concurrency: 2}}
    edges:
      - [START, split, shout, END]
    """
    words = [f"w{i}" for i in range(10)]
    state, ran, runtime = run(text, toy_registry, {"text": " ".join(words)})
    assert state["outs"] == [w.upper() for w in words]
    assert ran.count("shout") == 4  # ceil(10 / 3) tasks
    assert sorted(n.items for n in runtime.record.nodes if n.node == "shout") == [1, 3, 3, 3]


def test_map_over_an_empty_list_still_continues(toy_registry):
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split: {use: split}
      shout: {use: shout, map: items, into: outs}
      join:  {use: join}
    edges:
      - [START, split, shout, join, END]
    """
    state, ran, _ = run(text, toy_registry, {"text": "   "})
    assert ran == ["split", "shout", "join"] and state["joined"] == ""


def test_map_concurrency_is_bounded(toy_registry):
    active, peak, lock = [0], [0], threading.Lock()

    def busy(item: str) -> dict:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return {"out": item}
    toy_registry.add(describe(busy, ["out"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split: {use: split}
      busy:  {use: busy, map: items, into: outs, with: {concurrency: 3, batch: 1}}
    edges:
      - [START, split, busy, END]
    """
    state, _, _ = run(text, toy_registry, {"text": " ".join(map(str, range(30)))})
    assert len(state["outs"]) == 30 and peak[0] == 3


def test_failed_map_item_is_recorded_and_the_rest_go_on(toy_registry):
    def flaky(item: str) -> dict:
        if item == "bad":
            raise ModelError("model failed in node 'flaky' after 4 attempt(s): ConnectionError")
        return {"out": item}
    toy_registry.add(describe(flaky, ["out"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split: {use: split}
      flaky: {use: flaky, map: items, into: outs}
    edges:
      - [START, split, flaky, END]
    """
    state, _, runtime = run(text, toy_registry, {"text": "a bad c"})
    assert state["outs"] == ["a", "c"]
    failure, = runtime.record.failures
    assert failure["node"] == "flaky" and failure["item"] == 1 and "ConnectionError" in failure["error"]


def test_undeclared_output_is_an_error_not_silently_dropped(toy_registry):
    def sloppy(text: str) -> dict:
        return {"typo": text}
    toy_registry.add(describe(sloppy, ["result"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      s: {use: sloppy}
    edges:
      - [START, s, END]
    """
    with pytest.raises(TypeError, match="returned keys typo; it declares outputs result"):
        run(text, toy_registry, {"text": "x"})


def test_imported_flow_runs_as_a_node_with_renames_and_overrides(toy_registry, main_flow_file):
    flow = load_flow(main_flow_file, registry=toy_registry)
    runtime = Runtime(stream=None)
    state = compile_flow(flow, runtime).invoke({"words": "hi there"})
    assert state["result"] == "HI! THERE!"
    assert "items" not in state  # the imported flow's keys stay inside it
    assert [n.node for n in runtime.record.nodes] == ["run/split", "run/shout", "run/shout", "run/join", "run"]


def test_state_schema_reducers(toy_registry):
    flow = parse_flow(textwrap.dedent("""\
    flow: s
    inputs: [text]
    state: {notes: merge, total: add}
    nodes:
      split: {use: split}
      shout: {use: shout, map: items, into: outs}
    edges:
      - [START, split, shout, END]
    """), "s.yaml", registry=toy_registry)
    hints = state_schema(flow).__annotations__
    assert hints["outs"].__metadata__[0].__name__ == "_append"
    assert hints["notes"].__metadata__[0].__name__ == "_merge"
    assert hints["total"].__metadata__[0].__name__ == "_add"
