"""Documents in, chunks out: `load_document` and `chunk`, plus the data shapes other nodes share.

    from longflow.core.context import Context
    from longflow.nodes.documents import load_document, chunk

    ctx = Context(node="chunk", stream=None)
    docs = load_document(["book.txt", "Some raw text\\nwith a newline."], ctx=ctx)["documents"]
    chunks = chunk(docs, tokens=512, ctx=ctx)["chunks"]
    assert "".join(c["text"] for c in chunks if c["doc"] == "doc0") == docs[0]["text"]

How `chunk` is fast (War and Peace + Moby Dick, 1.08M tokens: 0.39 s cold, plus 0.25 s to load the
tokenizer once per process; 8 ms from the memory or the disk cache; 1.3M tokens of Chinese: 0.65 s):
the whole text is tokenised once with the Qwen tokenizer's tiktoken Encoding (`encode_ordinary`, ~0.27 s
for 1M tokens; decoding with offsets would cost 2 s more, so token ends are computed as a cumulative sum
of each token's byte length instead), sentence ends are found with a few regexes, and each chunk is
the longest run of whole sentences that fits, found by bisecting the token counts at sentence ends.

PDF, Word, PowerPoint, Excel, HTML and EPUB files are read by `nodes.formats`, which also says where their
pages, slides, sheets, headings or chapters start (a Document's `sections`); `chunk` names each chunk's.

Cached chunkings (in memory and under `cache_dir("chunks")`) store only the chunk end offsets and token
counts; the chunk texts are sliced from the document again. The cache files use a small checksummed
array format (`save_arrays` / `load_arrays`), shared with the BM25 index cache in `nodes.retrieve`.
"""
from __future__ import annotations

import bisect
import codecs
import difflib
import hashlib
import json
import os
import re
import struct
import tempfile
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import Annotated, Any, TypedDict

import numpy as np

from longflow.core.context import Context
from longflow.core.paths import cache_dir
from longflow.core.registry import Range, node

from .formats import RICH_SUFFIXES, FormatError, Section, extract
from .tokens import language_of

CHUNKER_VERSION = 1          # bump when chunk boundaries for a given text and `tokens` may change
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text", ".csv", ".tsv")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + RICH_SUFFIXES   # the rich ones are read by nodes.formats
# Formats people have that are not read, and what to turn them into.
_CONVERT = {".doc": ".docx", ".ppt": ".pptx", ".xls": ".xlsx", ".rtf": ".docx", ".odt": ".docx",
            ".odp": ".pptx", ".ods": ".xlsx", ".mobi": ".epub", ".azw3": ".epub"}
_RAW_TEXT_MIN_CHARS = 260    # a longer string that is not an existing file is text, not a path
MAX_DOCUMENT_BYTES = 2 * 2**30   # 2 GB of text is ~500M tokens: far past what a run can read


class _Document(TypedDict):
    id: str          # "doc0", "doc1"... unless given
    source: str      # the file's path, or "text"
    text: str        # line ends normalised to "\n"
    sha256: str      # hex digest of the UTF-8 text


class Document(_Document, total=False):
    sections: list[Section]   # rich documents only: [{"start": char offset, "label": "page 3"}], by start


class _Chunk(TypedDict):
    id: str          # "doc0#12"
    doc: str         # the Document id
    index: int       # 0, 1, 2... within its document
    start: int       # char offsets into the document's text: text[start:end] == chunk text
    end: int
    text: str
    tokens: int      # Qwen tokens (as counted when tokenising the whole document)


class Chunk(_Chunk, total=False):
    section: str     # where it is, when the document has sections: "page 3", or "page 3-4" across two


class DocumentError(ValueError):
    """A document that cannot be loaded; the message says why and what to do."""


# -- load_document ------------------------------------------------------------------------------------

@node(outputs={"documents": "list[Document]"},
      param_docs={"encoding": "text encoding of the files: 'auto' (a byte-order mark, else UTF-8, else "
                              "GB18030 for Chinese, else Latin-1; a note says which), or a name such as "
                              "utf-8, gb18030, utf-16"})
