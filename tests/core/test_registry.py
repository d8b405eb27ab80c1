"""Node kinds: what a signature declares, type checks, and plugins found through entry points."""
from __future__ import annotations

import sys
import types
from typing import Literal

import pytest

from longflow.core import registry
from longflow.core.registry import check_type, describe, load_registry, node


def test_signature_is_the_contract():
    def kind(chunks: list, question: str | None = None, *, tokens: int = 512,
             mode: Literal["a", "b"] = "a", ctx=None) -> dict:
        """First line.

        More."""
        return {}
    k = describe(kind, {"out": "str"}, param_docs={"tokens": "how many"})
    assert k.inputs == ("chunks", "question") and k.optional_inputs == {"question"}
    assert list(k.params) == ["tokens", "mode"] and k.params["tokens"].doc == "how many"
    assert k.params["mode"].type_name == "'a' | 'b'" and k.takes_ctx and k.summary == "First line."


def test_parameters_need_defaults():
    def bad(x, *, n: int) -> dict:
        return {}
    with pytest.raises(TypeError, match="parameter 'n' needs a default"):
        describe(bad, ["y"])


@pytest.mark.parametrize("value, tp, ok", [
    (3, int, True), (True, int, False), (3, float, True), ("3", int, False), (["a"], list[str], True),
    ([1], list[str], False), ("b", Literal["a", "b"], True), ("c", Literal["a", "b"], False),
    (None, int | None, True), ({"a": 1}, dict, True),
])
def test_check_type(value, tp, ok):
    assert check_type(value, tp) is ok


def test_plugins_come_from_entry_points(monkeypatch):
    module = types.ModuleType("my_plugin")

    @node(outputs={"shout": "str"})
    def shout(text: str, *, times: int = 1) -> dict:
        """Shout the text."""
        return {"shout": text.upper() * times}
    shout.__module__ = module.__name__
    shout.node_kind = describe(shout, {"shout": "str"})
    module.shout = shout
    monkeypatch.setitem(sys.modules, "my_plugin", module)

    class EntryPoint:
        value, dist = "my_plugin", None

        def load(self):
            return module
    installed = registry.entry_points
    monkeypatch.setattr(registry, "entry_points", lambda group: [*installed(group=group), EntryPoint()])
    reg = load_registry()
    assert reg.get("shout").source == "my_plugin" and reg.get("shout").params["times"].default == 1
    assert reg.get("chunk").source == "builtin"  # the node library, published the way plugins are
    assert load_registry(plugins=False).get("shout") is None
