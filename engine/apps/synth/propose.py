"""Questions proposed from a document: single-hop from one sampled chunk, multi-hop from two chunks far
apart that name the same entity (a name, or a Chinese word, found in few chunks).

Small models reply with prose, empty strings, questions about "the passage", or questions whose words
are nowhere in it: what comes back is parsed leniently and checked in code, and a proposal that fails is
rejected with the reason (it goes to the side file like any rejected sample).
"""
from __future__ import annotations

import functools
import random
import re
import string
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from longflow.core.context import Context
from longflow.nodes.bm25_text import analyze
from longflow.nodes.lang import CJK_RUN, STOP_EN, STOP_ZH
from longflow.nodes.parsing import parse_json
from longflow.nodes.templates import quoted
from longflow.nodes.tokens import language_of, truncate_to_tokens

from .filters import Verdict

PROMPTS = Path(__file__).resolve().parent / "prompts"
MIN_CHUNK_TOKENS = 64         # a chunk shorter than this (a document's tail) holds too little to ask about
PASSAGE_TOKENS = 700          # each passage shown to the proposer (two fit a small model's window)
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}(?:[ \t]+[A-Z][a-z]{2,})*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"'\n]\s*)$")
_META = re.compile(r"\b(?:the|this|these|that|above|following) (?:passages?|text|excerpt|author)\b|"
                   r"\bpassage [AB12]\b|材料[甲乙中里]|(?:这|该|上述|以上|根据)(?:段)?材料|文中|这段话|作者",
                   re.IGNORECASE)


@dataclass
class Seed:
    """Where a question is to come from: its kind and its chunks (indexes), and for multi-hop the entity
    the chunks share."""
    kind: str                 # "single" | "multi" | "unanswerable"
    chunks: list[int]
    entity: str = ""
    source: str = ""          # unanswerable: the other document the question comes from


@dataclass
class Proposal:
    seed: Seed
    question: str = ""
    answer: str = ""          # the proposer's own answer: kept in the metadata, never used as the label
    rejected: Verdict | None = None
    prompt_chars: int = field(default=0, repr=False)


def plan(chunks: list[dict], rng: random.Random, single: int, multi: int) -> list[Seed]:
    """Which chunks to ask about: `single` distinct chunks, and up to `multi` far-apart pairs sharing an
    entity. Deterministic for a given `rng` state."""
    usable = [c["index"] for c in chunks if c["tokens"] >= MIN_CHUNK_TOKENS] or [c["index"] for c in chunks]
    seeds = [Seed("single", [i]) for i in sorted(rng.sample(usable, min(single, len(usable))))]
    if multi:
        seeds += [Seed("multi", [a, b], entity) for a, b, entity in far_pairs(chunks, rng, multi)]
    return seeds


