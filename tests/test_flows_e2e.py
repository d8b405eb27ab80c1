"""lv1, lv2 and lv3 end to end on real text with needles: (a) with langchain-core's fake chat models,
(b) through langchain-openai against the scripted OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from longflow.core.models import ModelError, RetryPolicy
from longflow.core.run import run_flow
from longflow.core.runtime import Runtime
from longflow.testing.scripted_model import ScriptedChatModel
from longflow.testing.scripted_server import Script, ScriptedServer
from longflow.nodes.documents import chunk, load_document

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
HAYSTACK = (Path(__file__).parent / "data" / "moby_dick_excerpt.txt").read_text()
BICYCLE = "The bicycle, a two-wheeled vehicle, was invented in 1817 by Karl Drais, in the 19th century."
SYMPHONY = "Beethoven composed his Fifth Symphony between 1804 and 1808, early in the 19th century."
TWO_HOP = "What vehicle was invented in the same century as the Fifth Symphony was composed?"
# The scripted planner's second step names what the first found: a planner blind to it gets no further.
PLAN = ["When was the Fifth Symphony composed?", "What vehicle was invented in the {1:1[0-9]th century}?"]
ASKED = ["When was the Fifth Symphony composed?", "What vehicle was invented in the 19th century?"]


def haystack_with(tmp_path, *needles: str) -> str:
    """The excerpt with each needle on its own line at evenly spread depths."""
    text, lines = HAYSTACK, []
    cut = 0
    for i, needle in enumerate(needles, 1):
        at = text.index("\n", len(text) * i // (len(needles) + 1))
        lines += [text[cut:at], "\n" + needle]
        cut = at
    path = tmp_path / "doc.txt"
    path.write_text("".join(lines) + text[cut:])
    return str(path)


def fast_runtime() -> Runtime:
    return Runtime(stream=None, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))


def chunk_count(doc: str) -> int:
    return len(chunk(load_document([doc])["documents"], tokens=512)["chunks"])


# -- (a) langchain-core fake chat models ------------------------------------------------------------

def test_lv1_with_a_fake_model(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    model = FakeListChatModel(responses=[
        '{"information": ["When was the bicycle invented?"], "instruction": []}',
        '```json\n{"keywords_en": ["bicycle", "invented"], "keywords_zh": ["自行车"]}\n```',
        "It was invented in 1817.",
    ])
    result = run_flow(FLOWS / "lv1.yaml", documents=[doc], question="When was the bicycle invented?",
                      model=model, runtime=fast_runtime(), overrides={"retrieve.budget_tokens": 1024})
    assert result.answer == "It was invented in 1817."
    assert any(BICYCLE in c["text"] for c in result.outputs["context"])
    assert result.record["model_calls"] == 3 and not result.record["fallbacks"]
    used, = result.record["context"]
    assert used["chunks"] == [c["id"] for c in result.outputs["context"]] and used["tokens"] > 0


def test_lv2_with_a_fake_model_reads_every_chunk(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    n = chunk_count(doc)
    reads = ["None"] * n
    # "invented" alone is not a third of a question's terms: no sentence is kept from a None
    model = FakeListChatModel(responses=['{"information": ["When was it invented?"]}', *reads,
                                         '{"keywords_en": ["bicycle"]}', "In 1817."])
    result = run_flow(FLOWS / "lv2.yaml", documents=[doc], question="When was it invented?",
                      model=model, runtime=fast_runtime(), overrides={"read.concurrency": 1})
    # every chunk read, none kept: the answer comes from keyword retrieval, which finds the needle's chunk
    # (a question the document does not cover would get "does not say": test_absent_information...)
    assert result.answer == "In 1817."
    assert result.record["model_calls"] == n + 3
    assert any("keyword retrieval alone" in note["message"] for note in result.record["notes"])
    # no sentence read, and the one the answer was taken from (found by retrieval) is the evidence
    assert [e["text"] for e in result.outputs["evidence"]] == [BICYCLE]
    assert any("nothing relevant" in n_["message"] for n_ in result.record["notes"])


def test_lv2_keeps_the_sentences_of_the_question_from_chunks_its_readers_said_none_to(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    n = chunk_count(doc)
    model = FakeListChatModel(responses=['{"information": ["When was the bicycle invented?"]}', *["None"] * n,
                                         '{"keywords_en": ["bicycle"]}', "In 1817."])
    result = run_flow(FLOWS / "lv2.yaml", documents=[doc], question="When was the bicycle invented?",
                      model=model, runtime=fast_runtime(), overrides={"read.concurrency": 1})
    assert result.answer == "In 1817."
    assert result.record["counters"]["reads_kept_on_none"] == 1
    assert not any("keyword retrieval alone" in note["message"] for note in result.record["notes"])
    assert [e["text"] for e in result.outputs["evidence"]] == [BICYCLE]


@pytest.mark.parametrize("tool_calling", [True, False], ids=["native tools", "no tools"])
def test_lv3_in_process_asks_the_second_hop_with_what_the_first_found(tmp_path, tool_calling):
    doc = haystack_with(tmp_path, SYMPHONY, BICYCLE)
    model = ScriptedChatModel.of(Script(needles=[SYMPHONY, BICYCLE], plan=PLAN, tool_calling=tool_calling))
    result = run_flow(FLOWS / "lv3.yaml", documents=[doc], question=TWO_HOP, model=model,
                      runtime=fast_runtime(), overrides={"ask.read.concurrency": 2})
    assert [m["question"] for m in result.outputs["memory"]] == ASKED
    first, second = (m["answer"] for m in result.outputs["memory"])
    # the second lookup's readers keep the symphony's sentence too (it holds "19th century"), and the
    # scripted answer gives every sentence that shares half the best one's words
    assert first == SYMPHONY and second.endswith(BICYCLE)
    assert "bicycle" in result.answer.lower()
    refused = [f for f in result.record["fallbacks"] if "rejected tools" in f["reason"]]
    assert len(refused) == (0 if tool_calling else 1)


def test_lv3_stops_when_the_first_hop_finds_nothing(tmp_path):
    """The second step needs the first one's century; with the symphony missing from the document the
    planner cannot ask it. Having found nothing, it looks the question itself up, and the answer says
    the document does not say rather than guess."""
    doc = haystack_with(tmp_path, BICYCLE)
    model = ScriptedChatModel.of(Script(needles=[BICYCLE], plan=PLAN))
    result = run_flow(FLOWS / "lv3.yaml", documents=[doc], question=TWO_HOP, model=model,
                      runtime=fast_runtime(), overrides={"ask.read.concurrency": 2})
    assert [m["question"] for m in result.outputs["memory"]][:2] == [ASKED[0], TWO_HOP]
    assert "bicycle" not in result.answer.lower()


# -- (b) the scripted OpenAI-compatible server ------------------------------------------------------

# The excerpt is ~7.3k tokens: a budget of two chunks makes the ranking decide whether the needle's chunk
# reaches the answer (with the flows' 6,000 it would, ranked or not).
BUDGET = {"lv1.yaml": "retrieve.budget_tokens", "lv2.yaml": "retrieve.budget_tokens",
          "lv3.yaml": "ask.retrieve.budget_tokens"}


def run_scripted(server: ScriptedServer, flow: str, doc: str, question: str, **kwargs):
    overrides = kwargs.pop("overrides", None) or {}
    if flow in BUDGET:
        overrides = {BUDGET[flow]: 1024, **overrides}
    return run_flow(FLOWS / flow, documents=[doc], question=question, model="scripted",
                    base_url=server.base_url, api_key="test", runtime=kwargs.pop("runtime", fast_runtime()),
                    overrides=overrides, **kwargs)


@pytest.mark.parametrize("flow", ["lv1.yaml", "lv2.yaml"])
def test_lv1_lv2_through_the_openai_client(tmp_path, flow):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE])) as server:
        result = run_scripted(server, flow, doc, "When was the bicycle invented?")
    assert "1817" in result.answer
    assert result.record["prompt_tokens"] == server.stats.prompt_tokens  # usage came from the server
    # the classic field that llama.cpp, vLLM and Ollama read: reads and JSON replies are capped short
    assert server.stats.max_tokens["answer"] == 1024 and server.stats.max_tokens["split"] == 300
    if flow == "lv2.yaml":
        assert server.stats.max_tokens["read"] == 256 + 32
        assert server.stats.tasks["read"] == chunk_count(doc)
        assert [e["text"] for e in result.outputs["evidence"]] == [BICYCLE]


@pytest.mark.parametrize("tool_calling", [True, False], ids=["native tools", "no tools"])
def test_lv3_two_hops_through_the_openai_client(tmp_path, tool_calling):
    doc = haystack_with(tmp_path, SYMPHONY, BICYCLE)
    with ScriptedServer(Script(needles=[SYMPHONY, BICYCLE], plan=PLAN, tool_calling=tool_calling)) as server:
        result = run_scripted(server, "lv3.yaml", doc, TWO_HOP)
    assert "bicycle" in result.answer.lower()
    assert [m["question"] for m in result.outputs["memory"]] == ASKED
    assert "1804" in result.outputs["memory"][0]["answer"]
    assert server.stats.tasks["plan"] == 3  # sub-question, sub-question, done
    assert server.stats.max_tokens["plan"] == 300   # a sub-question is short, with tools or without
    rejected = [f for f in result.record["fallbacks"] if "rejected tools" in f["reason"]]
    assert len(rejected) == (0 if tool_calling else 1)


def test_lv3_remembers_the_sentence_a_lookups_answer_was_taken_from(tmp_path):
    # No reader keeps the symphony's sentence (it holds too few of the question's words); the lookup's
    # answer is taken from it in the retrieved chunks, and Lv3's found sentences hold it: what the later
    # steps read is the document's sentence, not only the model's words.
    doc = haystack_with(tmp_path, SYMPHONY, BICYCLE)
    question = TWO_HOP.replace("composed?", "composed by its composer, according to the old records?")
    with ScriptedServer(Script(needles=[SYMPHONY, BICYCLE], plan=[])) as server:
        result = run_scripted(server, "lv3.yaml", doc, question)
    assert result.outputs["memory"][0] == {"question": question, "answer": f"{SYMPHONY} {BICYCLE}"}
    assert [e["text"] for e in result.outputs["found"]][:2] == [SYMPHONY, BICYCLE]
    assert all(e["chunk"].startswith("doc0#") for e in result.outputs["found"])


def test_lv3_loop_stops_at_its_limit(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    endless = [f"Question number {i}?" for i in range(20)]
    with ScriptedServer(Script(needles=[BICYCLE], plan=endless)) as server:
        result = run_scripted(server, "lv3.yaml", doc, "Why?", overrides={"ask.read.concurrency": 4})
    assert len(result.outputs["memory"]) == 5  # the limit on plan -> ask in flows/lv3.yaml
    assert server.stats.tasks["plan"] == 6


def test_transient_errors_are_retried(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE], fail_first=2, fail_status=503)) as server:
        result = run_scripted(server, "lv1.yaml", doc, "When was the bicycle invented?")
    assert "1817" in result.answer and result.record["retries"] == 2 and not result.record["failures"]


def test_rate_limits_are_retried(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE], fail_first=1, fail_status=429)) as server:
        result = run_scripted(server, "lv1.yaml", doc, "When was the bicycle invented?")
    assert "1817" in result.answer and result.record["retries"] == 1


def test_a_chunk_whose_read_keeps_failing_is_reported(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    # split takes 1 request; with 3 attempts per call, 3 more failures sink exactly one chunk's read
    with ScriptedServer(Script(needles=[BICYCLE], fail_first=0)) as server:
        server._failures = 0
        runtime = fast_runtime()
        original = server.complete

        def fail_reads_of_first_chunk(body):
            prompt = str(body["messages"][-1]["content"])
            if "using only the passage below" in prompt and f"Passage:\n<document>\n{HAYSTACK[:40]}" in prompt:
                return 500, {"error": {"message": "scripted failure"}}
            return original(body)
        server.complete = fail_reads_of_first_chunk
        result = run_scripted(server, "lv2.yaml", doc, "When was the bicycle invented?", runtime=runtime)
    failures = result.record["failures"]
    assert len(failures) == 1 and failures[0]["node"] == "read" and failures[0]["id"] == "doc0#0"
    assert "after 3 attempt(s)" in failures[0]["error"]
    assert "1817" in result.answer  # the other chunks were read and used


def test_a_dead_endpoint_fails_with_a_clear_error(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    with pytest.raises(ModelError, match=r"failed in node 'split' after 3 attempt\(s\) and \d+s: .*Connection"):
        run_flow(FLOWS / "lv1.yaml", documents=[doc], question="When?", model="m",
                 base_url="http://127.0.0.1:9/v1", runtime=fast_runtime())


def test_malformed_json_falls_back_and_says_so(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE], malformed_first=2)) as server:
        result = run_scripted(server, "lv1.yaml", doc, "When was the bicycle invented?")
    assert "1817" in result.answer
    fallback, = result.record["fallbacks"]
    assert fallback["node"] == "split" and "whole question" in fallback["reason"]


def test_instructions_reach_the_answer_prompt(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE])) as server:
        result = run_scripted(server, "lv1.yaml", doc, "When was the bicycle invented? Answer in French.")
    # The answer is found from the information alone, then the instructions are applied to it.
    asked, told = server.stats.last_prompt["answer"], server.stats.last_prompt["follow"]
    assert "Question: When was the bicycle invented?\n" in asked and "French" not in asked
    assert "- Answer in French." in told and f"Answer: {BICYCLE}" in told
    assert result.answer == f"[Answer in French.] {BICYCLE}"


@pytest.mark.parametrize("flow", ["lv1.yaml", "lv2.yaml", "lv3.yaml"])
def test_absent_information_is_not_invented(tmp_path, flow):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE], plan=["Who painted the Mona Lisa?"])) as server:
        result = run_scripted(server, flow, doc, "Who painted the Mona Lisa?")
    assert result.answer == "The document does not say."
    assert "answer" not in server.stats.tasks  # nothing relevant: the model was not asked to answer
    assert any("nothing relevant" in n["message"] for n in result.record["notes"])
    if flow == "lv2.yaml":
        assert server.stats.tasks["read"] == chunk_count(doc)  # the map ran once, not again


def test_chinese_question_uses_chinese_prompts(tmp_path):
    text = (Path(__file__).parent / "data" / "journey_to_the_west_excerpt.txt").read_text()
    needle = "自行车是在1817年由卡尔·德莱斯发明的。"
    path = tmp_path / "zh.txt"
    path.write_text(text[:3000] + "\n" + needle + "\n" + text[3000:])
    with ScriptedServer(Script(needles=[needle])) as server:
        result = run_scripted(server, "lv2.yaml", str(path), "自行车是哪一年发明的？")
    assert "1817" in result.answer
    assert server.stats.last_prompt["answer"].startswith("只根据下面的材料回答问题")


def test_a_node_can_have_its_own_model(tmp_path):
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE])) as main_server, \
            ScriptedServer(Script(needles=[BICYCLE])) as small_server:
        flow = tmp_path / "lv2_small_reader.yaml"
        flow.write_text((FLOWS / "lv2.yaml").read_text()
                        .replace("nodes:\n", f"models:\n  small: {{model: small-model, base_url: "
                                             f"'{small_server.base_url}'}}\nnodes:\n", 1)
                        .replace("into: evidence,", "into: evidence, model: small,"))
        result = run_scripted(main_server, str(flow), doc, "When was the bicycle invented?")
    assert "1817" in result.answer
    assert small_server.stats.tasks == {"read": chunk_count(doc)}
    assert "read" not in main_server.stats.tasks and main_server.stats.tasks["answer"] == 1


def test_the_scripted_server_fails_loudly_on_a_prompt_it_does_not_know(tmp_path):
    """A test double that answered any prompt plausibly would let a broken prompt pass every test."""
    (tmp_path / "mine.txt").write_text("Reply with a haiku about $question")
    flow = tmp_path / "lv1.yaml"
    flow.write_text((FLOWS / "lv1.yaml").read_text().replace("answer:   {use: answer}",
                                                              "answer:   {use: answer, with: {prompt: mine.txt}}"))
    doc = haystack_with(tmp_path, BICYCLE)
    with ScriptedServer(Script(needles=[BICYCLE])) as server:
        with pytest.raises(ModelError, match="no rule for this prompt"):
            run_scripted(server, str(flow), doc, "When was the bicycle invented?")
    assert len(server.stats.unrecognised) == 1 and "haiku" in server.stats.unrecognised[0]


def test_lv2_mapped_over_a_list_of_questions(tmp_path):
    """An imported flow as a map: lv2 asked each question of a list, the answers in the questions' order."""
    (tmp_path / "lv2.yaml").write_text((FLOWS / "lv2.yaml").read_text())
    flow = tmp_path / "each.yaml"
    flow.write_text("""\
flow: each
imports: {lv2: lv2.yaml}
inputs: [documents, questions]
outputs: [answers]
nodes:
  ask: {use: lv2, map: {question: questions}, out: {answer: answers}, with: {concurrency: 2}}
edges:
  - [START, ask, END]
""")
    doc = haystack_with(tmp_path, BICYCLE, SYMPHONY)
    questions = ["When was the Fifth Symphony composed?", "When was the bicycle invented?"]
    with ScriptedServer(Script(needles=[BICYCLE, SYMPHONY])) as server:
        result = run_flow(flow, documents=[doc], questions=questions, model="scripted",
                          base_url=server.base_url, api_key="test", runtime=fast_runtime(), stream=None)
    first, second = result.outputs["answers"]
    assert "1804" in first and "1817" not in first
    assert "1817" in second and "1804" not in second
    assert server.stats.tasks["read"] == 2 * chunk_count(doc) and not server.stats.unrecognised


