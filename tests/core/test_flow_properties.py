"""Random valid flows must run as a small reference interpreter says they should.

The file has three parts:

1. The generator (`flows()`): a flow as plain data (`GFlow`), rendered to YAML for the engine. It builds
   what users write: chains, fan-out and fan-in, joins (whose members may also feed maps and other
   nodes), maps over lists of any size (empty too) with concurrency 1..4, loops closed by limited `when:`
   edges on a counter, a limited `when:` and an `otherwise:` to the same target, imported flows (plain
   and mapped, which may themselves contain all of the above).
2. The reference interpreter (`simulate()`): runs the same data in supersteps, as the engine's
   documentation says it runs (see "Semantics" below). It shares no code with the engine: its own
   condition evaluator, its own reducers, its own join barriers.
3. The property (`check()`): the engine's run and the reference's agree on every node run (how many, in
   which superstep, with which input), on `record.nodes` step by step, and on the final state.
   Within a step the threads interleave freely, so steps are compared as multisets.

Semantics modelled (the engine's intent):
- START's out-edges trigger step 1. Every triggered node runs once per step, however many edges
  triggered it, and reads the state as of the start of the step.
- After a step, each node that ran routes: plain edges trigger all their targets; conditional edges
  take the first `when:` (file order) whose condition holds and whose `limit:` (if any) is above the
  target's run count, else the `otherwise:`. The router sees the start-of-step state plus the node's own
  writes, and run counts including its own run.
- A join `{from: [a, b], to: c}` triggers c in the step after each member has run since c's last run.
- A mapped node runs once per trigger over the items at its key (read, like any input, at the start of
  the step it runs in), collects one output per item in item order, and counts as ONE run (for
  `limit:` and in `record.nodes`).
- An imported flow runs nested, with its own state and run counts; its nodes are recorded "node/inner".

Toy node kinds make each run observable: `tick` adds 1 to the counter `n` and appends
"label@n-it-saw" to `trace`; `each` (mapped) turns item x into "label(x)" (items starting with "-" give
None, which the map must drop) and adds 1 to `n` per item. Both log (label, LangGraph step, input).
"""
from __future__ import annotations

import copy
import operator
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from langgraph.config import get_config

from longflow.core.compiler import compile_flow
from longflow.core.context import Context
from longflow.core.registry import Registry, describe
from longflow.core.runtime import Runtime
from longflow.core.spec import load_flow
from longflow.core.yamlsource import FlowErrors

START, END = "START", "END"
INPUTS = ["n", "z", "L0", "L1", "LL"]   # every generated flow takes these; `z` is always 0, and feeds
#                                         an imported flow's own counter (`in: {n: z}`)
MAX_STEPS = 400                          # the reference gives up (a generator bug) past this


# =====================================================================================================
# Flows as data
# =====================================================================================================

@dataclass
class GNode:
    kind: str                     # "tick" | "each" (a mapped toy node) | "sub" (an imported flow)
    map: str | None = None        # each: the list key it maps over; sub: "LL" when mapped, else None
    concurrency: int = 1
    sub: "GFlow | None" = None
    declare: bool = True          # each: its output key declared `append` in `state:` (else the default)
    map_form: str = "key"         # each: `map: KEY` or `map: {item: KEY}`


@dataclass
class GEdge:
    source: str | tuple[str, ...]  # a tuple is a join's members
    target: str
    when: str | None = None
    otherwise: bool = False
    limit: int | None = None

    @property
    def join(self) -> bool:
        return isinstance(self.source, tuple)


@dataclass
class GFlow:
    nodes: dict[str, GNode]
    edges: list[GEdge] = field(default_factory=list)

    def out_edges(self, name: str) -> list[GEdge]:
        return [e for e in self.edges if not e.join and e.source == name]

    @property
    def joins(self) -> list[GEdge]:
        return [e for e in self.edges if e.join]


def out_key(name: str, node: GNode) -> str:
    """Where a mapped toy node's results go (`o_a`) and where an imported flow's trace goes (`t_a`)."""
    return f"o_{name}" if node.kind == "each" else f"t_{name}"


# Small constructors, so that the hand-written shapes below read like the YAML they become.
def tick() -> GNode:
    return GNode("tick")


def each(key: str, concurrency: int = 1) -> GNode:
    return GNode("each", map=key, concurrency=concurrency)


