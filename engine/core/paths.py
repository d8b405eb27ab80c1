"""Where longflow keeps what it can rebuild: model weights, chunkings, indexes, read results, runs."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """$LONGFLOW_CACHE, else $XDG_CACHE_HOME/longflow, else ~/.cache/longflow; created on demand.

    The cache quotes the user's documents (model replies, chunks), so its folder is the user's only
    (0700)."""
    root = Path(os.environ.get("LONGFLOW_CACHE") or
                os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "longflow"))
    path = root.joinpath(*parts)
    for folder in (root, path):
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"the cache folder {folder} is a file: point LONGFLOW_CACHE at a folder "
                             f"(it is created if missing)")
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if root.stat().st_uid == os.getuid() and root.stat().st_mode & 0o077:
            root.chmod(0o700)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot use the cache folder {path}: {exc.strerror}; point LONGFLOW_CACHE at a "
                         f"folder you can write") from None
    return path


def inside(path: Path, roots) -> bool:
    """Whether `path` (resolved: symbolic links followed) is in one of `roots`."""
    path = Path(path).resolve()
    return any(path == r or path.is_relative_to(r) for r in roots)


def private_file(path: Path) -> Path:
    """`path`, created if missing, readable and writable by the user alone (0600).

    An existing file is never opened here: closing any descriptor of a file drops every POSIX lock the
    process holds on it, and an SQLite connection open on it elsewhere in the process (the reply cache,
    opened by each run of a long-lived worker) would lose its locks: "disk I/O error" once another
    process writes too."""
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
        except FileExistsError:   # another process made it meanwhile
            pass
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path