def test_a_flow_cannot_send_the_users_key_to_its_own_endpoint(tmp_path, monkeypatch):
    """A flow file is untrusted: a `models:` entry at another endpoint gets the key its `api_key_env`
    names, never the run's."""
    doc = haystack_with(tmp_path, BICYCLE)
    lv1 = (FLOWS / "lv1.yaml").read_text()
    with ScriptedServer(Script(needles=[BICYCLE])) as users, ScriptedServer(Script(needles=[BICYCLE])) as theirs:
        for entry, expected in [("", "not-needed"), (", api_key_env: THEIR_KEY", "sk-theirs")]:
            flow = tmp_path / "flows" / "lv1.yaml"
            flow.parent.mkdir(exist_ok=True)
            flow.write_text(lv1.replace("nodes:\n", f"models: {{their: {{model: scripted, base_url: "
                                                      f"'{theirs.base_url}'{entry}}}}}\nnodes:\n", 1)
                            .replace("answer:   {use: answer}", "answer:   {use: answer, model: their}"))
            monkeypatch.setenv("THEIR_KEY", "sk-theirs")
            theirs.stats.keys.clear(), theirs.stats.tasks.clear()
            result = run_flow(flow, documents=[doc], question="When was the bicycle invented?",
                              model="scripted", base_url=users.base_url, api_key="sk-users-key",
                              runtime=fast_runtime(), stream=None)
            assert "1817" in result.answer
            assert theirs.stats.keys == {expected} and theirs.stats.tasks.get("answer") == 1
            assert users.stats.keys == {"sk-users-key"}