def load_document(documents: str | list | dict, *, encoding: str = "auto", ctx: Context = None) -> dict:
    """Load documents: paths to files, raw text, or Document dicts (one, or a list).

    Files: plain text (.txt .md .markdown .text .csv .tsv) and, with the `docs` extra
    (`pip install 'longflow[docs]'`), PDF (.pdf), Word (.docx), PowerPoint (.pptx), Excel (.xlsx), web pages
    (.html .htm .xhtml) and e-books (.epub). A rich document's text comes with its `sections`
    (`[{"start": char offset, "label": "page 3"}]`: pages, slides, sheets, h1-h3 or Word headings, chapters),
    which `chunk` carries into every chunk and the answer step cites. A file that cannot be read (damaged,
    encrypted, a zip bomb, a scanned PDF without text) is an error that says why and what to do.

    A string that is not an existing file counts as raw text if it contains a newline or is longer
    than 260 characters; otherwise it is a missing file, and an error. Line ends become "\\n". A
    document given twice (the same text) is loaded once more all the same, with a warning on stderr and a
    note in the record: it doubles the reading and weighs its passages twice.
    """
    ctx = ctx or Context(node="load_document", stream=None)
    started = time.perf_counter()
    items = documents if isinstance(documents, list) else [documents]
    if documents is None or not items:
        raise DocumentError("load_document: no documents given (expected a path, raw text, or a list "
                            "of them)")
    out: list[Document] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            text = item.get("text")
            if not isinstance(text, str):
                raise DocumentError(f"load_document: document {i} is a dict without a 'text' string "
                                    f"(keys: {sorted(item)})")
            doc_id, source = str(item.get("id") or f"doc{i}"), str(item.get("source") or "text")
            sections = _given_sections(item.get("sections"), i)
        elif isinstance(item, (str, os.PathLike)):
            doc_id = f"doc{i}"
            item = os.fspath(item)
            source, text, sections = _read_item(item, encoding, ctx)
        else:
            raise DocumentError(f"load_document: document {i} is a {type(item).__name__}; expected a "
                                f"path, raw text or a document dict")
        if any(d["id"] == doc_id for d in out):
            raise DocumentError(f"load_document: two documents have the id {doc_id!r}")
        raw_length = len(text)
        text, digest = _normalised(text)
        if sections and len(text) != raw_length:   # only a dict's own text can change here
            ctx.record.note(ctx.node, f"{source!r}: its sections are dropped: they were offsets into the "
                                      f"text before its line ends were normalised")
            sections = []
        twin = next((d for d in out if d["sha256"] == digest), None)
        if twin is not None:
            message = (f"load_document: {source!r} is the same text as {twin['source']!r} "
                       f"({twin['id']}); it is read twice")
            ctx.record.note(ctx.node, message)
            if ctx.stream is not None:
                ctx.stream.write(f"warning: {message}\n")
        document = Document(id=doc_id, source=source, text=text, sha256=digest)
        if sections:
            document["sections"] = sections
        out.append(document)
    ctx.record.time("load", time.perf_counter() - started)
    return {"documents": out}


def normalise_text(text: str) -> str:
    """CRLF and lone CR to LF (the Chinese haystacks are CRLF), no byte-order mark."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalised(text: str) -> tuple[str, str]:
    """(normalised text, its sha256), remembered for the last few large texts: hashing 4 MB on every
    Lv3 sub-question is work we can skip."""
    if len(text) < 100_000:
        text = normalise_text(text)
        return text, sha256_of(text)
    key = id(text), len(text)
    cached = NORMALISED_CACHE.get(key)
    if cached is not None and cached[0] is text:
        return cached[1], cached[2]
    clean = normalise_text(text)
    NORMALISED_CACHE.put(key, (text, clean, sha256_of(clean)))
    return clean, NORMALISED_CACHE.get(key)[2]


def _given_sections(sections: Any, i: int) -> list[Section]:
    """A Document dict's own sections (a caller may hand on documents it loaded), checked and sorted."""
    if not sections:
        return []
    if not isinstance(sections, list) or not all(
            isinstance(s, dict) and isinstance(s.get("start"), int) and isinstance(s.get("label"), str)
            for s in sections):
        raise DocumentError(f"load_document: document {i} has 'sections' that are not a list of "
                            f"{{\"start\": char offset, \"label\": text}}")
    return sorted((Section(start=s["start"], label=s["label"]) for s in sections), key=lambda s: s["start"])


