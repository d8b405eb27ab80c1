"""Node kinds: what a flow's `use:` can name.

A node kind is a plain function. Its signature is its contract:

    @node(outputs={"chunks": "list[Chunk]"})
    def chunk(documents: list, *, tokens: int = 512, ctx: Context) -> dict:
        "Split documents into ~`tokens`-token chunks."
        ...
        return {"chunks": [...]}

- parameters before `*` are inputs, read from the flow state (a default makes one optional);
- keyword-only parameters are the node's parameters, set in YAML under `with:` (their annotations are
  the types `engine validate` checks, their defaults the defaults);
- a keyword-only `ctx` receives the run's `Context` (models, prompts, record, progress);
- the docstring is the node's documentation (`engine nodes`, README).

Plugins add kinds through the entry-point group `longflow.nodes`: each entry point names a module (whose
`@node` functions register on import) or a single decorated function.
"""
from __future__ import annotations

import difflib
import inspect
import typing
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable

ENTRY_POINT_GROUP = "longflow.nodes"
BUILTIN_DISTRIBUTION = "longflow"   # whose entry points are the built-in kinds (the node library)


@dataclass(frozen=True)
class Range:
    """The values a numeric parameter may take, declared in its annotation:
    `budget_tokens: Annotated[int, Range(minimum=1)] = 6000`. `engine validate` checks it."""
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Param:
    name: str
    type: Any
    default: Any
    doc: str = ""
    minimum: float | None = None       # the least value a number may take
    maximum: float | None = None       # the greatest

    @property
    def range_text(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f">= {self.minimum:g}"
        return f"<= {self.maximum:g}" if self.maximum is not None else ""

    @property
    def type_name(self) -> str:
        return type_name(self.type)


@dataclass(frozen=True)
class NodeKind:
    name: str
    func: Callable[..., dict]
    inputs: tuple[str, ...]
    optional_inputs: frozenset[str]
    outputs: dict[str, str]
    params: dict[str, Param]
    doc: str
    uses_model: bool = False
    source: str = "builtin"
    takes_ctx: bool = False

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


@dataclass
class Registry:
    kinds: dict[str, NodeKind] = field(default_factory=dict)

    def add(self, kind: NodeKind) -> None:
        self.kinds[kind.name] = kind

    def get(self, name: str) -> NodeKind | None:
        return self.kinds.get(name)

    def closest(self, name: str) -> list[str]:
        return difflib.get_close_matches(name, list(self.kinds), n=3, cutoff=0.5)

    def __iter__(self):
        return iter(sorted(self.kinds.values(), key=lambda k: k.name))


def node(outputs: dict[str, str] | list[str], *, name: str | None = None, uses_model: bool = False,
         param_docs: dict[str, str] | None = None):
    """Declare a function as a node kind (see the module docstring)."""
    def decorate(func: Callable[..., dict]) -> Callable[..., dict]:
        kind = describe(func, outputs, name=name, uses_model=uses_model, param_docs=param_docs or {})
        func.node_kind = kind  # type: ignore[attr-defined]
        return func
    return decorate


def describe(func, outputs, *, name=None, uses_model=False, param_docs=None) -> NodeKind:
    hints = typing.get_type_hints(func, include_extras=True)
    inputs, optional, params = [], set(), {}
    for p in inspect.signature(func).parameters.values():
        if p.name == "ctx":
            continue
        if p.kind is p.KEYWORD_ONLY:
            if p.default is p.empty:
                raise TypeError(f"{func.__name__}: parameter {p.name!r} needs a default")
            tp, limits = _range_of(hints.get(p.name, type(p.default)))
            params[p.name] = Param(p.name, tp, p.default, (param_docs or {}).get(p.name, ""),
                                   limits.minimum, limits.maximum)
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY):
            inputs.append(p.name)
            if p.default is not p.empty:
                optional.add(p.name)
    outs = dict(outputs) if isinstance(outputs, dict) else {o: "any" for o in outputs}
    takes_ctx = "ctx" in inspect.signature(func).parameters
    return NodeKind(name or func.__name__, func, tuple(inputs), frozenset(optional), outs, params,
                    inspect.getdoc(func) or "", uses_model, func.__module__, takes_ctx)


def _range_of(tp: Any) -> tuple[Any, Range]:
    """(the type, its Range) from an annotation that may be `Annotated[type, Range(...)]`."""
    if typing.get_origin(tp) is typing.Annotated:
        base, *extras = typing.get_args(tp)
        return base, next((e for e in extras if isinstance(e, Range)), Range())
    return tp, Range()


def type_name(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " | ".join(type_name(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) is not None:
        args = ", ".join(type_name(a) for a in typing.get_args(tp))
        return f"{typing.get_origin(tp).__name__}[{args}]"
    return getattr(tp, "__name__", str(tp))


def check_type(value: Any, tp: Any) -> bool:
    """Is a YAML value acceptable for a parameter annotated `tp`?"""
    if tp is Any:
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(check_type(value, a) for a in args)
    if origin in (list, tuple):
        return isinstance(value, list) and all(check_type(v, args[0]) for v in value) if args else \
            isinstance(value, list)
    if origin is dict:
        return isinstance(value, dict)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is type(None):
        return value is None
    return isinstance(value, tp)


def load_registry(plugins: bool = True) -> Registry:
    """The kinds published in the `longflow.nodes` entry-point group: longflow's own node library (the
    built-ins) first, then, with `plugins`, every other distribution's. The core imports no node module
    by name."""
    reg = Registry()
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: not _builtin(ep))
    for ep in found:
        if not _builtin(ep) and not plugins:
            continue
        obj = ep.load()
        source = "builtin" if _builtin(ep) else ep.value
        if hasattr(obj, "node_kind"):
            reg.add(_with_source(obj.node_kind, source))
        else:
            _register_module(reg, obj, source)
    return reg


def _builtin(ep) -> bool:
    dist = getattr(ep, "dist", None)
    return dist is not None and dist.name == BUILTIN_DISTRIBUTION


def _register_module(reg: Registry, module, source: str) -> None:
    for obj in list(vars(module).values()):
        kind = getattr(obj, "node_kind", None)
        if isinstance(kind, NodeKind) and kind.source == module.__name__:
            reg.add(_with_source(kind, source))


def _with_source(kind: NodeKind, source: str) -> NodeKind:
    from dataclasses import replace
    return replace(kind, source=source)
