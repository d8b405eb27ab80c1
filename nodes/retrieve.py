"""BM25 retrieval over chunks: `bm25_retrieve` fills a token budget with the best-matching chunks.

    from longflow.core.context import Context
    from longflow.nodes.documents import load_document, chunk
    from longflow.nodes.retrieve import bm25_retrieve

    ctx = Context(node="retrieve", stream=None)
    chunks = chunk(load_document("moby_dick.txt", ctx=ctx)["documents"], ctx=ctx)["chunks"]
    context = bm25_retrieve(chunks, ["white whale", "白鲸"], budget_tokens=4000, ctx=ctx)["context"]
    # -> the best chunks that fit in 4000 tokens, in document order

In a flow (inputs `chunks`, `keywords` and the optional `evidence`, `question` come from the state):

    nodes:
      retrieve: {use: bm25_retrieve, with: {budget_tokens: 6000, prefer_evidence: true}}

Terms come from `nodes.bm25_text.analyze` (stemmed English without stop words, jieba for Chinese).

Why bm25s rather than rank-bm25 (measured on this 2-core machine, War and Peace + Moby Dick = 1.08M
Qwen tokens in 2207 chunks of <= 512 tokens; analysis, ~0.35 s, is the same for both):
- build from analysed terms: bm25s 0.17 s (term ids 0.05 + index 0.12), rank-bm25 0.08 s;
- one query: bm25s 0.2 ms, rank-bm25 3 ms (a Python loop over all chunks per query term);
- bm25s's index is three flat arrays (a sparse term x chunk matrix of precomputed scores), which the
  disk cache writes and maps back with np.frombuffer, no pickling; rank-bm25 keeps one dict per chunk.
Lv3 flows ask many sub-questions of one index, so query speed and a cheap disk format win.

Measured (same corpus, machine shared with other jobs): index build 0.57 s in a fresh process (0.47 s
once PyStemmer has seen the words; plus ~0.15 s to import bm25s/scipy the first time), a warm query
12 ms (11 ms of it hashing the chunks to find their cached index), a query whose index comes from the
disk cache 20 ms. Chinese is slower, jieba being pure Python: Journey to the West + Dream of the Red
Chamber (1.3M tokens, 2615 chunks) index in 4.3 s, plus 0.7 s for jieba's first load; the disk cache
makes that a once-per-document cost.

The index is cached by a hash of the chunks' ids and texts and of the analyser version: in memory (the
last few) and under `cache_dir("bm25")`, so a second query on the same chunks neither re-analyses nor
re-indexes (`index_cache_hits` in the run record).
"""
from __future__ import annotations

from typing import Annotated

import hashlib
import itertools
import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from longflow.core.context import Context
from longflow.core.paths import cache_dir
from longflow.core.registry import Range, node

from .bm25_text import ANALYZER_VERSION, analyze, term_ids
from .documents import LRU, Chunk, load_arrays, save_arrays
from .lang import CJK_RUN, QUESTION_STOP, ZH_QUESTION_WORD
from .query import content_words

INDEX_VERSION = 1                      # bump when the on-disk index layout or BM25 settings change
BM25_SETTINGS = {"k1": 1.5, "b": 0.75, "method": "lucene"}

INDEX_CACHE = LRU(4)                   # content key -> Index
_BUILD_LOCKS: dict[str, threading.Lock] = {}
_BUILD_LOCKS_LOCK = threading.Lock()


@dataclass
class Index:
    bm25: object | None                # a bm25s.BM25, or None when the chunks have no terms at all
    vocab: dict[str, int]              # term -> column of the score matrix
    size: int                          # number of chunks

    def scores(self, terms: list[str]) -> np.ndarray:
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        if self.bm25 is None or not ids:
            return np.zeros(self.size, np.float32)
        return self.bm25.get_scores_from_ids(ids)


@node(outputs={"context": "list[Chunk]"},
      param_docs={"budget_tokens": "the most tokens of chunk text to return",
                  "prefer_evidence": "chunks with evidence from a reading step come first",
                  "min_coverage": "without evidence, the share of the question's terms (weighted by "
                                  "rarity) that the best chunk must hold, or the best two together 4/3 "
                                  "as much; below it nothing is relevant and the context is empty "
                                  "(0: off)",
                  "keywords_if_nothing_read": "when a reading step ran and kept nothing, retrieve by "
                                              "keywords anyway (true) or hand on nothing (false)"})
