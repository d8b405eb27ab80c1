"""YAML text -> a checked `Flow`. Every problem is reported with file:line:col and what would be valid.

The file format (README "YAML reference" has the full table):

    flow: lv2                                  # name
    description: ...
    inputs: [documents, question]              # what the caller gives
    outputs: [answer]                          # what the run returns
    state: {evidence: append}                  # extra keys and how parallel writes merge
    imports: {lv2: lv2.yaml}                   # other flows, usable as nodes (and as tools)
    models: {small: {model: qwen2.5-0.5b}}     # named models a node may pick with `model:`
    nodes:
      read: {use: read_chunk, map: chunks, into: evidence, with: {concurrency: 32}}
      ask:  {use: lv2, in: {question: subquestion}, out: {answer: memory}}
      all:  {use: lv2, map: {question: questions}, out: {answer: answers}}   # each item as `question`
    edges:
      - [START, load, split, END]              # a chain
      - {from: plan, to: ask, when: subquestion, limit: 6}   # a condition; a loop needs a limit
      - {from: plan, to: final, otherwise: true}
      - {from: [chunk, keywords], to: retrieve}              # a join: after both
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import difflib
import re

from .conditions import Condition, ConditionError, parse_condition
from .paths import inside
from .registry import NodeKind, Param, Registry, check_type, load_registry
from .yamlsource import FlowError, FlowErrors, Source, load_source, parse_yaml

START, END = "START", "END"
MERGES = ("replace", "append", "merge", "add")
MAP_PARAMS = {"concurrency": Param("concurrency", int, 16, "how many items are processed at once", minimum=1)}
# What a `models:` entry may set, each with its check: nothing else reaches the model client.
MODEL_FIELDS = {
    "model": lambda v: isinstance(v, str) and bool(v.strip()),
    "base_url": lambda v: isinstance(v, str) and bool(re.match(r"https?://[^/\s]+", v)),
    "api_key_env": lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v)),
    "temperature": lambda v: _number(v) and 0 <= v <= 2,
    "max_tokens": lambda v: _number(v) and int(v) == v and v >= 1,
    "timeout": lambda v: _number(v) and v > 0,
    "max_concurrency": lambda v: _number(v) and int(v) == v and v >= 0,
}
MODEL_FIELD_DOCS = {
    "model": "the model's name at the endpoint", "base_url": "an http(s):// URL",
    "api_key_env": "the name of an environment variable", "temperature": "a number from 0 to 2",
    "max_tokens": "a whole number of at least 1", "timeout": "a number of seconds above 0",
    "max_concurrency": "a whole number of at least 0 (0: no bound)",
}
TOP_LEVEL = {"flow", "description", "inputs", "outputs", "state", "imports", "models", "nodes", "edges"}
NODE_FIELDS = {"use", "with", "map", "into", "in", "out", "model", "description"}
EDGE_FIELDS = {"from", "to", "when", "otherwise", "limit"}


@dataclass
class NodeSpec:
    name: str
    use: str
    kind: NodeKind | None                    # None when `use` names an imported flow
    subflow: "Flow | None"
    params: dict[str, Any]                   # `with:` merged over the kind's defaults
    inputs: dict[str, str]                   # kind input -> state key
    outputs: dict[str, str]                  # kind output -> state key
    map: str | None = None                   # the state key whose items the node runs once each on ...
    map_input: str = ""                      # ... passing each as this input
    model: str | None = None
    description: str = ""

    @property
    def declared_inputs(self) -> tuple[str, ...]:
        return self.kind.inputs if self.kind else tuple(self.subflow.inputs)

    @property
    def optional_inputs(self) -> frozenset[str]:
        return self.kind.optional_inputs if self.kind else frozenset()


@dataclass
class EdgeSpec:
    source: str
    target: str
    when: Condition | None = None
    otherwise: bool = False
    limit: int | None = None
    at: tuple = ()          # YAML paths of the source and target names, for error positions
    to_at: tuple = ()
    join: tuple[str, ...] = ()  # {from: [a, b], to: c}: c runs once, after all of a and b

    @property
    def conditional(self) -> bool:
        return self.when is not None or self.otherwise


@dataclass
class Flow:
    name: str
    file: str
    description: str = ""
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)           # key -> merge
    imports: dict[str, "Flow"] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)
    nodes: dict[str, NodeSpec] = field(default_factory=dict)
    edges: list[EdgeSpec] = field(default_factory=list)
    roots: tuple = ()          # the folders its files may come from: its own, and any --allow-dir

    @property
    def directory(self) -> Path:
        return Path(self.file).resolve().parent

    def merge_of(self, key: str) -> str:
        """How writes to `key` merge: as `state:` declares, else `append` for a key a mapped node writes
        (one value per item), else `replace`."""
        if key in self.state:
            return self.state[key]
        mapped = any(key in n.outputs.values() for n in self.nodes.values() if n.map)
        return "append" if mapped else "replace"

    def out_edges(self, name: str) -> list[EdgeSpec]:
        return [e for e in self.edges if e.source == name]


def load_flow(path: str | Path, registry: Registry | None = None,
              overrides: dict[str, Any] | None = None, allowed_dirs: tuple = ()) -> Flow:
    """Read, parse and validate a flow file (and its imports). Raises FlowErrors listing every problem.
    `overrides` maps "node.param" (or "node.subnode.param" for an imported flow) to a value. The files a
    flow names (imports, prompt templates) must be inside its folder or one of `allowed_dirs`."""
    registry = registry or load_registry()
    path = Path(path)
    if not path.exists():
        raise FlowErrors([FlowError(f"flow file not found; flows here: {_nearby(path)}", str(path), 1, 1)])
    if path.is_dir():
        raise FlowErrors([FlowError(f"this is a folder; give a flow file in it: "
                                    f"{_nearby(path / 'x.yaml')}", str(path), 1, 1)])
    roots = (path.resolve().parent, *(Path(d).resolve() for d in allowed_dirs))
    return _load(load_source(path), registry, overrides or {}, stack=(), roots=roots)


def parse_flow(text: str, file: str = "<flow>", registry: Registry | None = None,
               overrides: dict[str, Any] | None = None) -> Flow:
    return _load(parse_yaml(text, file), registry or load_registry(), overrides or {}, stack=(),
                 roots=(Path(file).resolve().parent,))


def _nearby(path: Path) -> str:
    folder = path.parent if path.parent.exists() else Path(".")
    return ", ".join(sorted(p.name for p in folder.glob("*.yaml"))) or "none"


def _load(source: Source, registry: Registry, overrides: dict[str, Any], stack: tuple[str, ...],
          roots: tuple[Path, ...]) -> Flow:
    builder = _Builder(source, registry, stack, roots)
    flow = builder.build(overrides)
    if builder.errors:
        raise FlowErrors(builder.errors)
    from .validate import check_flow   # graph-level checks need the whole flow built first
    errors = check_flow(flow, source)
    if errors:
        raise FlowErrors(errors)
    return flow


class _Builder:
    """Turns a Source into a Flow, collecting errors rather than stopping at the first."""

    def __init__(self, source: Source, registry: Registry, stack: tuple[str, ...], roots: tuple[Path, ...]):
        self.src, self.registry, self.stack, self.roots = source, registry, stack, roots
        self.errors: list[FlowError] = []

    def err(self, message: str, *path: Any, key: bool = False) -> None:
        self.errors.append(self.src.error(message, path, key))

    def build(self, overrides: dict[str, Any]) -> Flow:
        data = self.src.data
        if not isinstance(data, dict):
            self.err("a flow file is a mapping with at least `flow:`, `nodes:` and `edges:`")
            return Flow("?", self.src.file)
        for key in data:
            if key not in TOP_LEVEL:
                self.err(f"unknown field {key!r}{_suggest(key, TOP_LEVEL)}; a flow has: "
                         f"{', '.join(sorted(TOP_LEVEL))}", key, key=True)
        for required in ("flow", "nodes", "edges"):
            if required not in data:
                self.err(f"missing `{required}:`; a flow needs `flow:` (its name), `nodes:` and `edges:`")
        flow = Flow(name=str(data.get("flow", Path(self.src.file).stem)), file=self.src.file, roots=self.roots,
                    description=str(data.get("description", "") or ""),
                    inputs=self.names(data, "inputs"), outputs=self.names(data, "outputs"),
                    state=self.state(data),
                    models=self.models(data))
        flow.imports = self.imports(data)
        for name, raw in self.mapping(data, "nodes", "{load: {use: load_document}}").items():
            node = self.node(flow, name, raw, overrides)
            if node:
                flow.nodes[name] = node
        for key in overrides:
            if key.split(".")[0] not in flow.nodes:
                self.err(f"--set {key}: no node {key.split('.')[0]!r}; nodes are: {', '.join(flow.nodes)}")
        flow.edges = self.edges(data.get("edges") or [])
        return flow

    # -- small shapes -------------------------------------------------------------------------------
    def names(self, data: dict, key: str) -> list[str]:
        value = data.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.err(f"`{key}:` is a list of state-key names, e.g. [documents, question]", key)
            return []
        return value

    def mapping(self, data: dict, key: str, example: str) -> dict:
        value = data.get(key) or {}
        if not isinstance(value, dict):
            self.err(f"`{key}:` must be a mapping (name: value), e.g. {example}; not a "
                     f"{type(value).__name__}", key)
            return {}
        return value

    def models(self, data: dict) -> dict[str, dict]:
        """`models:` maps a name to a model entry. A flow file is untrusted: an entry has only the fields
        below (no client option that could send the key elsewhere), and never a key, only the name of the
        environment variable that holds one."""
        out = {}
        for name, entry in self.mapping(data, "models", "{small: {model: qwen2.5-0.5b}}").items():
            if not isinstance(entry, dict) or not isinstance(entry.get("model"), str) or not entry["model"]:
                self.err(f"model {name!r}: an entry is a mapping with at least `model:` (the name the "
                         f"endpoint serves), e.g. {{model: qwen2.5-7b-instruct}}", "models", name)
                continue
            ok = True
            for key, value in entry.items():
                if key == "api_key":
                    self.err(f"model {name!r}: a flow file never holds a key; name the environment "
                             f"variable that holds it instead: `api_key_env: MY_KEY`", "models", name, key,
                             key=True)
                elif key not in MODEL_FIELDS:
                    self.err(f"model {name!r}: unknown field {key!r}{_suggest(key, MODEL_FIELDS)}; an "
                             f"entry has: {', '.join(MODEL_FIELDS)}", "models", name, key, key=True)
                elif not MODEL_FIELDS[key](value):
                    self.err(f"model {name!r}: `{key}:` must be {MODEL_FIELD_DOCS[key]}, got {value!r}",
                             "models", name, key)
                else:
                    continue
                ok = False
            if ok:
                out[name] = entry
        return out

    def state(self, data: dict) -> dict[str, str]:
        """`state:` maps a key to how parallel writes merge."""
        out = {}
        for key, merge in self.mapping(data, "state", "{evidence: append}").items():
            merge = merge.get("merge", "replace") if isinstance(merge, dict) else merge
            if merge not in MERGES:
                self.err(f"state key {key!r}: unknown merge {merge!r}; use one of {', '.join(MERGES)}",
                         "state", key)
            out[key] = merge if merge in MERGES else "replace"
        return out

    def imports(self, data: dict) -> dict[str, Flow]:
        """`imports:` maps a name to a flow file, relative to this one; each is loaded and checked."""
        out = {}
        for name, rel in self.mapping(data, "imports", "{lv2: lv2.yaml}").items():
            path = (Path(self.src.file).parent / str(rel)).resolve()
            if str(path) in self.stack + (str(Path(self.src.file).resolve()),):
                chain = " -> ".join(Path(p).name for p in self.stack + (self.src.file, str(path)))
                self.err(f"import cycle: {chain}; a flow cannot import itself, directly or not",
                         "imports", name)
            elif not inside(path, self.roots):
                self.err(f"imported flow {str(rel)!r} is outside the flow's folder ({_listing(self.roots)}); a "
                         f"flow imports only files inside it (or in a folder given with --allow-dir)",
                         "imports", name)
            elif not path.exists():
                self.err(f"imported flow {str(rel)!r} not found (looked at {path}); flows beside this "
                         f"file: {_nearby(path)}", "imports", name)
            else:
                try:
                    out[name] = _load(load_source(path), self.registry, {},
                                      self.stack + (str(Path(self.src.file).resolve()),), self.roots)
                except FlowErrors as exc:
                    self.errors.extend(exc.errors)
        return out

    # -- nodes --------------------------------------------------------------------------------------
    def node(self, flow: Flow, name: str, raw: Any, overrides: dict[str, Any]) -> NodeSpec | None:
        path = ("nodes", name)
        if name in (START, END):
            self.err(f"{name} is reserved for the graph's entry and exit; rename this node", *path, key=True)
            return None
        if not isinstance(raw, dict) or "use" not in raw:
            self.err(f"node {name!r} needs `use:` (a node kind, see `engine nodes`, or an imported flow)",
                     *path)
            return None
        for key in raw:
            if key not in NODE_FIELDS:
                self.err(f"node {name!r}: unknown field {key!r}{_suggest(key, NODE_FIELDS)}; a node has: "
                         f"{', '.join(sorted(NODE_FIELDS))}", *path, key, key=True)
        use = str(raw["use"])
        kind, subflow = self.registry.get(use), flow.imports.get(use)
        if kind is None and subflow is None:
            options = self.registry.closest(use) + difflib.get_close_matches(use, list(flow.imports), 2)
            hint = f"; did you mean {' or '.join(repr(o) for o in options)}?" if options else ""
            self.err(f"node {name!r}: unknown node kind {use!r}{hint} (`engine nodes` lists them all"
                     f"{'; imported flows: ' + ', '.join(flow.imports) if flow.imports else ''})",
                     *path, "use")
            return None
        params = self.params(name, raw, kind, subflow, overrides)
        inputs = kind.inputs if kind else tuple(subflow.inputs)
        map_key, map_input = self.map_of(name, raw.get("map"), inputs)
        outputs = tuple(kind.outputs) if kind else tuple(subflow.outputs)
        in_map = self.renames(name, raw, "in", inputs, "inputs")
        out_map = self.renames(name, raw, "out", outputs, "outputs")
        if raw.get("into"):
            if len(outputs) != 1:
                self.err(f"node {name!r}: `into:` needs a node with one output; {use} has "
                         f"{', '.join(outputs)}: use `out:` instead", *path, "into")
            else:
                out_map[outputs[0]] = str(raw["into"])
        model = raw.get("model")
        if model is not None and model not in flow.models:
            self.err(f"node {name!r}: model {model!r} is not declared under `models:`"
                     f"{' (declared: ' + ', '.join(flow.models) + ')' if flow.models else ''}", *path, "model")
        return NodeSpec(name, use, kind, subflow, params,
                        {i: in_map.get(i, i) for i in inputs}, {o: out_map.get(o, o) for o in outputs},
                        map=map_key, map_input=map_input, model=model,
                        description=str(raw.get("description", "")))

    def map_of(self, name: str, raw: Any, inputs: tuple) -> tuple[str | None, str]:
        """`map: KEY` passes each item as the first input; `map: {INPUT: KEY}` as INPUT."""
        if raw is None:
            return None, ""
        if isinstance(raw, str) and raw:
            if not inputs:
                self.err(f"node {name!r} takes no inputs, so it cannot map over {raw!r}", "nodes", name, "map")
            return raw, inputs[0] if inputs else ""
        if isinstance(raw, dict) and len(raw) == 1:
            (input_, key), = raw.items()
            if input_ in inputs and isinstance(key, str) and key:
                return key, input_
            if input_ not in inputs:
                self.err(f"node {name!r}: `map:` names {input_!r}, which is not one of its inputs"
                         f"{_suggest(input_, inputs)}; inputs are: {', '.join(inputs) or 'none'}",
                         "nodes", name, "map", input_, key=True)
                return None, ""
        self.err(f"node {name!r}: `map:` is a state key (each item goes to the first input) or "
                 f"{{INPUT: KEY}}, e.g. `map: chunks` or `map: {{question: questions}}`", "nodes", name, "map")
        return None, ""

    def renames(self, name: str, raw: dict, field_: str, valid: tuple, what: str) -> dict[str, str]:
        value = raw.get(field_) or {}
        if not isinstance(value, dict):
            self.err(f"node {name!r}: `{field_}:` maps the node's {what} to state keys, e.g. "
                     f"{{question: subquestion}}", "nodes", name, field_)
            return {}
        for key in value:
            if key not in valid:
                self.err(f"node {name!r}: {key!r} is not one of its {what}{_suggest(key, valid)}; "
                         f"{what} are: {', '.join(valid) or 'none'}", "nodes", name, field_, key, key=True)
        return {k: str(v) for k, v in value.items() if k in valid}

    def params(self, name: str, raw: dict, kind: NodeKind | None, subflow: Flow | None,
               overrides: dict[str, Any]) -> dict[str, Any]:
        given = raw.get("with") or {}
        if not isinstance(given, dict):
            self.err(f"node {name!r}: `with:` maps parameter names to values", "nodes", name, "with")
            given = {}
        given = {**given, **{k.split(".", 1)[1]: v for k, v in overrides.items()
                             if k.split(".", 1)[0] == name and "." in k}}
        if subflow is not None:  # dotted overrides for the imported flow's own nodes: {read.concurrency: 8}
            own = MAP_PARAMS if raw.get("map") else {}
            for key, value in given.items():
                if key in own:
                    self.check_param(name, key, value, own[key], own, subflow.directory)
                    continue
                inner, _, param = str(key).partition(".")
                node = subflow.nodes.get(inner)
                if not param or node is None:
                    self.err(f"node {name!r}: parameters of an imported flow are set as NODE.PARAM; "
                             f"{key!r} names no node of {subflow.name} ({', '.join(subflow.nodes)})",
                             "nodes", name, "with", key, key=True)
                else:
                    table = param_table(node.kind, bool(node.map)) if node.kind else {}
                    self.check_param(name, key, value, table.get(param), table, subflow.directory)
            return {**{k: p.default for k, p in own.items()}, **given}
        table = param_table(kind, bool(raw.get("map")))
        for key, value in given.items():
            self.check_param(name, key, value, table.get(key), table, Path(self.src.file).resolve().parent)
        return {**{k: p.default for k, p in table.items()}, **{k: v for k, v in given.items() if k in table}}

    def check_param(self, name: str, key: str, value: Any, param: Param | None, table: dict,
                    base: Path) -> None:
        where = ("nodes", name, "with", key)
        if param is None:
            listing = ", ".join(f"{p.name} ({p.type_name}, default {p.default!r})" for p in table.values())
            self.err(f"node {name!r}: unknown parameter {key!r}{_suggest(str(key).split('.')[-1], table)}; "
                     f"parameters are: {listing or 'none'}", *where, key=True)
        elif not check_type(value, param.type):
            self.err(f"node {name!r}: parameter {key!r} must be {param.type_name}, got {value!r} "
                     f"({type(value).__name__})", *where)
        elif (param.minimum is not None and value < param.minimum) or \
                (param.maximum is not None and value > param.maximum):
            self.err(f"node {name!r}: parameter {key!r} must be {param.range_text}, got {value!r}", *where)
        elif is_file_param(param.name) and value:
            problem = self.file_problem(str(value), base)
            if problem:
                self.err(f"node {name!r}: parameter {key!r}: {problem}", *where)

    def file_problem(self, value: str, base: Path) -> str:
        """Why a template file a parameter names cannot be used ('' when it can): it must be a relative
        path, inside the flow's folder (or an allowed one), and exist (for one language at least)."""
        if Path(value).is_absolute():
            return (f"{value!r} is an absolute path; name a file relative to the flow's folder "
                    f"(or in a folder given with --allow-dir)")
        candidates = [(base / value.replace("{lang}", lang)).resolve() for lang in ("en", "zh")]
        if not all(inside(c, self.roots) for c in candidates):
            return (f"{value!r} is outside the flow's folder ({_listing(self.roots)}); keep templates beside "
                    f"the flow, or name their folder with --allow-dir")
        if not any(c.is_file() for c in candidates):
            return f"template file {value!r} not found (looked at {candidates[0]})"
        return ""

    # -- edges --------------------------------------------------------------------------------------
    def edges(self, raw: Any) -> list[EdgeSpec]:
        if not isinstance(raw, list):
            self.err("`edges:` is a list of chains ([START, a, b, END]) and conditional edges "
                     "({from: a, to: b, when: key})", "edges")
            return []
        out: list[EdgeSpec] = []
        for i, item in enumerate(raw):
            if isinstance(item, list):
                if len(item) < 2:
                    self.err("a chain needs at least two nodes, e.g. [START, load]", "edges", i)
                out += [EdgeSpec(str(a), str(b), at=("edges", i, j), to_at=("edges", i, j + 1))
                        for j, (a, b) in enumerate(zip(item, item[1:]))]
            elif isinstance(item, dict):
                out += self.mapping_edges(i, item)
            else:
                self.err("an edge is a chain [a, b, ...] or a mapping {from: a, to: b, ...}", "edges", i)
        return out

    def mapping_edges(self, i: int, item: dict) -> list[EdgeSpec]:
        """{from, to, when | otherwise, limit}, or a join {from: [a, b], to: c}: one EdgeSpec per source."""
        for key in item:
            if key not in EDGE_FIELDS:
                self.err(f"unknown edge field {key!r}{_suggest(key, EDGE_FIELDS)}; an edge has: "
                         f"{', '.join(sorted(EDGE_FIELDS))}", "edges", i, key, key=True)
        if "from" not in item or "to" not in item:
            self.err("a mapping edge needs `from:` and `to:`", "edges", i)
            return []
        if isinstance(item["from"], list):
            sources = [str(s) for s in item["from"]]
            if len(sources) < 2 or {"when", "otherwise", "limit"} & set(item):
                self.err("a join `{from: [a, b], to: c}` names two or more nodes and takes no `when:`, "
                         "`otherwise:` or `limit:`", "edges", i, "from")
                return []
            return [EdgeSpec(src, str(item["to"]), at=("edges", i, "from", j), to_at=("edges", i, "to"),
                             join=tuple(sources)) for j, src in enumerate(sources)]
        when = None
        if "when" in item:
            try:
                when = parse_condition(item["when"])
            except ConditionError as exc:
                line, col = self.src.where(("edges", i, "when"))
                self.errors.append(FlowError(str(exc), self.src.file, line, col + exc.col))
        limit = item.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            self.err(f"`limit:` is how many times the edge may be taken: a whole number >= 1, got {limit!r}",
                     "edges", i, "limit")
            limit = None
        if "when" in item and item.get("otherwise"):
            self.err("an edge has `when:` or `otherwise: true`, not both", "edges", i)
        return [EdgeSpec(str(item["from"]), str(item["to"]), when, bool(item.get("otherwise")), limit,
                         at=("edges", i, "from"), to_at=("edges", i, "to"))]


def param_table(kind: NodeKind, mapped: bool) -> dict[str, Param]:
    """A kind's parameters, plus the engine's map parameters when the node maps over a list."""
    return {**kind.params, **(MAP_PARAMS if mapped else {})}


def is_file_param(name: str) -> bool:
    """Parameters named `prompt` or `..._prompt` name a template file, relative to the flow's folder."""
    return name == "prompt" or name.endswith("_prompt")


def _listing(roots: tuple[Path, ...]) -> str:
    return ", ".join(str(r) for r in roots)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