def test_ctrl_c_stops_a_map_at_once(tmp_path):
    """The first Ctrl-C during a map: no more items are sent; the calls in flight finish."""
    import os
    import signal
    import threading
    import time
    doc = tmp_path / "long.txt"
    doc.write_text(HAYSTACK * 3)
    done = threading.Event()
    # A process started in the background of a non-interactive shell (`pytest &`) inherits SIGINT
    # ignored, and Python then leaves it so: the signal below would do nothing. Ctrl-C's handler, here.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    with ScriptedServer(Script(needles=[]), latency=0.3) as server:
        def interrupt_once_reading() -> None:
            while server.stats.tasks.get("read", 0) < 2 and not done.is_set():
                time.sleep(0.02)
            if not done.is_set():
                os.kill(os.getpid(), signal.SIGINT)
        try:
            with pytest.raises(KeyboardInterrupt):
                threading.Thread(target=interrupt_once_reading, daemon=True).start()
                run_scripted(server, "lv2.yaml", str(doc), "When was the bicycle invented?",
                             overrides={"read.concurrency": 2}, stream=None)
        finally:
            done.set()
            signal.signal(signal.SIGINT, inherited)
        time.sleep(1.0)   # a map left running would send more reads meanwhile
        reads = server.stats.tasks.get("read", 0)
    # Without the stop, the interrupt reaches the caller only once every chunk has been read. (Half of
    # them leaves room for a loaded machine that handles the signal late.)
    assert reads < chunk_count(str(doc)) // 2, reads