def sub(flow: GFlow, mapped: bool = False, concurrency: int = 1) -> GNode:
    return GNode("sub", map="LL" if mapped else None, concurrency=concurrency, sub=flow)


def chain(*names: str) -> list[GEdge]:
    return [GEdge(a, b) for a, b in zip(names, names[1:])]


def when(a: str, b: str, cond: str, limit: int | None = None) -> GEdge:
    return GEdge(a, b, when=cond, limit=limit)


def otherwise(a: str, b: str) -> GEdge:
    return GEdge(a, b, otherwise=True)


def join(members: list[str], target: str) -> GEdge:
    return GEdge(tuple(members), target)


# -- YAML ---------------------------------------------------------------------------------------------

def render(flow: GFlow, name: str, imports: dict[str, str], is_sub: bool) -> str:
    state = {"n": "add", "trace": "append"}
    for node_name, node in flow.nodes.items():
        if node.kind == "sub" or node.kind == "each" and node.declare:
            state[out_key(node_name, node)] = "append"
    lines = [f"flow: {name}", f"inputs: [{', '.join(INPUTS)}]"]
    if is_sub:
        lines.append("outputs: [n, trace]")
    lines.append("state: {" + ", ".join(f"{k}: {v}" for k, v in state.items()) + "}")
    if imports:
        lines.append("imports: {" + ", ".join(f"{k}: {v}" for k, v in imports.items()) + "}")
    lines.append("nodes:")
    for node_name, node in flow.nodes.items():
        if node.kind == "tick":
            body = "use: tick"
        elif node.kind == "each":
            m = node.map if node.map_form == "key" else f"{{item: {node.map}}}"
            body = (f"use: each, map: {m}, out: {{out: {out_key(node_name, node)}}}, "
                    f"with: {{concurrency: {node.concurrency}}}")
        else:
            body = (f"use: sub_{node_name}, in: {{n: z}}, out: {{n: n, trace: {out_key(node_name, node)}}}"
                    + (f", map: {{L0: LL}}, with: {{concurrency: {node.concurrency}}}" if node.map else ""))
        lines.append(f"  {node_name}: {{{body}}}")
    lines.append("edges:")
    for e in flow.edges:
        if e.join:
            lines.append(f"  - {{from: [{', '.join(e.source)}], to: {e.target}}}")
        elif e.when is not None:
            lines.append(f"  - {{from: {e.source}, to: {e.target}, when: \"{e.when}\""
                         + (f", limit: {e.limit}" if e.limit else "") + "}")
        elif e.otherwise:
            lines.append(f"  - {{from: {e.source}, to: {e.target}, otherwise: true}}")
        else:
            lines.append(f"  - [{e.source}, {e.target}]")
    return "\n".join(lines) + "\n"


def write_flow(flow: GFlow, folder: Path, stem: str = "f", is_sub: bool = False) -> Path:
    """The flow and its imports as files: f.yaml, f_s.yaml for its node s, f_s_t.yaml, ..."""
    imports = {}
    for name, node in flow.nodes.items():
        if node.kind == "sub":
            imports[f"sub_{name}"] = write_flow(node.sub, folder, f"{stem}_{name}", is_sub=True).name
    path = folder / f"{stem}.yaml"
    path.write_text(render(flow, stem, imports, is_sub))
    return path


def all_yaml(folder: Path) -> str:
    return "\n".join(f"# {p.name}\n{p.read_text()}" for p in sorted(folder.glob("*.yaml")))


# =====================================================================================================
# The reference interpreter
# =====================================================================================================

_COND = re.compile(r"^(?:len\((\w+)\)|(\w+)) (<=|>=|==|!=|<|>) (\d+)$")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}


def holds(cond: str, view: dict) -> bool:
    """The generator's conditions only: `KEY OP INT` and `len(KEY) OP INT`."""
    m = _COND.match(cond)
    assert m, cond
    value = len(view.get(m[1]) or []) if m[1] else view.get(m[2])
    return value is not None and _OPS[m[3]](value, int(m[4]))


def merge_of(key: str) -> str:
    if key == "n":
        return "add"
    if key == "trace" or key.startswith(("o_", "t_")):
        return "append"
    return "replace"


