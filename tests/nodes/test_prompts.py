"""The prompts' few-shot examples share nothing with what the tests, the benchmarks and the sample ask:
a model that copied an example would otherwise pass a test for the wrong reason."""
from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = sorted((ROOT / "nodes" / "prompts").glob("*.txt"))
EXAMPLE = re.compile(r"^(?:Text: |Request: |Question: |文本：|请求：|问题：)(?!\$)(.+)$", re.M)
STOP = {"which", "what", "when", "where", "answer", "sentence", "from", "with", "that", "this", "were", "have"}


@functools.lru_cache(maxsize=1)
def asked_elsewhere() -> tuple[str, ...]:
    """The questions and needles the tests, benchmarks, scripts and sample use: string constants of
    their code, the sample's text, and NeedleBench's needles and questions."""
    texts = []
    for path in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "engine" / "apps").rglob("*.py"),
                 *(ROOT / "scripts").glob("*.py")]:
        if path.name != "test_prompts.py":
            texts += [n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    texts += (ROOT / "scripts" / "quickstart.sh").read_text(encoding="utf-8").splitlines()
    texts += (ROOT / "samples" / "inventions.txt").read_text(encoding="utf-8").splitlines()
    with open(ROOT / "benchmarks" / "needlebench" / "needles.jsonl", encoding="utf-8") as f:
        texts += [v for line in f for k, v in json.loads(line).items() if k in ("needle", "retrieval_question")]
    return tuple(t.lower() for t in texts if t.strip())


@functools.lru_cache(maxsize=None)
def words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z]{4,}|[\u4e00-\u9fff]{2}", text.lower()) if w not in STOP)


def test_every_template_with_examples_is_checked():
    assert [p.name for p in PROMPTS if EXAMPLE.search(p.read_text(encoding="utf-8"))] == [
        "extract_keywords.en.txt", "extract_keywords.zh.txt", "next_subquestion.en.txt",
        "next_subquestion.zh.txt", "split_query.en.txt", "split_query.zh.txt"]


@pytest.mark.parametrize("prompt", PROMPTS, ids=lambda p: p.name)
def test_few_shot_examples_are_not_asked_anywhere_else(prompt):
    elsewhere = asked_elsewhere()
    for example in EXAMPLE.findall(prompt.read_text(encoding="utf-8")):
        topic = words(example)
        for text in elsewhere:
            assert example.lower() not in text
            assert len(topic & words(text)) < 3, (example, text[:120])


def test_the_check_would_catch_an_example_taken_from_a_test():
    topic = words("When was the bicycle invented? Answer in French, in one sentence.")
    assert any(len(topic & words(text)) >= 3 for text in asked_elsewhere())