def far_pairs(chunks: list[dict], rng: random.Random, wanted: int) -> list[tuple[int, int, str]]:
    """Up to `wanted` pairs of chunks at least a third of the document apart (and never neighbours) that
    name the same entity, one entity per pair, the rarest entities first (a name found in two chunks ties
    them more surely than one found in ten)."""
    if len(chunks) < 3:
        return []
    where: dict[str, list[int]] = defaultdict(list)
    for c in chunks:
        for entity in entities(c["text"]):
            where[entity].append(c["index"])
    gap = max(2, len(chunks) // 3)
    candidates = []
    for entity, places in where.items():
        if 2 <= len(places) <= 4:
            pairs = [(a, b) for a in places for b in places if b - a >= gap]
            if pairs:
                candidates.append((len(places), entity, pairs))
    candidates.sort(key=lambda c: (c[0], c[1]))
    rarest = candidates[:max(wanted * 4, 8)]
    rng.shuffle(rarest)
    out, taken = [], set()
    for _, entity, pairs in rarest:
        a, b = pairs[rng.randrange(len(pairs))]
        if (a, b) not in taken:
            taken.add((a, b))
            out.append((a, b, entity))
        if len(out) == wanted:
            break
    return out


def entities(text: str) -> set[str]:
    """Names in English text (capitalised words not opening a sentence: "Karl Drais", "Vienna"), and
    Chinese words of two or more characters (jieba's), stop words left out."""
    found = set()
    for m in _CAPITALISED.finditer(text):
        words = m.group(0).split()
        if _SENTENCE_START.search(text[max(0, m.start() - 3):m.start()]):
            words = words[1:]     # "The" or "Whales" opening a sentence is no name; "Karl Drais" after it is
        # The whole name and each of its words: "Captain Ahab" here and "Ahab" there are one entity.
        found |= {w for w in words + ([" ".join(words)] if len(words) > 1 else []) if w.lower() not in STOP_EN}
    for run in CJK_RUN.findall(text):
        found |= {w for w in analyze(run) if len(w) >= 2 and w not in STOP_ZH}
    return found


def propose(ctx: Context, seed: Seed, chunks: list[dict]) -> Proposal:
    """Ask the model for a question from the seed's chunks, and check what comes back."""
    texts = [truncate_to_tokens(chunks[i]["text"], PASSAGE_TOKENS) for i in seed.chunks]
    lang = language_of(" ".join(texts))
    if seed.kind == "multi":
        prompt = template("propose_multi", lang).safe_substitute(entity=seed.entity, first=quoted(texts[0]),
                                                                  second=quoted(texts[1]))
    else:
        prompt = template("propose_single", lang).safe_substitute(passage=quoted(texts[0]))
    reply = ctx.chat(prompt, max_tokens=200)
    question, answer = read_reply(reply)
    proposal = Proposal(seed, question, answer, prompt_chars=len(prompt))
    proposal.rejected = check_question(question, texts, lang, seed) or holds_its_answer(question, answer)
    return proposal


def read_reply(reply: str) -> tuple[str, str]:
    """(question, answer) from a JSON reply, or from prose: the first line that ends in a question mark."""
    value = parse_json(reply)
    if isinstance(value, dict):
        q = value.get("question") or value.get("问题") or ""
        a = value.get("answer") or value.get("答案") or ""
        if isinstance(q, str) and q.strip():
            return q.strip(), a.strip() if isinstance(a, str) else str(a)
    for line in (reply or "").splitlines():
        line = re.sub(r"^\W*(?:question|q|问题)\s*[:：]\s*", "", line.strip(" *-#\t"), flags=re.I)
        if line.endswith(("?", "？")):
            return line, ""
    return "", ""


def check_question(question: str, passages: list[str], lang: str, seed: Seed) -> Verdict | None:
    """Why a proposed question is unusable, or None."""
    if not question:
        return Verdict(False, "proposal: the model gave no question")
    if not (4 if lang == "zh" else 8) <= len(question) <= 400:    # "谁发明了印刷术？" is 8 characters
        return Verdict(False, f"proposal: a question of {len(question)} characters")
    if not question.rstrip().endswith(("?", "？", "吗", "呢")):
        return Verdict(False, "proposal: not a question")
    if language_of(question) != lang:
        return Verdict(False, f"proposal: the question is not in the passage's language ({lang})")
    if _META.search(question):
        return Verdict(False, "proposal: the question speaks of the passage, not of what it says")
    own = set(analyze(question))
    for i, text in zip(seed.chunks, passages):
        if not own & set(analyze(text)):
            return Verdict(False, f"proposal: the question shares no word with chunk {i}")
    return None


def holds_its_answer(question: str, answer: str) -> Verdict | None:
    """"What is the name of the bicycle?" -> "The bicycle": a small model's favourite question asks for
    what it already says."""
    own = set(analyze(answer))
    if own and own <= set(analyze(question)):
        return Verdict(False, "proposal: the question already holds its answer")
    return None


@functools.lru_cache(maxsize=16)
def template(name: str, lang: str) -> string.Template:
    path = PROMPTS / f"{name}.{lang}.txt"
    return string.Template((path if path.exists() else PROMPTS / f"{name}.en.txt").read_text(encoding="utf-8"))
