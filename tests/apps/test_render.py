"""longflow.apps.render: Mermaid and DOT text from a Flow, SVG and PNG through Graphviz (skipped when absent)."""
from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from longflow.apps import render as render_mod
from longflow.core.registry import Registry, describe
from longflow.apps.render import FORMATS, RenderError, render, write
from longflow.core.spec import load_flow, parse_flow

REPO = Path(__file__).resolve().parents[2]


# -- a tiny registry: trivial node functions ---------------------------------------------------------------
def split(documents):
    return {"chunks": list(documents)}


def read(chunk, question):
    return {"note": chunk}


def answer(question, notes=None):
    return {"answer": "?"}


def plan(question, memory=None):
    return {"subquestion": ""}


def remember(subanswer):
    return {"memory": subanswer}


@pytest.fixture
def reg() -> Registry:
    r = Registry()
    for func, outputs in ((split, ["chunks"]), (read, ["note"]), (answer, ["answer"]),
                          (plan, ["subquestion"]), (remember, ["memory"])):
        r.add(describe(func, outputs))
    return r


SUB = """\
flow: sub
inputs: [documents, question]
outputs: [answer]
state: {notes: append}
nodes:
  split:  {use: split}
  read:   {use: read, map: chunks, into: notes}
  answer: {use: answer}
edges:
  - [START, split, read, answer, END]
"""

MAIN = """\
flow: main
inputs: [documents, question]
outputs: [answer, memory]
state: {memory: append}
imports: {sub: sub.yaml}
nodes:
  plan:     {use: plan}
  ask:      {use: sub, in: {question: subquestion}, out: {answer: subanswer}}
  remember: {use: remember}
  final:    {use: answer, in: {notes: memory}}
edges:
  - [START, plan]
  - {from: plan, to: ask, when: subquestion, limit: 5}
  - {from: plan, to: final, otherwise: true}
  - [ask, remember, plan]
  - [final, END]
"""

# names and a condition full of characters that Mermaid, DOT and HTML read as syntax
ODD = """\
flow: 'odd "flow"'
inputs: [question]
outputs: [answer]
nodes:
  "check <x>": {use: plan}
  end:   {use: answer, in: {notes: subquestion}}
  "a[1] (b) {c}": {use: answer, in: {notes: subquestion}}
edges:
  - [START, "check <x>"]
  - {from: "check <x>", to: end, when: 'subquestion == "a|b" and len(question) > 3 or question < "#&;"'}
  - {from: "check <x>", to: "a[1] (b) {c}", otherwise: true}
  - [end, END]
  - ["a[1] (b) {c}", END]
"""


@pytest.fixture
def main_flow(tmp_path, reg):
    (tmp_path / "sub.yaml").write_text(SUB)
    (tmp_path / "main.yaml").write_text(MAIN)
    return load_flow(tmp_path / "main.yaml", registry=reg)


@pytest.fixture
def odd_flow(reg):
    return parse_flow(ODD, "odd.yaml", registry=reg)


def backend_or_skip() -> str:
    try:
        return render_mod.dot_program()
    except RenderError as exc:
        pytest.skip(f"no Graphviz program to draw SVG/PNG ({exc}); `pip install graphviz-pure` enables it")


def _mermaid_labels(text: str) -> list[str]:
    return re.findall(r'"([^"\n]*)"', text)


# -- Mermaid ------------------------------------------------------------------------------------------------
def test_formats():
    assert FORMATS == ("mermaid", "dot", "svg", "png")


def test_mermaid_nodes_edges_and_cluster(main_flow):
    text = render(main_flow, "mermaid")
    assert isinstance(text, str)
    lines = [line.strip() for line in text.splitlines()]
    assert "flowchart TD" in lines
    assert 'START(["START<br/>in: documents, question"]):::terminal' in lines
    assert 'END(["END<br/>out: answer, memory"]):::terminal' in lines
    assert 'plan["plan<br/>plan"]:::step' in lines
    assert 'final["final<br/>answer"]:::step' in lines
    # the imported flow: a subgraph with its own START, nodes and END, ids prefixed by the node's name
    assert 'subgraph ask ["ask: flow sub"]' in lines
    body = text[text.index("subgraph ask"):]
    body = body[:body.index("\n    end\n")]
    for inner in ("ask__START", "ask__split", "ask__read", "ask__answer", "ask__END"):
        assert f"\n        {inner}" in body
    assert "question ← subquestion" in body          # the renames show at the cluster's START and END
    assert "answer → subanswer" in body
    # the mapped node: the doubled-sides "subroutine" shape, marked with what it maps over
    assert 'ask__read[["read<br/>read<br/>map over chunks"]]:::mapped' in lines
    # conditional edges dotted and labelled; edges into/out of the imported flow meet its START/END
    assert 'plan -.->|"when: subquestion<br/>limit 5"| ask__START' in lines
    assert 'plan -.->|"otherwise"| final' in lines
    assert "ask__END --> remember" in lines
    assert "remember --> plan" in lines
    assert "ask__split --> ask__read" in lines
    assert "final --> END" in lines


