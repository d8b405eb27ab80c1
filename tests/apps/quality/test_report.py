"""longflow.apps.quality.report: the Markdown tables' numbers, and heat maps that are real PNG files."""
from __future__ import annotations

import sys

import pytest

from longflow.apps.quality.report import heatmaps, markdown


def row(method, task, language, length, depth, score, f1, seconds, calls):
    return {"method": method, "task": task, "language": language, "length": length, "depth": depth,
            "score": score, "f1": f1, "seconds": seconds, "calls": calls}


ROWS = [
    row("lv1", "single", "en", 8000, 0, 100, 80, 2, 3),
    row("lv1", "multi", "en", 8000, 50, 50, 40, 4, 3),
    row("lv1", "reasoning", "zh", 16000, 0, 0, 0, 6, 6),
    row("lv1", "absent", "zh", 16000, 100, 100, 100, 8, 4),
    row("lv2", "single", "en", 8000, 0, 0, 10, 30, 20),
    row("lv2", "instruction", "en", 1_000_000, 50, 100, 60, 50, 40),
]


def cells(text: str, first: str, after: str = "") -> list[str]:
    """The cells of the table row starting with `first`, in the first table after the line `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    line = next(line for line in lines[start:] if line.startswith(f"| {first} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_the_length_table_has_mean_scores_f1_and_the_needlebench_overall():
    text = markdown(ROWS)
    assert cells(text, "method") == ["method", "8k", "16k", "1M", "all", "F1", "NeedleBench overall"]
    # lv1: 8k (100, 50), 16k (0, 100); overall 0.4 x 100 + 0.3 x 50 + 0.3 x 0
    assert cells(text, "lv1") == ["lv1", "75.0", "50.0", "–", "62.5", "55.0", "55.0"]
    # lv2 ran no multi and no reasoning case: the overall is its single score alone
    assert cells(text, "lv2") == ["lv2", "0.0", "–", "100.0", "50.0", "35.0", "0.0"]


def test_the_task_tables_are_per_language():
    text = markdown(ROWS)
    assert cells(text, "method", "English") == ["method", "single", "multi", "instruction", "all", "F1"]
    assert cells(text, "lv1", "English") == ["lv1", "100.0", "50.0", "–", "75.0", "60.0"]
    assert cells(text, "lv2", "English") == ["lv2", "0.0", "–", "100.0", "50.0", "35.0"]
    assert cells(text, "method", "Chinese") == ["method", "reasoning", "absent", "all", "F1"]
    assert cells(text, "lv1", "Chinese") == ["lv1", "0.0", "100.0", "50.0", "50.0"]
    assert cells(text, "lv2", "Chinese") == ["lv2", "–", "–", "–", "–"]


def test_the_cost_lines():
    text = markdown(ROWS)
    assert "- **lv1**: 5.0 s and 4.0 model calls per case (4 cases)" in text
    assert "- **lv2**: 40.0 s and 30.0 model calls per case (2 cases)" in text


def test_heatmaps_are_png_files_one_per_method(tmp_path):
    pytest.importorskip("matplotlib")
    paths = heatmaps(ROWS + [row("my flow/v2", "single", "zh", 8000, 0, 42, 0, 1, 1)], tmp_path / "maps")
    assert [p.name for p in paths] == ["heatmap_lv1.png", "heatmap_lv2.png", "heatmap_my_flow_v2.png"]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"                      # the PNG signature
        assert data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")


def test_heatmaps_without_matplotlib_say_how_to_install_it(tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.backends.backend_agg", "matplotlib.colors", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)       # a None entry makes the import fail
    with pytest.raises(RuntimeError, match=r"pip install 'longflow\[bench\]'"):
        heatmaps(ROWS, tmp_path)