def apply(state: dict, writes: dict) -> dict:
    for key, value in writes.items():
        merge = merge_of(key)
        if merge == "add":
            state[key] = (state.get(key) or 0) + value
        elif merge == "append":
            state[key] = (state.get(key) or []) + (value if isinstance(value, list) else [value])
        else:
            state[key] = value
    return state


@dataclass
class Observed:
    """What a run shows. `log`: every toy-node call as (label, step of its own graph, what it read).
    `steps`: per superstep of the outermost graph, the `record.nodes` entries made during it, as
    (label, items). `state`: the final state."""
    log: Counter = field(default_factory=Counter)
    steps: list[Counter] = field(default_factory=list)
    state: dict = field(default_factory=dict)


def simulate(flow: GFlow, inputs: dict, prefix: str = "", log: Counter | None = None) -> tuple[dict, list]:
    """Run `flow` as the semantics say. Returns the final state (with `_runs`) and, per step, the
    record entries made during it (an imported flow's inner entries land in the step it ran in)."""
    log = log if log is not None else Counter()
    state = {**copy.deepcopy(inputs), "trace": []}
    for name, node in flow.nodes.items():
        if node.kind != "tick":
            state[out_key(name, node)] = []
    runs: Counter = Counter()
    barriers = [set() for _ in flow.joins]
    triggered = route(flow, START, state, runs)
    steps: list[Counter] = []
    step = 1
    while triggered:
        assert step <= MAX_STEPS, "the reference did not stop: the generator made an unbounded loop"
        start, recorded, writes = copy.deepcopy(state), Counter(), {}
        for name in sorted(triggered):
            writes[name] = run_node(flow, name, start, step, prefix, log, recorded)
        following = set()
        for name in sorted(triggered):  # "fresh" routing: start of step + own writes, own run counted
            fresh = apply(copy.deepcopy(start), writes[name])
            following |= route(flow, name, fresh, runs + Counter({name: 1}))
        runs.update(triggered)
        for name in sorted(triggered):
            state = apply(state, writes[name])
        for edge, seen in zip(flow.joins, barriers):
            members = set(edge.source)
            if edge.target in triggered and seen == members:   # the target consumed the barrier
                seen.clear()
            new = (members & triggered) - seen
            seen |= new
            if new and seen == members:
                following.add(edge.target)
        steps.append(recorded)
        triggered = following - {END}
        step += 1
    state["_runs"] = dict(runs)
    return state, steps


def route(flow: GFlow, name: str, view: dict, runs: Counter) -> set[str]:
    edges = flow.out_edges(name)
    if not any(e.when is not None or e.otherwise for e in edges):
        return {e.target for e in edges}
    for e in edges:
        if e.when is not None and holds(e.when, view) and (e.limit is None or runs[e.target] < e.limit):
            return {e.target}
    return {next(e.target for e in edges if e.otherwise)}


def run_node(flow: GFlow, name: str, start: dict, step: int, prefix: str, log: Counter,
             recorded: Counter) -> dict:
    """One run of a node on the start-of-step state: logs its toy calls, records it, returns its writes."""
    node, label = flow.nodes[name], prefix + name
    if node.kind == "tick":
        seen = int(start["n"])
        log[(label, step, seen)] += 1
        recorded[(label, 0)] += 1
        return {"n": 1, "trace": f"{label}@{seen}"}
    if node.kind == "each":
        items = list(start[node.map] or [])
        for item in items:
            log[(label, step, item)] += 1
        recorded[(label, len(items))] += 1
        outs = [None if item.startswith("-") else f"{label}({item})" for item in items]
        return {out_key(name, node): [o for o in outs if o is not None], "n": len(items)}
    # An imported flow: its own state, its counter starting at z; mapped, one nested run per item of LL.
    shared = {"n": start["z"], "z": start["z"], "L0": start["L0"], "L1": start["L1"], "LL": start["LL"]}
    results = []
    for item in (start["LL"] if node.map else [None]):
        inner_inputs = {**shared, "L0": item} if node.map else shared
        inner, inner_steps = simulate(node.sub, inner_inputs, prefix=label + "/", log=log)
        for c in inner_steps:
            recorded.update(c)
        results.append(inner)
    recorded[(label, len(start["LL"]) if node.map else 0)] += 1
    if node.map:  # one trace list per item, in item order
        return {"n": sum(r["n"] for r in results), out_key(name, node): [r["trace"] for r in results]}
    return {"n": results[0]["n"], out_key(name, node): results[0]["trace"]}


