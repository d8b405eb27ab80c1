"""Where longflow keeps what it can rebuild: model weights, chunkings, indexes, read results, runs."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """$LONGFLOW_CACHE, else $XDG_CACHE_HOME/longflow, else ~/.cache/longflow; created on demand."""
    root = os.environ.get("LONGFLOW_CACHE") or \
        os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "longflow")
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
