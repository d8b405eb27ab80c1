"""bm25_retrieve and its analyser, on real text (tests/data excerpts) with planted needles."""
from __future__ import annotations

from pathlib import Path

import pytest

from longflow.core.context import Context
from longflow.nodes.bm25_text import analyze, term_ids
from longflow.nodes.documents import CHUNK_CACHE, chunk, load_arrays, load_document
from longflow.nodes.retrieve import INDEX_CACHE, bm25_retrieve
from longflow.nodes.tokens import count_tokens

DATA = Path(__file__).resolve().parent.parent / "data"
NEEDLE_EN = "The lighthouse keeper hid the brass telescope under the loose floorboard."
NEEDLE_ZH = "小明把金色的钥匙藏在了石狮子的嘴里。"


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LONGFLOW_CACHE", str(tmp_path / "cache"))
    INDEX_CACHE.clear()
    CHUNK_CACHE.clear()
    yield tmp_path / "cache"
    INDEX_CACHE.clear()
    CHUNK_CACHE.clear()


@pytest.fixture
def ctx():
    return Context(node="retrieve", stream=None)


def planted(name: str, needle: str) -> str:
    text = (DATA / name).read_text(encoding="utf-8").replace("\r\n", "\n")
    middle = text.index("\n\n", len(text) // 2) + 2
    return text[:middle] + needle + "\n\n" + text[middle:]


@pytest.fixture(scope="module")
def book_chunks():
    """Moby Dick and Journey to the West excerpts with a needle each, in ~128-token chunks."""
    c = Context(node="chunk", stream=None)
    docs = load_document([planted("moby_dick_excerpt.txt", NEEDLE_EN),
                          planted("journey_to_the_west_excerpt.txt", NEEDLE_ZH)], ctx=c)["documents"]
    return chunk(docs, tokens=128, ctx=c)["chunks"]


def make_chunks(*texts: str, doc: str = "d", tokens: list[int] | None = None) -> list[dict]:
    out, start = [], 0
    for i, text in enumerate(texts):
        out.append({"id": f"{doc}#{i}", "doc": doc, "index": i, "start": start, "end": start + len(text),
                    "text": text, "tokens": tokens[i] if tokens else count_tokens(text)})
        start += len(text)
    return out


def ids(result: dict) -> list[str]:
    return [c["id"] for c in result["context"]]


# -- analysis -------------------------------------------------------------------------------------------

def test_analyzer_stems_drops_stop_words_and_segments_chinese():
    assert analyze("bicycles") == analyze("Bicycle") == ["bicycl"]
    assert analyze("The whale and the sea") == ["whale", "sea"]
    assert analyze("of the, and; a") == []
    mixed = analyze("孙悟空大闹天宫 with the Monkey King的故事")
    assert {"孙悟空", "悟空", "大闹天宫", "monkey", "king", "故事"} <= set(mixed)
    assert "的" not in mixed and "，" not in analyze("你好，世界")
    # "Who wrote it?" finds "it was written by": an irregular verb's past forms are the verb
    assert analyze("wrote") == analyze("written") == analyze("writes") == ["write"]
    assert analyze("She sang; it was sung") == ["sing", "sing"] and analyze("a bit of ground") == ["bit", "ground"]
    # a name is written with its accents and without: "Renee" finds "Renée"; a letter with no accent to
    # drop ("ł") stays as written
    assert analyze("Renée Dubois of Zürich") == analyze("Renee Dubois of Zurich") \
        == ["rene", "duboi", "zurich"]
    assert analyze("Łódź") == ["łodz"]
    vocab: dict[str, int] = {}
    texts = ["Whales swim. 白鲸游泳。", "whale songs", "Ahab wrote; the logs were written."]
    numbered = term_ids(texts, vocab)
    names = {i: t for t, i in vocab.items()}
    assert [sorted(names[i] for i in row) for row in numbered] == [sorted(analyze(t)) for t in texts]


# -- ranking ----------------------------------------------------------------------------------------------

def test_english_needle_ranks_first(book_chunks, ctx):
    needle = next(c for c in book_chunks if "brass telescope" in c["text"])
    out = bm25_retrieve(book_chunks, ["lighthouse keeper", "brass telescopes"],
                        budget_tokens=needle["tokens"], ctx=ctx)
    assert ids(out) == [needle["id"]]
    assert {"index", "retrieve"} <= set(ctx.record.timings)


def test_chinese_needle_ranks_first(book_chunks, ctx):
    needle = next(c for c in book_chunks if "金色的钥匙" in c["text"])
    out = bm25_retrieve(book_chunks, ["金色钥匙", "石狮子"], budget_tokens=needle["tokens"], ctx=ctx)
    assert ids(out) == [needle["id"]]


def test_stemming_matches_other_word_forms(ctx):
    chunks = make_chunks("He rode a bicycle to town.", "The whale swam.", "Nothing here at all.")
    assert ids(bm25_retrieve(chunks, ["bicycles", "riding"], ctx=ctx)) == ["d#0"]


def test_budget_filled_best_first_and_returned_in_document_order(ctx):
    chunks = make_chunks("whale whale whale harpoon", "a harpoon story", "the whale", "ships at sea",
                         "whale harpoon whale", tokens=[100, 30, 30, 30, 40])
    everything = bm25_retrieve(chunks, ["whale", "harpoon"], budget_tokens=1000, ctx=ctx)
    assert ids(everything) == ["d#0", "d#1", "d#2", "d#4"]    # score 0 ("ships at sea") is left out
    # best is d#0 (100 tokens: does not fit), then d#4 (40), then the 30-token ones while they fit
    assert ids(bm25_retrieve(chunks, ["whale", "harpoon"], budget_tokens=75, ctx=ctx)) == ["d#2", "d#4"]
    # document order is by document, then by position
    two_docs = make_chunks("the whale", doc="a") + make_chunks("whale whale harpoon", doc="b")
    two_docs.reverse()                                         # b comes first in the list
    assert ids(bm25_retrieve(two_docs, ["whale"], ctx=ctx)) == ["b#0", "a#0"]


def test_evidence_chunks_come_first(ctx):
    chunks = make_chunks("the whale and the harpoon and the whale", "a quiet harbour where the whale slept",
                         tokens=[50, 50])
    evidence = [{"chunk": "d#1", "text": "the whale slept"}]
    assert ids(bm25_retrieve(chunks, ["whale", "harpoon"], evidence, budget_tokens=50, ctx=ctx)) == ["d#1"]
    plain = bm25_retrieve(chunks, ["harpoon"], evidence, budget_tokens=50, prefer_evidence=False, ctx=ctx)
    assert ids(plain) == ["d#0"]
    # evidence alone is a query
    assert ids(bm25_retrieve(chunks, [], [{"chunk": "x", "text": "harbour"}], budget_tokens=50,
                             ctx=ctx)) == ["d#1"]


def test_no_keywords_falls_back_to_the_question(ctx):
    chunks = make_chunks("He rode a bicycle to town.", "The whale swam.")
    out = bm25_retrieve(chunks, [], None, "Where did he ride his bicycles?", ctx=ctx)
    assert ids(out) == ["d#0"]
    assert ctx.record.fallbacks and "question" in ctx.record.fallbacks[0]["reason"]
    # keywords that are all stop words are no query either
    assert ids(bm25_retrieve(chunks, ["the", "of"], None, "bicycle?", ctx=ctx)) == ["d#0"]
    assert len(ctx.record.fallbacks) == 2


def test_nothing_matches_returns_the_start_and_notes_it(ctx):
    chunks = make_chunks("one", "two", "three", tokens=[10, 10, 10])
    out = bm25_retrieve(chunks, ["zzyzx"], budget_tokens=20, ctx=ctx)
    assert ids(out) == ["d#0", "d#1"]
    assert any("no chunk matches" in n["message"] for n in ctx.record.notes)
    assert bm25_retrieve([], ["whale"], ctx=ctx) == {"context": []}


# -- the index cache ------------------------------------------------------------------------------------

def test_second_query_uses_the_cached_index(book_chunks, ctx, cache):
    bm25_retrieve(book_chunks, ["whale"], ctx=ctx)
    assert "index_cache_hits" not in ctx.record.counters
    bm25_retrieve(book_chunks, ["孙悟空"], ctx=ctx)
    assert ctx.record.counters["index_cache_hits"] == 1
    INDEX_CACHE.clear()                                        # from disk now
    out = bm25_retrieve(book_chunks, ["lighthouse", "telescope"], budget_tokens=200, ctx=ctx)
    assert ctx.record.counters["index_cache_hits"] == 2
    assert any("brass telescope" in c["text"] for c in out["context"])
    # changed chunks get their own index
    changed = [dict(c, text=c["text"] + " extra") if i == 0 else c for i, c in enumerate(book_chunks)]
    bm25_retrieve(changed, ["whale"], ctx=ctx)
    assert ctx.record.counters["index_cache_hits"] == 2
    assert len(list((cache / "bm25").iterdir())) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_index_file_is_rebuilt(ctx, cache, damage):
    chunks = make_chunks("He rode a bicycle to town.", "The whale swam.", "Ships at sea.")
    assert ids(bm25_retrieve(chunks, ["whale"], ctx=ctx)) == ["d#1"]
    (path,) = (cache / "bm25").iterdir()
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else raw[:40] + b"\xff" * 8 + raw[48:])
    INDEX_CACHE.clear()
    assert ids(bm25_retrieve(chunks, ["whale"], ctx=ctx)) == ["d#1"]
    assert "index_cache_hits" not in ctx.record.counters
    assert load_arrays(path) is not None                      # rewritten whole