def bm25_retrieve(chunks: list, keywords: list, evidence: list | None = None,
                  question: str | None = None, *, budget_tokens: Annotated[int, Range(minimum=1)] = 8000,
                  prefer_evidence: bool = True, min_coverage: Annotated[float, Range(0, 1)] = 0.0,
                  keywords_if_nothing_read: bool = True, ctx: Context = None) -> dict:
    """Pick the chunks that best match the keywords (and evidence) with BM25, within a token budget.

    `evidence` items ({"chunk": id, "text": sentences}) add their text to the query, and with
    `prefer_evidence` their chunks rank first. Without keywords or evidence (or when they are all stop
    words), the question's words are used. The chunks are returned in document order.

    An empty context means that nothing relevant was found (the answer step then says so rather than let a
    small model invent): with `min_coverage`, when no evidence was read and no chunk (nor two together) holds
    enough of the question's own terms, the rarest weighing most (a question about something the document
    never names finds only its common words); and, without `keywords_if_nothing_read`, when a reading step
    read every chunk and kept nothing.
    """
    ctx = ctx or Context(node="bm25_retrieve", stream=None)
    started = time.perf_counter()
    chunks = list(chunks or [])
    keywords = [keywords] if isinstance(keywords, str) else [str(k) for k in keywords or [] if k]
    evidence_texts, evidence_chunks = _evidence(evidence)

    query = [t for text in keywords + evidence_texts for t in analyze(text)]
    if evidence is not None and not evidence_texts:  # a reading step ran and kept nothing
        if not keywords_if_nothing_read:
            ctx.record.note(ctx.node, "the reading step found nothing relevant in any chunk")
            ctx.record.time("retrieve", time.perf_counter() - started)
            return {"context": []}
        ctx.record.note(ctx.node, "the reading step found nothing relevant in any chunk: answering from "
                                  "keyword retrieval alone")
    if not query:
        why = "no keywords or evidence" if not (keywords or evidence_texts) else \
            "the keywords and evidence have no searchable words"
        query = analyze(question or "")
        ctx.record.fallback(ctx.node, f"{why}: searching with the question's words",
                            question=(question or "")[:300], keywords=keywords[:20], terms=len(query))
    if not chunks:
        ctx.record.time("retrieve", time.perf_counter() - started)
        return {"context": []}

    index_started = time.perf_counter()
    index = get_index(chunks, ctx)
    started += time.perf_counter() - index_started  # building the index is timed as "index", not here
    scores = index.scores(query)
    order = _ranking(chunks, scores, evidence_chunks if prefer_evidence else set())
    if min_coverage > 0 and not evidence_texts and question:
        top = [chunks[i] for i in order[:8]]
        best = coverage(index, top, question)
        # A question about two things ("Thomaz Koch and Sébastien Lareau, have which occupation in
        # common?") is answered by two passages, each holding half its names: two chunks together may
        # hold it, by a higher share (two hold more by chance). 96 absent and 96 two-to-four-hop cases
        # at 8k (seeds 0-11): the pairs let 83 -> 92 chains through, and no more absent ones (4; 5 at
        # 1.2 times the share).
        pair = _PAIR_COVERAGE * min_coverage
        if best < min_coverage and coverage(index, top, question, together=2) < pair:
            ctx.record.note(ctx.node, f"no chunk holds enough of the question's terms (best {best:.2f} < "
                                      f"{min_coverage}): nothing relevant", question=question[:300])
            ctx.record.time("retrieve", time.perf_counter() - started)
            return {"context": []}
    if not order:
        ctx.record.note(ctx.node, "no chunk matches the query: returning the first chunks in document "
                                  "order", keywords=keywords[:20], question=(question or "")[:300])
        order = range(len(chunks))

    picked, used = [], 0
    for i in order:                    # best first; skip what does not fit, smaller ones may
        n = chunks[i].get("tokens", 0)
        if used + n <= budget_tokens:
            picked.append(i)
            used += n
    doc_rank: dict[str, int] = {}
    for c in chunks:
        doc_rank.setdefault(c["doc"], len(doc_rank))
    picked.sort(key=lambda i: (doc_rank[chunks[i]["doc"]], chunks[i]["start"]))
    ctx.record.time("retrieve", time.perf_counter() - started)
    ctx.record.used(ctx.node, [chunks[i]["id"] for i in picked], used,
                    {chunks[i]["id"]: chunks[i]["section"] for i in picked if chunks[i].get("section")})
    return {"context": [chunks[i] for i in picked]}


