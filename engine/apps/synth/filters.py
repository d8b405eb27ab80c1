"""The filters a sample must pass, each a pure function: (passed, score or detail, reason when it fails).

- format: a non-empty answer, in the question's language, not a refusal (unless the question was built
  to have no answer in the document, when it must be one), within a length cap;
- grounding: the answer's own words are in the chunks the run used, and, for a generated question, the
  chunks it was proposed from are among them;
- agreement: a second, independent answer says the same (normalised token F1 of the two answers' own
  words, i.e. less the question's, or the share of the shorter one's words the longer holds, at or above
  a threshold; a judge prompt may overrule a low score);
- dedup: a question near-identical to one already taken for the same document.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from longflow.nodes.grounding import terms, unsupported
from longflow.nodes.lang import CJK_CHAR
from longflow.nodes.parsing import is_decline
from longflow.nodes.tokens import count_tokens, language_of

from ..quality.scoring import declines

FILTERS = ("dedup", "format", "grounding", "agreement")


@dataclass
class Verdict:
    passed: bool
    reason: str = ""            # why it failed, for the side file
    score: float | None = None  # agreement's F1, dedup's similarity...

    def to_dict(self) -> dict:
        out = {"passed": self.passed}
        if self.reason:
            out["reason"] = self.reason
        if self.score is not None:
            out["score"] = round(self.score, 4)
        return out


def refuses(answer: str, lang: str) -> bool:
    """The agent's own decline ("The document does not say.") and the usual ways a model says it."""
    return is_decline(answer) or declines(answer, lang)


def check_format(answer: str, question: str, *, unanswerable: bool = False, max_tokens: int = 200) -> Verdict:
    lang = language_of(question)
    text = answer.strip()
    if not text:
        return Verdict(False, "format: the answer is empty")
    if refuses(text, lang) != unanswerable:
        return Verdict(False, "format: the question was built to have no answer here, and the answer gives one"
                       if unanswerable else "format: the answer is a refusal")
    wrong = _wrong_language(text, lang)
    if wrong:
        return Verdict(False, f"format: {wrong}")
    tokens = count_tokens(text)
    if tokens > max_tokens:
        return Verdict(False, f"format: the answer is {tokens} tokens, over the cap of {max_tokens}")
    return Verdict(True)


def _wrong_language(answer: str, lang: str) -> str:
    """Why `answer` is not in `lang`, or ''. A short answer of names or numbers ("1817", "Karl Drais") has
    no language of its own: a Chinese question may get it; past a few words it must be Chinese."""
    chinese = len(CJK_CHAR.findall(answer))
    words = re.findall(r"[A-Za-z]+", answer)
    if lang == "zh" and not chinese and len(words) > 3:
        return "the question is in Chinese and the answer is not"
    if lang == "en" and language_of(answer) == "zh":
        return "the question is in English and the answer is in Chinese"
    return ""


def check_grounding(answer: str, question: str, used: dict[int, str], proposed_from: list[int] | None,
                    *, unanswerable: bool = False) -> Verdict:
    """`used`: the run's evidence chunks, index -> text. A refusal to a question built to have no answer
    needs no evidence."""
    if unanswerable:
        return Verdict(True)
    missing = [i for i in proposed_from or [] if i not in used]
    if missing:
        return Verdict(False, f"grounding: the run did not use chunk(s) {', '.join(map(str, missing))} the "
                              f"question was proposed from (it used {_list(sorted(used))})")
    if not used:
        return Verdict(False, "grounding: the run used no chunk of the document")
    why = unsupported(answer, question, "\n".join(used[i] for i in sorted(used)))
    if why:
        return Verdict(False, f"grounding: the answer {why} (chunks {_list(sorted(used))})")
    return Verdict(True)


def _list(items: list[int]) -> str:
    return ", ".join(map(str, items[:12])) + (f" ... ({len(items)})" if len(items) > 12 else "") or "none"


def own_terms(first: str, second: str, question: str) -> tuple[set[str], set[str]]:
    """Two answers' own terms (stemmed, stop words dropped, Chinese as words and character pairs), less
    the question's; two answers that only restate the question are compared whole."""
    asked = terms(question)
    a, b = terms(first) - asked, terms(second) - asked
    if not a and not b:
        a, b = terms(first), terms(second)
    return a, b


def answer_f1(first: str, second: str, question: str) -> float:
    """Token F1 of the two answers' own terms: "The bicycle was invented in 1817." and "1817" agree fully
    on "When was the bicycle invented?"."""
    a, b = own_terms(first, second, question)
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def agreement_score(first: str, second: str, question: str) -> float:
    """The F1, or, when higher, the share of the shorter answer's own terms that the longer one holds: a
    reader's whole sentence ("...invented in 1817 by Karl Drais in Mannheim") and a terse "1817" say the
    same, though their F1 is low."""
    a, b = own_terms(first, second, question)
    if not a or not b:
        return 0.0
    short, long_ = sorted((a, b), key=len)
    return max(answer_f1(first, second, question), len(short & long_) / len(short))


def check_agreement(first: str, second: str, question: str, threshold: float, *,
                    unanswerable: bool = False, judge=None) -> Verdict:
    """`judge(question, first, second) -> bool | None`, asked only when the F1 is below the threshold."""
    lang = language_of(question)
    one, two = refuses(first, lang), refuses(second, lang)
    if one or two:   # two refusals agree (what a question with no answer wants); one refusal does not
        return Verdict(one and two, "" if one and two else "agreement: the second answer " +
                       ("refuses" if two else "answers where the first refuses"), 1.0 if one and two else 0.0)
    score = agreement_score(first, second, question)
    if score >= threshold:
        return Verdict(True, score=score)
    if judge is not None and judge(question, first, second):
        return Verdict(True, "agreement: below the F1 threshold, the judge says they agree", score)
    return Verdict(False, f"agreement: the second answer {second[:160]!r} agrees {score:.2f}, below "
                          f"{threshold:g}", score)


class Dedup:
    """Questions already taken, per document: a new one is near-identical to one of them when the two
    share `threshold` of their terms (Jaccard)."""

    def __init__(self, threshold: float = 0.8):
        self.threshold = threshold
        self.seen: list[tuple[str, set[str]]] = []

    def check(self, question: str) -> Verdict:
        own = terms(question) or {question.strip().lower()}
        for earlier, theirs in self.seen:
            similarity = len(own & theirs) / len(own | theirs)
            if similarity >= self.threshold:
                return Verdict(False, f"dedup: near-identical to {earlier[:160]!r}", similarity)
        self.seen.append((question, own))
        return Verdict(True)
