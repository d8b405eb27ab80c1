"""Shared fixtures: a private cache per test, and a registry of toy node kinds for engine tests."""
from __future__ import annotations

import time

import pytest

from longflow.core.registry import Registry, describe


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """No test sees another's chunkings, indexes or model replies."""
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "cache"))


def split(text: str) -> dict:
    return {"items": text.split()}


def shout(item: str, suffix: str | None = None, *, bang: bool = False) -> dict:
    return {"out": item.upper() + (suffix or "") + ("!" if bang else "")}


def join(outs: list, *, sep: str = " ") -> dict:
    return {"joined": sep.join(outs)}


def count(n: int | None = None, *, step: int = 1) -> dict:
    return {"n": (n or 0) + step}


def slow(text: str, *, seconds: float = 0.05) -> dict:
    time.sleep(seconds)
    return {"done": text}


TOY_KINDS = {split: ["items"], shout: ["out"], join: ["joined"], count: ["n"], slow: ["done"]}


@pytest.fixture
def toy_registry() -> Registry:
    reg = Registry()
    for func, outputs in TOY_KINDS.items():
        reg.add(describe(func, outputs))
    return reg


SUB_FLOW = """\
flow: sub
inputs: [text]
outputs: [joined]
nodes:
  split: {use: split}
  shout: {use: shout, map: items, into: outs}
  join:  {use: join}
edges:
  - [START, split, shout, join, END]
"""


@pytest.fixture
def sub_flow_file(tmp_path):
    """sub.yaml in tmp_path: split text into words, shout each (a map), join them."""
    path = tmp_path / "sub.yaml"
    path.write_text(SUB_FLOW)
    return path


@pytest.fixture
def main_flow_file(sub_flow_file):
    """main.yaml beside sub.yaml: runs sub as its node `run`, renaming words -> text, joined -> result,
    and setting the imported flow's shout.bang."""
    path = sub_flow_file.parent / "main.yaml"
    path.write_text("""\
flow: main
imports: {sub: sub.yaml}
inputs: [words]
outputs: [result]
nodes:
  run: {use: sub, in: {text: words}, out: {joined: result}, with: {shout.bang: true}}
edges:
  - [START, run, END]
""")
    return path
