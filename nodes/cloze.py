"""A Chinese question is the sentence that answers it with a question word where the answer goes (Chinese
leaves its question words in place): "...下一任美国驻哪个国家的大使？" is answered by "...下一任美国驻新加坡大使".
The answer is read from the context's sentence that fits around the question word."""
from __future__ import annotations

import re

from .grounding import asked_kind, gives_kind, options, sentences
from .lang import ZH_QUESTION_WORD
from .tokens import language_of

# A question word with the numeral and measure word that may follow it ("哪个", "哪一年", "多少").
_QUESTION_WORD = re.compile(rf"(?:{ZH_QUESTION_WORD.pattern}|几)[一两几]?[个位部家座所年种支条本首名次届件场队]?")
# Where a clause ends: an answer holds none of these ("·" joins the parts of a name, and is not one).
_MARK = re.compile(r"[，。；：！？;:!?、（）()“”\"‘’]|(?<!\d)[,.]|[,.](?!\d)")
# How many characters after the question word may be passed over before what follows it in the sentence
# too: its noun and "的" ("哪个国家的大使" against "新加坡大使").
_PASSED_OVER = 4
# The fewest characters of the question around the question word a sentence must hold, and the most the
# answer between them may have.
_LEAST_ANCHOR, _LONGEST = 3, 15
# The most characters the question's own noun after its question word may have to be taken as the end of
# the answer ("州" of "哪个州": "加利福尼亚州").
_NOUN = 2


def in_its_place(question: str, context: str) -> tuple[str, str] | None:
    """What the context's sentence that fits around a Chinese question's one question word has in its
    place, and that sentence: "新加坡" for "...美国驻哪个国家的大使？" from "...被提名为下一任美国驻新加坡大使". None for an English
    question, a question with no or two question words ("哪部由谁导演"), when no sentence holds at least three
    characters of the question around it, or when the sentences that fit best disagree. An answer the
    question holds, one of the wrong kind ("哪一年" answered without a digit), or one that says something of
    it ("是", "了") is no answer."""
    fit, found = _placed(question, context)
    answers = {answer for answer, _ in found}
    return min(found) if fit >= _LEAST_ANCHOR and len(answers) == 1 else None


def _placed(question: str, context: str) -> tuple[int, set[tuple[str, str]]]:
    """How many characters of the question the best-fitting sentences hold around its question word, and
    what each has in its place, with the sentence."""
    if language_of(question) != "zh":
        return 0, set()
    asked = question.strip().rstrip("？?。. ")
    words = list(_QUESTION_WORD.finditer(asked))
    if len(words) != 1 or options(question):   # a choice is answered by one of its options
        return 0, set()
    before = _MARK.split(asked[:words[0].start()])[-1]
    after = _MARK.split(asked[words[0].end():])[0]
    kind = asked_kind(question)
    best, found = 0, set()
    for sentence in sentences(context):
        for fit, answer in _fits(sentence, before, after):
            if answer in question or len(answer) < 2 or _SAYS.search(_TITLE.sub("", answer)) \
                    or not gives_kind(answer, question, kind):
                continue
            if fit > best:
                best, found = fit, {(answer, sentence)}
            elif fit == best:
                found.add((answer, sentence))
    return best, found


# What an answer does not hold outside a title's 《》: a verb, preposition or particle of what is said of
# it ("尼亚加拉县是", "主持了", "安大略磨坊位于", "《守望先锋》中"), a numeral and measure word ("一支", "一个奖项"),
# or a word that points back ("那座城市").
_SAYS = re.compile(r"[是了在为被把于以的]|中$|^[一两几][个位支所名家部座种条本首件场张]|^[这那该此其]")
_TITLE = re.compile(r"《[^》]*》")
# Another name for it, in brackets after it: "无线电视（TVB）".
_ALIAS = re.compile(r"[（(][^（）()]+[）)]$")


def _fits(sentence: str, before: str, after: str):
    """(how many characters of the question fit around it, the answer) for each place in `sentence` that
    the question's `before` ends at, or its `after` starts at: the longest end of `before` and the longest
    start of `after` (less up to `_PASSED_OVER` characters) the sentence holds, the answer between; and
    each title that follows the noun after the question word (`_titled`)."""
    yield from _titled(sentence, before, after)
    for left in _ends(before, sentence) or [""]:
        starts = [m.end() for m in re.finditer(re.escape(left), sentence)] if left else \
            [0] + [m.end() for m in _MARK.finditer(sentence)]
        for start in starts:
            answer, right = _until(sentence[start:], after)
            if answer and len(answer) <= _LONGEST and not _MARK.search(_ALIAS.sub("", answer)):
                yield len(left) + len(right), answer


def _titled(sentence: str, before: str, after: str):
    """Chinese names a work after its kind: "在哪个长寿肥皂剧中饰演..." is answered by "在长寿肥皂剧《霍利橡树》中
    饰演...". For each title in `sentence` that the start of `after` (its noun, two characters or more, not
    past a "的": "哪个导演的电影原声带" asks for the director, not the soundtrack) comes right before: (the
    characters of the question around it, the title), counting the end of `before` in front of the noun
    and the start of the rest of `after` behind the title."""
    for title in _TITLE.finditer(sentence):
        ahead, behind = sentence[:title.start()], sentence[title.end():]
        noun = next((n for n in range(len(after), 1, -1)
                     if ahead.endswith(after[:n]) and "的" not in after[:n]), 0)
        if not noun:
            continue
        head = ahead[:len(ahead) - noun]
        left = _ends(before, head)
        fit = len(left[0]) if left and head.endswith(left[0]) else 0
        rest = next((n for n in range(len(after) - noun, 0, -1)
                     if behind.startswith(after[noun:noun + n])), 0)
        yield fit + noun + rest, title.group()


def _ends(text: str, sentence: str) -> list[str]:
    """The longest end of `text` that `sentence` holds, if any."""
    return next(([text[i:]] for i in range(len(text)) if text[i:] in sentence), [])


def _until(rest: str, after: str) -> tuple[str, str]:
    """The answer at the start of `rest`, and the longest start of `after` (less what is passed over) that
    follows it there; with none, the answer runs to the end of the clause. The question's own noun ending
    it ("哪个州", "多少周": `after` of at most `_NOUN` characters) is the answer's last part ("加利福尼亚州")."""
    found = [(n, rest.find(after[skip:skip + n], 1), after[skip:skip + n])
             for skip in range(min(_PASSED_OVER, len(after)) + 1) for n in range(1, len(after) - skip + 1)]
    n, at, right = max(((n, at, right) for n, at, right in found if at > 0), default=(0, -1, ""))
    if not n:
        return _MARK.split(rest)[0], ""
    if after.startswith(right) and len(after) <= _NOUN:
        return rest[:at + n], right
    return rest[:at], right