def test_bm25_index_ahead_of_retrieval_is_reused():
    from longflow.core.context import Context
    from longflow.nodes.retrieve import INDEX_CACHE, bm25_index, bm25_retrieve
    INDEX_CACHE.clear()
    chunks = [{"id": f"d#{i}", "doc": "d", "index": i, "start": i, "end": i + 1, "text": t, "tokens": 5}
              for i, t in enumerate(["whales and ships", "the bicycle was invented", "sailors at sea"])]
    ctx = Context(node="index", stream=None)
    assert bm25_index(chunks, ctx=ctx) == {"indexed": 3}
    out = bm25_retrieve(chunks, ["bicycle"], ctx=ctx)
    assert [c["id"] for c in out["context"]] == ["d#1"]
    assert ctx.record.counters["index_cache_hits"] == 1 and "index" in ctx.record.timings


# -- nothing relevant -----------------------------------------------------------------------------------

@pytest.mark.parametrize("question, found", [
    ("Where did the lighthouse keeper hide the brass telescope?", True),
    ("Who sold the silver compass to the harbour master?", False),    # the document never names these
    ("小明把金色的钥匙藏在哪里？", True),
    ("谁把玉佩卖给了县令？", False),
])
def test_min_coverage_hands_on_nothing_for_a_question_the_document_does_not_hold(book_chunks, ctx, question,
                                                                                  found):
    out = bm25_retrieve(book_chunks, [question], question=question, budget_tokens=600, min_coverage=0.3,
                        ctx=ctx)
    assert bool(out["context"]) is found
    if not found:
        assert "nothing relevant" in ctx.record.notes[-1]["message"]
    # without the gate, something is always handed on
    assert bm25_retrieve(book_chunks, [question], question=question, budget_tokens=600, ctx=ctx)["context"]