def _read_item(item: str, encoding: str, ctx: Context) -> tuple[str, str, list[Section]]:
    """(source, text, sections) for a string that is a path or raw text."""
    path = _existing(item, ctx)
    if path is None:
        if "\n" in item or len(item) > _RAW_TEXT_MIN_CHARS:
            return "text", item, []
        raise DocumentError(_missing_message(item, ctx))
    if path.is_dir():
        raise DocumentError(f"load_document: {item!r} is a folder; give its files instead: "
                            f"{_listing(path) or '(none with a supported suffix)'}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = f"; save it as {_CONVERT[suffix]} and give that" if suffix in _CONVERT else ""
        raise DocumentError(f"load_document: {item!r} has an unsupported suffix {path.suffix or '(none)'!r};"
                            f" supported: {', '.join(SUPPORTED_SUFFIXES)}{hint}")
    stat = path.stat()
    if not S_ISREG(stat.st_mode):   # a device (/dev/zero) never ends, a FIFO waits for a writer
        raise DocumentError(f"load_document: {item!r} is not a regular file (a device, a pipe or a "
                            f"socket); save the text to a file and give that")
    if stat.st_size > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"load_document: {item!r} is {stat.st_size / 2**30:.1f} GB; documents up to "
                            f"{MAX_DOCUMENT_BYTES // 2**30} GB are read: split it into several files")
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, encoding)
    cached = FILE_CACHE.get(key)
    if cached is not None:  # Lv3 loads the same file for every sub-question: read it once
        ctx.record.count("load_cache_hits")
        return str(path), *cached
    data = path.read_bytes()
    if suffix in RICH_SUFFIXES:
        text, sections = _extracted(path, data, suffix, encoding, ctx)
    else:
        text, sections = _decoded_file(path, data, encoding, ctx), []
    FILE_CACHE.put(key, (text, sections))
    return str(path), text, sections


def _extracted(path: Path, data: bytes, suffix: str, encoding: str, ctx: Context) -> tuple[str, list[Section]]:
    """The text and sections of a PDF, Word, PowerPoint, Excel, HTML or EPUB file (nodes.formats)."""
    _known_encoding(encoding)
    try:
        extracted = extract(data, suffix, encoding)
    except FormatError as exc:
        raise DocumentError(f"load_document: {str(path)!r} {exc}") from None
    for note in extracted.notes:
        ctx.record.note(ctx.node, f"{str(path)!r}: {note}")
    return extracted.text, extracted.sections


def _known_encoding(encoding: str) -> None:
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DocumentError(_UNKNOWN_ENCODING.format(encoding=encoding)) from None


_UNKNOWN_ENCODING = "load_document: unknown encoding {encoding!r} (try auto, utf-8, gb18030, utf-16, latin-1)"


