"""The cache quotes the user's documents: it is theirs alone, and a broken one is a message, not a trace."""
from __future__ import annotations

import stat

import pytest

from longflow.core.paths import cache_dir
from longflow.core.replies import ReplyCache


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_cache_folder_and_reply_cache_are_the_users_only(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("LONGFLOW_CACHE", str(root))
    cache = ReplyCache(cache_dir() / "replies.sqlite")
    cache.put("k", "a reply quoting the document")
    assert cache.get("k") == "a reply quoting the document"
    cache.close()
    assert mode(root) == 0o700 and mode(root / "replies.sqlite") == 0o600


def test_an_open_cache_folder_is_closed(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    root.mkdir(mode=0o755)
    (root / "replies.sqlite").touch(mode=0o644)
    monkeypatch.setenv("LONGFLOW_CACHE", str(root))
    ReplyCache(cache_dir() / "replies.sqlite").close()
    assert mode(root) == 0o700 and mode(root / "replies.sqlite") == 0o600


def test_a_cache_path_that_is_a_file_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "file"))
    with pytest.raises(ValueError, match="is a file: point LONGFLOW_CACHE at a folder"):
        cache_dir("bm25")


def test_a_corrupt_reply_cache_is_a_clear_error(tmp_path):
    (tmp_path / "replies.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="delete it .* or run with --no-cache"):
        ReplyCache(tmp_path / "replies.sqlite")
