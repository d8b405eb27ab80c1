"""A validated Flow -> a compiled langgraph StateGraph.

- State: one key per flow input, node output and declared key; `append`/`merge`/`add` keys get reducers.
  A hidden `_runs` key counts node runs, which is how an edge's `limit:` is enforced.
- A node: a wrapper that reads its inputs from the state (after `in:` renames), calls the node function
  with its parameters and Context, and writes its outputs (after `out:` renames).
- `map: KEY`: the edges into the node return `Send`s, one per batch of items; each task runs its batch
  item by item. The graph's `max_concurrency` bounds how many tasks run at once. A failed item is
  recorded in the run record and the map goes on.
- An imported flow used as a node: compiled on its own and invoked from a wrapper, so its state keys
  never clash with ours.
- Edges: plain edges are plain; a join `{from: [a, b], to: c}` is langgraph's waiting edge; a node with
  `when:` edges, or an edge into a mapped node, gets a router.
"""
from __future__ import annotations

import math
import time
import uuid
from dataclasses import replace
from typing import Annotated, Any, Callable, TypedDict

from .context import Context, ModelError
from .runtime import Runtime
from .spec import END, START, EdgeSpec, Flow, NodeSpec, MAP_PARAMS
from .validate import state_keys

RUNS = "_runs"


def _append(old: list | None, new: Any) -> list:
    if new is None:
        return old or []
    return (old or []) + (new if isinstance(new, list) else [new])


def _merge(old: dict | None, new: dict | None) -> dict:
    return {**(old or {}), **(new or {})}


def _add(old: float | None, new: float | None) -> float:
    return (old or 0) + (new or 0)


def _count(old: dict | None, new: dict | None) -> dict:
    out = dict(old or {})
    for key, n in (new or {}).items():
        out[key] = out.get(key, 0) + n
    return out


# The annotated type matters: langgraph starts the channel at type() and applies the reducer to every
# write, the first included (with `Any` it would store the first write as it came).
REDUCERS: dict[str, tuple[type, Callable]] = {"append": (list, _append), "merge": (dict, _merge),
                                               "add": (float, _add)}


def state_schema(flow: Flow) -> type:
    """A TypedDict of the flow's state keys, each annotated with its merge rule."""
    mapped_outputs = {key for n in flow.nodes.values() if n.map for key in n.outputs.values()}
    fields: dict[str, Any] = {RUNS: Annotated[dict, _count]}
    for key in sorted(state_keys(flow)):
        merge = flow.state.get(key) or ("append" if key in mapped_outputs else "replace")
        fields[key] = Annotated[REDUCERS[merge][0], REDUCERS[merge][1]] if merge in REDUCERS else Any
    return TypedDict(f"{flow.name}_state", fields, total=False)  # type: ignore[operator]


def recursion_limit(flow: Flow) -> int:
    """Room for every node once per pass, for as many passes as the loop limits allow."""
    passes = 1 + sum(e.limit or 0 for e in flow.edges)
    return 25 + 2 * len(flow.nodes) * passes


def map_concurrency(flow: Flow, cap: int = 0) -> int:
    wanted = max([n.params["concurrency"] for n in flow.nodes.values() if n.map] or [4])
    return max(1, min(wanted, cap) if cap else wanted)


def compile_flow(flow: Flow, runtime: Runtime, prefix: str = ""):
    """Compile to a runnable graph, configured with its concurrency and recursion limit."""
    from langgraph.graph import StateGraph

    builder = StateGraph(state_schema(flow))
    for node in flow.nodes.values():
        builder.add_node(node.name, _node_runner(flow, node, runtime, prefix))
    for source in [START, *flow.nodes]:
        _add_edges(builder, flow, source, flow.out_edges(source))
    graph = builder.compile(name=flow.name)
    return graph.with_config(max_concurrency=map_concurrency(flow, runtime.concurrency_cap),
                             recursion_limit=recursion_limit(flow))


# -- nodes ------------------------------------------------------------------------------------------

