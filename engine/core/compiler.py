"""A validated Flow -> a compiled langgraph StateGraph.

- State: one key per flow input, node output and declared key; `append`/`merge`/`add` keys get reducers.
  A hidden `_runs` key counts node runs, which is how an edge's `limit:` is enforced.
- A node: a wrapper that reads its inputs from the state (after `in:` renames), calls the node function
  with its parameters and Context, and writes its outputs (after `out:` renames).
- An imported flow used as a node: compiled on its own and invoked from a wrapper, so its state keys
  never clash with ours.
- `map:` (over a node kind or an imported flow): an ordinary node to LangGraph, which runs the items on
  `concurrency` worker threads of its own and writes all results at once, in item order. So a map runs
  once per step however many edges lead to it, reads its items when it runs, routes once, and counts as
  one run. A failed item is recorded in the run record and the map goes on.
- Edges: plain edges are plain; a join `{from: [a, b], to: c}` is LangGraph's waiting edge; a node with
  `when:` edges gets a router.
"""
from __future__ import annotations

import contextvars
import functools
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Annotated, Any, Callable, TypedDict

from .context import Progress
from .models import ModelError
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
    fields: dict[str, Any] = {RUNS: Annotated[dict, _count]}
    for key in sorted(state_keys(flow)):
        merge = flow.merge_of(key)
        fields[key] = Annotated[REDUCERS[merge][0], REDUCERS[merge][1]] if merge in REDUCERS else Any
    return TypedDict(f"{flow.name}_state", fields, total=False)  # type: ignore[operator]


def recursion_limit(flow: Flow) -> int:
    """Room for every node once per pass, for as many passes as the loop limits allow."""
    passes = 1 + sum(e.limit or 0 for e in flow.edges)
    return 25 + 2 * len(flow.nodes) * passes


def max_concurrency(flow: Flow) -> int:
    """Room for every node at once: a map bounds its own workers, and each endpoint the calls it receives
    (core.models.Limiter), so this graph-wide number is never the bound."""
    return len(flow.nodes) + 1


def compile_flow(flow: Flow, runtime: Runtime, prefix: str = ""):
    """Compile to a runnable graph, configured with its concurrency and recursion limit."""
    from langgraph.graph import StateGraph

    builder = StateGraph(state_schema(flow))
    for node in flow.nodes.values():
        builder.add_node(node.name, _node_runner(flow, node, runtime, prefix))
    for source in [START, *flow.nodes]:
        _add_edges(builder, flow, source, flow.out_edges(source))
    graph = builder.compile(name=flow.name)
    return graph.with_config(max_concurrency=max_concurrency(flow), recursion_limit=recursion_limit(flow))


# -- nodes ------------------------------------------------------------------------------------------

def _node_runner(flow: Flow, node: NodeSpec, runtime: Runtime, prefix: str) -> Callable:
    """The function LangGraph runs for `node`: one call, or, for a mapped node, one call per item."""
    label = f"{prefix}{node.name}"
    call = _subflow_call(node, runtime, label) if node.subflow is not None else \
        _kind_call(flow, node, runtime, label)
    if node.map:
        return _map_runner(flow, node, runtime, label, call)

    def run(state: dict) -> dict:
        started = time.perf_counter()
        result = call({i: state.get(k) for i, k in node.inputs.items()})
        runtime.record.node_ran(label, time.perf_counter() - started)
        return {**{node.outputs[k]: v for k, v in result.items()}, RUNS: {node.name: 1}}
    return run


def _kind_call(flow: Flow, node: NodeSpec, runtime: Runtime, label: str) -> Callable[[dict], dict]:
    """inputs -> outputs of a node kind's function, with its parameters and Context."""
    params = {k: v for k, v in node.params.items() if not (node.map and k in MAP_PARAMS)}
    if node.kind.takes_ctx:
        params["ctx"] = runtime.context(flow, node, label)
    func = node.kind.func

    def call(inputs: dict) -> dict:
        result = func(**inputs, **params)
        if not isinstance(result, dict) or not set(result) <= set(node.outputs):
            raise TypeError(f"node {label!r} ({node.use}) returned {_shape(result)}; it declares outputs "
                            f"{', '.join(node.outputs)}")
        return result
    return call


