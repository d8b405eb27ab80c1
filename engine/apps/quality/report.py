"""The benchmark's results for people: Markdown tables, and one depth x length heat map per method.

Rows are the runner's, one per (case, method): method, task, language, length (tokens), depth (percent),
score, f1, seconds, calls. Every figure is a mean over rows, so an unbalanced grid (a rerun of some cases)
weighs by cases, not by cell. matplotlib is optional (`longflow[bench]`) and imported only to draw.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path

from .scoring import NEEDLEBENCH_WEIGHTS, TASKS, overall

LANGUAGES = {"en": "English", "zh": "Chinese"}


def markdown(rows: list[dict]) -> str:
    """(a) mean score by method x length, with the NeedleBench overall; (b) mean score by method x task,
    one table per language, with the F1 (the fairer figure between languages); (c) what a case cost each
    method."""
    methods = _ordered(r["method"] for r in rows)
    lengths = sorted({int(r["length"]) for r in rows})
    weights = " + ".join(f"{w:g} {t}" for t, w in NEEDLEBENCH_WEIGHTS.items())
    out = ["### Mean score by document length (all tasks)", "",
           _row(["method", *map(_tokens, lengths), "all", "F1", "NeedleBench overall"]),
           _row(["---"] * (len(lengths) + 4))]
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        by_task = {t: _mean(r["score"] for r in mine if r["task"] == t) for t in NEEDLEBENCH_WEIGHTS}
        per_length = (_mean(r["score"] for r in mine if int(r["length"]) == n) for n in lengths)
        out.append(_row([m, *map(_fmt, per_length), _fmt(_mean(r["score"] for r in mine)),
                         _fmt(_mean(r["f1"] for r in mine)), _fmt(overall(by_task))]))
    out += ["", f"F1: LV-Eval's keyword-recall F1 against the gold answer. NeedleBench overall = {weights} "
                "(NeedleBench v1's weights; a missing task's weight is shared by the others); absent and "
                "instruction are not in it: see the task tables.", ""]

    for lang in _ordered(r["language"] for r in rows):
        tasks = [t for t in TASKS if any(r["task"] == t and r["language"] == lang for r in rows)]
        tasks += sorted({r["task"] for r in rows if r["language"] == lang} - set(tasks))
        out += [f"### Mean score by task, {LANGUAGES.get(lang, lang)}", "",
                _row(["method", *tasks, "all", "F1"]), _row(["---"] * (len(tasks) + 3))]
        for m in methods:
            mine = [r for r in rows if r["method"] == m and r["language"] == lang]
            out.append(_row([m, *(_fmt(_mean(r["score"] for r in mine if r["task"] == t)) for t in tasks),
                             _fmt(_mean(r["score"] for r in mine)), _fmt(_mean(r["f1"] for r in mine))]))
        out.append("")
    if len({r["language"] for r in rows}) > 1:
        out += ["A Chinese gold is one word to NeedleBench's reasoning score: all or nothing (\"1971年\" for "
                "\"1971年夏季\" scores 0; \"1971\" for \"summer of 1971\" a third). F1 counts the words of both "
                "languages alike.", ""]

    out += ["### Cost per case", ""]
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        out.append(f"- **{m}**: {_fmt(_mean(r['seconds'] for r in mine))} s and "
                   f"{_fmt(_mean(r['calls'] for r in mine))} model calls per case ({len(mine)} cases)")
    return "\n".join(out) + "\n"


def heatmaps(rows: list[dict], folder: str | Path) -> list[Path]:
    """One PNG per method: mean score per depth (rows, 0 at the top) and length (columns), red 0 to green
    100, the value in each cell, as in the needle-in-a-haystack pressure-test figures."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import LinearSegmentedColormap, Normalize
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise RuntimeError("heat maps need matplotlib: pip install 'longflow[bench]'") from exc
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cmap = LinearSegmentedColormap.from_list("score", ["#F0496E", "#EBB839", "#0CD79F"]).with_extremes(
        bad="#EEEEEE")                      # grey: a cell with no case
    norm = Normalize(0, 100)
    paths = []
    for method in _ordered(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        lengths = sorted({int(r["length"]) for r in mine})
        depths = sorted({float(r["depth"]) for r in mine})
        cells = defaultdict(list)
        for r in mine:
            cells[float(r["depth"]), int(r["length"])].append(float(r["score"]))
        grid = [[_mean(cells.get((d, n), ())) for n in lengths] for d in depths]

        fig = Figure(figsize=(1.6 + 0.9 * len(lengths), 1.4 + 0.45 * len(depths)), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        values = [[math.nan if v is None else v for v in line] for line in grid]
        image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto")
        for i, line in enumerate(grid):
            for j, value in enumerate(line):
                if value is not None:
                    ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=9,
                            color=_ink(cmap(norm(value))))
        ax.set_xticks(range(len(lengths)), [_tokens(n) for n in lengths])
        ax.set_yticks(range(len(depths)), [f"{d:g}" for d in depths])
        ax.set_xlabel("document length (tokens)")
        ax.set_ylabel("depth (%)")
        ax.set_title(f"{method}: mean score {_fmt(_mean(r['score'] for r in mine))}")
        fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
        fig.tight_layout()
        path = folder / f"heatmap_{re.sub(r'[^A-Za-z0-9_.-]+', '_', method)}.png"
        fig.savefig(path)
        paths.append(path)
    return paths


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _fmt(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.1f}"


def _tokens(n: int) -> str:
    """8000 -> 8k, 1000000 -> 1M, 0 -> needles (the needles alone): the way lengths are spoken of."""
    if not n:
        return "needles"
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    return f"{n / 1000:g}k" if n >= 1000 else str(n)


def _ink(rgba) -> str:
    """Black on light cells, white on dark ones."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _ordered(values) -> list:
    """First-seen order: the order the runner ran methods in, which the reader chose."""
    return list(dict.fromkeys(values))


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
