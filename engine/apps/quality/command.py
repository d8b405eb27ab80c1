"""`engine bench quality`: how good the answers are, per method, task, language, length and depth.

    engine bench quality                                   # the default grid, embedded model
    engine bench quality --lengths 8k,32k --tasks single,absent --methods full,lv1,lv2 --out q/
    engine bench quality --flow my.yaml --model qwen2.5-7b-instruct --base-url http://127.0.0.1:8000/v1
    engine bench quality --report-only --out q/            # tables and heatmaps from the results so far
    engine bench quality --case reasoning-zh-8000-50-2-s11 --methods lv2    # one case of a report, again
    engine bench quality --tasks reasoning --lengths needles --methods full  # the answer step alone

Cases are generated from --seed (see longflow.apps.quality.cases); results go to OUT/results.jsonl, one
line per case and method, and a run that is interrupted resumes where it stopped. The report
(OUT/report.md, OUT/heatmap_METHOD.png) is written at the end of every run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...core.models import config_from, serve
from .cases import LANGUAGES, TASKS, case_by_id, generate


def add_parser(kinds) -> None:
    from ..cli import env_number
    q = kinds.add_parser("quality", help="answer quality of the levels against the full-document baseline",
                         description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of: {', '.join(TASKS)}")
    q.add_argument("--languages", default=",".join(LANGUAGES), help="en, zh or both")
    q.add_argument("--lengths", default="8k,16k,32k",
                   help="document lengths in tokens (4k ... 1M); 'needles': the needles alone, no book")
    q.add_argument("--depths", default="0,50,100", help="where the needles go, percent")
    q.add_argument("--per-cell", type=int, default=1, help="cases per task, language, length and depth")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--case", action="append", default=[], metavar="ID",
                   help="run only this case (repeat for several), by the id its results carry, e.g. "
                        "reasoning-zh-8000-50-2-s11; the grid options are then ignored")
    q.add_argument("--methods", default="full,lv1,lv2,lv3", help="built-in methods: full, lv1, lv2, lv3")
    q.add_argument("--flow", action="append", default=[], metavar="FILE", help="also benchmark this flow")
    q.add_argument("--model", help="model name at the endpoint, or local:0.5b / local:1.5b (default)")
    q.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    q.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    q.add_argument("--timeout", type=float, metavar="SECONDS", default=env_number("LONGFLOW_TIMEOUT"),
                   help="the longest one attempt at a model call may take (default: $LONGFLOW_TIMEOUT, else "
                        "120); raise it for a slow endpoint, or a machine shared with other runs")
    q.add_argument("--concurrency", type=int, default=0,
                   help="calls the endpoint serves at once (default: the embedded model's 1, else unbounded)")
    q.add_argument("--out", default="bench-quality", help="folder for results.jsonl, report.md, heatmaps")
    q.add_argument("--report-only", action="store_true", help="only write the report from the results so far")
    q.set_defaults(handler=quality)


def quality(args) -> int:
    from ..cli import timeout_option
    from .report import heatmaps, markdown
    from .runner import methods, read_rows, run_cases
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    if args.report_only:
        rows = read_rows(results)
    else:
        cases = [case_by_id(i) for i in args.case] or generate(
            tasks=_names(args.tasks, TASKS, "task"), languages=_names(args.languages, LANGUAGES, "language"),
            lengths=[_tokens(x) for x in _split(args.lengths)], depths=[int(x) for x in _split(args.depths)],
            per_cell=args.per_cell, seed=args.seed)
        chosen = methods(_split(args.methods), args.flow)
        config = config_from(args.model, args.base_url, args.api_key, max_concurrency=args.concurrency,
                             **timeout_option(args.timeout))
        print(f"{len(cases)} cases x {len(chosen)} methods; results in {results}", file=sys.stderr)
        with serve(config, sys.stderr) as (live, limit):
            rows = run_cases(cases, chosen, live.with_fields(max_concurrency=limit or args.concurrency),
                             results, out / "documents")
    if not rows:
        print(f"no results in {results} yet", file=sys.stderr)
        return 1
    report = markdown(rows)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    print(report)
    try:
        for path in heatmaps(rows, out):
            print(f"wrote {path}", file=sys.stderr)
    except RuntimeError as exc:  # matplotlib missing: the tables are still there
        print(f"no heatmaps: {exc}", file=sys.stderr)
    return 0


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _names(text: str, valid: tuple, what: str) -> list[str]:
    names = _split(text)
    wrong = [n for n in names if n not in valid]
    if wrong:
        raise ValueError(f"unknown {what} {', '.join(wrong)}: choose from {', '.join(valid)}")
    return names


def _tokens(text: str) -> int:
    """'8k' -> 8000, '1M' -> 1000000, '4096' -> 4096; 'needles' -> 0 (the needles alone)."""
    if text.lower() == "needles":
        return 0
    scale = {"k": 1000, "m": 1_000_000}.get(text[-1].lower(), 1)
    try:
        value = int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise ValueError(f"length {text!r}: a number of tokens such as 4000, 8k or 1M, or needles") from None
    if not 1000 <= value <= 2_000_000:
        raise ValueError(f"length {text!r}: between 1k and 2M tokens")
    return value
