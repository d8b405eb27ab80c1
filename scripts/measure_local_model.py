"""Measure the embedded model: weights preparation, server start, prompt and generation speed.

    python scripts/measure_local_model.py --cold            # rebuilds the joined weights file first
    python scripts/measure_local_model.py                   # warm: weights already verified
    python scripts/measure_local_model.py --n-batch 1024 --no-flash-attn --runs 3   # try other flags

Prints: weights preparation time (cold = join + hash of the parts, warm = stamp check), server start
time (process start to a healthy GET /v1/models), and for each run a chat completion with a
~1500-token prompt and ~100 generated tokens, streamed: prompt tokens/s from the time to the first
token, generation tokens/s from the rest (wall clock, as a client sees it), and beside them
llama.cpp's own timings (the "prompt eval time" / "eval time" lines that the server writes to its
log, which also give the token counts: the server sends no usage numbers when streaming). Each run starts with a fresh nonce so that nothing is reused from the server's prefix
cache. Uses $LONGFLOW_CACHE like the rest of longflow.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from longflow.apps.local_model import LocalServer, get_pack, prepare_weights  # noqa: E402
from longflow.core.paths import cache_dir  # noqa: E402

TOPICS = ["harbour", "ledger", "orchard", "turbine", "archive", "glacier", "meadow", "foundry", "canal",
          "observatory", "vineyard", "quarry", "lighthouse", "granary", "tannery", "mill"]


def make_document(n_sentences: int, nonce: str) -> str:
    lines = [f"Report {nonce}."]
    for i in range(n_sentences):
        topic = TOPICS[i % len(TOPICS)]
        lines.append(f"In year {1800 + i}, the {topic} of district {i % 7 + 1} recorded {(i * 37) % 1000} "
                     f"units, and inspector No. {i * 13 % 97} noted that the {TOPICS[(i * 5) % len(TOPICS)]} "
                     f"needed {i % 9 + 2} new workers.")
    return "\n".join(lines)


def stream_chat(base_url: str, model: str, prompt: str, max_tokens: int) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 0, "stream": True}
    req = urllib.request.Request(base_url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.monotonic()
    first = None
    pieces, usage, chunks = [], None, 0
    with urllib.request.urlopen(req, timeout=600) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices", []):
                text = (choice.get("delta") or {}).get("content")
                if text:
                    if first is None:
                        first = time.monotonic()
                    pieces.append(text)
                    chunks += 1
    end = time.monotonic()
    return {"ttft": (first or end) - t0, "total": end - t0, "text": "".join(pieces), "usage": usage,
            "chunks": chunks}


def count_tokens(base_url: str, text: str) -> int:
    # llama-cpp-python's extras endpoint; base_url ends in /v1
    url = base_url[: -len("/v1")] + "/extras/tokenize/count"
    req = urllib.request.Request(url, data=json.dumps({"input": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["count"]


PERF = re.compile(r"(prompt eval time|(?<!prompt )eval time)\s*=\s*([\d.]+) ms /\s*(\d+) (?:tokens|runs)")


def log_timings(server: LocalServer, since_line: int) -> dict:
    lines = server.log_tail(10_000)[since_line:]
    out = {}
    for line in lines:
        m = PERF.search(line)
        if m:
            key = "prompt" if m.group(1).startswith("prompt") else "gen"
            ms, n = float(m.group(2)), int(m.group(3))
            out[key] = (n, n / (ms / 1000) if ms else float("nan"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="0.5b")
    ap.add_argument("--cold", action="store_true", help="delete the joined weights file first")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=1500)
    ap.add_argument("--gen-tokens", type=int, default=100)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--n-batch", type=int, default=512)
    ap.add_argument("--n-ubatch", type=int)
    ap.add_argument("--no-flash-attn", dest="flash_attn", action="store_false",
                    help="turn off flash attention (on by default in LocalServer)")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                    help="further llama_cpp.server flags, e.g. --extra --logits_all true")
    args = ap.parse_args()

    pack = get_pack(args.size)
    final = cache_dir("models") / pack.file_name
    if args.cold:
        for p in (final, final.with_name(final.name + ".verified.json")):
            p.unlink(missing_ok=True)
    t = time.monotonic()
    prepare_weights(args.size)
    prep = time.monotonic() - t
    print(f"model               {pack.name} ({pack.model_name}), {final.stat().st_size:,} bytes")
    print(f"weights preparation {prep:7.2f} s  ({'cold: join + sha256' if args.cold else 'warm'})")
    t = time.monotonic()
    prepare_weights(args.size)
    print(f"weights (warm)      {time.monotonic() - t:7.3f} s")

    server = LocalServer(args.size, n_ctx=args.n_ctx, threads=args.threads, n_batch=args.n_batch,
                         n_ubatch=args.n_ubatch, flash_attn=args.flash_attn, extra_args=tuple(args.extra))
    with server:
        print(f"server start        {server.startup_seconds:7.2f} s  (process start to healthy)")
        print(f"flags               {' '.join(server.command()[3:])}")
        # ~ 36 tokens per sentence; calibrate once with the tokenizer endpoint
        probe = make_document(10, "x")
        per_sentence = count_tokens(server.base_url, probe) / 10
        n_sent = max(1, int((args.prompt_tokens - 60) / per_sentence))
        for run in range(1, args.runs + 1):
            doc = make_document(n_sent, uuid.uuid4().hex[:8])
            prompt = (f"{doc}\n\nList every record of the report above as a numbered list, "
                      f"one line per record, with the year, the place and the number of units.")
            mark = len(server.log_tail(10_000))
            r = stream_chat(server.base_url, server.model_name, prompt, args.gen_tokens)
            time.sleep(0.3)  # let the server flush its timing lines
            perf = log_timings(server, mark)
            u = r["usage"] or {}  # llama-cpp-python sends no usage when streaming; the log has the counts
            pt = u.get("prompt_tokens") or perf.get("prompt", (None,))[0]
            ct = u.get("completion_tokens") or perf.get("gen", (None,))[0] or r["chunks"]
            gen_time = r["total"] - r["ttft"]
            # wall clock: time to first token ~ prompt reading (+ first token); the rest ~ ct - 1 tokens
            print(f"run {run}: prompt {pt} tok, first token after {r['ttft']:.2f} s -> "
                  f"{(pt or 0) / r['ttft']:.0f} tok/s;  generated {ct} tok in {gen_time:.2f} s more -> "
                  f"{(ct - 1) / gen_time if gen_time > 0 else float('nan'):.1f} tok/s;  total {r['total']:.2f} s")
            if perf:
                print("        llama.cpp timings: " + ";  ".join(
                    f"{'prompt' if k == 'prompt' else 'generation'} {n} tok at {v:.1f} tok/s"
                    for k, (n, v) in perf.items()))
        print(f"reply tail          {r['text'][-160:]!r}")
    print(f"stopped             running={server.running}")


if __name__ == "__main__":
    main()
