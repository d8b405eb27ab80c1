"""engine synth end to end with the embedded model (Qwen2.5-Coder-0.5B on llama.cpp) on the shipped sample:
samples produced, and every filter seen rejecting, with its reason, what was planted for it:

- a duplicate: the same question twice (dedup, before any model call);
- an ungrounded answer: a question about Gutenberg that claims to come from the Beethoven chunk, which
  the run never reads its answer from (grounding);
- a refusal: a question the document cannot answer (format);
- a disagreement: a Q/A pair made elsewhere with a wrong answer (verify's agreement).

Lv2 reads 128-token chunks (five in the sample) with a small retrieval budget, so that the evidence is
a few chunks, not all; the second answer is Lv1's. A few minutes with the model to itself."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from longflow.apps.cli import main
from longflow.apps.synth.jsonl import rows

pytestmark = pytest.mark.real_model
ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--flow", str(ROOT / "flows" / "lv2.yaml"), "--set", "chunk.tokens=128", "--set",
         "retrieve.budget_tokens=300", "--check-flow", str(ROOT / "flows" / "lv1.yaml"), "--check-set",
         "chunk.tokens=128"]


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("llama_cpp", reason="the embedded model needs `pip install 'longflow[local]'`")
    from longflow.apps.local_model import LocalServer
    with LocalServer("0.5b") as running:
        yield running


def endpoint(server) -> list[str]:
    return ["--model", server.model_name, "--base-url", server.base_url, "--workers", "1"]


def test_generate_and_verify_with_the_embedded_model(server, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "samples" / "inventions.txt", docs / "inventions.txt")
    planted = [
        {"document": "inventions.txt", "question": "When was the bicycle invented?", "chunks": [3]},
        {"document": "inventions.txt", "question": "When was the bicycle invented ?", "chunks": [3]},
        {"document": "inventions.txt", "question": "Where did Gutenberg build his printing press?", "chunks": [0]},
        {"document": "inventions.txt", "question": "Who painted the ceiling of the Sistine Chapel?"},
    ]
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in planted))
    out = tmp_path / "data.jsonl"
    assert main(["synth", "generate", "--docs", str(docs), "-o", str(out), "--single", "1", "--multi", "0",
                 "--questions", str(questions), "--quiet", *SMALL, *endpoint(server)]) == 0

    summary = json.loads((tmp_path / "data.summary.json").read_text())
    rejected = {r["question"]: r for r in rows(tmp_path / "data.rejected.jsonl")}
    kept = list(rows(out))
    report = (summary, {q: r["reason"] for q, r in rejected.items()}, [s["messages"][2] for s in kept])
    assert summary["proposed"] == 5 and summary["model_calls"] > 0, report
    assert rejected["When was the bicycle invented ?"]["reason"].startswith("dedup: near-identical"), report
    assert rejected["Where did Gutenberg build his printing press?"]["reason"].startswith(
        "grounding: the run did not use chunk(s) 0"), report
    assert rejected["Who painted the ceiling of the Sistine Chapel?"]["reason"] == \
        "format: the answer is a refusal", report

    bicycle = [s for s in kept if s["messages"][1]["content"].endswith("Question: When was the bicycle invented?")]
    assert bicycle, report
    sample = bicycle[0]
    assert "1817" in sample["messages"][2]["content"]
    assert sample["messages"][1]["content"].startswith((docs / "inventions.txt").read_text().rstrip())
    meta = sample["meta"]
    assert meta["flow"] == "lv2" and 3 in meta["evidence_chunks"] and meta["agreement"]["score"] >= 0.5
    assert all(f["passed"] for f in meta["filters"].values())

    pairs = tmp_path / "qa.jsonl"
    pairs.write_text(json.dumps({"document": "docs/inventions.txt", "question": "In which city did Karl Drais "
                                 "invent his running machine?", "answer": "In Paris."}) + "\n")
    assert main(["synth", "verify", str(pairs), "-o", str(tmp_path / "verified.jsonl"), "--quiet",
                 "--flow", str(ROOT / "flows" / "lv1.yaml"), *endpoint(server)]) == 0
    [wrong] = rows(tmp_path / "verified.rejected.jsonl")
    assert wrong["reason"].startswith("agreement:"), wrong