def coverage(index: Index, chunks: list[Chunk], question: str, together: int = 1) -> float:
    """How much of the question the best of `chunks` holds (the best `together` of them, their terms
    pooled): for the question's best-held part (a sentence or line: a list of questions is answered part
    by part), the share of its terms the chunk holds, each weighted by its BM25 idf over the document's
    chunks (a term no chunk holds weighs most; `_weights` says which terms count)."""
    weights = [w for w in (_weights(index, p) for p in _QUESTION_PARTS.split(question)) if w]
    helds = [set(analyze(chunk["text"])) for chunk in chunks]
    best = 0.0
    for group in itertools.combinations(helds, min(together, len(helds))):
        held = set().union(*group)
        for weight in weights:
            best = max(best, sum(w for t, w in weight.items() if t in held) / sum(weight.values()))
    return best


def _weights(index: Index, part: str) -> dict[str, float]:
    """The idf of each term of a part of the question, less its question words ("哪家", which jieba leaves
    in a Chinese run) and less a Chinese word no chunk holds that holds another of its terms that some chunk
    does: "双辽市" beside "双辽" (jieba gives both) is the name the document writes "双辽", counted once."""
    found = {t: _df(index, t) for t in analyze(" ".join(content_words(part)))
             if t not in QUESTION_STOP and not ZH_QUESTION_WORD.search(t)}
    return {t: float(np.log(1 + (index.size - df + 0.5) / (df + 0.5))) for t, df in found.items()
            if df or not (CJK_RUN.match(t) and any(s != t and s in t and found[s] for s in found))}


# The share of `min_coverage` two chunks together must hold (`bm25_retrieve`).
_PAIR_COVERAGE = 4 / 3
_QUESTION_PARTS = re.compile(r"(?<=[?？.。!！])\s+|\n+")


def _df(index: Index, term: str) -> int:
    """In how many chunks the term is."""
    return int(np.count_nonzero(index.scores([term])))


@node(outputs={"indexed": "int"})
def bm25_index(chunks: list, *, ctx: Context = None) -> dict:
    """Build (or find in the caches) the BM25 index of the chunks ahead of `bm25_retrieve`.

    Optional: `bm25_retrieve` builds what it does not find. Placed on a branch that runs while the model
    works on the question, it takes the indexing off the critical path (Lv1 does this).
    `indexed` is the number of chunks in the index.
    """
    ctx = ctx or Context(node="bm25_index", stream=None)
    return {"indexed": get_index(list(chunks or []), ctx).size}


def _evidence(evidence) -> tuple[list[str], set[str]]:
    """(texts, chunk ids) from evidence items; tolerant of what a small model may produce."""
    texts, ids = [], set()
    for item in [evidence] if isinstance(evidence, (dict, str)) else evidence or []:
        if isinstance(item, dict):
            text = item.get("text") or ""
            if isinstance(text, list):
                text = " ".join(map(str, text))
            if str(text).strip():
                texts.append(str(text))
                if item.get("chunk") is not None:
                    ids.add(str(item["chunk"]))
        elif isinstance(item, str) and item.strip():
            texts.append(item)
    return texts, ids


def _ranking(chunks: list[Chunk], scores: np.ndarray, preferred: set[str]) -> list[int]:
    """Chunk positions, best first: preferred (evidence) chunks by score, then the others that score.
    Ties keep document order (the sort is stable)."""
    by_score = np.argsort(-scores, kind="stable").tolist()
    first = [i for i in by_score if chunks[i]["id"] in preferred]
    rest = [i for i in by_score if scores[i] > 0 and chunks[i]["id"] not in preferred]
    return first + rest


