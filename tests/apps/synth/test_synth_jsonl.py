"""Output lines are never torn: a line cut short by a kill is removed when the file is opened again."""
from __future__ import annotations

import json

from longflow.apps.synth.jsonl import JsonlWriter, ids, repair, rows


def test_a_torn_last_line_is_cut_off_on_open(tmp_path):
    path = tmp_path / "data.jsonl"
    whole = json.dumps({"id": "a", "text": "x" * 200_000}) + "\n"   # longer than the block read back
    path.write_text(whole + '{"id": "b", "text": "half a li')
    with JsonlWriter(path) as writer:
        writer.write({"id": "c", "text": "文"})
    assert list(ids(path)) == ["a", "c"]
    assert [r["id"] for r in rows(path)] == ["a", "c"]
    assert path.read_text().endswith('"文"}\n')


def test_repair_of_a_file_that_is_one_torn_line(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"id": "a", "te')
    assert repair(path) == len('{"id": "a", "te') and path.read_text() == ""
    assert repair(tmp_path / "missing.jsonl") == 0