def test_mermaid_escapes_labels_and_ids(odd_flow):
    text = render(odd_flow, "mermaid")
    assert 'title: "odd \\"flow\\""' in text
    # "end" is a Mermaid keyword: its id is prefixed, its label kept
    assert 'n_end["end<br/>answer"]:::step' in text
    assert "check #lt;x#gt;" in text
    assert "a#91;1#93; #40;b#41; #123;c#125;" in text
    assert ('|"when: subquestion == #quot;a#124;b#quot; and<br/>'           # a long condition wraps
            'len#40;question#41; #gt; 3 or question #lt;<br/>#quot;#35;#amp;#59;#quot;"| n_end') in text
    for label in _mermaid_labels(text.split("---", 2)[2]):
        without_breaks = label.replace("<br/>", "")
        assert not re.search(r"[<>\[\](){}|`&]", without_breaks), label
    for line in text.splitlines():   # every id is plain [A-Za-z0-9_]
        m = re.match(r"\s*(\w+)\s*(-->|-\.->)", line)
        if m:
            target = line.rsplit(" ", 1)[1]
            assert re.fullmatch(r"\w+", target), line


def test_ids_unique_when_names_collide(reg):
    flow = parse_flow("""\
flow: clash
inputs: [question]
outputs: [answer]
nodes:
  a-b: {use: plan}
  a_b: {use: answer, in: {notes: subquestion}}
edges:
  - [START, a-b, a_b, END]
""", "clash.yaml", registry=reg)
    text = render(flow, "mermaid")
    assert 'a_b["a-b<br/>plan"]' in text and 'a_b_2["a_b<br/>answer"]' in text
    assert "a_b --> a_b_2" in text


# -- DOT ----------------------------------------------------------------------------------------------------
def test_dot_nodes_edges_and_cluster(main_flow):
    text = render(main_flow, "dot")
    assert text.startswith('digraph "main" {')
    assert 'subgraph "cluster_ask" {' in text
    cluster = text[text.index('subgraph "cluster_ask"'):]
    assert "<b>ask</b>" in cluster.splitlines()[1] and "flow sub" in cluster.splitlines()[1]
    for inner in ("ask__START", "ask__split", "ask__read", "ask__answer", "ask__END"):
        assert f'"{inner}" [label=' in cluster
    assert re.search(r'"ask__read" \[label=<<b>read</b>.*map over chunks.*shape=box3d', text)
    assert re.search(r'"plan" -> "ask__START" \[label="when: subquestion\\nlimit 5", style=dashed', text)
    assert re.search(r'"plan" -> "final" \[label="otherwise", style=dashed', text)
    assert '"ask__END" -> "remember";' in text
    # the loop's closing edge is written reversed with dir=back, so the layout keeps the flow's order
    assert '"plan" -> "remember" [dir=back];' in text
    assert '"final" -> "END";' in text
    assert text.count("{") == text.count("}")


def test_dot_escapes(odd_flow):
    text = render(odd_flow, "dot")
    assert text.startswith('digraph "odd \\"flow\\"" {')
    assert "<b>check &lt;x&gt;</b>" in text
    assert '"n_end" [label=<<b>end</b>' in text
    assert ('label="when: subquestion == \\"a|b\\" and\\nlen(question) > 3 or question <\\n\\"#&;\\""'
            in text)


def test_mapped_imported_flow_is_marked(tmp_path, reg):
    (tmp_path / "sub.yaml").write_text(SUB)
    (tmp_path / "many.yaml").write_text("""\
flow: many
inputs: [libraries, question]
outputs: [answers]
state: {answers: append}
imports: {sub: sub.yaml}
nodes:
  each: {use: sub, map: libraries, out: {answer: answers}}
edges:
  - [START, each, END]
""")
    flow = load_flow(tmp_path / "many.yaml", registry=reg)
    mermaid, dot = render(flow, "mermaid"), render(flow, "dot")
    assert 'subgraph each ["each: flow sub<br/>map over libraries"]' in mermaid
    assert "class each mappedflow" in mermaid
    assert "map over libraries" in dot and "penwidth=2" in dot
    assert "START --> each__START" in mermaid and "each__END --> END" in mermaid


