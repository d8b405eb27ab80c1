"""A test double: a scripted OpenAI-compatible chat server on 127.0.0.1, for tests and benchmarks.

It answers each longflow task the way a competent model would, by rule instead of by weights, after a
configurable latency, and counts what it served:

    with ScriptedServer(Script(needles=["The bicycle was invented in 1817."]), latency=0.0) as server:
        run_flow("flows/lv2.yaml", model="scripted", base_url=server.base_url, ...)
        server.stats.calls, server.stats.prompt_tokens, server.stats.peak_concurrency

Tasks are recognised by the built-in prompts' wording (en and zh): split the query, keywords, read a
chunk (the needle sentences it holds, else None), answer (the passage sentence that best matches the
question, or "the document does not say"), propose a question about a passage and judge two answers
(engine synth: by the words they share), and plan the next sub-question (from `Script.plan`, as a
native tool call when the request offers tools, else as JSON). A plan step can be filled only from what
the earlier steps found (`{1:PATTERN}`), and the answer over Lv3's memory is whatever found answer
matches the question: the script knows the form of each reply, not the answers. A prompt it has no rule
for fails loudly (HTTP 422, on stderr, and in `stats.unrecognised`): it never invents a reply.

    python -m longflow.testing.scripted_server --port 8011 --latency 1.0 --needle "..."   # for benchmarks
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from longflow.nodes.lang import CJK_RANGES, QUESTION_STOP

_WORD = re.compile(f"[{CJK_RANGES}]|[A-Za-z0-9]+")   # a Chinese character is a word here


@dataclass
class Script:
    needles: list[str] = field(default_factory=list)     # sentences a reader should find relevant
    plan: list[str] = field(default_factory=list)        # Lv3 sub-questions, asked in this order; a
    #                                                      step may use an earlier answer: {1:PATTERN}
    tool_calling: bool = True                            # False: a request with tools gets HTTP 400
    fail_first: int = 0                                  # the first N requests fail ...
    fail_status: int = 500                               # ... with this status
    malformed_first: int = 0                             # the first N JSON tasks get prose, not JSON


@dataclass
class Stats:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    peak_concurrency: int = 0
    active: int = 0
    tasks: dict[str, int] = field(default_factory=dict)
    last_prompt: dict[str, str] = field(default_factory=dict)   # task -> the latest prompt, for tests
    max_tokens: dict[str, int | None] = field(default_factory=dict)  # task -> the cap it was sent
    unrecognised: list[str] = field(default_factory=list)  # prompts no rule matched
    keys: set[str] = field(default_factory=set)            # the API keys calls came with
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Unrecognised(Exception):
    """A prompt the script has no rule for: answered with HTTP 422 and kept in `Stats.unrecognised`, so
    that a changed prompt fails the test that sent it instead of getting a plausible reply."""


class Responder:
    """Request messages -> (reply text, tool call or None, task name)."""

    def __init__(self, script: Script):
        self.script = script
        self._malformed = script.malformed_first
        self._lock = threading.Lock()

    def reply(self, messages: list[dict], tools: list | None) -> tuple[str, dict | None, str]:
        text = "\n".join(str(m.get("content") or "") for m in messages)
        last = str(messages[-1].get("content") or "") if messages else ""
        if "Call the tool" in text or "调用工具" in text:
            sub = self._next_sub(last)
            if sub and tools:
                return "", {"name": tools[0]["function"]["name"], "arguments": {"question": sub}}, "plan"
            return ("DONE" if not sub else json.dumps({"subquestion": sub})), None, "plan"
        if "may need several steps" in last or "多步推理" in last:
            return self._json(json.dumps({"subquestion": s} if (s := self._next_sub(last)) else {"done": True})), \
                None, "plan"
        if last.startswith("Split the request") or last.startswith("把请求分成"):
            return self._json(self._split(_after(last, ("Request: ", "请求："))[-1])), None, "split"
        if last.startswith("Give keywords") or last.startswith("给出用于"):
            words = _content_words(_after(last, ("Text: ", "文本："))[-1])
            return self._json(json.dumps({"keywords_en": [w for w in words if w.isascii()],
                                          "keywords_zh": [w for w in words if not w.isascii()]},
                                         ensure_ascii=False)), None, "keywords"
        if last.startswith("Answer the question using only the passage below") or \
                (last.startswith("只根据下面的材料回答问题") and "回复 None" in last):
            chunk, question = (re.split(r"\n\n(?:Question: |问题：)", last, maxsplit=1) + [""])[:2]
            wanted = set(_content_words(question.split("\n")[0]))
            found = [n for n in self.script.needles
                     if n in chunk and 2 * len(wanted & set(_content_words(n))) > len(wanted)]
            return (" ".join(found) if found else "None"), None, "read"
        if last.startswith("Answer the question using only") or last.startswith("只根据下面的材料"):
            return self._answer(last), None, "answer"
        if last.startswith(("Write one question that the passage below answers", "根据下面的材料，写一个问题",
                            "Two passages from one document both mention", "同一文档中的两段材料都提到了")):
            return self._json(self._propose(last)), None, "propose"
        if last.startswith(("Do these two answers to the question say the same thing?", "下面两个回答对这个问题")):
            return self._judge(last), None, "judge"
        if last.startswith("Rewrite the answer below") or last.startswith("按照指令改写"):
            # In form only: the answer given, marked with the instructions it was told to follow.
            told = re.findall(r"^- (.+)$", last, re.M)
            given = _after(last, ("\nAnswer: ", "\n回答："))[-1].split("\n")[0]
            return f"[{'; '.join(told)}] {given}", None, "follow"
        raise Unrecognised(f"scripted server: no rule for this prompt (a prompt template changed? teach "
                           f"longflow.testing.scripted_server its wording): {last[:160]!r}")

    def _json(self, reply: str) -> str:
        with self._lock:
            if self._malformed > 0:
                self._malformed -= 1
                return "Sure! Here is what you asked for, I think."
        return f"```json\n{reply}\n```"

    def _next_sub(self, prompt: str) -> str | None:
        """The plan's next step, by how many facts the prompt says were found. A step may name what an
        earlier one found, `{1:PATTERN}` being the first match of PATTERN in the first fact's answer: a
        planner that does not pass the facts on gets no further (DONE)."""
        found = re.split(r"Found so far:|目前已找到：", prompt)[-1]
        answers = re.findall(r"^- .+? -> (.+)$", found, re.M)
        if len(answers) >= len(self.script.plan):
            return None
        step, missing = self.script.plan[len(answers)], []

        def fill(m: re.Match) -> str:
            k, pattern = int(m.group(1)), m.group(2)
            hit = re.search(pattern, answers[k - 1]) if k <= len(answers) else None
            if hit is None:
                missing.append(pattern)
                return ""
            return hit.group(0)
        step = re.sub(r"\{(\d+):([^}]+)\}", fill, step)
        return None if missing else step

    def _propose(self, prompt: str) -> str:
        """A question in form only (engine synth): about the words of a sentence of the (last) passage, a
        needle when it holds one, else its longest sentence; the answer, that sentence. It reads no meaning:
        the agent must still find the sentence in the document."""
        zh = not prompt.startswith(("Write", "Two"))
        passage = re.split(r"\n(?:Passage B|Passage|材料乙|材料)[:：]\n", prompt)[-1]
        needles = [n for n in self.script.needles if n in passage]
        sentences = needles or sorted((s.strip() for s in re.split(r"(?<=[.!?。！？])\s*|\n", passage)
                                       if s.strip()), key=lambda s: -len(_content_words(s)))
        if not sentences:
            return "{}"
        words = [w for w in _content_words(sentences[0]) if not w.isdigit()][:8 if zh else 4]   # 8 characters
        entity = re.findall(r'mention "(.+?)"|都提到了“(.+?)”', prompt)
        if entity:
            words = [w for w in "".join(entity[0]).split()[:2] if w.lower() not in words] + words[:3]
        question = f"{''.join(words)}吗？" if zh else f"What is said about {' '.join(words)}?"
        return json.dumps({"question": question, "answer": sentences[0]}, ensure_ascii=False)

    @staticmethod
    def _judge(prompt: str) -> str:
        """YES when the two answers share half their words (engine synth's judge)."""
        one = set(_content_words(_after(prompt, ("Answer 1: ", "回答一："))[-1].split("\n")[0]))
        two = set(_content_words(_after(prompt, ("Answer 2: ", "回答二："))[-1].split("\n")[0]))
        same = 2 * len(one & two) >= min(len(one), len(two)) > 0
        return ("YES" if same else "NO") if "Answer 1" in prompt else ("是" if same else "否")

    @staticmethod
    def _split(request: str) -> str:
        parts = re.split(r"(?<=[.?!。？！])\s*", request.strip())
        instructions = [p for p in parts if re.match(r"(answer|reply|respond)\b|请?用.+回答", p, re.I)]
        information = [p for p in parts if p and p not in instructions]
        return json.dumps({"information": information or [request], "instruction": instructions},
                          ensure_ascii=False)

    @staticmethod
    def _answer(prompt: str) -> str:
        """The passage sentences sharing most words with the question (those sharing at least half as many
        as the best, in passage order: the facts of a multi-hop question share the question's words
        between them); for Lv3's memory, every found answer that shares a word with the question; else a
        refusal. Never the question's answer by rote."""
        question = _after(prompt, ("Question: ", "问题："))[-1].split("\n")[0]
        passages = re.split(r"\n(?:Passages:|材料：)\n", prompt, maxsplit=1)[-1]
        passages = re.split(r"\n\n(?:Question: |问题：)", passages)[0]
        wanted = set(_content_words(question))
        hops = re.findall(r"^A: (.+)$", passages, re.M)
        if hops:
            relevant = [h.strip() for h in hops if wanted & set(_content_words(h))]
            return " ".join(relevant) or "The document does not say."
        scored = [(len(wanted & set(_content_words(s))), s.strip())
                  for s in re.split(r"(?<=[.!?。！？])\s+|\n", passages) if s.strip() and not s.startswith("[")]
        best = max((n for n, _ in scored), default=0)
        kept = [s for n, s in scored if n and 2 * n >= best]
        return " ".join(kept) if best >= 1 else "The document does not say."


def _after(text: str, markers: tuple[str, ...]) -> list[str]:
    for marker in markers:
        if marker in text:
            return text.split(marker)
    return [text]


def _content_words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in QUESTION_STOP]