def _subflow_call(node: NodeSpec, runtime: Runtime, label: str) -> Callable[[dict], dict]:
    """inputs -> outputs of an imported flow, run as a nested graph with its own state."""
    subflow = _with_params(node.subflow, {k: v for k, v in node.params.items() if k not in MAP_PARAMS})
    graph = compile_flow(subflow, runtime, prefix=f"{label}/")

    def call(inputs: dict) -> dict:
        result = graph.invoke(inputs)
        return {o: result.get(o) for o in subflow.outputs}
    return call


def _map_runner(flow: Flow, node: NodeSpec, runtime: Runtime, label: str, call: Callable) -> Callable:
    """Every item of `node.map` through `call`, on `concurrency` threads that take items from one queue
    (so a slow item never holds up a batch). An item whose model call failed is recorded and the others
    go on; any other error stops the workers taking items and fails the run, and so does Ctrl-C (the calls
    in flight finish, and land in the reply cache)."""
    workers = node.params["concurrency"]

    def run(state: dict) -> dict:
        started = time.perf_counter()
        items = list(state.get(node.map) or [])
        shared = {i: state.get(k) for i, k in node.inputs.items() if i != node.map_input}
        queue, lock, results = deque(enumerate(items)), threading.Lock(), [None] * len(items)
        progress, stopped = Progress(label, len(items), "items", runtime.stream), threading.Event()

        def work() -> None:
            while not stopped.is_set() and not runtime.cancelled.is_set():
                with lock:
                    if not queue:
                        return
                    index, item = queue.popleft()
                try:
                    results[index] = call({node.map_input: item, **shared})
                except ModelError as exc:  # recorded and counted; the other items go on
                    runtime.record.failure(label, str(exc), item=index, id=_item_id(item))
                    progress.advance(failed=1)
                    continue
                except BaseException:
                    stopped.set()
                    raise
                progress.advance()

        if items:
            threads = min(workers, len(items))
            with ThreadPoolExecutor(threads, thread_name_prefix=label) as pool:
                # Each worker in a copy of this task's context: what LangGraph keeps there (the run's
                # config, for a nested flow) is the same for the items as for a plain node.
                for future in [pool.submit(contextvars.copy_context().run, work) for _ in range(threads)]:
                    future.result()
            runtime.record.count("maps")
        runtime.record.node_ran(label, time.perf_counter() - started, len(items))
        return {**_merged(flow, node, [r for r in results if r is not None]), RUNS: {node.name: 1}}
    return run


def _merged(flow: Flow, node: NodeSpec, results: list[dict]) -> dict:
    """Per output key: the items' values (None means "nothing from this item") as one write: a list for
    `append`, their sum for `add`, the dicts merged for `merge`."""
    out = {}
    for output, key in node.outputs.items():
        values = [r[output] for r in results if r.get(output) is not None]
        merge = flow.merge_of(key)
        if merge == "add":
            out[key] = sum(values)
        elif merge == "merge":
            out[key] = functools.reduce(_merge, values, {})
        else:
            out[key] = values
    return out


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
    """A join is always LangGraph's waiting edge, registered once (from its first member) whatever else
    its members do. The other edges are plain, unless they are conditional: then a router picks one."""
    for edge in edges:
        if edge.join and source == edge.join[0]:
            builder.add_edge([_graph_name(s) for s in edge.join], _graph_name(edge.target))
    edges = [e for e in edges if not e.join]
    if not any(e.conditional for e in edges):
        for edge in edges:
            builder.add_edge(_graph_name(source), _graph_name(edge.target))
        return
    targets = sorted({e.target for e in edges})
    builder.add_conditional_edges(_graph_name(source), lambda state: _pick(edges, state),
                                  {t: _graph_name(t) for t in targets})


def _graph_name(name: str) -> str:
    return {START: "__start__", END: "__end__"}.get(name, name)


def _pick(edges: list[EdgeSpec], state: dict) -> str:
    runs = state.get(RUNS) or {}
    for edge in edges:
        if edge.when and edge.when(state) and (edge.limit is None or runs.get(edge.target, 0) < edge.limit):
            return edge.target
    return next(e.target for e in edges if e.otherwise)


def _item_id(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else None


def _shape(value: Any) -> str:
    return f"keys {', '.join(map(str, value))}" if isinstance(value, dict) else f"a {type(value).__name__}"