def test_a_list_of_questions_is_covered_part_by_part(book_chunks, ctx):
    question = ("Answer each of these questions:\n1. Where did the lighthouse keeper hide the brass telescope?\n"
                "2. Who sold the silver compass to the harbour master?")
    assert bm25_retrieve(book_chunks, [question], question=question, min_coverage=0.3, ctx=ctx)["context"]


def test_nothing_read_can_mean_nothing_relevant(book_chunks, ctx):
    kept = bm25_retrieve(book_chunks, ["whale"], evidence=[], ctx=ctx)["context"]
    assert kept and "keyword retrieval alone" in ctx.record.notes[-1]["message"]
    assert bm25_retrieve(book_chunks, ["whale"], evidence=[], keywords_if_nothing_read=False,
                         ctx=ctx)["context"] == []


def two_needles(book: str, last: str, first: str) -> list[dict]:
    """The book with `last` planted as the needle and `first` a fifth of the way in, in ~128-token chunks."""
    text = planted(book, last)
    text = f"{text[:len(text) // 5]}\n{first}\n{text[len(text) // 5:]}"
    chunking = Context(node="chunk", stream=None)
    return chunk(load_document([text], ctx=chunking)["documents"], tokens=128, ctx=chunking)["chunks"]


def test_chinese_places_are_covered_as_the_document_writes_them(ctx):
    # jieba gives "洛阳市" and "洛阳" for the question; the document writes "洛阳" only. The longer word, which
    # no chunk holds, is the same name (not a term the document lacks), and "哪个" is no term at all: counted,
    # they would weigh most, and each needle holds too little of the rest.
    chunks = two_needles("journey_to_the_west_excerpt.txt", "洛阳位于河南省。", "开封位于河南省。")
    question = "洛阳市和开封市都位于哪个省份？"
    assert not any("洛阳" in one["text"] and "开封" in one["text"] for one in chunks)   # a needle a chunk
    out = bm25_retrieve(chunks, [question], question=question, budget_tokens=300, min_coverage=0.3, ctx=ctx)
    assert any("洛阳位于河南省" in one["text"] for one in out["context"])


@pytest.mark.parametrize("book, first, second, question", [
    ("moby_dick_excerpt.txt", "Oskar Lindqvist is a glass blower.", "Mireille Dufresne is a glass blower.",
     "Oskar Lindqvist and Mireille Dufresne, have which occupation or trade in common?"),
    # names with letters beyond ASCII are whole terms: "Sébastien" cut at its "é" gave "S" and "bastien",
    # a term no chunk holds, which weighed most
    ("journey_to_the_west_excerpt.txt", "Jérôme Lefèvre是一名钢琴调音师。", "Renée Østergård是一名钢琴调音师。",
     "Jérôme Lefèvre和Renée Østergård有哪一项共同的职业？"),
])
def test_a_question_about_two_things_is_covered_by_two_chunks_together(ctx, book, first, second, question):
    # Each needle names one of the two people, in its own chunk: neither holds enough of the question alone.
    chunks = two_needles(book, second, first)
    out = bm25_retrieve(chunks, [question], question=question, budget_tokens=300, min_coverage=0.3, ctx=ctx)
    held = " ".join(one["text"] for one in out["context"])
    assert first in held and second in held
    # one of the two alone is not enough
    alone = [one for one in chunks if second not in one["text"]]
    assert bm25_retrieve(alone, [question], question=question, budget_tokens=300, min_coverage=0.3,
                         ctx=ctx)["context"] == []
