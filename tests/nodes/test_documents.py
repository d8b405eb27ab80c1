"""load_document and chunk, on real text (excerpts of Moby Dick and Journey to the West in tests/data)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from longflow.core.context import Context
from longflow.nodes.documents import (CHUNK_CACHE, DocumentError, chunk, load_arrays, load_document,
                             save_arrays)
from longflow.nodes.tokens import count_tokens

DATA = Path(__file__).resolve().parent.parent / "data"
MOBY = DATA / "moby_dick_excerpt.txt"
JOURNEY = DATA / "journey_to_the_west_excerpt.txt"

# A sentence end followed by more text: the chunker must not cut a chunk where the chunk has one of
# these inside it (it would have cut there instead).
SENTENCE_END_INSIDE = re.compile(r"[.!?]+[”’\"')\]]*\s+\S|[。！？]+[”’\"」』）]*\s*\S|\n[ \t]*\n\s*\S")
ENDS_AT_SENTENCE_END = re.compile(r"([.!?。！？…]+[”’\"')\]」』）]*|\n[ \t]*\n)\s*$")


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "cache"))
    CHUNK_CACHE.clear()
    yield tmp_path / "cache"
    CHUNK_CACHE.clear()


@pytest.fixture
def ctx():
    return Context(node="chunk", stream=None)


def load(*items, **kw):
    return load_document(list(items), ctx=Context(node="load", stream=None), **kw)["documents"]


def check_coverage(doc, chunks):
    mine = [c for c in chunks if c["doc"] == doc["id"]]
    assert "".join(c["text"] for c in mine) == doc["text"]
    assert mine[0]["start"] == 0 and mine[-1]["end"] == len(doc["text"])
    for i, c in enumerate(mine):
        assert c["id"] == f"{doc['id']}#{i}" and c["index"] == i
        assert c["text"] == doc["text"][c["start"]:c["end"]] and c["text"]
        if i:
            assert c["start"] == mine[i - 1]["end"]


# -- load_document ------------------------------------------------------------------------------------

def test_load_paths_text_and_dicts():
    ctx = Context(node="load", stream=None)
    docs = load_document([str(MOBY), str(JOURNEY), "raw text\nsecond line",
                          {"id": "mine", "text": "given\r\ntext"}], ctx=ctx)["documents"]
    assert [d["id"] for d in docs] == ["doc0", "doc1", "doc2", "mine"]
    assert docs[0]["source"] == str(MOBY) and docs[2]["source"] == "text"
    assert docs[0]["text"].startswith("CHAPTER 1. Loomings.")
    assert b"\r\n" in JOURNEY.read_bytes() and "\r" not in docs[1]["text"]   # CRLF normalised
    assert docs[3]["text"] == "given\ntext"
    for d in docs:
        assert d["sha256"] == hashlib.sha256(d["text"].encode("utf-8")).hexdigest()
    assert "load" in ctx.record.timings


def test_load_single_items_and_long_strings():
    assert load_document(str(MOBY), ctx=Context(node="l", stream=None))["documents"][0]["id"] == "doc0"
    long_line = "x" * 300                    # no newline, but too long to be a file name
    assert load(long_line)[0]["text"] == long_line


def test_missing_file_names_it_and_lists_the_folder(tmp_path):
    (tmp_path / "book.md").write_text("a book")
    (tmp_path / "notes.txt").write_text("notes")
    missing = tmp_path / "boook.md"
    with pytest.raises(DocumentError) as err:
        load(str(missing))
    msg = str(err.value)
    assert "no such file" in msg and str(missing) in msg
    assert "did you mean 'book.md'" in msg and "notes.txt" in msg
    with pytest.raises(DocumentError, match="does not exist either"):
        load(str(tmp_path / "nowhere" / "a.txt"))


def test_unsupported_suffix_lists_supported_ones(tmp_path):
    old_word = tmp_path / "paper.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DocumentError) as err:
        load(str(old_word))
    message = str(err.value)
    assert "'.doc'" in message and ".txt" in message and ".pdf" in message and ".docx" in message
    assert message.endswith("save it as .docx and give that")


def test_an_encoding_named_by_the_flow_is_used_or_reported(tmp_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("西游记第一回\r\n".encode("gb18030"))
    with pytest.raises(DocumentError) as err:
        load(str(gbk), encoding="utf-8")
    assert "as utf-8" in str(err.value) and "with: {encoding: gb18030}" in str(err.value)
    assert load(str(gbk), encoding="gb18030")[0]["text"] == "西游记第一回\n"
    with pytest.raises(DocumentError, match="unknown encoding"):
        load(str(gbk), encoding="no-such-codec")


@pytest.mark.parametrize("text, data, used", [
    ("西游记第一回，话说天下四大部洲。\n", "西游记第一回，话说天下四大部洲。\n".encode("gb18030"), "gb18030"),
    ("Caf\u00e9 au lait, na\u00efve.\n", "Caf\u00e9 au lait, na\u00efve.\n".encode("latin-1"), "latin-1"),
    ("A byte-order mark: utf-16.\n", "A byte-order mark: utf-16.\n".encode("utf-16"), "utf-16"),
    ("UTF-8 with a mark.\n", "\ufeffUTF-8 with a mark.\n".encode("utf-8"), None),
    ("Plain UTF-8, caf\u00e9.\n", "Plain UTF-8, caf\u00e9.\n".encode("utf-8"), None),
])
def test_the_encoding_of_a_text_file_is_found_and_said(tmp_path, text, data, used):
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    ctx = Context(node="load", stream=None)
    assert load_document(str(path), ctx=ctx)["documents"][0]["text"] == text
    notes = [n["message"] for n in ctx.record.notes]
    assert notes == ([f"{str(path)!r} is not UTF-8: read as {used}"] if used else [])


def test_a_document_given_twice_is_warned_about(tmp_path):
    import io
    path = tmp_path / "a.txt"
    path.write_text("The same text.\n")
    copy = tmp_path / "b.txt"
    copy.write_text("The same text.\n")
    said = io.StringIO()
    ctx = Context(node="load", stream=said)
    assert len(load_document([str(path), str(copy)], ctx=ctx)["documents"]) == 2
    assert "is the same text as" in said.getvalue() and "read twice" in ctx.record.notes[0]["message"]


def test_bad_items():
    with pytest.raises(DocumentError, match="no documents"):
        load()
    with pytest.raises(DocumentError, match="without a 'text'"):
        load({"id": "x"})
    with pytest.raises(DocumentError, match="two documents have the id"):
        load({"id": "a", "text": "1"}, {"id": "a", "text": "2"})


# -- chunk --------------------------------------------------------------------------------------------

def test_chunks_cover_each_document_exactly(ctx):
    docs = load(str(MOBY), str(JOURNEY), "tiny\n")
    chunks = chunk(docs, tokens=128, ctx=ctx)["chunks"]
    for doc in docs:
        check_coverage(doc, chunks)
    assert [c["doc"] for c in chunks] == sorted(c["doc"] for c in chunks)
    assert "chunk" in ctx.record.timings


@pytest.mark.parametrize("path", [MOBY, JOURNEY])
@pytest.mark.parametrize("tokens", [64, 256])
def test_chunks_end_at_sentence_ends_unless_a_sentence_is_too_long(path, tokens, ctx):
    doc = load(str(path))[0]
    chunks = chunk([doc], tokens=tokens, ctx=ctx)["chunks"]
    at_ends = 0
    for c in chunks[:-1]:
        if ENDS_AT_SENTENCE_END.search(c["text"]):
            at_ends += 1
        else:   # cut inside a sentence: only allowed when no sentence end fitted in the chunk
            assert not SENTENCE_END_INSIDE.search(c["text"]), c["text"]
        assert not c["text"][0].isspace() or c["index"] == 0   # blanks stay with the sentence before
    assert at_ends >= 0.8 * (len(chunks) - 1)


@pytest.mark.parametrize("path", [MOBY, JOURNEY])
def test_chunk_sizes_are_near_the_target(path, ctx):
    doc = load(str(path))[0]
    chunks = chunk([doc], tokens=256, ctx=ctx)["chunks"]
    sizes = [c["tokens"] for c in chunks]
    assert max(sizes) <= 256
    assert sum(sizes) == count_tokens(doc["text"])          # counted once over the whole text
    assert np.median(sizes[:-1]) >= 200
    for c in chunks:                                         # in-context counts ~ counting alone
        assert abs(c["tokens"] - count_tokens(c["text"])) <= 2


def test_long_sentence_is_split_at_token_boundaries(ctx):
    text = "It was " + "a very, very long, " * 400 + "sentence.\n\nShort one. " + "天" * 700 + "。"
    chunks = chunk(load({"text": text}), tokens=100, ctx=ctx)["chunks"]
    check_coverage({"id": "doc0", "text": text}, chunks)
    assert max(c["tokens"] for c in chunks) <= 100
    assert sum(1 for c in chunks if c["tokens"] >= 95) >= len(chunks) - 4
    # the cuts are token boundaries: each piece tokenises alone as in context (a token straddling a
    # sentence end is counted in the later chunk: one token off at most)
    assert all(abs(c["tokens"] - count_tokens(c["text"])) <= 1 for c in chunks)
    # after the cut long sentence, sentence ends are honoured again
    assert any(c["text"].endswith("sentence.\n\nShort one. ") for c in chunks)


def test_tiny_budgets_and_characters_spread_over_tokens(ctx):
    text = "𠀀𠀁𠀂 rare characters 𪚥𪚥"               # each rare char is several tokens
    for tokens in (1, 2, 3):
        chunks = chunk(load({"text": text}), tokens=tokens, ctx=ctx)["chunks"]
        check_coverage({"id": "doc0", "text": text}, chunks)
    with pytest.raises(ValueError):
        chunk(load({"text": text}), tokens=0, ctx=ctx)


def test_chinese_chunks(ctx):
    doc = load(str(JOURNEY))[0]
    chunks = chunk([doc], tokens=200, ctx=ctx)["chunks"]
    check_coverage(doc, chunks)
    ends = [c["text"].rstrip()[-1] for c in chunks[:-1]]
    assert sum(e in "。！？”" for e in ends) >= 0.8 * len(ends)


def test_cache_hits_and_fresh_results(ctx, cache):
    doc = load(str(MOBY))[0]
    first = chunk([doc], tokens=128, ctx=ctx)["chunks"]
    assert "chunk_cache_hits" not in ctx.record.counters
    assert chunk([doc], tokens=128, ctx=ctx)["chunks"] == first
    assert ctx.record.counters["chunk_cache_hits"] == 1
    CHUNK_CACHE.clear()                                     # from disk now
    assert chunk([doc], tokens=128, ctx=ctx)["chunks"] == first
    assert ctx.record.counters["chunk_cache_hits"] == 2
    assert len(list((cache / "chunks").iterdir())) == 1

    other = chunk([doc], tokens=200, ctx=ctx)["chunks"]     # changed `tokens`: not from cache
    assert ctx.record.counters["chunk_cache_hits"] == 2
    assert len(other) < len(first) and max(c["tokens"] for c in other) > 128

    # a changed text with a stale sha256 field is not served the old chunking either
    changed = dict(doc, text=doc["text"].replace("Ishmael", "Ishmael the Sailor, as it happens,"))
    chunks = chunk([changed], tokens=128, ctx=ctx)["chunks"]
    assert ctx.record.counters["chunk_cache_hits"] == 2
    check_coverage(changed, chunks)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "whole_but_wrong"])
def test_corrupt_cache_files_are_rebuilt(ctx, cache, damage):
    doc = load(str(MOBY))[0]
    good = chunk([doc], tokens=128, ctx=ctx)["chunks"]
    (path,) = (cache / "chunks").iterdir()
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-9] + bytes([raw[-9] ^ 0xFF]) + raw[-8:])
    elif damage == "garbage":
        path.write_bytes(b"not a cache file")
    else:                                   # a valid file with the right key but impossible offsets
        meta, _ = load_arrays(path)
        save_arrays(path, meta, ends=np.array([5, 3], np.int64), tokens=np.array([1, 1], np.int64))
    CHUNK_CACHE.clear()
    assert chunk([doc], tokens=128, ctx=ctx)["chunks"] == good
    assert "chunk_cache_hits" not in ctx.record.counters
    meta, arrays = load_arrays(path)                       # rewritten, and whole again
    assert arrays["ends"][-1] == len(doc["text"])


def test_array_files_roundtrip(tmp_path):
    path = tmp_path / "a.lfa"
    save_arrays(path, {"k": [1, "x"]}, a=np.arange(5, dtype=np.int64), b=np.array([1.5], np.float32))
    meta, arrays = load_arrays(path)
    assert meta == {"k": [1, "x"]} and arrays["a"].tolist() == [0, 1, 2, 3, 4]
    assert arrays["b"].dtype == np.float32 and load_arrays(tmp_path / "missing") is None
    assert [p.name for p in tmp_path.iterdir()] == ["a.lfa"]   # no temp files left behind


def test_a_file_is_read_once_until_it_changes(tmp_path):
    from longflow.core.context import Context
    from longflow.nodes.documents import FILE_CACHE, load_document
    FILE_CACHE.clear()
    path = tmp_path / "book.txt"
    path.write_text("first version\n")
    ctx = Context(node="load", stream=None)
    assert load_document([str(path)], ctx=ctx)["documents"][0]["text"] == "first version\n"
    assert load_document([str(path)], ctx=ctx)["documents"][0]["text"] == "first version\n"
    assert ctx.record.counters["load_cache_hits"] == 1
    path.write_text("second, longer version\n")
    doc = load_document([str(path)], ctx=ctx)["documents"][0]
    assert doc["text"] == "second, longer version\n" and ctx.record.counters["load_cache_hits"] == 1


def test_whole_document_fits_whole_or_is_cut_from_the_middle():
    from longflow.nodes.documents import whole_document
    from longflow.nodes.tokens import count_tokens
    docs = load(str(MOBY))
    short = whole_document(docs, budget_tokens=10**7)["context"]
    assert [c["text"] for c in short] == [docs[0]["text"]]
    ctx = Context(node="whole", stream=None)
    cut, = whole_document(docs, budget_tokens=400, ctx=ctx)["context"]
    head, tail = cut["text"].split("\n[...]\n")
    assert docs[0]["text"].startswith(head) and docs[0]["text"].endswith(tail)
    assert 380 <= count_tokens(head + tail) <= 410 and "cut from the middle" in ctx.record.notes[0]["message"]
