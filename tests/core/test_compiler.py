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
        """, {"text": "a b"}, ["split", "shout", "join"], {"joined": "A B"}),
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
    # A loop's limit counts passes of a map, not its worker tasks: 3 items over 3 workers, limit 2.
    "loop limit into a map counts passes": ("""\
        flow: loop
        inputs: [text]
        nodes:
          split: {use: split}
          shout: {use: shout, map: items, into: outs, with: {concurrency: 3}}
          count: {use: count}
        edges:
          - [START, split, shout, count]
          - {from: count, to: shout, when: "n < 10", limit: 2}
          - {from: count, to: END, otherwise: true}
        """, {"text": "a b c"}, ["split", "shout", "count", "shout", "count"],
        {"n": 2, "outs": ["A", "B", "C", "A", "B", "C"]}),
    # A join member that also feeds a map: the join waits for the other member's longer branch, and
    # runs once, whichever member the YAML names first.
    **{f"join member also feeds a map{suffix}": (f"""\
        flow: j
        inputs: [text]
        nodes:
          split: {{use: split}}
          shout: {{use: shout, map: items, into: outs}}
          slow:  {{use: slow, with: {{seconds: 0.05}}}}
          count: {{use: count}}
          join:  {{use: join}}
        edges:
          - [START, split, shout, END]
          - [START, slow, count]
          - {{from: {members}, to: join}}
          - [join, END]
        """, {"text": "a b", "outs": ["x"]}, [("split", "slow"), ("shout", "count"), "join"],
        {"joined": "x A B"}) for suffix, members in (("", "[split, count]"), (" (members reversed)", "[count, split]"))},
    # An imported flow mapped over a list: each item is one nested run.
    "map over an imported flow": ("""\
        flow: m
        imports: {sub: sub.yaml}
        inputs: [text]
        nodes:
          split: {use: split}
          each:  {use: sub, map: items, out: {joined: shouted}, with: {concurrency: 2, shout.bang: true}}
        edges:
          - [START, split, each, END]
        """, {"text": "ab cd"}, ["split", "each"], {"shouted": ["AB!", "CD!"]}),
    # Map outputs merge by their key's rule: `add` sums the items' values.
    "map into an add key": ("""\
        flow: m
        inputs: [text]
        state: {total: add}
        nodes:
          split: {use: split}
          len:   {use: length, map: items, into: total}
        edges:
          - [START, split, len, END]
        """, {"text": "a bb ccc"}, ["split", "len"], {"total": 6}),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_shape_runs_in_order(name, toy_registry, sub_flow_file, monkeypatch):
    """`order` lists the steps: a node name, or a tuple of the names that run in one step (in an order
    threads decide). Nodes of an imported flow ("each/split") run inside their node's step."""
    monkeypatch.chdir(sub_flow_file.parent)  # "sub.yaml" resolves beside t.yaml
    toy_registry.add(describe(length, ["size"]))
    text, inputs, order, expected = SHAPES[name]
    state, ran, _ = run(text, toy_registry, inputs)
    assert _steps(ran, order) == [Counter([s] if isinstance(s, str) else s) for s in order]
    assert {k: state[k] for k in expected} == expected


def length(item: str) -> dict:
    return {"size": len(item)}


def _steps(ran: list[str], order: list) -> list[Counter]:
    """The outer runs, cut into consecutive steps of the sizes `order` expects."""
    outer, steps = [n for n in ran if "/" not in n], []
    for step in order:
        size = 1 if isinstance(step, str) else len(step)
        steps.append(Counter(outer[:size]))
        outer = outer[size:]
    return steps + ([Counter(outer)] if outer else [])


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


