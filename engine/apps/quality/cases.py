"""Benchmark cases, NeedleBench-style, generated from a seed: the same arguments give the same cases.

A case is a question about a document of `length` tokens cut from a public-domain book (English: Moby-Dick
and War and Peace; Chinese: Journey to the West), with needles from NeedleBench's files placed at
`depth` percent of it:

- single:      one needle; its retrieval question; scored on the needle's keyword.
- multi:       three needles with different questions, from `depth` on, evenly spread to the end; all
               three questions at once; every keyword must be reported.
- reasoning:   a 2-4 hop chain (NeedleBench's multi-needle reasoning records): the first fact at `depth`,
               each next one 10% of the length later; the later hops share few words with the question.
- absent:      a needle's question, with the needle left out: the right reply says the document does not
               say, and names nothing.
- instruction: one needle, and the question also asks for a form (JSON, a prefix, French for English).

A needle is placed at a line end near its token position, on a line of its own, as NeedleBench does.
Cases are paired across languages: the same seed, task, length, depth and index ask the same thing in
English and in Chinese (NeedleBench's files are translations of each other), in a book and at a place
drawn for each language. A gap between the languages is then the language's, not the questions'.
"""
from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "benchmarks"
HAYSTACKS = {"en": ["haystack/moby_dick.txt", "haystack/war_and_peace.txt"],
             "zh": ["haystack/journey_to_the_west.txt"]}
TASKS = ("single", "multi", "reasoning", "absent", "instruction")
LANGUAGES = ("en", "zh")
INSTRUCTIONS = {
    "en": {"json": 'Reply with a JSON object only, of the form {"answer": "..."}.',
           "prefix": "Begin your reply with 'ANSWER:'.",
           "french": "Answer in French."},
    "zh": {"json": '只回复一个 JSON 对象，格式为 {"answer": "..."}。',
           "prefix": "请以“答案：”开头回答。"},
}
MULTI_NEEDLES = 3


@dataclass
class Case:
    id: str
    task: str
    language: str
    length: int                 # tokens of the document, needles included (Qwen tokenizer)
    depth: int                  # percent of the document where the (first) needle goes
    question: str
    answer: str                 # the gold answer; "" when the document does not hold one
    keywords: list[str]         # what a right answer must contain
    needles: list[str] = field(default_factory=list)
    instruction: str = ""       # the form asked for, for instruction cases
    haystack: str = ""          # which book
    start: int = 0              # where in it (token offset) the document's text begins

    def to_dict(self) -> dict:
        return asdict(self)

    def document(self) -> str:
        """The document: `length` tokens of the book from `start`, the needles at their depths; for length
        0, the needles alone, one a line (what the answer step makes of retrieval that missed nothing)."""
        from longflow.nodes.tokens import count_tokens, tokenizer
        if not self.length:
            return "\n".join(self.needles)
        ids = _book_ids(self.haystack)
        budget = self.length - sum(count_tokens(n) + 2 for n in self.needles)
        text = tokenizer().decode(ids[self.start:self.start + max(budget, 0)])
        return _insert(text, self.needles, self.positions())

    def positions(self) -> list[float]:
        """Where each needle goes, as a fraction of the text."""
        n, d = len(self.needles), self.depth / 100
        if self.task == "multi":
            return [d + i * (1 - d) / n for i in range(n)]
        if self.task == "reasoning":
            return [min(1.0, d + 0.1 * i) for i in range(n)]
        return [d] * n


def generate(tasks=TASKS, languages=LANGUAGES, lengths=(8000, 16000, 32000), depths=(0, 50, 100),
             per_cell: int = 1, seed: int = 0) -> list[Case]:
    """Every combination of task x language x length x depth, `per_cell` cases each."""
    cases = []
    for task in tasks:
        for lang in languages:
            for length in lengths:
                for depth in depths:
                    cases += [_case(task, lang, length, depth, k, seed) for k in range(per_cell)]
    return cases


def _case(task: str, lang: str, length: int, depth: int, k: int, seed: int) -> Case:
    where = _rng(seed, f"{task}-{lang}-{length}-{depth}-{k}")
    what = _rng(seed, f"{task}-{length}-{depth}-{k}")    # the same in every language
    return _make(task, lang, length, depth, where, what, f"{task}-{lang}-{length}-{depth}-{k}-s{seed}")


_ID = re.compile(r"^([a-z]+)-([a-z]+)-(\d+)-(\d+)-(\d+)-s(\d+)$")


def case_by_id(case_id: str) -> Case:
    """The case an id names ("reasoning-zh-8000-50-2-s11": task, language, length, depth, index, seed), as
    `generate` makes it: a case of a report can be run again on its own."""
    match = _ID.match(case_id.strip())
    if not match or match.group(1) not in TASKS or match.group(2) not in LANGUAGES:
        raise ValueError(f"{case_id!r} is not a case id: TASK-LANGUAGE-LENGTH-DEPTH-INDEX-sSEED, e.g. "
                         f"reasoning-zh-8000-50-2-s11 (tasks: {', '.join(TASKS)}; languages: "
                         f"{', '.join(LANGUAGES)})")
    return _case(match.group(1), match.group(2), *map(int, match.groups()[2:]))