def test_nested_imports_are_clusters_in_clusters(tmp_path, reg):
    (tmp_path / "sub.yaml").write_text(SUB)
    (tmp_path / "mid.yaml").write_text("""\
flow: mid
inputs: [documents, question]
outputs: [answer]
imports: {sub: sub.yaml}
nodes:
  inner: {use: sub}
edges:
  - [START, inner, END]
""")
    (tmp_path / "top.yaml").write_text("""\
flow: top
inputs: [documents, question]
outputs: [answer]
imports: {mid: mid.yaml}
nodes:
  outer: {use: mid}
edges:
  - [START, outer, END]
""")
    flow = load_flow(tmp_path / "top.yaml", registry=reg)
    dot = render(flow, "dot")
    assert dot.index('subgraph "cluster_outer"') < dot.index('subgraph "cluster_outer__inner"')
    assert '"outer__inner__read"' in dot
    mermaid = render(flow, "mermaid")
    assert "subgraph outer__inner" in mermaid
    assert "outer__START --> outer__inner__START" in mermaid
    assert "outer__inner__END --> outer__END" in mermaid


def test_direction(main_flow):
    assert "\nflowchart LR\n" in render(main_flow, "mermaid", rankdir="LR")
    assert "rankdir=LR" in render(main_flow, "dot", rankdir="LR")
    assert "rankdir=TB" in render(main_flow, "dot")
    with pytest.raises(RenderError, match="rankdir"):
        render(main_flow, "dot", rankdir="sideways")


def test_unknown_format(main_flow):
    with pytest.raises(RenderError, match="formats are: mermaid, dot, svg, png"):
        render(main_flow, "pdf")


def test_write_picks_format_from_suffix(main_flow, tmp_path):
    assert write(main_flow, None, tmp_path / "f.mmd").read_text().startswith("---\ntitle:")
    assert write(main_flow, None, tmp_path / "f.md").read_text().startswith("```mermaid\n")
    assert write(main_flow, None, tmp_path / "f.gv").read_text().startswith("digraph")
    with pytest.raises(RenderError, match="suffix"):
        write(main_flow, None, tmp_path / "f.txt")


def test_render_imports_no_langgraph():
    import subprocess
    import sys
    code = ("import sys, longflow.apps.render; "
            "print(any(m.split('.')[0] in ('langgraph', 'langchain_core') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


# -- SVG and PNG --------------------------------------------------------------------------------------------
def test_svg_is_xml_with_the_names(main_flow):
    backend_or_skip()
    svg = render(main_flow, "svg")
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter() if t.tag.endswith("text") and t.text}
    for name in ("plan", "remember", "final", "ask", "flow sub", "split", "read", "map over chunks",
                 "START", "END", "otherwise", "when: subquestion", "limit 5"):
        assert name in texts, name


def test_svg_of_odd_names(odd_flow):
    backend_or_skip()
    root = ET.fromstring(render(odd_flow, "svg").encode("utf-8"))
    texts = {t.text for t in root.iter() if t.tag.endswith("text") and t.text}
    assert "check <x>" in texts and "a[1] (b) {c}" in texts


def test_png_signature_and_size(main_flow, tmp_path):
    backend_or_skip()
    png = render(main_flow, "png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert width > 200 and height > 400          # top-down, at 144 dpi
    assert write(main_flow, None, tmp_path / "f.png").read_bytes() == png


def test_missing_backend_says_what_to_install(main_flow, monkeypatch):
    monkeypatch.delenv(render_mod.DOT_ENV, raising=False)
    monkeypatch.setattr(render_mod.shutil, "which", lambda *a, **k: None)
    with pytest.raises(RenderError, match=r"pip install graphviz-pure.*apt-get install graphviz"):
        render(main_flow, "svg")
    assert render(main_flow, "dot").startswith("digraph")   # text formats need nothing


def test_backend_from_env(main_flow, monkeypatch):
    monkeypatch.setenv(render_mod.DOT_ENV, "/nonexistent/dot")
    with pytest.raises(RenderError, match="LONGFLOW_DOT"):
        render(main_flow, "png")


def test_failing_backend_reports_its_error(main_flow, monkeypatch, tmp_path):
    fake = tmp_path / "fakedot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv(render_mod.DOT_ENV, str(fake))
    with pytest.raises(RenderError, match="syntax error in line 1"):
        render(main_flow, "svg")


# -- the project's own flows --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lv1", "lv2", "lv3"])
def test_real_flows_render(name):
    path = REPO / "flows" / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"{path} not written yet")
    flow = load_flow(path)
    mermaid, dot = render(flow, "mermaid"), render(flow, "dot")
    for node in flow.nodes:
        assert node in mermaid and node in dot
    if name == "lv3":
        assert 'subgraph "cluster_ask"' in dot and '"ask__read"' in dot
        assert "subgraph ask" in mermaid
