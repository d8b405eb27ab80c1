"""`engine bench perf`: what longflow itself costs beside the model, measured against a bound.

    engine bench perf --tokens 1000000 --latency 1.0 --concurrency 64
    engine bench perf --tokens 100000 --levels lv1,lv2           # seconds, not minutes
    engine bench perf --tokens 1000000 --docs 10 --levels lv2     # 10M tokens in one run
    engine bench local --tokens 8000                              # the embedded model, lv1 and lv2

A document of N tokens is cut from the shipped public-domain haystack (benchmarks/haystack), with a needle
in the middle. The model is the scripted OpenAI-compatible server (longflow.testing.scripted_server), run in its
own process so that its work does not share our interpreter, answering every call after `--latency`
seconds. Each level runs twice on the same document: cold (fresh caches) and warm (a second question).

The bound is what the same calls must cost at the least: sequential calls x latency, plus, for each map,
ceil(items / concurrency) x latency. wall / bound is the framework's overhead factor.
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]   # the bench runs from a checkout: its flows and haystack
ENGLISH_BOOKS = ("moby_dick.txt", "war_and_peace.txt")
HAYSTACK = REPO / "benchmarks" / "haystack"
NEEDLE = "The bicycle, a two-wheeled vehicle, was invented in 1817 by Karl Drais, in the 19th century."
SECOND = "Beethoven composed his Fifth Symphony between 1804 and 1808, early in the 19th century."
QUESTIONS = {"cold": "When was the bicycle invented?", "warm": "When did Beethoven compose his Fifth Symphony?"}
LV3_QUESTION = "What vehicle was invented in the same century as the Fifth Symphony was composed?"
LV3_WARM = "Which came first, the bicycle or the Fifth Symphony?"   # same sub-questions: reads cached
LV3_PLAN = ["When was the Fifth Symphony composed?", "What vehicle was invented in the {1:1[0-9]th century}?"]
FLOWS = REPO / "flows"


@dataclass
class Row:
    level: str
    phase: str
    wall: float
    bound: float
    calls: int
    prompt_tokens: int
    doc_tokens: int
    timings: dict
    rss_mb: float
    answer_ok: bool
    hits: dict

    def reuse(self) -> str:
        names = {"load_cache_hits": "load", "chunk_cache_hits": "chunk", "index_cache_hits": "index",
                 "cached_replies": "replies"}
        return ", ".join(f"{short} {self.hits.get(key, 0)}" for key, short in names.items())

    def cells(self) -> list[str]:
        t = self.timings
        outside = sum(t.get(k, 0.0) for k in ("load", "chunk", "index", "retrieve"))
        return [self.level, self.phase, f"{self.wall:.2f}", f"{self.bound:.2f}",
                f"{self.wall / self.bound:.3f}" if self.bound else "-",
                str(self.calls), f"{self.prompt_tokens / self.doc_tokens:.3f}", f"{outside:.3f}",
                *(f"{t.get(k, 0.0):.3f}" for k in ("load", "chunk", "index", "retrieve")),
                f"{self.rss_mb:.0f}", self.reuse(), "yes" if self.answer_ok else "NO"]


HEADER = ["level", "run", "wall s", "bound s", "wall/bound", "calls", "prompt/doc", "outside s", "load",
          "chunk", "index", "retrieve", "peak RSS MB", "cache hits", "answer ok"]


def build_documents(tokens: int, count: int, folder: Path) -> tuple[list[str], int]:
    """`count` documents of `tokens` tokens each, from different places in the haystack, with the
    needles at 1/2 and 3/4 depth. Returns their paths and the total token count."""
    from longflow.nodes.tokens import encode, tokenizer
    # The English books only: the figures are comparable across versions, and the Chinese classic (added
    # for `bench quality`) would make a third of this document Chinese, segmented by jieba.
    text = "\n".join((HAYSTACK / name).read_text(encoding="utf-8") for name in ENGLISH_BOOKS)
    ids = encode(text)
    paths, total = [], 0
    for i in range(count):
        start = (i * len(ids) // max(count, 1)) % len(ids)
        window = (ids[start:] + ids[:start]) * math.ceil(tokens / len(ids))
        body = tokenizer().decode(window[:tokens])
        half, three = body.index("\n", len(body) // 2), body.index("\n", 3 * len(body) // 4)
        body = f"{body[:half]}\n{NEEDLE}\n{body[half:three]}\n{SECOND}\n{body[three:]}"
        if count > 1:  # documents cut from one haystack overlap: number their paragraphs to make every
            body = body.replace("\n\n", f"\n\n[{i}] ")  # chunk distinct, so no read is a cache hit
        path = folder / f"doc{i}.txt"
        path.write_text(body, encoding="utf-8")
        paths.append(str(path))
        total += len(encode(body))
    return paths, total


class ServerProcess:
    """The scripted server in a child process."""

    def __init__(self, latency: float):
        args = [sys.executable, "-m", "longflow.testing.scripted_server", "--latency", str(latency),
                "--needle", NEEDLE, "--needle", SECOND, *sum((["--plan", p] for p in LV3_PLAN), [])]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()

    def stats(self) -> dict:
        import json
        import urllib.request
        with urllib.request.urlopen(f"{self.base_url}/stats", timeout=10) as reply:
            return json.loads(reply.read())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run_level(level: str, docs: list[str], doc_tokens: int, server: ServerProcess, latency: float,
              concurrency: int, phase: str) -> Row:
    from ..core.run import run_flow
    from ..core.runtime import Runtime
    question = (LV3_QUESTION if phase == "cold" else LV3_WARM) if level == "lv3" else QUESTIONS[phase]
    key = "ask.read.concurrency" if level == "lv3" else "read.concurrency"
    overrides = {key: concurrency} if level != "lv1" else {}
    runtime = Runtime(stream=None)
    before = server.stats()
    started = time.perf_counter()
    result = run_flow(FLOWS / f"{level}.yaml", documents=docs, question=question, model="bench",
                      base_url=server.base_url, overrides=overrides, runtime=runtime, cache=True, stream=None)
    wall = time.perf_counter() - started
    after = server.stats()
    calls = after["calls"] - before["calls"]
    reads = after["tasks"].get("read", 0) - before["tasks"].get("read", 0)
    maps = result.record["counters"].get("maps", 0)
    per_map = math.ceil(reads / maps) if maps else 0
    bound = latency * ((calls - reads) + maps * math.ceil(per_map / concurrency))
    # what answers the question asked: the year for Lv1/Lv2's questions, the vehicle and the earlier
    # work for Lv3's
    expected = {("lv3", "cold"): "bicycle", ("lv3", "warm"): "Symphony"}.get((level, phase),
                                                                           "1804" if phase == "warm" else "1817")
    return Row(level, phase, wall, bound, calls, after["prompt_tokens"] - before["prompt_tokens"], doc_tokens,
               result.record["timings"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               expected in result.answer, result.record["counters"])


def perf(args) -> int:
    levels = [lv.strip() for lv in args.levels.split(",") if lv.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LONGFLOW_CACHE"] = str(Path(tmp) / "cache")
        started = time.perf_counter()
        docs, doc_tokens = build_documents(args.tokens, args.docs, Path(tmp))
        print(f"documents: {args.docs} x {args.tokens:,} tokens ({doc_tokens:,} in all), built in "
              f"{time.perf_counter() - started:.1f}s; latency {args.latency}s, concurrency {args.concurrency}",
              flush=True)
        started = time.perf_counter()
        _import_everything()
        print(f"start-up (imports, tokenizer): {time.perf_counter() - started:.2f}s, not counted below",
              flush=True)
        server = ServerProcess(args.latency)
        rows = []
        try:
            for level in levels:
                for phase in ("cold", "warm"):
                    if phase == "cold":  # nothing from an earlier level, in memory or on disk
                        _forget_memory_caches()
                        os.environ["LONGFLOW_CACHE"] = str(Path(tmp) / f"cache-{level}")
                    rows.append(run_level(level, docs, doc_tokens, server, args.latency,
                                          args.concurrency, phase))
                    print(" | ".join(rows[-1].cells()), flush=True)
            unrecognised = server.stats().get("unrecognised", 0)
        finally:
            server.close()
    print()
    print(markdown_table(rows))
    if unrecognised:
        print(f"error: the scripted server had no rule for {unrecognised} prompt(s) (see above): the figures "
              f"do not measure the flows as they are", file=sys.stderr)
    return 0 if all(r.answer_ok for r in rows) and not unrecognised else 1


def _import_everything() -> None:
    """Pay for imports before timing: a cold run means cold caches, not a cold interpreter."""
    import langchain_openai  # noqa: F401
    import langgraph.graph  # noqa: F401

    from longflow.nodes.retrieve import build_index
    from longflow.nodes.tokens import tokenizer
    from ..core.registry import load_registry
    load_registry()
    tokenizer()
    build_index(["warm up the analyser and the index code"])


def _forget_memory_caches() -> None:
    """Cold means cold: drop the in-process chunk and index caches (the disk cache dir is fresh too)."""
    from longflow.nodes.documents import CHUNK_CACHE, FILE_CACHE, NORMALISED_CACHE
    from longflow.nodes.retrieve import INDEX_CACHE
    for cache in (CHUNK_CACHE, FILE_CACHE, NORMALISED_CACHE, INDEX_CACHE):
        cache.clear()


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def local(args) -> int:
    """Wall time of the flows with the embedded model on a document of --tokens tokens."""
    from .local_model import LocalServer
    from ..core.models import ModelConfig
    from ..core.run import run_flow
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LONGFLOW_CACHE"] = str(Path(tmp) / "cache")  # no reply from an earlier run
        docs, doc_tokens = build_documents(args.tokens, 1, Path(tmp))
        started = time.perf_counter()
        with LocalServer(args.size) as server:
            print(f"server {server.model_name} started in {time.perf_counter() - started:.1f}s; document "
                  f"{doc_tokens:,} tokens", flush=True)
            ok = True
            for level in [lv.strip() for lv in args.levels.split(",") if lv.strip()]:
                started = time.perf_counter()
                model = ModelConfig(model=server.model_name, base_url=server.base_url,
                                    max_concurrency=server.max_concurrency)
                result = run_flow(FLOWS / f"{level}.yaml", documents=docs, question=QUESTIONS["cold"],
                                  model=model, stream=None)
                wall, rec = time.perf_counter() - started, result.record
                ok &= "1817" in result.answer
                print(f"{level}: {wall:.1f}s wall, {rec['model_calls']} calls, {rec['prompt_tokens']:,} prompt "
                      f"+ {rec['completion_tokens']:,} completion tokens, model time {rec['model_seconds']:.1f}s; "
                      f"answer {result.answer[:80]!r}", flush=True)
    return 0 if ok else 1


def add_parser(sub) -> None:
    bench = sub.add_parser("bench", help="benchmarks: `engine bench perf --tokens 1000000`")
    kinds = bench.add_subparsers(required=True, metavar="BENCH")
    p = kinds.add_parser("perf", help="framework overhead against a latency-only model",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=1_000_000, help="tokens per document")
    p.add_argument("--docs", type=int, default=1, help="documents in the run")
    p.add_argument("--latency", type=float, default=1.0, help="seconds per model call")
    p.add_argument("--concurrency", type=int, default=64, help="the read map's concurrency")
    p.add_argument("--levels", default="lv1,lv2,lv3")
    p.set_defaults(handler=perf)
    q = kinds.add_parser("local", help="wall time of the flows with the embedded model")
    q.add_argument("--tokens", type=int, default=8000)
    q.add_argument("--size", default="0.5b", choices=["0.5b", "1.5b"])
    q.add_argument("--levels", default="lv1,lv2")
    q.set_defaults(handler=local)
    from .quality.command import add_parser as add_quality
    add_quality(kinds)
