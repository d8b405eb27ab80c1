"""YAML that remembers where each value came from, so that every error can say file:line:col."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple  # a path into the document: ("nodes", "read", "with", "concurrency")

# A flow file is untrusted: plain YAML values only (no language-specific tags such as !!python/...), and
# a bound on how many values aliases may expand it to (a few lines of nested aliases make billions).
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
MAX_VALUES = 100_000
MAX_FLOW_BYTES = 1_000_000


@dataclass
class FlowError(Exception):
    """One problem in a flow file, with its place and what would be valid."""
    message: str
    file: str = "<flow>"
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class FlowErrors(Exception):
    """All the problems found in a flow (validation reports every one, not just the first)."""

    def __init__(self, errors: list[FlowError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@dataclass
class Source:
    """A parsed YAML file: plain Python data plus the line:col (1-based) of every key and value."""
    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """Position of the value (or of its key) at `path`, else of the nearest enclosing value."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        while path:
            path = path[:-1]
            if path in self.values:
                return self.values[path]
        return (1, 1)

    def error(self, message: str, path: Path_ = (), key: bool = False) -> FlowError:
        line, col = self.where(tuple(path), key)
        return FlowError(message, self.file, line, col)


def parse_yaml(text: str, file: str = "<flow>") -> Source:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:   # a control character: no mark, a character position
        before = text[:exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        raise FlowErrors([FlowError(f"invalid YAML: the control character #x{exc.character:04x} is not "
                                    f"allowed in a flow file; delete it", file, line, col)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        started = ""
        if exc.context and exc.context_mark and exc.problem_mark:
            started = (f" ({exc.context} that starts at line {exc.context_mark.line + 1}, column "
                       f"{exc.context_mark.column + 1})")
        raise FlowErrors([FlowError(f"invalid YAML: {exc.problem or exc.context}{started}. Check the "
                                    f"brackets, indentation and quoting (strings with ': ' or ' #' need "
                                    f"quotes).", file, line, col)]) from None
    except RecursionError:
        raise FlowErrors([_too_deep(file)]) from None
    except yaml.YAMLError as exc:   # anything else the parser refuses
        raise FlowErrors([FlowError(f"invalid YAML: {str(exc)[:200]}", file, 1, 1)]) from None
    source = Source(file, None)
    try:
        source.data = _build(root, (), source, [0]) if root is not None else {}
    except RecursionError:
        raise FlowErrors([_too_deep(file)]) from None
    return source


def _too_deep(file: str) -> FlowError:
    return FlowError("invalid YAML: nested too deeply; a flow file is a few levels of mappings and lists",
                     file, 1, 1)


def load_source(path: str | Path) -> Source:
    """A flow file: a regular file (not a pipe or a device, which would hang), of at most
    MAX_FLOW_BYTES, in UTF-8."""
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_FLOW_BYTES:
            raise FlowErrors([FlowError(f"not a flow file: a flow file is a regular file of at most "
                                        f"{MAX_FLOW_BYTES // 1000} kB", str(path), 1, 1)])
        return parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise FlowErrors([FlowError(f"not UTF-8 text (byte {exc.start}): save the flow file as UTF-8",
                                    str(path), 1, 1)]) from None
    except OSError as exc:
        raise FlowErrors([FlowError(f"cannot read the flow file: {exc.strerror}", str(path), 1, 1)]) from None


def _build(node: yaml.Node, path: Path_, source: Source, count: list[int]) -> Any:
    here = (node.start_mark.line + 1, node.start_mark.column + 1)
    count[0] += 1
    if count[0] > MAX_VALUES:
        raise FlowErrors([FlowError(f"the file expands to more than {MAX_VALUES:,} values (through YAML "
                                    f"aliases?): a flow file this large is refused", source.file, *here)])
    if node.tag not in PLAIN_TAGS:
        raise FlowErrors([FlowError(f"unsupported YAML tag {node.tag!r}: a flow file holds plain values "
                                    f"(strings, numbers, booleans, null, lists and mappings)",
                                    source.file, *here)])
    source.values[path] = here
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in PLAIN_TAGS:
                raise FlowErrors([FlowError("a mapping key must be a plain value (a name or a number)",
                                            source.file, key_node.start_mark.line + 1,
                                            key_node.start_mark.column + 1)])
            key = _scalar(key_node)
            if key in out:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise FlowErrors([FlowError(f"duplicate key {key!r}: each key may appear once here",
                                            source.file, line, col)])
            source.keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, path + (key,), source, count)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), source, count) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)
