"""Every kind of flow error, with the line and column it must point at."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from longflow.core.spec import load_flow, parse_flow
from longflow.core.yamlsource import FlowErrors

GOOD = """\
flow: toy
inputs: [text]
outputs: [joined]
nodes:
  split: {use: split}
  shout: {use: shout, map: items, into: outs, with: {bang: true}}
  join:  {use: join}
edges:
  - [START, split, shout, join, END]
"""


def errors_of(text: str, registry, **kwargs):
    with pytest.raises(FlowErrors) as info:
        parse_flow(textwrap.dedent(text), "flow.yaml", registry=registry, **kwargs)
    return info.value.errors


def only_error(text: str, registry, **kwargs):
    errors = errors_of(text, registry, **kwargs)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_good_flow_parses(toy_registry):
    flow = parse_flow(GOOD, "flow.yaml", registry=toy_registry)
    assert list(flow.nodes) == ["split", "shout", "join"]
    assert flow.nodes["shout"].outputs == {"out": "outs"}
    assert flow.nodes["shout"].params == {"bang": True, "concurrency": 16}
    assert [(e.source, e.target) for e in flow.edges] == [
        ("START", "split"), ("split", "shout"), ("shout", "join"), ("join", "END")]


def test_invalid_yaml_points_at_the_problem(toy_registry):
    error = only_error(GOOD.replace("{use: join}", "{use: join"), toy_registry)
    assert (error.line, error.col) == (8, 6)
    assert str(error).startswith("flow.yaml:8:6: invalid YAML: expected ',' or '}'")
    assert "flow mapping that starts at line 7, column 10" in error.message


def test_unknown_node_kind_suggests_the_closest(toy_registry):
    error = only_error(GOOD.replace("{use: split}", "{use: splt}"), toy_registry)
    assert (error.line, error.col) == (5, 16)
    assert "unknown node kind 'splt'" in error.message and "did you mean 'split'" in error.message


def test_unknown_parameter_lists_the_valid_ones(toy_registry):
    error = only_error(GOOD.replace("{bang: true}", "{bangg: true}"), toy_registry)
    assert (error.line, error.col) == (6, 54)
    assert "unknown parameter 'bangg'" in error.message
    assert "did you mean 'bang'" in error.message and "concurrency (int, default 16)" in error.message


def test_wrong_parameter_type(toy_registry):
    error = only_error(GOOD.replace("{bang: true}", "{bang: loud}"), toy_registry)
    assert (error.line, error.col) == (6, 60)
    assert "parameter 'bang' must be bool, got 'loud'" in error.message


def test_unknown_state_key(toy_registry):
    text = GOOD.replace("{use: join}", "{use: join, in: {outs: shouts}}")
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (7, 33)
    assert "reads state key 'shouts', which no node writes" in error.message and "'outs'" in error.message


def test_output_no_node_writes(toy_registry):
    error = only_error(GOOD.replace("outputs: [joined]", "outputs: [joined, summary]"), toy_registry)
    assert (error.line, error.col) == (3, 19)
    assert "flow output 'summary' is written by no node" in error.message


def test_unreachable_node(toy_registry):
    text = GOOD.replace("  join:  {use: join}\n", "  join:  {use: join}\n  lost:  {use: count}\n")
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (8, 3)
    assert "node 'lost' is unreachable" in error.message


def test_loop_without_limit(toy_registry):
    text = """\
    flow: loop
    outputs: [n]
    nodes:
      count: {use: count}
    edges:
      - [START, count]
      - {from: count, to: count, when: "n < 3"}
      - {from: count, to: END, otherwise: true}
    """
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (7, 12)
    assert "loop count -> count has no limit" in error.message and "limit: N" in error.message


def test_limit_on_a_plain_edge(toy_registry):
    text = """\
    flow: loop
    nodes:
      count: {use: count}
    edges:
      - [START, count]
      - {from: count, to: END, limit: 2}
    """
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (6, 35)
    assert "`limit:` belongs on a `when:` edge" in error.message


def test_conditional_edges_need_one_otherwise(toy_registry):
    text = """\
    flow: branch
    nodes:
      count: {use: count}
    edges:
      - [START, count]
      - {from: count, to: END, when: "n > 1"}
    """
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (6, 5)
    assert "exactly one `otherwise: true`" in error.message


def test_condition_syntax_error_points_into_the_expression(toy_registry):
    text = GOOD.replace("  - [START, split, shout, join, END]\n",
                        "  - [START, split, shout, join]\n"
                        "  - {from: join, to: END, when: \"joined ==\"}\n"
                        "  - {from: join, to: split, otherwise: true, limit: 2}\n")
    errors = errors_of(text, toy_registry)
    assert any(e.line == 10 and e.col >= 33 and "cannot parse condition 'joined =='" in e.message
               for e in errors)


def test_condition_rejects_unsafe_code(toy_registry):
    text = GOOD.replace("  - [START, split, shout, join, END]\n",
                        "  - [START, split, shout, join]\n"
                        "  - {from: join, to: END, when: \"__import__('os').system('x')\"}\n"
                        "  - {from: join, to: END, otherwise: true}\n")
    errors = errors_of(text, toy_registry)
    assert any("not allowed in a condition" in e.message or "may be called" in e.message for e in errors)


def test_condition_names_unknown_key(toy_registry):
    text = GOOD.replace("  - [START, split, shout, join, END]\n",
                        "  - [START, split, shout, join]\n"
                        "  - {from: join, to: END, when: \"len(joind) > 0\"}\n"
                        "  - {from: join, to: END, otherwise: true}\n")
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (10, 33) and "unknown state key 'joind'" in error.message


def test_edge_to_unknown_node(toy_registry):
    error = only_error(GOOD.replace("join, END]", "jion, END]"), toy_registry)
    assert (error.line, error.col) == (9, 27)
    assert "unknown node 'jion'" in error.message and "did you mean 'join'" in error.message


def test_unknown_top_level_field(toy_registry):
    error = only_error("nodez: {}\n" + GOOD, toy_registry)
    assert (error.line, error.col) == (1, 1) and "unknown field 'nodez'" in error.message


def test_duplicate_key(toy_registry):
    error = only_error(GOOD.replace("  join:  {use: join}\n", "  join:  {use: join}\n  join:  {use: join}\n"),
                       toy_registry)
    assert (error.line, error.col) == (8, 3) and "duplicate key 'join'" in error.message


def test_set_override_is_type_checked(toy_registry):
    error = only_error(GOOD, toy_registry, overrides={"shout.concurrency": "many"})
    assert "parameter 'concurrency' must be int" in error.message
    flow = parse_flow(GOOD, "flow.yaml", registry=toy_registry, overrides={"shout.concurrency": 64})
    assert flow.nodes["shout"].params["concurrency"] == 64


def test_set_override_of_unknown_node(toy_registry):
    error = only_error(GOOD, toy_registry, overrides={"shoot.bang": True})
    assert "--set shoot.bang: no node 'shoot'" in error.message


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_imported_flow_is_a_node(toy_registry, main_flow_file):
    flow = load_flow(main_flow_file, registry=toy_registry)
    assert flow.nodes["run"].subflow.name == "sub"
    assert flow.nodes["run"].inputs == {"text": "words"} and flow.nodes["run"].outputs == {"joined": "result"}


def test_missing_import(tmp_path, toy_registry):
    main = write(tmp_path, "main.yaml", "flow: m\nimports: {sub: nowhere.yaml}\nnodes: {}\nedges: []\n")
    with pytest.raises(FlowErrors) as info:
        load_flow(main, registry=toy_registry)
    error = info.value.errors[0]
    assert (error.line, error.col) == (2, 16) and "imported flow 'nowhere.yaml' not found" in error.message


def test_import_cycle(tmp_path, toy_registry):
    write(tmp_path, "a.yaml", "flow: a\nimports: {b: b.yaml}\nnodes: {}\nedges: []\n")
    write(tmp_path, "b.yaml", "flow: b\nimports: {a: a.yaml}\nnodes: {}\nedges: []\n")
    with pytest.raises(FlowErrors) as info:
        load_flow(tmp_path / "a.yaml", registry=toy_registry)
    error = info.value.errors[0]
    assert error.file.endswith("b.yaml") and (error.line, error.col) == (2, 14)
    assert "import cycle: a.yaml -> b.yaml -> a.yaml" in error.message


def test_error_inside_an_import_names_the_imported_file(tmp_path, toy_registry):
    from conftest import SUB_FLOW
    write(tmp_path, "sub.yaml", SUB_FLOW.replace("{use: join}", "{use: jion}"))
    main = write(tmp_path, "main.yaml", "flow: m\nimports: {sub: sub.yaml}\nnodes: {}\nedges: []\n")
    with pytest.raises(FlowErrors) as info:
        load_flow(main, registry=toy_registry)
    assert str(info.value.errors[0]).startswith(f"{tmp_path / 'sub.yaml'}:7:")


def test_dotted_parameter_of_an_imported_flow_is_checked(tmp_path, toy_registry, sub_flow_file):
    main = write(tmp_path, "main.yaml", """\
    flow: main
    imports: {sub: sub.yaml}
    inputs: [text]
    nodes:
      run: {use: sub, with: {shout.bangg: true}}
    edges:
      - [START, run, END]
    """)
    with pytest.raises(FlowErrors) as info:
        load_flow(main, registry=toy_registry)
    assert "unknown parameter 'shout.bangg'" in info.value.errors[0].message


def test_missing_flow_file_lists_the_flows_there(tmp_path, toy_registry):
    write(tmp_path, "lv1.yaml", GOOD)
    with pytest.raises(FlowErrors) as info:
        load_flow(tmp_path / "lv9.yaml", registry=toy_registry)
    assert "flow file not found; flows here: lv1.yaml" in info.value.errors[0].message


def test_join_takes_no_condition(toy_registry):
    text = GOOD.replace("  - [START, split, shout, join, END]\n",
                        "  - [START, split, shout]\n"
                        "  - [START, join]\n"
                        "  - {from: [shout, join], to: END, when: joined}\n")
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (11, 12) and "a join `{from: [a, b], to: c}`" in error.message


def test_join_cannot_feed_a_map(toy_registry):
    text = GOOD.replace("  - [START, split, shout, join, END]\n",
                        "  - [START, split]\n"
                        "  - [START, join]\n"
                        "  - {from: [split, join], to: shout}\n"
                        "  - [shout, END]\n")
    errors = errors_of(text, toy_registry)
    assert any("a join cannot lead to a mapped node ('shout')" in e.message and e.line == 11 for e in errors)


def test_loop_with_an_otherwise_edge_to_the_same_target_has_no_limit(toy_registry):
    """Two edges between the same nodes stay two: the unlimited `otherwise` closes the loop too."""
    text = """\
    flow: loop
    outputs: [n]
    nodes:
      count: {use: count}
      big:   {use: count, with: {step: 100}}
    edges:
      - [START, count]
      - {from: count, to: big, when: "n < 3", limit: 2}
      - {from: count, to: big, otherwise: true}
      - {from: big, to: END, when: "n > 1000"}
      - {from: big, to: count, otherwise: true}
    """
    error = only_error(text, toy_registry)
    assert "loop count -> big -> count has no limit" in error.message
    assert parse_flow(textwrap.dedent(text.replace("to: big, otherwise", "to: END, otherwise")), "f.yaml",
                      registry=toy_registry)


@pytest.mark.parametrize("merge", ["replace"])
def test_a_map_cannot_replace_its_output_key(toy_registry, merge):
    text = GOOD.replace("nodes:\n", f"state: {{outs: {merge}}}\nnodes:\n")
    error = only_error(text, toy_registry)
    assert (error.line, error.col) == (4, 15)
    assert "state key 'outs' is written by the mapped node 'shout'" in error.message and "`append`" in error.message


@pytest.mark.parametrize("merge", ["append", "add", "merge"])
def test_a_map_may_append_add_or_merge_its_output_key(toy_registry, merge):
    parse_flow(GOOD.replace("nodes:\n", f"state: {{outs: {merge}}}\nnodes:\n"), "f.yaml", registry=toy_registry)


def test_map_names_the_input_that_takes_each_item(toy_registry):
    flow = parse_flow(GOOD.replace("map: items,", "map: {item: items},"), "f.yaml", registry=toy_registry)
    assert (flow.nodes["shout"].map, flow.nodes["shout"].map_input) == ("items", "item")
    error = only_error(GOOD.replace("map: items,", "map: {iten: items},"), toy_registry)
    assert (error.line, error.col) == (6, 29)
    assert "`map:` names 'iten', which is not one of its inputs (did you mean 'item'?)" in error.message


def test_a_mapped_imported_flow_takes_concurrency(tmp_path, toy_registry, sub_flow_file):
    main = tmp_path / "m.yaml"
    main.write_text(textwrap.dedent("""\
    flow: m
    imports: {sub: sub.yaml}
    inputs: [text]
    nodes:
      split: {use: split}
      each:  {use: sub, map: items, with: {concurrency: 2, shout.bang: true}}
    edges:
      - [START, split, each, END]
    """))
    assert load_flow(main, registry=toy_registry).nodes["each"].params == {"concurrency": 2, "shout.bang": True}
    main.write_text(main.read_text().replace("concurrency: 2", "concurrency: two"))
    with pytest.raises(FlowErrors, match="parameter 'concurrency' must be int"):
        load_flow(main, registry=toy_registry)


@pytest.mark.parametrize("value", [0, -3])
def test_map_concurrency_is_at_least_one(toy_registry, value):
    error = only_error(GOOD.replace("with: {bang: true}", f"with: {{bang: true, concurrency: {value}}}"),
                       toy_registry)
    assert f"parameter 'concurrency' must be >= 1, got {value}" in error.message and error.line == 6


# -- models: a flow file is untrusted ------------------------------------------------------------------

@pytest.mark.parametrize("entry, says", [
    ("{model: m, api_key: sk-123}", "never holds a key"),
    ("{model: m, openai_api_base: 'http://evil/v1'}", "unknown field 'openai_api_base'"),
    ("{model: m, default_headers: {x: y}}", "unknown field 'default_headers'"),
    ("{model: m, base_url: 'file:///etc/passwd'}", "an http(s):// URL"),
    ("{model: m, api_key_env: 'A B'}", "the name of an environment variable"),
    ("{model: m, max_tokens: -5}", "a whole number of at least 1"),
    ("{base_url: 'http://x/v1'}", "at least `model:`"),
])
def test_a_model_entry_takes_only_its_fields(toy_registry, entry, says):
    error = only_error(f"models: {{small: {entry}}}\n" + GOOD, toy_registry)
    assert says in error.message and "model 'small'" in error.message and error.line == 1


# -- the files a flow names stay inside its folder -------------------------------------------------

LV2 = Path(__file__).resolve().parents[2] / "flows" / "lv2.yaml"


@pytest.fixture
def flow_folder(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "lv2.yaml").write_text(LV2.read_text())
    (folder / "read.en.txt").write_text("Passage: $chunk\nQuestion: $question\n")
    (tmp_path / "secret.txt").write_text("the user's secret")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    return folder


@pytest.mark.parametrize("value, says", [
    ("/etc/passwd", "is an absolute path"),
    ("../secret.txt", "is outside the flow's folder"),
    ("link.txt", "is outside the flow's folder"),             # a link inside that points outside
    ("nowhere.{lang}.txt", "not found"),
])
def test_a_template_must_be_a_file_inside_the_flows_folder(flow_folder, value, says):
    with pytest.raises(FlowErrors) as info:
        load_flow(flow_folder / "lv2.yaml", overrides={"read.prompt": value})
    error, = info.value.errors
    assert says in error.message and "node 'read': parameter 'prompt'" in error.message
    assert error.file.endswith("lv2.yaml")


def test_a_template_inside_the_flows_folder_or_an_allowed_one_is_used(flow_folder):
    assert load_flow(flow_folder / "lv2.yaml", overrides={"read.prompt": "read.{lang}.txt"})
    flow = load_flow(flow_folder / "lv2.yaml", overrides={"read.prompt": "../secret.txt"},
                     allowed_dirs=(flow_folder.parent,))
    assert flow.nodes["read"].params["prompt"] == "../secret.txt"


def test_an_import_must_be_inside_the_flows_folder(flow_folder):
    (flow_folder / "sub").mkdir()
    main = flow_folder / "sub" / "main.yaml"
    main.write_text("flow: m\nimports: {lv2: ../lv2.yaml}\ninputs: [documents, question]\nnodes:\n"
                    "  ask: {use: lv2}\nedges:\n  - [START, ask, END]\n")
    with pytest.raises(FlowErrors) as info:
        load_flow(main)
    assert "imported flow '../lv2.yaml' is outside the flow's folder" in info.value.errors[0].message
    assert load_flow(main, allowed_dirs=(flow_folder,)).nodes["ask"].subflow.name == "lv2"


def test_a_node_cannot_open_a_file_outside_its_flows_folder_at_run_time(flow_folder):
    from longflow.core.context import Context
    ctx = Context(node="read", stream=None, flow_dir=flow_folder, roots=(flow_folder,))
    assert ctx.flow_file("read.en.txt") == flow_folder / "read.en.txt"
    for path in ("../secret.txt", "link.txt", "/etc/passwd"):
        with pytest.raises(ValueError, match="outside the flow's folder"):
            ctx.flow_file(path)


# -- YAML that a flow file may not use ---------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize("text, where, says", [
    (BOMB + GOOD, None, "expands to more than 100,000 values"),
    ("x: !!python/name:os.system\n" + GOOD, (1, 4), "unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'"),
    ("x: !!python/object/apply:os.system [ls]\n" + GOOD, (1, 4), "unsupported YAML tag"),
    ("? [a, b]\n: 1\n" + GOOD, (1, 3), "a mapping key must be a plain value"),
])
def test_yaml_beyond_plain_values_is_refused(toy_registry, text, where, says):
    error = only_error(text, toy_registry)
    assert says in error.message
    if where:
        assert (error.line, error.col) == where


def test_aliases_within_the_bound_still_work(toy_registry):
    flow = parse_flow(GOOD.replace("with: {bang: true}", "with: &opts {bang: true}") +
                      "description: *opts\n", "flow.yaml", registry=toy_registry)
    assert flow.nodes["shout"].params["bang"] is True
