"""`engine synth`: long-context fine-tuning data from the agent.

    engine synth generate --docs books/ -o data.jsonl                  # embedded model, lv3, seed 0
    engine synth generate --docs books/ -o data.jsonl --model qwen2.5-7b-instruct \\
        --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1 --workers 16
    engine synth generate --docs books/ -o data.jsonl --executor ray --ray-address auto
    engine synth verify qa.jsonl -o verified.jsonl

Output: one sample a line, {"id", "messages": [system, user: the document + the question, assistant:
the answer], "meta": {...}}; every rejection, with its reason, in OUT.rejected.jsonl; a summary in
OUT.summary.json. Run the same command again to resume: finished documents and samples are skipped.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ...core.models import config_from, serve

FLOWS = Path(__file__).resolve().parents[3] / "flows"


def add_parser(sub) -> None:
    synth = sub.add_parser("synth", help="fine-tuning data from the agent: `engine synth generate|verify`",
                           description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = synth.add_subparsers(required=True, metavar="ACTION")
    g = kinds.add_parser("generate", help="propose questions from documents, answer them, keep those that pass",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g.add_argument("--docs", action="append", required=True, metavar="DIR_OR_FILE",
                   help="a folder of documents (read recursively) or a document; repeatable")
    g.add_argument("--single", type=int, default=2, metavar="N", help="single-hop questions per document (2)")
    g.add_argument("--multi", type=int, default=1, metavar="N",
                   help="multi-hop questions per document, from far-apart chunks naming one entity (1)")
    g.add_argument("--unanswerable", type=int, default=0, metavar="N",
                   help="questions per document proposed from the next document, which this one cannot "
                        "answer: kept when the agent declines (0)")
    g.add_argument("--questions", metavar="FILE.jsonl",
                   help='questions to ask besides the proposed ones, a line each: {"document": ID, "question": '
                        '"...", "chunks": [where it comes from], "unanswerable": false}; filtered alike')
    g.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local threads, or Ray tasks (pip install 'longflow[ray]')")
    g.add_argument("--ray-address", default="", metavar="ADDRESS",
                   help="a Ray cluster (`auto`, or ray://HOST:10001); default: a local instance")
    _common(g)
    g.set_defaults(handler=cmd_generate)
    v = kinds.add_parser("verify", help="keep the Q/A pairs of a JSONL file the agent agrees with",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("pairs", help='JSONL, a line each: {"document": PATH, "question": "...", "answer": "..."}')
    _common(v)
    v.set_defaults(handler=cmd_verify)


def _common(p) -> None:
    p.add_argument("-o", "--out", required=True, metavar="FILE.jsonl", help="the samples kept")
    p.add_argument("--flow", default=str(FLOWS / "lv3.yaml"), help="the agent's flow (default flows/lv3.yaml)")
    p.add_argument("--check-flow", default=str(FLOWS / "lv1.yaml"), metavar="FILE|same",
                   help="the flow giving the second, independent answer (default flows/lv1.yaml); `same`: "
                        "another sample of --flow at --check-temperature")
    p.add_argument("--check-temperature", type=float, default=0.7, help="for --check-flow same (0.7)")
    p.add_argument("--agreement", type=float, default=0.5, metavar="F1",
                   help="the least token F1 of the two answers' own words (0.5)")
    p.add_argument("--judge", action="store_true", help="ask a judge prompt when the F1 is below --agreement")
    p.add_argument("--no-proposer-check", action="store_true",
                   help="do not also require a generated question's answer to agree with the answer its "
                        "proposer gave")
    p.add_argument("--max-answer-tokens", type=int, default=200, help="the format filter's length cap (200)")
    p.add_argument("--dedup", type=float, default=0.8, metavar="SHARE",
                   help="questions of one document sharing this share of their terms are one (0.8)")
    p.add_argument("--trajectory", action="store_true", help="keep Lv3's sub-questions and sub-answers")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                   help="override a node parameter of --flow, e.g. ask.read.concurrency=8 for lv3")
    p.add_argument("--check-set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                   help="override a node parameter of --check-flow")
    p.add_argument("--model", help="model name at the endpoint(s), or local:0.5b / local:1.5b (default)")
    p.add_argument("--base-url", action="append", default=[], metavar="URL",
                   help="OpenAI-compatible endpoint; repeat for replicas of one model: documents are "
                        "balanced across them (default: $OPENAI_BASE_URL)")
    p.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds for one model call (120)")
    p.add_argument("--workers", type=int, default=0,
                   help="documents at once (default: 1 for the embedded model, else 4 per endpoint)")
    p.add_argument("--no-cache", action="store_true", help="do not reuse model replies from earlier runs")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _settings(args):
    from ..cli import parse_sets
    from .corpus import cached_flow
    from .worker import Settings
    if not 0 <= args.agreement <= 1 or not 0 < args.dedup <= 1:
        raise ValueError("--agreement is an F1 from 0 to 1, and --dedup a share above 0 and up to 1")
    if not math.isfinite(args.check_temperature) or not 0 <= args.check_temperature <= 2:
        raise ValueError("--check-temperature is from 0 to 2")
    if not math.isfinite(args.timeout) or not 0 < args.timeout <= 86400:
        raise ValueError("--timeout is a number of seconds above 0 and up to 86400")
    if args.max_answer_tokens < 1 or args.workers < 0:
        raise ValueError("--max-answer-tokens must be at least 1 and --workers at least 0")
    overrides = tuple(sorted(parse_sets(args.set).items()))
    check = "" if args.check_flow == "same" else str(Path(args.check_flow))
    check_overrides = tuple(sorted(parse_sets(args.check_set).items())) if check else overrides
    for path, given in [(args.flow, overrides)] + ([(check, check_overrides)] if check else []):
        flow = cached_flow(str(Path(path)), given)    # a bad flow or --set fails now, located
        lacking = {"documents", "question"} - set(flow.inputs) or {"answer"} - set(flow.outputs)
        if lacking:
            raise ValueError(f"{path}: synth runs flows that take documents and question and give answer; "
                             f"it lacks {', '.join(sorted(lacking))}")
    return dict(flow=str(Path(args.flow)), check_flow=check, check_temperature=args.check_temperature,
                overrides=overrides, check_overrides=check_overrides, seed=args.seed, agreement=args.agreement,
                judge=args.judge, proposer_check=not args.no_proposer_check,
                max_answer_tokens=args.max_answer_tokens, dedup=args.dedup, trajectory=args.trajectory,
                cache=not args.no_cache), Settings


def _model(args):
    """(the first endpoint's config, every endpoint given)."""
    urls = args.base_url or [""]
    config = config_from(args.model, urls[0] or None, args.api_key, timeout=args.timeout)
    if config.provider and args.base_url:
        raise ValueError(f"--model {config.model} is the embedded model, which takes no --base-url; name the "
                         f"model your endpoint serves with --model")
    return config, urls


def _model_fields(live, urls: list[str]) -> tuple:
    fields = {"model": live.model, "api_key": live.api_key, "temperature": live.temperature,
              "max_tokens": live.max_tokens, "timeout": live.timeout, "base_url": live.base_url,
              "served_by": live.served_by or (f"replicas:{live.model}" if len(urls) > 1 else "")}
    return tuple(sorted(fields.items()))


def cmd_generate(args) -> int:
    from .corpus import find_documents
    from .generate import generate, read_questions, render
    fields, Settings = _settings(args)
    if min(args.single, args.multi, args.unanswerable) < 0 or \
            args.single + args.multi + args.unanswerable == 0 and not args.questions:
        raise ValueError("--single, --multi and --unanswerable are counts of 0 or more, not all 0 (unless "
                         "--questions gives the questions)")
    refs = find_documents(args.docs)
    given = read_questions(Path(args.questions), refs) if args.questions else {}
    config, urls = _model(args)
    stream = None if args.quiet else sys.stderr
    with serve(config, stream) as (live, limit):
        if live.base_url != config.base_url:       # the embedded model's server, for this run
            urls = [live.base_url]
        workers = args.workers or (1 if limit == 1 else 4 * len(urls))
        if limit == 1 and workers > 1 and stream is not None:
            stream.write(f"synth: the embedded model serves one call at a time; {workers} workers queue on it\n")
        settings = Settings(**fields, model=_model_fields(live, urls), single=args.single, multi=args.multi,
                            unanswerable=args.unanswerable)
        if stream is not None:
            stream.write(f"synth: {len(refs)} documents, flow {Path(args.flow).name}, {args.executor} executor, "
                         f"{workers} at once, {len(urls)} endpoint(s); writing {args.out}\n")
        summary = generate(refs, Path(args.out), settings, base_urls=urls, executor=args.executor,
                           workers=workers, ray_address=args.ray_address, given=given, stream=stream)
    print(render(summary), file=sys.stderr)
    every_one_failed = summary["documents_done_now"] and \
        len(summary["documents_failed"]) == summary["documents_done_now"]
    return 1 if every_one_failed else 0


def cmd_verify(args) -> int:
    from .verify import read_pairs, verify
    fields, Settings = _settings(args)
    pairs = read_pairs(Path(args.pairs))
    config, urls = _model(args)
    stream = None if args.quiet else sys.stderr
    with serve(config, stream) as (live, limit):
        if live.base_url != config.base_url:       # the embedded model's server, for this run
            urls = [live.base_url]
        settings = Settings(**fields, model=_model_fields(live, urls))
        workers = args.workers or (1 if limit == 1 else 4 * len(urls))
        live = live.with_fields(served_by=dict(settings.model)["served_by"])
        summary = verify(pairs, Path(args.out), settings, live, base_urls=urls, workers=workers, stream=stream)
    print(f"pairs: {summary['pairs']}; kept {summary['kept']}; rejected {summary['rejected_total']} "
          f"({', '.join(f'{k} {v}' for k, v in summary['rejected'].items()) or 'none'}); "
          f"{summary['model_calls']} model calls, {summary['seconds']:.0f}s", file=sys.stderr)
    return 0