def _rng(seed: int, key: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:16], 16))


def _make(task: str, lang: str, length: int, depth: int, rng: random.Random, what: random.Random,
          case_id: str) -> Case:
    """`rng` draws the book and the place in it; `what` draws what is asked, the same in each language."""
    haystack = rng.choice(HAYSTACKS[lang])
    start = rng.randrange(max(1, len(_book_ids(haystack)) - length - 1))
    base = dict(id=case_id, task=task, language=lang, length=length, depth=depth, haystack=haystack,
                start=start)
    if task == "reasoning":
        record = _reasoning(lang)[what.choice(_chains())]
        return Case(**base, question=record["question"], answer=record["answer"], keywords=[record["answer"]],
                    needles=list(record["derivations"]))
    if task == "multi":
        picked = _distinct(what, lang, MULTI_NEEDLES)
        questions = "\n".join(f"{i}. {n['retrieval_question']}" for i, n in enumerate(picked, 1))
        lead = "Answer each of these questions:" if lang == "en" else "请逐一回答下列问题："
        return Case(**base, question=f"{lead}\n{questions}",
                    answer=" ".join(n["gold_standard_answer"] for n in picked),
                    keywords=[n["arg2"] for n in picked], needles=[n["needle"] for n in picked])
    needle, = _distinct(what, lang, 1)
    if task == "absent":
        return Case(**base, question=needle["retrieval_question"], answer="", keywords=[])
    question, instruction = needle["retrieval_question"], ""
    if task == "instruction":
        instruction = rng.choice(sorted(INSTRUCTIONS[lang]))
        question = f"{_bare_question(question)} {INSTRUCTIONS[lang][instruction]}"
    return Case(**base, question=question, answer=needle["gold_standard_answer"], keywords=[needle["arg2"]],
                needles=[needle["needle"]], instruction=instruction)


def _bare_question(question: str) -> str:
    """The question without NeedleBench's own format request ("Please answer in the format ..."), which
    would contradict the instruction the case asks for."""
    for marker in (" Please answer in the format", "请按照"):
        if marker in question:
            return question[:question.index(marker)].strip()
    return question


def _distinct(rng: random.Random, lang: str, n: int) -> list[dict]:
    """n needles whose questions differ (the file has several answers to some questions). The English and
    Chinese needles are translations in the same order, so the same draws pick the same needles."""
    pool = _needles(lang)
    picked, questions = [], set()
    for needle in rng.sample(pool, len(pool)):
        if needle["retrieval_question"] not in questions:
            picked.append(needle)
            questions.add(needle["retrieval_question"])
        if len(picked) == n:
            return picked
    raise ValueError(f"fewer than {n} distinct {lang} needle questions")


def _insert(text: str, needles: list[str], positions: list[float]) -> str:
    """Each needle on its own line, at the first line end from its position. The places are found in
    the original text, then filled from the last, so that needles sharing a place keep their order."""
    cuts = []
    for at in positions:
        line_end = text.find("\n", int(len(text) * at))
        cuts.append(len(text) if line_end < 0 else line_end)
    for i in sorted(range(len(needles)), key=lambda i: (-cuts[i], -i)):
        text = f"{text[:cuts[i]]}\n{needles[i]}\n{text[cuts[i]:]}"
    return text


@functools.lru_cache(maxsize=4)
def _book_ids(haystack: str) -> list[int]:
    from longflow.nodes.tokens import encode
    return encode((DATA / haystack).read_text(encoding="utf-8").replace("\r\n", "\n"))


@functools.lru_cache(maxsize=2)
def _needles(lang: str) -> list[dict]:
    name = {"en": "English", "zh": "Chinese"}[lang]
    with open(DATA / "needlebench" / "needles.jsonl", encoding="utf-8") as f:
        return [n for n in map(json.loads, f) if n["language"] == name]


@functools.lru_cache(maxsize=2)
def _reasoning(lang: str) -> dict[str, dict]:
    """The reasoning chains by their HotpotQA id (the two files hold the same ids, in different orders)."""
    path = DATA / "needlebench" / f"multi_needle_reasoning_{lang}.json"
    return {r["id"]: r for r in json.loads(path.read_text(encoding="utf-8"))}


@functools.lru_cache(maxsize=1)
def _chains() -> list[str]:
    """The ids of the chains of 2-4 facts in both languages, in a fixed order. Some Chinese records were
    left in English: they are not Chinese cases."""
    def usable(lang: str, r: dict) -> bool:
        return (2 <= len(r["derivations"]) <= 4 and 2 <= r["derivation_count"] <= 4
                and (lang != "zh" or re.search(r"[\u4e00-\u9fff]", r["question"]) is not None))
    return sorted(set.intersection(*({i for i, r in _reasoning(lang).items() if usable(lang, r)}
                                     for lang in LANGUAGES)))