def _node_runner(flow: Flow, node: NodeSpec, runtime: Runtime, prefix: str) -> Callable:
    label = f"{prefix}{node.name}"
    if node.subflow is not None:
        return _subflow_runner(node, runtime, label)
    ctx = runtime.context(flow, node, label)
    params = {k: v for k, v in node.params.items() if not (node.map and k in MAP_PARAMS)}
    call = node.kind.func
    if node.kind.takes_ctx:
        params["ctx"] = ctx

    def outputs_of(result: Any) -> dict:
        if not isinstance(result, dict) or not set(result) <= set(node.outputs):
            raise TypeError(f"node {label!r} ({node.use}) returned {_shape(result)}; it declares outputs "
                            f"{', '.join(node.outputs)}")
        return result

    if not node.map:
        def run(state: dict) -> dict:
            started = time.perf_counter()
            result = outputs_of(call(**{i: state.get(k) for i, k in node.inputs.items()}, **params))
            runtime.record.node_ran(label, time.perf_counter() - started)
            return {**{node.outputs[k]: v for k, v in result.items()}, RUNS: {node.name: 1}}
        return run

    item_input = node.declared_inputs[0]

    def run_batch(payload: dict) -> dict:
        started, collected = time.perf_counter(), {key: [] for key in node.outputs.values()}
        progress = runtime.progress_for(label, payload["_total"], payload["_map_id"])
        shared = {i: payload.get(i) for i in node.declared_inputs[1:]}
        for index, item in payload["_items"]:
            try:
                result = outputs_of(call(**{item_input: item}, **shared, **params))
            except ModelError as exc:  # recorded and counted; the other items go on
                runtime.record.failure(label, str(exc), item=index, id=_item_id(item))
                progress.advance(failed=1)
                continue
            for key, value in result.items():
                if value is not None:
                    collected[node.outputs[key]].append(value)
            progress.advance()
        runtime.record.node_ran(label, time.perf_counter() - started, len(payload["_items"]))
        return {**collected, RUNS: {node.name: 1}}
    return run_batch


def _subflow_runner(node: NodeSpec, runtime: Runtime, label: str) -> Callable:
    subflow = _with_params(node.subflow, node.params)
    graph = compile_flow(subflow, runtime, prefix=f"{label}/")

    def run(state: dict) -> dict:
        started = time.perf_counter()
        result = graph.invoke({i: state.get(k) for i, k in node.inputs.items()})
        runtime.record.node_ran(label, time.perf_counter() - started)
        return {**{node.outputs[o]: result.get(o) for o in subflow.outputs}, RUNS: {node.name: 1}}
    return run


def _with_params(flow: Flow, dotted: dict[str, Any]) -> Flow:
    """The imported flow with `with: {node.param: value}` applied (already type-checked by spec)."""
    if not dotted:
        return flow
    nodes = dict(flow.nodes)
    for key, value in dotted.items():
        name, param = key.split(".", 1)
        nodes[name] = replace(nodes[name], params={**nodes[name].params, param: value})
    return replace(flow, nodes=nodes)


# -- edges ------------------------------------------------------------------------------------------

def _add_edges(builder, flow: Flow, source: str, edges: list[EdgeSpec]) -> None:
    graph_name = {START: "__start__", END: "__end__"}
    needs_router = any(e.conditional for e in edges) or any(
        e.target in flow.nodes and flow.nodes[e.target].map for e in edges)
    if not needs_router:
        for edge in edges:
            if not edge.join:
                builder.add_edge(graph_name.get(source, source), graph_name.get(edge.target, edge.target))
            elif source == edge.join[0]:  # once per join, from its first member: waits for all of them
                builder.add_edge([graph_name.get(s, s) for s in edge.join], graph_name.get(edge.target, edge.target))
        return
    targets = sorted({e.target for e in edges})
    builder.add_conditional_edges(graph_name.get(source, source), _router(flow, edges),
                                  {t: graph_name.get(t, t) for t in targets})


def _router(flow: Flow, edges: list[EdgeSpec]) -> Callable:
    conditional = any(e.conditional for e in edges)

    def route(state: dict) -> list:
        chosen = [e.target for e in edges] if not conditional else [_pick(edges, state)]
        return [_sends(flow.nodes[t], state) if t in flow.nodes and flow.nodes[t].map else t
                for t in chosen]
    return lambda state: _flatten(route(state))


def _pick(edges: list[EdgeSpec], state: dict) -> str:
    runs = state.get(RUNS) or {}
    for edge in edges:
        if edge.when and edge.when(state) and (edge.limit is None or runs.get(edge.target, 0) < edge.limit):
            return edge.target
    return next(e.target for e in edges if e.otherwise)


def _sends(node: NodeSpec, state: dict) -> list:
    """One Send per batch. Batches keep the task count near 16 x concurrency: LangGraph's per-task cost
    grows with the number of tasks, and batches much larger than that unbalance the last round."""
    from langgraph.types import Send

    items = list(enumerate(state.get(node.map) or []))
    concurrency = node.params["concurrency"]
    size = node.params["batch"] or max(1, math.ceil(len(items) / (16 * concurrency)))
    shared = {i: state.get(k) for i, k in node.inputs.items() if i != node.declared_inputs[0]}
    map_id = f"{node.name}:{uuid.uuid4().hex}"
    batches = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    return [Send(node.name, {"_items": b, "_total": len(items), "_map_id": map_id, **shared})
            for b in batches]


def _flatten(targets: list) -> list:
    out = []
    for t in targets:
        out.extend(t if isinstance(t, list) else [t])
    return out


def _item_id(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else None


def _shape(value: Any) -> str:
    return f"keys {', '.join(map(str, value))}" if isinstance(value, dict) else f"a {type(value).__name__}"
