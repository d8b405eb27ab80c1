"""JSON lines that are never torn, and what a resumed run has already done.

A line is written with one `write` to a file opened for appending, and the file is flushed and synced
after each document's lines. A kill can only cut the last line short; opening the file again cuts that
partial line off (its sample is redone), so a reader never sees half a line.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterator

_ID = re.compile(rb'^\{"id": "([^"]+)"')


class JsonlWriter:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            repair(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ValueError(f"cannot write {self.path}: {exc.strerror}; give a file path in a folder you can "
                             f"write") from None

    def write(self, row: dict) -> None:
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:   # a write to a regular file is whole, unless the disk fills: then go on, or fail
            view = view[os.write(self._fd, view):]

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def repair(path: Path) -> int:
    """Cut off a last line left without its newline by a kill; return how many bytes were cut."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if not size:
        return 0
    with open(path, "rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        step, end = 1 << 16, size
        while end > 0:   # back to the last newline, a block at a time (a line may hold a whole book)
            start = max(0, end - step)
            f.seek(start)
            block = f.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            end = start
        else:
            keep = 0
        f.truncate(keep)
        return size - keep


def ids(path: Path) -> Iterator[str]:
    """The `id` of every line, read from the line's start (samples carry whole documents: no need to
    parse them to resume)."""
    if not Path(path).exists():
        return
    with open(path, "rb") as f:
        for raw in f:
            m = _ID.match(raw)
            if m:
                yield m.group(1).decode()


def rows(path: Path) -> Iterator[dict]:
    """Every whole line as a dict (a line that is not JSON is skipped)."""
    if not Path(path).exists():
        return
    with open(path, encoding="utf-8") as f:
        for raw in f:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value


def objects(path: Path, form: str, what: str = "") -> Iterator[tuple[str, int, dict]]:
    """(where, line number, object) for each non-blank line of an input file; ValueError naming the file
    and line, what is wrong and `form`, the shape wanted, at the first line that is not a JSON object."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what}{path}: no such file; {form}")
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not JSON ({exc.msg} at column {exc.colno}); {form}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{where}: a {type(row).__name__}, not an object; {form}")
            yield where, n, row
