"""longflow: question documents far longer than your model's context window.

    from longflow import load_flow, run_flow
    flow = load_flow("flows/lv2.yaml")
    result = run_flow(flow, documents=["book.txt"], question="...")

The package's layers, each importing only those before it:
    longflow.core      YAML -> spec -> validated flow -> compiled LangGraph graph -> run (knows no node kind)
    longflow.nodes     the node library: documents, BM25, reading, answering, reasoning, their prompts
    longflow.apps      the `engine` command, benchmarks, the embedded model, diagrams
    longflow.testing   test doubles (the scripted OpenAI-compatible server)

Imports are lazy so that `engine validate` and `engine graph` never pay for langgraph.
"""
from __future__ import annotations

from .core.context import Context
from .core.registry import node
from .core.spec import Flow, load_flow, parse_flow
from .core.yamlsource import FlowError, FlowErrors


def run_flow(*args, **kwargs):
    from .core.run import run_flow as run
    return run(*args, **kwargs)


__all__ = ["Context", "Flow", "FlowError", "FlowErrors", "load_flow", "parse_flow", "node", "run_flow"]