# =====================================================================================================
# The engine's run
# =====================================================================================================

def toy_registry(log: list) -> Registry:
    """`tick` and `each`, logging (label, LangGraph step, input) of every call into `log`."""
    def tick(n: float | None = None, *, ctx: Context) -> dict:
        seen = int(n or 0)
        log.append((ctx.node, get_config()["metadata"]["langgraph_step"], seen))
        return {"n": 1, "trace": f"{ctx.node}@{seen}"}

    def each(item: str, *, ctx: Context) -> dict:
        log.append((ctx.node, get_config()["metadata"]["langgraph_step"], item))
        return {"out": None if item.startswith("-") else f"{ctx.node}({item})", "n": 1}

    reg = Registry()
    reg.add(describe(tick, ["n", "trace"]))
    reg.add(describe(each, ["out", "n"]))
    return reg


def run_engine(path: Path, inputs: dict) -> Observed:
    log: list = []
    flow = load_flow(path, registry=toy_registry(log))
    runtime = Runtime(stream=None)
    state = compile_flow(flow, runtime).invoke(copy.deepcopy(inputs))
    return Observed(Counter(log), [Counter((r.node, r.items) for r in runtime.record.nodes)], state)


# =====================================================================================================
# The property
# =====================================================================================================

def check(flow: GFlow, inputs: dict) -> None:
    """Run `flow` in the engine and in the reference; fail on the first difference, saying which."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_flow(flow, Path(tmp))
        note(all_yaml(Path(tmp)))
        note(f"inputs: {inputs}")
        log: Counter = Counter()
        expected_state, expected_steps = simulate(flow, inputs, log=log)
        try:
            got = run_engine(path, inputs)
        except FlowErrors as exc:
            pytest.fail(f"a valid flow was rejected:\n{exc}\n{all_yaml(Path(tmp))}")
    expected_records = sum(expected_steps, Counter())
    got_records, = got.steps
    assert Counter(n for n, _ in got_records.elements()) == \
        Counter(n for n, _ in expected_records.elements()), "run counts per node (record.nodes)"
    assert got_records == expected_records, "record.nodes (label, items)"
    assert got.log == log, "toy-node calls: (label, step, input)"
    assert got.state.get("_runs", {}) == expected_state["_runs"], "_runs"
    assert got.state["n"] == expected_state["n"], "the counter n"
    assert Counter(got.state.get("trace") or []) == Counter(expected_state["trace"]), "trace"
    for name, node in flow.nodes.items():
        if node.kind == "tick":
            continue
        key = out_key(name, node)
        got_value, expected_value = got.state.get(key) or [], expected_state[key]
        if node.kind == "each":
            assert got_value == expected_value, f"{key}: a map's results, in item then pass order"
        elif node.map:
            assert [Counter(t) for t in got_value] == [Counter(t) for t in expected_value], key
        else:
            assert Counter(got_value) == Counter(expected_value), key


def check_steps(flow: GFlow, inputs: dict) -> None:
    """`record.nodes` in order: the entries of step k all come before those of step k+1 (a step's tasks
    all finish before the next step starts), so it splits into the reference's per-step multisets."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_flow(flow, Path(tmp))
        _, expected_steps = simulate(flow, inputs)
        log: list = []
        runtime = Runtime(stream=None)
        compile_flow(load_flow(path, registry=toy_registry(log)), runtime).invoke(copy.deepcopy(inputs))
    records = [(r.node, r.items) for r in runtime.record.nodes]
    at = 0
    for k, expected in enumerate(expected_steps, 1):
        size = sum(expected.values())
        assert Counter(records[at:at + size]) == expected, f"record.nodes in step {k}"
        at += size
    assert at == len(records), "record.nodes has entries after the last step"


# =====================================================================================================
# The generator
# =====================================================================================================

NAMES = "abcdefgh"
ITEMS = st.lists(st.sampled_from(["p", "q", "r", "-s"]), max_size=4)   # "-s" maps to None


def conditions(keys: list[str]) -> st.SearchStrategy[str]:
    """On the counter mostly; sometimes on the length of a list the flow appends to."""
    op = st.sampled_from(list(_OPS))
    on_n = st.builds(lambda o, k: f"n {o} {k}", op, st.integers(0, 8))
    on_len = st.builds(lambda key, o, k: f"len({key}) {o} {k}", st.sampled_from(keys), op, st.integers(0, 4))
    return st.one_of(on_n, on_n, on_len)


