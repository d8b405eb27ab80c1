"""Everything done for one document, in one function of picklable arguments: what an executor runs
(on a thread here, or a Ray worker anywhere).

Per document: load and chunk it as the flow does; plan where questions come from (seeded by the run's
seed and the document's id, so that any worker, in any order, proposes the same ones); propose; skip
those already done (by sample id); drop near-duplicates; answer with the flow; check format and
grounding; answer again independently and check agreement. Every sample and every rejection is returned
for the driver to write.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from longflow.core.context import Context
from longflow.core.models import ModelClient, ModelConfig, chat_model
from longflow.core.record import RunRecord
from longflow.nodes.bm25_text import analyze
from longflow.nodes.tokens import language_of

from . import samples
from .agent import AgentAnswer, ask
from .corpus import DocRef, LoadedDocument, cached_flow, chunk_tokens, load
from .filters import Dedup, Verdict, check_agreement, check_format, check_grounding
from .propose import Proposal, Seed, plan, propose, template


@dataclass(frozen=True)
class Settings:
    flow: str                          # the agent's flow file
    check_flow: str = ""               # the second answer's flow file; "" = another sample of `flow`
    check_temperature: float = 0.7     # that sample's temperature (a second flow keeps the model's)
    overrides: tuple = ()              # --set NODE.PARAM=VALUE, as (key, value) pairs
    check_overrides: tuple = ()        # --check-set, for check_flow
    model: tuple = ()                  # ModelConfig fields but base_url, as (key, value) pairs
    seed: int = 0
    single: int = 2                    # single-hop questions per document
    multi: int = 1                     # multi-hop questions per document
    unanswerable: int = 0              # questions from another document that this one cannot answer
    agreement: float = 0.5             # the least F1 of the two answers' own words
    judge: bool = False                # ask a judge prompt when the F1 is below it
    proposer_check: bool = True        # a generated question's answer must also agree with the proposer's
    max_answer_tokens: int = 200
    dedup: float = 0.8                 # Jaccard of two questions' terms at which they are one
    trajectory: bool = False           # keep Lv3's sub-questions and sub-answers in the metadata
    cache: bool = True                 # the reply cache ($LONGFLOW_CACHE/replies.sqlite)


@dataclass(frozen=True)
class DocTask:
    ref: DocRef
    base_url: str = ""
    done: frozenset = frozenset()      # sample ids already written (kept or rejected)
    other: DocRef | None = None        # where unanswerable questions come from
    given: tuple = ()                  # questions from --questions: ({"question", "chunks"?, "unanswerable"?})


@dataclass
class DocResult:
    ref: DocRef
    sha256: str = ""
    samples: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    error: str = ""


def process(task: DocTask, settings: Settings) -> DocResult:
    """One document, start to end. A document that cannot be read is a result with `error` set."""
    started = time.perf_counter()
    result = DocResult(task.ref)
    flow = cached_flow(settings.flow, settings.overrides)
    try:
        doc = load(task.ref, chunk_tokens(flow) or 512)
    except ValueError as exc:
        result.error = str(exc)
        return result
    result.sha256 = doc.document["sha256"]
    model = dict(settings.model)
    config = replace(ModelConfig(**model), base_url=task.base_url or model.get("base_url", ""))
    ctx = _proposer(config, settings.cache)
    try:
        rng = random.Random(f"{settings.seed}|{task.ref.id}")
        seeds = plan(doc.chunks, rng, settings.single, settings.multi)
        proposals = [propose(ctx, seed, doc.chunks) for seed in seeds]
        if settings.unanswerable and task.other is not None:
            proposals += _unanswerable(ctx, doc, task.other, rng, settings)
        proposals += [_given(item, len(doc.chunks)) for item in task.given]
        dedup = Dedup(settings.dedup)
        for proposal in proposals:
            _one(proposal, doc, flow, config, settings, dedup, task.done, ctx, result)
    finally:
        if ctx.replies is not None:
            ctx.replies.close()
    record = ctx.record
    result.stats.update(calls=record.model_calls, prompt_tokens=record.prompt_tokens,
                        completion_tokens=record.completion_tokens)
    result.stats["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _one(proposal: Proposal, doc: LoadedDocument, flow, config: ModelConfig, settings: Settings, dedup: Dedup,
         done: frozenset, ctx: Context, result: DocResult) -> None:
    seed, question = proposal.seed, proposal.question
    result.stats["proposed"] += 1
    id_ = samples.sample_id(doc.document["sha256"], question or f"(none from {seed.chunks})", flow.name)
    meta = {"flow": flow.name, "model": config.model, "kind": seed.kind,
            "lang": language_of(question or doc.text[:2000]),
            "document": {"id": doc.ref.id, "tokens": doc.tokens, "chunks": len(doc.chunks),
                         "sha256": doc.document["sha256"]},
            "proposed_from": seed.chunks, "proposed_answer": proposal.answer, "seed": settings.seed}
    if seed.entity:
        meta["entity"] = seed.entity
    if seed.source:
        meta["question_from"] = seed.source
    if id_ in done:
        result.stats["skipped"] += 1
        return
    filters: dict[str, dict] = {}

    def reject(verdict: Verdict, answer: str = "") -> None:
        name = verdict.reason.split(":")[0]
        filters[name] = verdict.to_dict()
        result.stats[f"rejected_{name}"] += 1
        result.rejects.append(samples.rejected(id_, question, answer, verdict.reason, {**meta, "filters": filters}))

    if proposal.rejected is not None:
        return reject(proposal.rejected)
    verdict = dedup.check(question)
    filters["dedup"] = verdict.to_dict()
    if not verdict.passed:
        return reject(verdict)
    unanswerable = seed.kind == "unanswerable"
    first = ask(flow, doc.document, question, config, settings.cache)
    _spent(result, first)
    if first.error:
        return reject(Verdict(False, f"run: {first.error}"))
    meta.update(evidence_chunks=first.chunks, seconds=first.seconds,
                calls=first.calls, prompt_tokens=first.prompt_tokens, completion_tokens=first.completion_tokens)
    if settings.trajectory and first.trajectory:
        meta["trajectory"] = first.trajectory
    used = {i: doc.chunks[i]["text"] for i in first.chunks if i < len(doc.chunks)}
    for name, verdict in (("format", check_format(first.answer, question, unanswerable=unanswerable,
                                                  max_tokens=settings.max_answer_tokens)),
                          ("grounding", check_grounding(first.answer, question, used,
                                                        None if unanswerable else seed.chunks,
                                                        unanswerable=unanswerable))):
        if not verdict.passed:
            return reject(verdict, first.answer)
        filters[name] = verdict.to_dict()
    judge = (lambda q, a, b: _judge(ctx, q, a, b)) if settings.judge else None
    meta["agreement"] = {}
    if settings.proposer_check and proposal.answer and not unanswerable:
        # The proposer saw the chunk; the agent had to find it: a round trip that costs no call. Both
        # answers being wrong alike ("the first powered aeroplane in Europe was the clock") passes the
        # second answer's check, not this one.
        verdict = check_agreement(first.answer, proposal.answer, question, settings.agreement, judge=judge)
        meta["agreement"]["proposed_score"] = verdict.score
        if not verdict.passed:
            return reject(Verdict(False, "agreement: with the proposer's answer: " +
                                  verdict.reason.removeprefix("agreement: ").replace("the second answer", "it"),
                                  verdict.score), first.answer)
    second = _second_answer(doc, question, config, settings)
    _spent(result, second)
    if second.error:
        return reject(Verdict(False, f"agreement: the second run failed: {second.error}"), first.answer)
    verdict = check_agreement(first.answer, second.answer, question, settings.agreement,
                              unanswerable=unanswerable, judge=judge)
    meta["agreement"].update(score=verdict.score, second_answer=second.answer,
                             flow=cached_flow(settings.check_flow, settings.check_overrides).name
                             if settings.check_flow else f"{flow.name} (another sample)")
    if not verdict.passed:
        return reject(verdict, first.answer)
    filters["agreement"] = verdict.to_dict()
    result.stats["kept"] += 1
    result.samples.append(samples.line(id_, [doc.text], question, first.answer, meta["lang"],
                                       {**meta, "filters": filters}))


def _second_answer(doc: LoadedDocument, question: str, config: ModelConfig, settings: Settings) -> AgentAnswer:
    """Another flow on the same model, or another sample of the same flow at a temperature."""
    if settings.check_flow:
        return ask(cached_flow(settings.check_flow, settings.check_overrides), doc.document, question, config,
                   settings.cache)
    return ask(cached_flow(settings.flow, settings.overrides), doc.document, question,
               replace(config, temperature=settings.check_temperature), settings.cache)


def _spent(result: DocResult, answer: AgentAnswer) -> None:
    result.stats.update(calls=answer.calls, prompt_tokens=answer.prompt_tokens,
                        completion_tokens=answer.completion_tokens)


def _judge(ctx: Context, question: str, first: str, second: str) -> bool:
    lang = language_of(question)
    reply = ctx.chat(template("judge", lang).safe_substitute(question=question, first=first, second=second),
                     max_tokens=8)
    return reply.strip().lstrip("*\"'").upper().startswith(("YES", "是"))


def _unanswerable(ctx: Context, doc: LoadedDocument, other: DocRef, rng: random.Random,
                  settings: Settings) -> list[Proposal]:
    """Questions proposed from another document's chunks that name something this document never does:
    the right answer here is a refusal."""
    try:
        source = load(other, chunk_tokens(cached_flow(settings.flow, settings.overrides)) or 512)
    except ValueError:
        return []
    here = set(analyze(doc.text))
    out = []
    for seed in plan(source.chunks, rng, settings.unanswerable, 0):
        proposal = propose(ctx, seed, source.chunks)
        proposal.seed = Seed("unanswerable", [], source=other.id)
        if proposal.rejected is None and not set(analyze(proposal.question)) - here:
            proposal.rejected = Verdict(False, "proposal: every word of the question from another document "
                                               "is in this one too: it may have an answer here")
        out.append(proposal)
    return out


def _given(item: dict, chunks: int) -> Proposal:
    """A question the user gave for this document, with the chunks it comes from if they said."""
    seed = Seed("unanswerable" if item.get("unanswerable") else "given", list(item.get("chunks") or []))
    proposal = Proposal(seed, item["question"].strip())
    outside = [i for i in seed.chunks if not 0 <= i < chunks]
    if outside:
        proposal.rejected = Verdict(False, f"proposal: chunk(s) {outside} are not in the document, which has "
                                           f"{chunks} (0 to {chunks - 1})")
    return proposal


def _proposer(config: ModelConfig, cache: bool) -> Context:
    """A context for the calls made outside a flow (proposals, the judge), with the reply cache."""
    replies = None
    if cache:
        from longflow.core.paths import cache_dir
        from longflow.core.replies import ReplyCache
        replies = ReplyCache(cache_dir() / "replies.sqlite")
    client = ModelClient(chat_model(config), config.model, endpoint=config.served_by or config.base_url)
    return Context(node="propose", model=client, record=RunRecord(), stream=None, replies=replies)
