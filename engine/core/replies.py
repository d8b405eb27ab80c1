"""A disk cache of model replies, keyed by (model, messages, call options).

It is what makes a long run resumable: run the same command again after an interruption and every call
that had finished is answered from here, so only the missing ones reach the model. It also serves Lv3,
whose sub-questions re-read chunks that an earlier step already read with the same question.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from .paths import private_file


class ReplyCache:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            private_file(path)   # it quotes the documents: the user's only (its WAL files inherit this)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")
        except (sqlite3.DatabaseError, OSError) as exc:
            raise ValueError(f"the reply cache {path} cannot be used ({exc}): delete it (it only saves "
                             f"model calls), or run with --no-cache") from None

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
