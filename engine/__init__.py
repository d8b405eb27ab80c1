"""longflow's engine: YAML flows -> validated specs -> LangGraph graphs -> runs.

    from engine import load_flow, run_flow
    flow = load_flow("flows/lv2.yaml")
    result = run_flow(flow, documents=["book.txt"], question="...")

Imports are lazy so that `engine validate` and `engine graph` never pay for langgraph.
"""
from __future__ import annotations

from .context import Context
from .registry import node
from .spec import Flow, load_flow, parse_flow
from .yamlsource import FlowError, FlowErrors


def run_flow(*args, **kwargs):
    from .run import run_flow as run
    return run(*args, **kwargs)


__all__ = ["Context", "Flow", "FlowError", "FlowErrors", "load_flow", "parse_flow", "node", "run_flow"]
