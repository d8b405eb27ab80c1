"""`engine synth verify qa.jsonl`: question/answer pairs made elsewhere (another model, another pipeline)
cross-checked by the agent: it answers each question on its document, and a pair is kept only when the
two answers agree (the same F1, threshold and optional judge as `generate`).

Pairs are checked `--workers` at once, balanced across the `--base-url`s. Each line of the input:
{"document": PATH, "question": "...", "answer": "..."} (PATH relative to the
input file's folder, or to the current one), or "text" with the document itself instead of "document";
an "id" is kept if given. Every line is checked before any model is asked.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from longflow.core.models import ModelConfig
from longflow.nodes.tokens import language_of

from . import jsonl, samples
from .agent import ask
from .corpus import DocRef, cached_flow, chunk_tokens, load
from .executors import Balancer, in_threads
from .filters import Verdict, check_agreement, check_format, refuses
from .generate import Paths, write_atomically
from .worker import Settings, _judge, _proposer

LINE_FORM = 'each line is one JSON object: {"document": "PATH", "question": "...", "answer": "..."}'


@dataclass(frozen=True)
class Pair:
    line: int
    doc: DocRef
    question: str
    answer: str
    given_id: str = ""


def read_pairs(path: Path) -> list[Pair]:
    """Every pair in the file, or ValueError naming the first bad line, what is wrong and the form wanted."""
    path = Path(path)
    pairs = []
    for where, n, row in jsonl.objects(path, LINE_FORM):
        for key in ("question", "answer"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ValueError(f"{where}: no {key!r} string; {LINE_FORM}")
        pairs.append(Pair(n, _document(row, path, where), row["question"].strip(), row["answer"].strip(),
                          str(row.get("id", ""))))
    if not pairs:
        raise ValueError(f"{path}: no pairs in it; {LINE_FORM}")
    return pairs


def _document(row: dict, source: Path, where: str) -> DocRef:
    if isinstance(row.get("text"), str) and row["text"].strip():
        return DocRef(f"{source.name}:{where.rsplit(':', 1)[1]}", text=row["text"])
    name = row.get("document")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: no 'document' path (or 'text'); {LINE_FORM}")
    for candidate in (source.parent / name, Path(name)):
        if candidate.is_file():
            return DocRef(name, str(candidate))
    raise ValueError(f"{where}: the document {name!r} is not found (looked beside {source} and in the current "
                     f"folder); give a path relative to either")


def verify(pairs: list[Pair], out: Path, settings: Settings, config: ModelConfig, *, base_urls: list[str] = (),
           workers: int = 1, stream: TextIO | None = sys.stderr) -> dict:
    """Each pair checked by the agent, `workers` at once, balanced across `base_urls` (default: the
    config's); lines written as they finish."""
    paths = Paths(Path(out))
    flow = cached_flow(settings.flow, settings.overrides)
    done = set(jsonl.ids(paths.samples)) | set(jsonl.ids(paths.rejected))
    counts: Counter = Counter()
    ctx = _proposer(config, settings.cache) if settings.judge else None
    judge = (lambda q, a, b: _judge(ctx, q, a, b)) if ctx else None
    started = time.perf_counter()
    try:
        with jsonl.JsonlWriter(paths.samples) as kept, jsonl.JsonlWriter(paths.rejected) as rejected:
            balancer = Balancer(list(base_urls) or [config.base_url])

            def work(pair: Pair, url: str) -> tuple:
                return _one(pair, flow, replace(config, base_url=url), settings, done, judge)
            for n, (pair, outcome) in enumerate(in_threads(pairs, work, balancer, workers), 1):
                try:
                    row, verdict, spent = outcome()
                except Exception as exc:  # noqa: BLE001 - a bug in one pair's check: that pair is rejected
                    verdict = Verdict(False, f"run: {type(exc).__name__}: {exc}"[:500])
                    row, spent = samples.rejected(pair.given_id or f"line{pair.line}", pair.question, pair.answer,
                                                  verdict.reason, {"line": pair.line}), Counter(rejected_run=1)
                counts.update(spent)
                if row is not None:
                    (kept if verdict.passed else rejected).write(row)
                    kept.sync() if verdict.passed else rejected.sync()
                if stream is not None:
                    spent_s = time.perf_counter() - started
                    eta = spent_s / n * (len(pairs) - n)
                    stream.write(f"[{n}/{len(pairs)}] line {pair.line}: "
                                 f"{'kept' if verdict.passed else verdict.reason[:160]}; ETA {eta:.0f}s\n")
                    stream.flush()
    finally:
        if ctx is not None and ctx.replies is not None:
            ctx.replies.close()
        seconds = time.perf_counter() - started
        rejected_by = {k[len("rejected_"):]: v for k, v in sorted(counts.items()) if k.startswith("rejected_")}
        summary = {"pairs": len(pairs), "kept": counts["kept"], "rejected": rejected_by,
                   "rejected_total": sum(rejected_by.values()), "skipped_done_samples": counts["skipped"],
                   "model_calls": counts["calls"], "prompt_tokens": counts["prompt_tokens"],
                   "completion_tokens": counts["completion_tokens"], "seconds": round(seconds, 1),
                   "files": {"samples": str(paths.samples), "rejected": str(paths.rejected)}}
        write_atomically(paths.summary, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary


def _one(pair: Pair, flow, config: ModelConfig, settings: Settings, done: set, judge) -> tuple:
    """(the line to write, or None when done before; the verdict; what it counted)."""
    counts: Counter = Counter()
    try:
        doc = load(pair.doc, chunk_tokens(flow) or 512)
    except ValueError as exc:
        counts["rejected_document"] += 1
        return samples.rejected(pair.given_id or f"line{pair.line}", pair.question, pair.answer,
                                f"document: {exc}", {"line": pair.line}), Verdict(False, f"document: {exc}"), counts
    id_ = pair.given_id or samples.sample_id(doc.document["sha256"], pair.question, f"verify:{flow.name}")
    if id_ in done:
        counts["skipped"] += 1
        return None, Verdict(True), counts
    lang = language_of(pair.question)
    meta = {"flow": flow.name, "model": config.model, "kind": "given", "lang": lang, "line": pair.line,
            "document": {"id": pair.doc.id, "tokens": doc.tokens, "chunks": len(doc.chunks),
                         "sha256": doc.document["sha256"]}}
    agent = ask(flow, doc.document, pair.question, config, settings.cache)
    counts.update(calls=agent.calls, prompt_tokens=agent.prompt_tokens, completion_tokens=agent.completion_tokens)
    meta.update(agent_answer=agent.answer, evidence_chunks=agent.chunks)
    if settings.trajectory and agent.trajectory:
        meta["trajectory"] = agent.trajectory
    verdict = Verdict(False, f"run: {agent.error}") if agent.error else \
        check_format(pair.answer, pair.question, unanswerable=refuses(pair.answer, lang),
                     max_tokens=settings.max_answer_tokens)
    if verdict.passed:
        verdict = check_agreement(pair.answer, agent.answer, pair.question, settings.agreement, judge=judge)
        meta["agreement"] = {"score": verdict.score, "second_answer": agent.answer, "flow": flow.name}
    meta["filters"] = {verdict.reason.split(":")[0] or "agreement": verdict.to_dict()}
    if not verdict.passed:
        counts[f"rejected_{verdict.reason.split(':')[0]}"] += 1
        return samples.rejected(id_, pair.question, pair.answer, verdict.reason, meta), verdict, counts
    counts["kept"] += 1
    return samples.line(id_, [doc.text], pair.question, pair.answer, lang, meta), verdict, counts