def _decoded_file(path: Path, data: bytes, encoding: str, ctx: Context) -> str:
    try:
        text, used = _decoded(data, encoding)
    except LookupError:
        raise DocumentError(_UNKNOWN_ENCODING.format(encoding=encoding)) from None
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"load_document: cannot decode {str(path)!r} as {encoding} (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}); if the file uses another encoding, name it in the node's parameters, "
            f"e.g. `with: {{encoding: gb18030}}` for Chinese GBK files or `with: {{encoding: latin-1}}`, "
            f"or leave it to `auto`"
        ) from None
    if used not in ("utf-8", "utf-8-sig", encoding):
        ctx.record.note(ctx.node, f"{str(path)!r} is not UTF-8: read as {used}")
    return text


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decoded(data: bytes, encoding: str) -> tuple[str, str]:
    """(text, the encoding used). `auto`: a byte-order mark says; else UTF-8; else GB18030 when that reads
    as mostly Chinese (GBK files are the usual non-UTF-8 Chinese text); else Latin-1, which reads any
    bytes (Windows-1252 punctuation included, as the C1 characters it maps them to)."""
    if encoding != "auto":
        return data.decode(encoding), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if language_of(text[:20000]) == "zh":
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    return data.decode("latin-1"), "latin-1"


def _existing(item: str, ctx: Context) -> Path | None:
    """The path `item` names, if it exists: as given (relative to the working directory), else
    relative to the flow file's folder."""
    if "\n" in item or "\0" in item or len(item) > 4096:
        return None
    candidates = [Path(item).expanduser()]
    if ctx.flow_dir is not None and not candidates[0].is_absolute():
        candidates.append(Path(ctx.flow_dir) / item)
    for p in candidates:
        try:
            if p.exists():
                return p
        except (OSError, ValueError):  # e.g. a name too long for the file system: not a path
            return None
    return None


def _missing_message(item: str, ctx: Context) -> str:
    path = Path(item).expanduser().absolute()
    msg = f"load_document: no such file: {item!r} (looked for {path}"
    msg += f" and in the flow's folder {ctx.flow_dir})" if ctx.flow_dir and not Path(item).is_absolute() \
        else ")"
    folder = path.parent
    if not folder.is_dir():
        return msg + f"; the folder {folder} does not exist either"
    names = [p.name for p in folder.iterdir()]
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.6)
    if close:
        msg += f"; did you mean {', '.join(repr(c) for c in close)}?"
    listing = _listing(folder)
    return msg + (f"; {folder} has: {listing}" if listing else f"; {folder} has no documents it can read "
                                                                f"({', '.join(SUPPORTED_SUFFIXES)})")


def _listing(folder: Path, limit: int = 12) -> str:
    names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
    return ", ".join(names[:limit]) + (f" (and {len(names) - limit} more)" if len(names) > limit else "")


# -- chunk --------------------------------------------------------------------------------------------

@node(outputs={"chunks": "list[Chunk]"},
      param_docs={"tokens": "target chunk size in Qwen tokens (chunks never exceed it)"})
def chunk(documents: list, *, tokens: Annotated[int, Range(minimum=16)] = 512, ctx: Context = None) -> dict:
    """Split documents into chunks of at most `tokens` Qwen tokens, at sentence ends.

    Chunks are contiguous and cover each document exactly (their texts concatenate to it). A sentence
    is only split when it alone is longer than a chunk (then at token boundaries). Chunkings are cached
    by document content and `tokens`, in memory and on disk. A chunk of a document with sections (a PDF's
    pages...) names where it is, e.g. `"section": "page 3"`, or `"page 3-4"` when it runs on.
    """
    ctx = ctx or Context(node="chunk", stream=None)
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
        raise ValueError(f"chunk: `tokens` must be a positive integer, not {tokens!r}")
    started = time.perf_counter()
    docs = documents if isinstance(documents, list) else [documents]
    out: list[Chunk] = []
    for doc in docs:
        text = doc["text"]
        ends, counts = _cached_spans(text, tokens, ctx)
        first = len(out)
        start = 0
        for i, (end, n) in enumerate(zip(ends, counts)):
            out.append(Chunk(id=f"{doc['id']}#{i}", doc=doc["id"], index=i, start=start, end=end,
                             text=text[start:end], tokens=n))
            start = end
        if doc.get("sections"):   # plain text has none: nothing more to do
            _label_sections(out[first:], doc["sections"])
        if not text:
            ctx.record.note(ctx.node, f"document {doc['id']!r} is empty: no chunks")
    ctx.record.time("chunk", time.perf_counter() - started)
    return {"chunks": out}


