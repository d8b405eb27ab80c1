"""A disk cache of model replies, keyed by (model, messages, call options).

It is what makes a long run resumable: run the same command again after an interruption and every call
that had finished is answered from here, so only the missing ones reach the model. It also serves Lv3,
whose sub-questions re-read chunks that an earlier step already read with the same question.
"""
from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import threading
import time
from pathlib import Path

from .paths import private_file


_WAIT = 60.0   # seconds to wait for another process's hold on the cache before giving up


class ReplyCache:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        deadline = time.monotonic() + _WAIT
        while True:
            try:
                private_file(path)   # it quotes the documents: the user's only (its WAL files inherit this)
                self._db = _connect(path)
                return
            except sqlite3.OperationalError as exc:
                # Processes opening a new cache at once (Ray workers, runs started together) race to
                # make it a WAL database; SQLite answers one "database is locked" without waiting,
                # as waiting could deadlock. It is free a moment later.
                if _busy(exc) and time.monotonic() < deadline:
                    time.sleep(random.uniform(0.01, 0.1))
                    continue
                raise ValueError(_unusable(path, exc)) from None
            except (sqlite3.DatabaseError, OSError) as exc:
                raise ValueError(_unusable(path, exc)) from None

    @staticmethod
    def key(model: str, messages: list, options: dict) -> str:
        payload = json.dumps([model, [(type(m).__name__, getattr(m, "content", str(m))) for m in messages],
                              options], sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, reply: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?)", (key, reply))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=_WAIT, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")
    except BaseException:
        db.close()
        raise
    return db


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _unusable(path: Path, exc: Exception) -> str:
    if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
        return (f"the reply cache {path} stayed locked by another process for {_WAIT:.0f} s: let the other "
                f"run finish, or run with --no-cache")
    return f"the reply cache {path} cannot be used ({exc}): delete it (it only saves model calls), or run " \
           f"with --no-cache"