def test_map_keeps_item_order_across_workers(toy_registry):
    def uneven(item: str) -> dict:
        time.sleep(0.01 * (len(item) % 3))  # workers finish their items out of order
        return {"out": item.upper()}
    toy_registry.add(describe(uneven, ["out"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split: {use: split}
      shout: {use: uneven, map: items, into: outs, with: {concurrency: 3}}
    edges:
      - [START, split, shout, END]
    """
    words = ["w" * (i % 5 + 1) + str(i) for i in range(20)]
    state, ran, runtime = run(text, toy_registry, {"text": " ".join(words)})
    assert state["outs"] == [w.upper() for w in words]
    assert ran.count("shout") == 1 and [n.items for n in runtime.record.nodes if n.node == "shout"] == [20]


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
      busy:  {use: busy, map: items, into: outs, with: {concurrency: 3}}
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
    assert [n.node for n in runtime.record.nodes] == ["run/split", "run/shout", "run/join", "run"]


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


def test_each_map_keeps_its_own_concurrency(toy_registry):
    """Two maps side by side, concurrency 2 and 5: each runs that many items at once, not the larger."""
    active, peak, lock = Counter(), Counter(), threading.Lock()

    def tracked(name: str):
        def busy(item: str) -> dict:
            with lock:
                active[name] += 1
                peak[name] = max(peak[name], active[name])
            time.sleep(0.02)
            with lock:
                active[name] -= 1
            return {"out": item}
        busy.__name__ = name
        return busy
    for name in ("narrow", "wide"):
        toy_registry.add(describe(tracked(name), ["out"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split:  {use: split}
      narrow: {use: narrow, map: items, into: a, with: {concurrency: 2}}
      wide:   {use: wide, map: items, into: b, with: {concurrency: 5}}
    edges:
      - [START, split, narrow, END]
      - [split, wide, END]
    """
    state, _, _ = run(text, toy_registry, {"text": " ".join(map(str, range(20)))})
    assert len(state["a"]) == len(state["b"]) == 20
    assert peak == {"narrow": 2, "wide": 5}


class BlockingModel:
    """A chat model whose call waits (up to a second) for `release`; records how it ended."""

    def __init__(self, release: threading.Event):
        self.release, self.waited = release, []

    def invoke(self, messages, **kwargs):
        from langchain_core.messages import AIMessage
        self.waited.append(self.release.wait(timeout=1.0))
        return AIMessage(content="ok")


def ask(text: str, *, ctx) -> dict:
    return {"reply": ctx.chat(text)}


def test_a_branch_without_model_calls_runs_beside_a_busy_model(toy_registry):
    """The endpoint serves one call at a time; that limit is the model's, not the graph's: the branch
    that calls no model runs meanwhile (with one graph-wide slot it would wait for the model's reply)."""
    release = threading.Event()

    def free(text: str) -> dict:
        release.set()
        return {"done": text}
    toy_registry.add(describe(ask, ["reply"]))
    toy_registry.add(describe(free, ["done"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      ask:  {use: ask}
      free: {use: free}
    edges:
      - [START, ask, END]
      - [START, free, END]
    """
    runtime = Runtime(stream=None)
    model = BlockingModel(release)
    runtime.use_model(model, "blocking", limit=1)
    state, _, _ = run(text, toy_registry, {"text": "x"}, runtime)
    assert state["reply"] == "ok" and model.waited == [True]


def test_the_model_limit_bounds_calls_in_flight_across_a_map(toy_registry):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    toy_registry.add(describe(ask, ["reply"]))
    text = """\
    flow: m
    inputs: [text]
    nodes:
      split: {use: split}
      ask:   {use: ask, map: items, into: replies, with: {concurrency: 8}}
    edges:
      - [START, split, ask, END]
    """
    runtime = Runtime(stream=None)
    runtime.use_model(FakeListChatModel(responses=["r"], sleep=0.01), "fake", limit=2)
    state, _, _ = run(text, toy_registry, {"text": " ".join(map(str, range(24)))}, runtime)
    assert state["replies"] == ["r"] * 24
    assert runtime.model.limiter.peak == 2