def _label_sections(chunks: list[Chunk], sections: list[Section]) -> None:
    """Give each chunk the label of the section it is in ("page 3"), or of the first and last it spans
    ("page 3-4"). The chunk cache keeps only offsets, so this runs after it."""
    starts = [s["start"] for s in sections]
    for c in chunks:
        first = bisect.bisect_right(starts, c["start"]) - 1
        if first < 0:
            continue              # before the first section: text ahead of a document's first heading
        last = max(bisect.bisect_right(starts, c["end"] - 1) - 1, first)
        c["section"] = _span_label(sections[first]["label"], sections[last]["label"])


def _span_label(first: str, last: str) -> str:
    """"page 3" and "page 4" -> "page 3-4"; "section Intro" and "section Methods" -> "section Intro to
    section Methods"."""
    if first == last:
        return first
    a, b = _NUMBERED.fullmatch(first), _NUMBERED.fullmatch(last)
    return f"{first}-{b[2]}" if a and b and a[1] == b[1] else f"{first} to {last}"


_NUMBERED = re.compile(r"(page|slide|chapter) (\d+)")


@node(outputs={"context": "list[Chunk]"},
      param_docs={"budget_tokens": "the most tokens of document text to hand on"})
def whole_document(documents: list, *, budget_tokens: Annotated[int, Range(minimum=1)] = 6000,
                   ctx: Context = None) -> dict:
    """The documents themselves as the context: whole when they fit in `budget_tokens`, else cut from
    the middle, keeping their start and their end.

    What a model with a fixed window sees of a longer document without an agent: the baseline the
    levels are measured against (`flows/full.yaml`). A cut is marked `[...]` in the text.
    """
    from .tokens import encode, tokenizer
    ctx = ctx or Context(node="whole", stream=None)
    docs = documents if isinstance(documents, list) else [documents]
    texts = [(doc, encode(doc["text"])) for doc in docs]
    total = sum(len(ids) for _, ids in texts)
    out: list[Chunk] = []
    for doc, ids in texts:
        share = len(ids) if total <= budget_tokens else budget_tokens * len(ids) // max(total, 1)
        text = doc["text"] if share >= len(ids) else (
            tokenizer().decode(ids[:share // 2]) + "\n[...]\n" + tokenizer().decode(ids[len(ids) - share // 2:]))
        out.append(Chunk(id=doc["id"], doc=doc["id"], index=0, start=0, end=len(doc["text"]), text=text,
                         tokens=min(share, len(ids))))
    if total > budget_tokens:
        ctx.record.note(ctx.node, f"the documents ({total} tokens) were cut from the middle to {budget_tokens}")
    ctx.record.used(ctx.node, [c["id"] for c in out], sum(c["tokens"] for c in out))
    return {"context": out}


class LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CHUNK_CACHE = LRU(16)
FILE_CACHE = LRU(16)        # (path, size, mtime_ns, encoding) -> (decoded text, sections)
NORMALISED_CACHE = LRU(16)  # id of a raw text -> (raw text, normalised text, sha256)   # (sha256, tokens, CHUNKER_VERSION) -> (ends, token counts)


def _cached_spans(text: str, tokens: int, ctx: Context) -> tuple[list[int], list[int]]:
    # Key on the hash of the text itself, not on a Document's "sha256" field, which may be stale.
    digest = sha256_of(text)
    key = (digest, tokens, CHUNKER_VERSION)
    spans = CHUNK_CACHE.get(key)
    if spans is None:
        path = cache_dir("chunks") / f"{digest}-t{tokens}-v{CHUNKER_VERSION}.lfa"
        spans = _load_spans(path, key, len(text))
        if spans is None:
            spans = spans_of(text, tokens)
            try:
                save_arrays(path, {"key": list(key)}, ends=np.asarray(spans[0], np.int64),
                            tokens=np.asarray(spans[1], np.int64))
            except OSError as exc:  # a read-only cache is slower, not wrong
                ctx.record.note(ctx.node, f"could not write the chunk cache: {exc}")
        else:
            ctx.record.count("chunk_cache_hits")
        CHUNK_CACHE.put(key, spans)
    else:
        ctx.record.count("chunk_cache_hits")
    return spans


def _load_spans(path: Path, key: tuple, length: int) -> tuple[list[int], list[int]] | None:
    loaded = load_arrays(path)
    if loaded is None:
        return None
    meta, arrays = loaded
    ends, counts = arrays.get("ends"), arrays.get("tokens")
    # The checksum catches torn and corrupted files; these checks catch a file that is whole but wrong.
    if meta.get("key") != list(key) or ends is None or counts is None or len(ends) != len(counts) or \
            (length and (len(ends) == 0 or ends[-1] != length or ends[0] <= 0 or np.any(np.diff(ends) <= 0)
                         or counts.min() < 0)):
        return None
    return ends.tolist(), counts.tolist()


# Sentence ends, as the byte offset just after them in the UTF-8 text (closing quotes and following
# blanks included, so that a chunk starts with its first sentence's first character). The patterns
# run on bytes because the tokenizer's offsets are byte offsets; only chunk ends are turned into chars.
_BLANK = rb"(?:\s|\xe3\x80\x80)"                       # ASCII whitespace or the ideographic space
_CLOSE = rb"(?:[\"')\]]|\xe2\x80[\x9d\x99]|\xe3\x80[\x8d\x8f]|\xef\xbc\x89)"  # " ' ) ] ” ’ 」 』 ）
# - . ! ? followed by a blank (so "3.14" and "e.g.," end nothing; "Mr. Smith" does, alas);
_END_EN = re.compile(rb"[.!?]+" + _CLOSE + rb"*(?:" + _BLANK + rb"+|$)")
# - 。！？… which need no blank after them;
_END_ZH = re.compile(rb"(?:\xe3\x80\x82|\xef\xbc[\x81\x9f]|\xe2\x80\xa6)+" + _CLOSE + b"*" + _BLANK + b"*")
_ZH_ENDS = ("。", "！", "？", "…")
# - a blank line (paragraph ends, headings).
_END_PARA = re.compile(rb"\n[ \t]*\n" + _BLANK + b"*")
# Where no sentence end fits, a chunk ends after a line break (hard-wrapped texts such as Project
# Gutenberg's break lines mid-sentence, so line breaks are only the second choice), else between tokens.


@lru_cache(maxsize=1)
def _bpe() -> tuple[Any, np.ndarray]:
    """The tiktoken Encoding inside the Qwen tokenizer, and the byte length of each token id."""
    from .tokens import tokenizer
    enc = tokenizer()._tokenizer  # QwenTokenizer.encode would NFC-normalise, shifting offsets
    lengths = np.zeros(enc.max_token_value + 1, np.int64)
    for token, rank in enc._mergeable_ranks.items():
        lengths[rank] = len(token)
    for token, rank in enc._special_tokens.items():
        lengths[rank] = len(token.encode("utf-8"))
    return enc, lengths


def spans_of(text: str, tokens: int) -> tuple[list[int], list[int]]:
    """(chunk end char offsets, chunk token counts) for `text`: the uncached chunker."""
    if not text:
        return [], []
    enc, lengths = _bpe()
    data = text.encode("utf-8")
    tok_end = np.cumsum(lengths[np.fromiter(enc.encode_ordinary(text), np.int64)])  # byte ends
    if tok_end.size == 0 or tok_end[-1] != len(data):
        raise RuntimeError("chunk: token byte lengths do not add up to the text's length")
    size, n_tok = len(data), int(tok_end.size)

    patterns = [_END_EN, _END_PARA] + ([_END_ZH] if any(c in text for c in _ZH_ENDS) else [])
    found = {m.end() for p in patterns for m in p.finditer(data)}
    found.discard(0)
    found.add(size)
    ends_b = np.fromiter(sorted(found), np.int64)
    # tokens wholly before each sentence end (a token straddling a boundary counts in the later chunk)
    done_b = np.searchsorted(tok_end, ends_b, side="right")
    sent_end, sent_done = ends_b.tolist(), done_b.tolist()

    ends, counts = [], []
    start, start_tok = 0, 0                      # byte offset and tokens done at the chunk's start
    while start < size:
        limit = start_tok + tokens
        if limit >= n_tok:
            end, end_tok = size, n_tok
        else:
            i = bisect.bisect_right(sent_done, limit) - 1
            if i >= 0 and sent_end[i] > start:   # the last sentence end that fits
                end, end_tok = sent_end[i], sent_done[i]
            else:                                # a sentence longer than a chunk
                end = _long_sentence_cut(data, start, int(tok_end[limit - 1]), tok_end)
                end_tok = int(np.searchsorted(tok_end, end, side="right"))
        ends.append(end)
        counts.append(end_tok - start_tok)
        start, start_tok = end, end_tok
    if size != len(text):                        # byte offsets -> char offsets
        chars, prev = 0, 0
        for i, end in enumerate(ends):
            chars += len(data[prev:end].decode("utf-8"))
            ends[i], prev = chars, end
    return ends, counts


def _long_sentence_cut(data: bytes, start: int, limit: int, tok_end: np.ndarray) -> int:
    """Where to end a chunk, at byte `limit` at most, inside a sentence: after its last line break, else
    at the last token boundary that is also a character boundary (a token may hold part of a multi-byte
    character); at least one character in any case."""
    newline = data.rfind(b"\n", start, limit)
    if newline >= 0:
        return newline + 1
    k = int(np.searchsorted(tok_end, limit, side="right"))   # tokens ending by `limit`
    while k > 0 and tok_end[k - 1] > start:
        end = int(tok_end[k - 1])
        if end == len(data) or data[end] & 0xC0 != 0x80:     # not inside a character
            return end
        k -= 1
    end = start + 1                              # tokens=1 and a character spread over two tokens
    while end < len(data) and data[end] & 0xC0 == 0x80:
        end += 1
    return end


# -- checksummed array files (chunk and index caches) --------------------------------------------------

_MAGIC = b"LFARRAY1"


def save_arrays(path: Path, meta: dict, **arrays: np.ndarray) -> None:
    """Write numpy arrays and a JSON-able `meta` to `path` atomically, with a checksum."""
    specs, blobs, offset = [], [], 0
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        specs.append([name, arr.dtype.str, list(arr.shape), offset, arr.nbytes])
        blobs.append(arr.tobytes())
        pad = -arr.nbytes % 8                    # keep arrays 8-byte aligned for np.frombuffer
        blobs.append(b"\0" * pad)
        offset += arr.nbytes + pad
    header = json.dumps({"meta": meta, "arrays": specs}).encode("utf-8")
    header += b" " * (-len(header) % 8)
    body = struct.pack("<Q", len(header)) + header + b"".join(blobs)
    digest = hashlib.blake2b(body, digest_size=16).digest()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + digest + body)
        os.replace(tmp, path)                    # readers see the old file or the whole new one
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_arrays(path: Path) -> tuple[dict, dict[str, np.ndarray]] | None:
    """(meta, arrays) from a file written by save_arrays; None if missing, torn or corrupted."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        if raw[:8] != _MAGIC or hashlib.blake2b(memoryview(raw)[24:], digest_size=16).digest() != raw[8:24]:
            return None
        (hlen,) = struct.unpack_from("<Q", raw, 24)
        header = json.loads(raw[32:32 + hlen])
        base = 32 + hlen
        arrays = {name: np.frombuffer(raw, np.dtype(dtype), count=int(np.prod(shape)), offset=base + off)
                  .reshape(shape) for name, dtype, shape, off, _ in header["arrays"]}
        return header["meta"], arrays
    except (ValueError, KeyError, TypeError, struct.error):
        return None
