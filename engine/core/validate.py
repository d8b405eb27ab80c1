"""Graph-level checks of a built flow: edges name real nodes, routing is unambiguous, every state key a
node reads is written somewhere, every node is reachable, every loop has a limit."""
from __future__ import annotations

import difflib

import networkx as nx

from .spec import END, START, EdgeSpec, Flow
from .yamlsource import FlowError, Source


def state_keys(flow: Flow) -> set[str]:
    """Every key the flow's state can hold: inputs, declared keys and what the nodes write."""
    keys = set(flow.inputs) | set(flow.state)
    for node in flow.nodes.values():
        keys |= set(node.outputs.values())
    return keys


def check_flow(flow: Flow, src: Source) -> list[FlowError]:
    errors: list[FlowError] = []

    def err(message: str, path: tuple, key: bool = False) -> None:
        errors.append(src.error(message, path, key))

    names = set(flow.nodes)
    for edge in flow.edges:
        for end, path, allowed in ((edge.source, edge.at, END), (edge.target, edge.to_at, START)):
            if end == allowed:
                err(f"{end} cannot be an edge's {'source' if end == END else 'target'}", path)
            elif end not in names | {START, END}:
                close = difflib.get_close_matches(end, list(names), n=1)
                err(f"edge names unknown node {end!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                    + f"; nodes are: {', '.join(sorted(names))}, START, END", path)
    if errors:
        return _unique(errors)  # the checks below assume edges between real nodes

    errors += _routing(flow, src)
    keys = state_keys(flow)
    for node in flow.nodes.values():
        needed = [(i, k) for i, k in node.inputs.items()
                  if i not in node.optional_inputs and i != node.map_input]
        if node.map:
            needed = [(node.map, node.map)] + needed  # the map input takes the items of `map:`
        for inp, key in needed:
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1)
                path = ("map",) if node.map == key else (("in", inp) if key != inp else ("use",))
                err(f"node {node.name!r} reads state key {key!r}, which no node writes and the flow does "
                    f"not take as input" + (f" (did you mean {close[0]!r}?)" if close else "")
                    + f"; known keys: {', '.join(sorted(keys))}", ("nodes", node.name, *path))
    for i, out in enumerate(flow.outputs):
        if out not in keys - set(flow.inputs) and out not in flow.inputs:
            err(f"flow output {out!r} is written by no node; node outputs are: "
                f"{', '.join(sorted(keys - set(flow.inputs))) or 'none'}", ("outputs", i))
    for edge in flow.edges:
        for name in sorted(edge.when.names - keys) if edge.when else ():
            err(f"condition {edge.when.text!r} names unknown state key {name!r}; known keys: "
                f"{', '.join(sorted(keys))}", edge.at[:-1] + ("when",))
    errors += _map_outputs(flow, src)
    errors += _reachability(flow, src)
    errors += _loops(flow, src)
    return _unique(errors)


def _unique(errors: list[FlowError]) -> list[FlowError]:
    seen, out = set(), []
    for e in errors:
        if (e.file, e.line, e.col, e.message) not in seen:
            seen.add((e.file, e.line, e.col, e.message))
            out.append(e)
    return out


def _routing(flow: Flow, src: Source) -> list[FlowError]:
    errors = []
    for name in [START, *flow.nodes]:
        outs = flow.out_edges(name)
        conditional = [e for e in outs if e.conditional]
        if conditional and len(conditional) != len(outs):
            errors.append(src.error(f"node {name!r} has both plain and conditional out-edges: make them all "
                                    f"conditional (`when:` ... plus one `otherwise: true`)", conditional[0].at))
        otherwise = [e for e in conditional if e.otherwise]
        if conditional and len(otherwise) != 1:
            errors.append(src.error(f"node {name!r}: conditional edges need exactly one `otherwise: true` "
                                    f"edge (found {len(otherwise)}), so that every run has somewhere to go",
                                    conditional[-1].at[:-1]))
        for edge in outs:
            if edge.join and edge.target in flow.nodes and flow.nodes[edge.target].map:
                errors.append(src.error(f"a join cannot lead to a mapped node ({edge.target!r}): join into "
                                        f"a plain node, then chain it to the map", edge.at[:-1]))
            if edge.limit is not None and not edge.when:
                errors.append(src.error("`limit:` belongs on a `when:` edge, so that the run can take the "
                                        "`otherwise` edge once the limit is reached", edge.at[:-1] + ("limit",)))
    return errors


def _map_outputs(flow: Flow, src: Source) -> list[FlowError]:
    """A mapped node writes one value per item; `replace` would keep an arbitrary one of them."""
    errors = []
    for node in flow.nodes.values():
        for key in node.outputs.values() if node.map else ():
            if flow.state.get(key) == "replace":
                errors.append(src.error(
                    f"state key {key!r} is written by the mapped node {node.name!r}, one value per item, so "
                    f"it cannot be `replace`: declare it `append` (a list, in item order), `add` (their sum) "
                    f"or `merge` (dicts merged), or leave it out of `state:` (append)", ("state", key)))
    return errors


def graph_of(flow: Flow) -> nx.MultiDiGraph:
    """Nodes and edges; two edges between the same nodes (a limited `when:` and an `otherwise:`) stay two."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from([START, END, *flow.nodes])
    for edge in flow.edges:
        graph.add_edge(edge.source, edge.target, edge=edge)
    return graph


def _reachability(flow: Flow, src: Source) -> list[FlowError]:
    graph, errors = graph_of(flow), []
    reached = nx.descendants(graph, START)
    for name in flow.nodes:
        if name not in reached:
            errors.append(src.error(f"node {name!r} is unreachable: no path from START leads to it; add an "
                                    f"edge into it or remove it", ("nodes", name), key=True))
        elif not nx.has_path(graph, name, END):
            errors.append(src.error(f"node {name!r} never reaches END: add a path from it to END",
                                    ("nodes", name), key=True))
    if END not in reached and flow.nodes:
        errors.append(src.error("no path from START reaches END", ("edges",)))
    return errors


def _loops(flow: Flow, src: Source) -> list[FlowError]:
    """Every way round every cycle must cross a limited edge. Where two edges join the same pair of
    nodes (a limited `when:` and an `otherwise:`), the run may take either, so a cycle is unbounded as
    soon as each of its steps has an edge without a limit."""
    graph, errors = nx.DiGraph(graph_of(flow)), []   # cycles as node sequences, each pair once
    order = {name: i for i, name in enumerate(flow.nodes)}
    for cycle in nx.simple_cycles(graph):
        first_node = min(range(len(cycle)), key=lambda i: order.get(cycle[i], -1))
        cycle = cycle[first_node:] + cycle[:first_node]   # named from the flow's first node: stable
        steps = list(zip(cycle, cycle[1:] + cycle[:1]))
        unlimited = [[e for e in flow.edges if (e.source, e.target) == step and not e.limit] for step in steps]
        if all(unlimited):
            edges: list[EdgeSpec] = [options[0] for options in unlimited]
            first = min(edges, key=lambda e: src.where(e.at))
            errors.append(src.error(f"loop {' -> '.join(cycle + cycle[:1])} has no limit: add `limit: N` to "
                                    f"one of its `when:` edges (the run then takes `otherwise` after N times)",
                                    first.at))
    return errors
