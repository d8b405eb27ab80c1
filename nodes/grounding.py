"""Whether a small model's words come from a given text: the test behind every "decide in code" check
of the node library (a reader's answer against its chunk, a split question against the question).

Terms are BM25's (stemmed English words without stop words, jieba's Chinese words) plus Chinese character
pairs, which match however either side was segmented.
"""
from __future__ import annotations

import re
from collections import Counter

from .bm25_text import analyze
from .lang import CJK_RUN

_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")
ECHO = "repeats the question"
NOT_IN_CONTEXT = "is not in the context"
NOT_ASKED = "comes from a part of the context about something else"
LOOK_ALIKE = "comes from a sentence built like the one about what was asked"
# A yes/no reply adds no word of its own, and is an answer all the same; so is a pick between the
# alternatives a question offers.
_YES_NO = re.compile(r"^\W*(yes|no|是的?|不是|否|对|不对)(\W|$)", re.IGNORECASE)
_CHOICE = re.compile(r"\bor\b|\bwhether\b|还是|或者|或是|哪一个", re.IGNORECASE)


def terms(text: str) -> set[str]:
    pairs = {run[i:i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)}
    return set(analyze(text)) | pairs


def held(text: str, source: str | set[str]) -> float:
    """The share of `text`'s terms that `source` holds (1.0 for a text with no terms)."""
    own = terms(text)
    if not own:
        return 1.0
    return len(own & (source if isinstance(source, set) else terms(source))) / len(own)


def sentences(text: str) -> list[str]:
    """`text` cut after sentence ends (English and Chinese) and at line breaks, blanks dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def unsupported(reply: str, question: str, context: str, share: float = 0.5, tie: float = 0.25) -> str:
    """Why `reply` is not an answer taken from `context`, or '' when it is one.

    A reply's own terms are those the question does not hold. It is an answer from the context when a
    sentence of the context (with its neighbours) holds at least `share` of them and at least `tie` of
    the question's terms: the words that tie the answer to what was asked. A small model asked about
    something the document does not hold picks words from sentences about something else; a sentence
    that gives the answer speaks of what was asked. For a multi-hop question the tie may pass through
    one other sentence that shares a name with the answer's (a term found in at most two sentences:
    "Patient was released in 2017" and "her second EP, Patient"): the two together must hold `tie` of
    the question's terms, the other one bringing a term the answer's sentence lacks. A reply with no
    terms of its own is an echo, unless the question offers a choice and the reply is shorter than half
    of it ("Which came first, A or B?": "A"); a yes or no is an answer too. ("Bonnie and Clyde's gang"
    for "Buck Barrow is married to what member of Bonnie and Clyde's gang?" is an echo.) A sentence that
    holds no word of the question itself, or that another one outdoes (`_outdone`: built like it, the
    same words of the question and more), does not tie a reply directly: LOOK_ALIKE says so.
    """
    if _YES_NO.match(reply):
        return ""
    asked, said = terms(question), terms(reply)
    own = said - asked
    if not own:
        return "" if _CHOICE.search(question) and len(said) * 2 < len(asked) else ECHO
    each = [terms(s) for s in sentences(context)]
    around = [set().union(*each[max(i - 1, 0):i + 2]) for i in range(len(each))]
    enough = tie * len(asked)
    holding = [i for i, sentence in enumerate(each)
               if sentence & own and len(own & around[i]) >= share * len(own)]
    direct = [i for i in holding if len(asked & around[i]) >= enough]
    # A sentence ties the reply directly when it speaks of what was asked itself (a neighbour may add the
    # rest: "Her brother kept the accounts" after "Anna rebuilt the mill"), and neither it nor that
    # neighbour is a look-alike.
    if any(asked & each[i] and not _outdone(i, each, asked, holding)
           and len(_tied(i, each, asked, holding)) >= enough for i in direct):
        return ""
    seen = Counter(t for sentence in each for t in sentence)
    for i in holding:
        names = {t for t in each[i] - asked if seen[t] <= 2}
        # The other sentence must bring a word of the question that the answer's own lacks (a look-alike
        # that holds most of the question already is not made an answer by any sentence sharing a name),
        # and be neither a look-alike itself nor the sentence the answer's is a look-alike of (two needles
        # of one template share its words).
        if any(j != i and each[j] & names and asked & each[j] - around[i]
               and len(asked & (around[i] | around[j])) >= enough and not _outdone(j, each, asked, holding)
               and not _better(j, i, each, asked) for j in range(len(each))):
            return ""
    return LOOK_ALIKE if direct else NOT_ASKED if holding else NOT_IN_CONTEXT


def _tied(i: int, each: list[set[str]], asked: set[str], holding: list[int]) -> set[str]:
    """The question's terms that sentence `i` and its neighbours hold, leaving out neighbours that are
    look-alikes: a line of the text next to the needle about another island holds that island's words,
    and a reply taken from the line does not speak of the island asked about."""
    window = range(max(i - 1, 0), min(i + 2, len(each)))
    return asked & set().union(*(each[m] for m in window if m == i or not _outdone(m, each, asked, holding)))


def _outdone(i: int, each: list[set[str]], asked: set[str], holding: list[int], alike: float = 0.5) -> bool:
    """Whether sentence `i` is a look-alike of a better one: another sentence, built like it (holding
    `alike` of its terms) but not holding the reply, that says the same of what was asked and more
    ("...hidden on Storm Island is the Sun Stone" for "...hidden on Golden Island?", where "...hidden on
    Golden Island is the Time-Space Key" is in the context too). Such a reply took its words from the
    sentence about something else. It may still pass as the last hop of a chain, through a name it
    shares with another sentence."""
    return bool(asked & each[i]) and any(k not in holding and _better(k, i, each, asked, alike)
                                         for k in range(len(each)))


def _better(k: int, i: int, each: list[set[str]], asked: set[str], alike: float = 0.5) -> bool:
    """Whether sentence `k` is built like sentence `i` and says the same of what was asked and more."""
    return asked & each[k] > asked & each[i] and len(each[k] & each[i]) >= alike * len(each[i])