@st.composite
def flows(draw, depth: int = 1, size: int = 6) -> GFlow:
    """A valid flow. Nodes are drawn in a topological order: plain and `otherwise:` edges, and joins,
    only go forward, and every backward (`when:`) edge has a limit, so every cycle crosses a limited
    edge. Every node gets an edge from an earlier node or from START, and a forward way out."""
    count = draw(st.integers(1, size))
    names = list(NAMES[:count])
    nodes: dict[str, GNode] = {}
    for name in names:
        kind = draw(st.sampled_from(["tick", "tick", "each"] + (["sub"] if depth > 0 else [])))
        if kind == "each":
            sources = ["L0", "L1"] + [out_key(n, v) for n, v in nodes.items() if v.kind == "each"] + [f"o_{name}"]
            nodes[name] = GNode("each", map=draw(st.sampled_from(sources)), concurrency=draw(st.integers(1, 4)),
                                declare=draw(st.booleans()), map_form=draw(st.sampled_from(["key", "item"])))
        elif kind == "sub":
            mapped = draw(st.booleans())
            nodes[name] = GNode("sub", map="LL" if mapped else None, concurrency=draw(st.integers(1, 4)),
                                sub=draw(flows(depth=depth - 1, size=3)))
        else:
            nodes[name] = GNode("tick")
    keys = ["trace"] + [out_key(n, v) for n, v in nodes.items() if v.kind == "each"]

    # Joins first: their targets are plain nodes with no other way in, their members route plainly.
    joins: list[GEdge] = []
    targets_of_joins: set[str] = set()
    members_of_joins: set[str] = set()
    for _ in range(draw(st.integers(0, 2)) if count >= 3 else 0):
        options = [n for i, n in enumerate(names) if i >= 2 and n not in targets_of_joins
                   and not nodes[n].map]
        if not options:
            break
        target = draw(st.sampled_from(options))
        earlier = names[:names.index(target)]
        members = draw(st.lists(st.sampled_from(earlier), min_size=2, max_size=3, unique=True))
        joins.append(join(members, target))
        targets_of_joins.add(target)
        members_of_joins |= set(members)

    edges: list[GEdge] = []
    for i, name in enumerate(names):
        forward = [n for n in names[i + 1:] if n not in targets_of_joins] + [END]
        backward = [n for n in names[:i + 1] if n not in targets_of_joins]
        if name in members_of_joins or not draw(st.booleans()):
            least = 0 if name in members_of_joins else 1   # a member leaves through its join
            for target in draw(st.lists(st.sampled_from(forward), min_size=least, max_size=2, unique=True)):
                edges.append(GEdge(name, target))
            continue
        conditional = []
        for _ in range(draw(st.integers(1, 2))):
            target = draw(st.sampled_from(forward + backward))
            limited = target in backward or draw(st.booleans())
            conditional.append(when(name, target, draw(conditions(keys)),
                                    draw(st.integers(1, 3)) if limited else None))
        conditional.insert(draw(st.integers(0, len(conditional))),
                           otherwise(name, draw(st.sampled_from(forward))))
        edges += conditional

    reached = {e.target for e in edges if names.index(e.source) < _index(names, e.target)}
    starts = {names[0]} | set(draw(st.lists(st.sampled_from(names), max_size=2)))
    for name in names:
        if name not in reached and name not in targets_of_joins:
            starts.add(name)
    edges = [GEdge(START, n) for n in names if n in starts and n not in targets_of_joins] + edges + joins
    return GFlow(nodes, edges)


def _index(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


@st.composite
def inputs(draw) -> dict:
    return {"n": 0, "z": 0, "L0": draw(ITEMS), "L1": draw(ITEMS), "LL": draw(st.lists(ITEMS, max_size=3))}


# =====================================================================================================
# Tests
# =====================================================================================================

PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(flow=flows(), values=inputs())
def test_random_flows_run_as_the_reference_says(flow, values):
    check(flow, values)


@PROPERTY
@given(flow=flows(), values=inputs())
def test_record_nodes_come_in_step_order(flow, values):
    check_steps(flow, values)