# -- the index and its caches ---------------------------------------------------------------------

def content_key(chunks: list[Chunk]) -> str:
    """A hash of what the index depends on: chunk ids and texts, the analyser and the index format."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{ANALYZER_VERSION}/{INDEX_VERSION}/{sorted(BM25_SETTINGS.items())}/{len(chunks)}".encode())
    for c in chunks:
        h.update(c["id"].encode("utf-8"))
        h.update(b"\0")
        h.update(c["text"].encode("utf-8"))
        h.update(b"\1")
    return h.hexdigest()


def get_index(chunks: list[Chunk], ctx: Context) -> Index:
    """The BM25 index of `chunks`: from memory, from disk, or built (and then cached in both)."""
    key = content_key(chunks)
    index = INDEX_CACHE.get(key)
    if index is not None:
        ctx.record.count("index_cache_hits")
        return index
    with _BUILD_LOCKS_LOCK:
        lock = _BUILD_LOCKS.setdefault(key, threading.Lock())
    with lock:                         # parallel sub-questions on one document build its index once
        index = INDEX_CACHE.get(key)
        if index is not None:
            ctx.record.count("index_cache_hits")
            return index
        started = time.perf_counter()
        path = cache_dir("bm25") / f"{key}.lfa"
        index = _load_index(path, key, len(chunks))
        if index is not None:
            ctx.record.count("index_cache_hits")
        else:
            index = build_index([c["text"] for c in chunks])
            try:
                _save_index(path, key, index)
            except OSError as exc:     # a read-only cache is slower, not wrong
                ctx.record.note(ctx.node, f"could not write the BM25 index cache: {exc}")
        INDEX_CACHE.put(key, index)
        ctx.record.time("index", time.perf_counter() - started)
    with _BUILD_LOCKS_LOCK:
        _BUILD_LOCKS.pop(key, None)
    return index


def build_index(texts: list[str]) -> Index:
    import bm25s
    vocab: dict[str, int] = {}
    ids = term_ids(texts, vocab)
    if not vocab:
        return Index(None, {}, len(texts))
    bm25 = bm25s.BM25(**BM25_SETTINGS)
    bm25.index((ids, vocab), create_empty_token=False, show_progress=False)
    return Index(bm25, vocab, len(texts))


def _save_index(path, key: str, index: Index) -> None:
    terms = "\n".join(index.vocab).encode("utf-8")   # dicts keep insertion order: term i is line i
    if index.bm25 is None:
        save_arrays(path, {"key": key, "size": index.size, "vocab": 0})
        return
    s = index.bm25.scores
    save_arrays(path, {"key": key, "size": index.size, "vocab": len(index.vocab)},
                data=s["data"], indices=s["indices"], indptr=s["indptr"],
                terms=np.frombuffer(terms, np.uint8))


def _load_index(path, key: str, size: int) -> Index | None:
    """The cached index, or None if missing or not trustworthy (then it is rebuilt and rewritten)."""
    loaded = load_arrays(path)
    if loaded is None:
        return None
    meta, a = loaded
    if meta.get("key") != key or meta.get("size") != size:
        return None
    if meta.get("vocab") == 0:
        return Index(None, {}, size)
    try:
        terms = a["terms"].tobytes().decode("utf-8").split("\n")
        data, indices, indptr = a["data"], a["indices"], a["indptr"]
    except (KeyError, UnicodeDecodeError):
        return None
    if len(terms) != meta.get("vocab") or len(indptr) != len(terms) + 1 or indptr[0] != 0 or \
            indptr[-1] != len(data) or len(indices) != len(data) or \
            (len(indices) and (indices.max() >= size or indices.min() < 0)):
        return None
    import bm25s
    bm25 = bm25s.BM25(**BM25_SETTINGS)
    bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": size}
    bm25.vocab_dict = {t: i for i, t in enumerate(terms)}
    bm25.nonoccurrence_array = None    # only the BM25L/BM25+ methods use one
    return Index(bm25, bm25.vocab_dict, size)