def _tokens(text: str) -> int:
    from longflow.nodes.tokens import count_tokens
    return count_tokens(text)


class ScriptedServer:
    def __init__(self, script: Script | None = None, *, latency: float = 0.0, per_token: float = 0.0,
                 port: int = 0):
        self.script = script or Script()
        self.latency, self.per_token = latency, per_token
        self.responder, self.stats = Responder(self.script), Stats()
        self._failures = self.script.fail_first
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def complete(self, body: dict) -> tuple[int, dict]:
        with self.stats.lock:
            self.stats.active += 1
            self.stats.peak_concurrency = max(self.stats.peak_concurrency, self.stats.active)
            failing = self._failures > 0
            self._failures -= failing
        try:
            messages = body.get("messages") or []
            prompt_tokens = sum(_tokens(str(m.get("content") or "")) for m in messages)
            time.sleep(self.latency + self.per_token * prompt_tokens)
            if failing:
                return self.script.fail_status, {"error": {"message": "scripted failure", "type": "server_error"}}
            if body.get("tools") and not self.script.tool_calling:
                return 400, {"error": {"message": "tools are not supported by this model", "type": "invalid_request_error"}}
            try:
                text, call, task = self.responder.reply(messages, body.get("tools"))
            except Unrecognised as exc:
                with self.stats.lock:
                    self.stats.unrecognised.append(str(exc))
                print(exc, file=sys.stderr, flush=True)
                return 422, {"error": {"message": str(exc), "type": "invalid_request_error"}}
            completion_tokens = _tokens(text) + (8 if call else 0)
            with self.stats.lock:
                self.stats.calls += 1
                self.stats.prompt_tokens += prompt_tokens
                self.stats.completion_tokens += completion_tokens
                self.stats.tasks[task] = self.stats.tasks.get(task, 0) + 1
                self.stats.last_prompt[task] = str(messages[-1].get("content") or "") if messages else ""
                self.stats.max_tokens[task] = body.get("max_tokens")
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if call:
                message["tool_calls"] = [{"id": f"call_{self.stats.calls}", "type": "function", "function": {
                    "name": call["name"], "arguments": json.dumps(call["arguments"])}}]
            return 200, {"id": f"chatcmpl-{self.stats.calls}", "object": "chat.completion",
                         "created": int(time.time()), "model": body.get("model", "scripted"),
                         "choices": [{"index": 0, "message": message,
                                      "finish_reason": "tool_calls" if call else "stop"}],
                         "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                   "total_tokens": prompt_tokens + completion_tokens}}
        finally:
            with self.stats.lock:
                self.stats.active -= 1


def _handler(server: ScriptedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.rstrip("/").endswith("/stats"):  # for benchmarks running us in another process
                with server.stats.lock:
                    self._send(200, {"calls": server.stats.calls, "prompt_tokens": server.stats.prompt_tokens,
                                     "unrecognised": len(server.stats.unrecognised),
                                     "peak_concurrency": server.stats.peak_concurrency,
                                     "tasks": dict(server.stats.tasks)})
            elif self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with server.stats.lock:
                server.stats.keys.add(self.headers.get("Authorization", "").removeprefix("Bearer "))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            self._send(*server.complete(body))
    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="scripted OpenAI-compatible server for longflow")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per call")
    parser.add_argument("--per-token", type=float, default=0.0, help="extra seconds per prompt token")
    parser.add_argument("--needle", action="append", default=[])
    parser.add_argument("--plan", action="append", default=[], help="Lv3 sub-questions, in order")
    args = parser.parse_args(argv)
    with ScriptedServer(Script(needles=args.needle, plan=args.plan), latency=args.latency,
                        per_token=args.per_token, port=args.port) as server:
        print(server.base_url, flush=True)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
