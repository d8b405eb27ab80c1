"""Comparisons a small model gets wrong: which of a question's two options its numbers pick, what two
things the question names have in common, and whether they are the same in some respect.

"Who is older, Sebastian Gutierrez or Henry Jaglom?" with "Sebastian Gutierrez is born September 10,
1974" and "Henry David Jaglom is born January 26, 1938" in front of it: a 0.5B model names the first
option about as often as the right one. The years decide it, and code reads them without error.
"""
from __future__ import annotations

import re

from .bm25_text import analyze, tagged_names
from .grounding import (asks_whether, names, option_texts, options, sentence_terms, terms,
                        written_name_texts)
from .lang import CJK_CHAR, CJK_RUN, MONTH, NUMBER_WORDS, TENS_WORDS
from .tokens import language_of

# What a question compares, by the words that ask it. Time: the option whose year is smaller (born,
# founded, released earlier) or larger; "first" and "last" only where they are not ordinals ("the first
# woman to...": a year there says when, not which came first), and "先" not in "祖先" (ancestor), "先生"
# (Mr). Amount: the option whose count is larger or smaller. The time words come first: "年纪更大" (older)
# holds "更大" (larger).
_EARLIER = re.compile(r"\b(?:earlier|earliest|older|oldest|sooner|longer ago)\b|(?<!\bthe )(?<!\ba )\bfirst\b"
                      r"|更早|最早|较早|更古老|最古老|更老|最老|年纪更大|年龄更大|年纪最大|年长"
                      r"|(?<!祖)先(?![生锋驱进])", re.IGNORECASE)
_LATER = re.compile(r"\b(?:later|latest|younger|youngest|more recent|most recent|newer|newest)\b"
                    r"|(?<!\bthe )(?<!\ba )\blast\b|更晚|最晚|较晚|更年轻|最年轻|更新|最新|更近", re.IGNORECASE)
_MORE = re.compile(r"\b(?:more|most|larger|largest|bigger|biggest|greater|greatest|higher|highest|longer|"
                   r"longest|taller|tallest|heavier|heaviest)\b|更多|最多|较多|更大|最大|更长|最长|更高|最高",
                   re.IGNORECASE)
_FEWER = re.compile(r"\b(?:fewer|fewest|less|least|smaller|smallest|shorter|shortest|lower|lowest|lighter)\b"
                    r"|更少|最少|较少|更小|最小|更短|最短|更低|最低", re.IGNORECASE)

_YEAR = re.compile(r"(?<![\d,.])(1\d{3}|20\d{2})(?![\d,])")
# A day of a date is no count: "born September 10, 1974", "10 September 1974", "9月10日".
_DAY = re.compile(rf"{MONTH}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{MONTH}|\d{{1,2}}\s*[月日号]", re.IGNORECASE)
_COUNT = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\d,.])\d+(?:\.\d+)?(?![\d,])")
_WORDS = [*NUMBER_WORDS[2:], TENS_WORDS[2]]   # two to twenty: a count is its index + 2
_COUNT_WORD = re.compile(rf"\b({'|'.join(_WORDS)})\b", re.IGNORECASE)
# A Chinese count is a numeral before a measure word ("四名成员", "三次"); "一" alone is mostly "a".
_ZH_COUNT = re.compile(r"([零〇一二两三四五六七八九十百千万]+)(?=[名个位次张部本座种家项届首条人岁只支件场])")
_ZH_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def compared(question: str, context: str) -> tuple[int, str] | None:
    """Which option of the question (`options`: 0 or 1) the context's numbers pick, with the sentence that
    gives its number; None when the question compares nothing, or the context does not give each option
    one number of the kind compared (a year for earlier/later, a count for more/fewer), or the numbers are
    equal.

    An option's numbers are those of the sentences that name it (at least half its words) and not the
    other option, less the numbers the question and its options write ("the 17th Street Canal"). The
    question asks for the option with the smaller year ("Which came first", "谁先出生"), the larger one
    ("younger", "更晚"), the larger count ("more members", "人口更多") or the smaller."""
    offered = options(question)
    earlier, later = bool(_EARLIER.search(question)), bool(_LATER.search(question))
    more, fewer = bool(_MORE.search(question)), bool(_FEWER.search(question))
    if len(offered) != 2 or (earlier and later) or (not (earlier or later) and more == fewer):
        return None
    kind, smaller = (_years, earlier) if earlier or later else (_counts, fewer)
    # A number the question or an option writes is part of a name or of what is asked ("the 17th Street
    # Canal", "in 2010"), not a value to compare.
    written = kind(" ".join([question, *option_texts(question)]))
    each = list(zip(*sentence_terms(context)))
    found = []
    for k, option in enumerate(offered):
        other = offered[1 - k] - option
        given = {}
        for text, held in each:
            if len(option & held) * 2 >= len(option) and not other & held:
                for value in kind(text) - written:
                    given.setdefault(value, text)
        if len(given) != 1:
            return None
        found.append(next(iter(given.items())))
    if found[0][0] == found[1][0]:
        return None
    k = min((0, 1), key=lambda i: found[i][0] if smaller else -found[i][0])
    return k, found[k][1]


def _years(sentence: str) -> set[float]:
    return {float(y) for y in _YEAR.findall(sentence)}


def _counts(sentence: str) -> set[float]:
    """The counts a sentence gives: numbers that are not years or days of a date, English number words
    from two to twenty, Chinese numerals before a measure word."""
    plain = _YEAR.sub(" ", _DAY.sub(" ", sentence))
    found = {float(n.replace(",", "")) for n in _COUNT.findall(plain)}
    found |= {float(_WORDS.index(w.lower()) + 2) for w in _COUNT_WORD.findall(plain)}
    found |= {v for n in _ZH_COUNT.findall(plain) if (v := _zh_number(n)) is not None}
    return found


def _zh_number(numeral: str) -> float | None:
    """A Chinese numeral's value ("五" 5, "十二" 12, "两千" 2000), or None for what is not one number."""
    total, digit = 0, None
    for c in numeral:
        if c in _ZH_DIGIT:
            if digit is not None:
                return None   # "三四" is "three or four"
            digit = _ZH_DIGIT[c]
        else:
            total += (1 if digit is None else digit) * _ZH_UNIT[c]
            digit = None
    return float(total + (digit or 0))


# A question that asks what two named things share ("...have which occupation in common?", "...都是什
# 么？", "这两个乐队演奏什么类型的音乐？"), not whether they share it ("Are both...?", "...吗？": `asks_whether`).
_SHARED = re.compile(r"\b(?:both|in common|share|shared|mutual)\b|都|共同|共有|这两|两者|二者", re.IGNORECASE)
# "一位", "一名" ("a", with a measure word) are shared by most Chinese sentences that say what someone is.
_COUNTED = re.compile(r"[一二两三四五六七八九十几]")
_UNIT = re.compile(r"[A-Za-zÀ-ɏ0-9][A-Za-zÀ-ɏ0-9'’-]*|" + CJK_RUN.pattern)


def in_common(question: str, context: str) -> tuple[str, list[str]] | None:
    """What the two things a question names have in common, by the context, with the two sentences that
    say it: ("tennis player", ["Thomaz Koch is a tennis player", "Sébastien Lareau is a tennis player"])
    for "Thomaz Koch and Sébastien Lareau, have which occupation in common?". None when the question does
    not ask what two names share, or no sentence naming one (and not the other) shares a word with one
    naming the other beyond the question's words. The answer is the stretch of the first sentence from the
    first to the last of the words both share: a 0.5B model asked this echoes the question."""
    if not _SHARED.search(question) or asks_whether(question):
        return None
    about = _about(question, context)
    if about is None:
        return None
    first, second, shared = _best_pair(question, about)
    if not shared:
        return None
    spans = [span for unit in _UNIT.finditer(first) for span in _held_spans(unit, shared)]
    if not spans:   # shared words in a script the units do not cover (Cyrillic, Greek)
        return None
    return first[min(a for a, _ in spans):max(b for _, b in spans)], [first, second]


def one_sided(reply: str, question: str, context: str) -> bool:
    """Whether `reply`, to a question that asks what two named things have in common, names only what the
    context says of one of them: its own words (beyond the question's) are in the sentences about one
    thing and not the other, and none is in both. "音乐家" for "卢卡·普罗丹和格伦·格雷戈里共有的职业是什么？" from
    "卢卡·普罗丹是一位意大利-苏格兰的音乐家和歌手" and "格伦·格雷戈里是一位英格兰的歌手" is the first one's alone."""
    if not _SHARED.search(question) or asks_whether(question):
        return False
    about = _about(question, context)
    own = set(analyze(reply)) - set(analyze(question))
    if about is None or not own:
        return False
    held = [set().union(*(words for _, words in one)) for one in about]
    return bool(own & (held[0] ^ held[1])) and not own & held[0] & held[1]


# A question that asks whether two things are the same in some respect ("Do A and B play in the same
# band?", "A和B是否位于同一个州？"), in a year or a decade; or whether both are something.
_SAME = re.compile(r"\bsame\b|相同|同一|同国", re.IGNORECASE)
_SAME_YEAR = re.compile(r"\bsame year\b|同一年|同年", re.IGNORECASE)
_SAME_DECADE = re.compile(r"\bsame decade\b|同一个?十年|同一年代", re.IGNORECASE)
_BOTH = re.compile(r"\bboth\b|都", re.IGNORECASE)


def alike(question: str, context: str) -> tuple[bool, list[str]] | None:
    """Whether the two things a question names are alike in what it asks, by the context, with a sentence
    about each; None when the question does not ask so of two names, the context has no sentence about one
    of them, or the sentences do not tell. A 0.5B model answers yes to nearly every such question.

    - "Are Clarence Brown and Peter Glenville of the same nationality?": they are when a sentence about one
      shares a word beyond the question's with a sentence about the other ("San Diego International Airport
      is in California", "McCarran International Airport is in Nevada": not). Asked for the same year or
      decade, their years decide ("a 2012 documentary film", "a 2007 documentary film": not, though "film"
      is shared).
    - "Are Jennifer Lynch and Martin Scorsese both directors?": yes when the sentences about both hold a
      word the question says of them ("director") and none holds one the other lacks; no when one holds
      such a word and the other none ("Mishima is Japanese", "Bolaño is Chilean" for "...是智利人吗?")."""
    same = _SAME.search(question)
    if not asks_whether(question) or not (same or _BOTH.search(question)):
        return None
    about = _about(question, context)
    if about is None:
        return None
    if not same:
        return _both(question, about)
    span = 10 if _SAME_DECADE.search(question) else 1 if _SAME_YEAR.search(question) else 0
    if span:
        dated = [[(s, {y // span for y in _years(s)}) for s, _ in one if _years(s)] for one in about]
        if not all(dated):
            return None
        when = [set().union(*(years for _, years in one)) for one in dated]
        return bool(when[0] & when[1]), [dated[0][0][0], dated[1][0][0]]
    # A word of one name in the sentence about the other says where both are ("Istanbul Technical University
    # is located in Istanbul"); a word in Latin letters is shared alike only as a name: "film" of "an
    # American film director" and "an English film actor" is no nationality, nor "lead" of "...乐队的 lead
    # singer" and "...乐队的 lead guitarist" a band.
    one, other = (set(analyze(name)) for name in two_names(question))
    first, second, shared = _best_pair(question, about, keep=one ^ other, named=True)
    return bool(shared), [first, second]


def _both(question: str, about: list[list[tuple[str, set[str]]]]) -> tuple[bool, list[str]] | None:
    """Whether what a question says of two things holds of both, by the question's own words the sentences
    about each hold; None when neither holds any, or each holds one the other lacks."""
    said = set(analyze(question)) - set().union(*(terms(name) for name in two_names(question)))
    # A Chinese word is counted once, in its parts: "动画电影" is held where "动画" and "电影" are ("成人动画悬疑
    # 惊悚剧情科幻电影"), and a sentence holding the whole would otherwise hold a word the other lacks. One
    # character is a unit or a fragment ("年" of "2001年"), not something said of the two.
    parts = {w for w in said if CJK_CHAR.match(w) and len(w) > 1}
    smallest = {w for w in parts if not any(o != w and o in w for o in parts)}
    said = {w for w in said if not CJK_CHAR.match(w)} | smallest
    best = [max(one, key=lambda sentence: len(sentence[1] & said)) for one in about]
    held = [set().union(*(words for _, words in one)) & said for one in about]
    both, either = held[0] & held[1], held[0] ^ held[1]
    if bool(both) == bool(either):
        return None
    return bool(both), [best[0][0], best[1][0]]


def _about(question: str, context: str) -> list[list[tuple[str, set[str]]]] | None:
    """For a question naming two things: the context's sentences naming each (and not the other), with
    their words; None when the question does not name two things or the context has no sentence about
    one of them."""
    names = two_names(question)
    if len(names) != 2:
        return None
    # each name's terms, and a Chinese name without its marks, once: every sentence is tested for both
    written = [(terms(name), _squashed(name) if CJK_CHAR.search(name) else "") for name in names]
    each = [(s, held, set(analyze(s))) for s, held in zip(*sentence_terms(context))]
    about = [[(s, words) for s, held, words in each if _writes(s, held, *mine) and not _writes(s, held, *theirs)]
             for mine, theirs in (written, written[::-1])]
    return about if all(about) else None


def _writes(sentence: str, held: set[str], name: set[str], squashed: str) -> bool:
    """Whether a sentence (its terms `held`) names a name (its terms `name`): holds all its terms, or, for a
    Chinese name (`squashed`: without marks and spaces), writes it but for marks and spaces ("卡斯（乐队）"
    for "卡斯乐队", whose pair "斯乐" it lacks)."""
    return name <= held or bool(squashed) and squashed in _squashed(sentence)


def _squashed(text: str) -> str:
    return _MARKS.sub("", text)


_MARKS = re.compile(r"[\W_]+")


def two_names(question: str) -> list[str]:
    """The two things a question asks of, as written. In English, the two names joined by "and" after the
    verb that opens it ("Are A Kid in King Arthur's Court and Racing Extinction both...?": lower-case words
    inside a name kept), or that open it ("Green on Red and Hollywood Undead are both what?"), else the names
    it marks (`written_name_texts`); in Chinese, the names it marks, or
    when it marks fewer or more than two, the two things it opens with, joined by "和" or "与" ("圣地亚哥国际机场
    和麦卡伦国际机场是否位于同一个州？"): Chinese names of places, firms and drinks carry no mark."""
    if language_of(question) == "en":
        pair = _EN_PAIR.match(question.strip()) or _EN_OPENING_PAIR.match(question.strip())
        return list(pair.groups()) if pair else [n for n in written_name_texts(question) if terms(n)]
    names = [n for n in written_name_texts(question) if terms(n)]
    if len(names) == 2:
        return names
    pair = _ZH_PAIR.match(question.strip())
    return list(pair.groups()) if pair else names


# An English name: capitalised words, with the small words a name holds between them ("Encounters at the End
# of the World", "Theo van Gogh") or a comma ("Qidong, Jiangsu"); not "and", which joins the two.
_EN_NAME = (r"[A-ZÀ-Þ0-9][\w'’.&/-]*(?:(?:\s+|,\s*)(?:(?:of|the|a|an|in|on|at|for|to|de|des|du|la|le|von|van|"
            r"der|del|da|di|y)\s+)*[A-ZÀ-Þ0-9][\w'’.&/-]*)*")
_EN_TWO = rf"({_EN_NAME})\s+and\s+(?:(?i:the|a|an)\s+)?({_EN_NAME})"   # "A and B", "A and the B"
# "Are A and B both...?", "Do filmmakers A and B share...?", "Is it true that both A and B...?"
_EN_PAIR = re.compile(rf"^\W*(?i:is\s+it\s+true\s+that|are|were|is|was|do|does|did|have|has|had|can|could)\s+"
                      rf"(?:(?i:both|the|a|an)\s+|[a-z]+\s+){{0,3}}?{_EN_TWO}")
# "A and B, have which mutual occupation?", "A and B are both what?": the two things the question opens with.
_EN_OPENING_PAIR = re.compile(rf"^\W*{_EN_TWO}\s*(?:,|(?i:are|were|both)\b)")
# "A和B都...", "A与B是否...", "A和B，是...吗": the two things, up to where what is asked of them starts.
_ZH_PAIR = re.compile(r"([^和与，,？?]+?)\s*[和与]\s*([^和与，,？?]+?)\s*(?:这两|两者|二者|共有|共同|都|均|是否|是|曾|来自|"
                      r"位于|属于|有|在|，|,)")


def _best_pair(question: str, about: list[list[tuple[str, set[str]]]], keep: set[str] = frozenset(),
               named: bool = False) -> tuple[str, str, set[str]]:
    """The sentence about the first thing and the one about the second that share the most words beyond
    the question's (but those of `keep`), and those words; with `named`, words in Latin letters only when
    both write them in names (`names`: capitalised). Words, not the Chinese character pairs `terms` adds:
    "是一" and "一位" are shared by half the sentences of a Chinese text."""
    asked = set(analyze(question)) - keep
    # each sentence's capitalised words once, not once for every sentence it is paired with
    capitals = {s: set().union(*names(s)) for one in about for s, _ in one} if named else {}

    def shared(a: str, one: set[str], b: str, other: set[str]) -> set[str]:
        words = {w for w in (one & other) - asked if not _COUNTED.match(w)}
        if not named:
            return words
        return {w for w in words if (_zh_name(w, a) and _zh_name(w, b) if CJK_CHAR.match(w)
                                      else w in capitals[a] & capitals[b])}
    pairs = [(a, b, shared(a, one, b, other)) for a, one in about[0] for b, other in about[1]]
    return max(pairs, key=lambda pair: len(pair[2]))


def _zh_name(word: str, sentence: str) -> bool:
    """Whether a Chinese word of `sentence` is (part of) a name there: jieba tags it as one ("美国",
    "加利福尼亚州"; two characters, not "恩", one of a transliteration), or it is three characters or more, which
    a common word seldom is ("鸢尾科"). "电影" of "一位美国电影导演" and "一位英国电影和舞台演员" is no nationality,
    nor "属于" a family."""
    return len(word) >= 3 or len(word) == 2 and any(word in name for name in tagged_names(sentence))


def _held_spans(unit: re.Match, shared: set[str]) -> list[tuple[int, int]]:
    """Where in a sentence a word (or a run of Chinese characters) holds the shared terms."""
    text, start = unit.group(), unit.start()
    if not CJK_CHAR.match(text):
        return [(start, unit.end())] if set(analyze(text)) & shared else []
    return [(start + i, start + i + len(t)) for t in shared if CJK_CHAR.match(t)
            for i in _positions(text, t)]


def _positions(text: str, part: str) -> list[int]:
    return [i for i in range(len(text) - len(part) + 1) if text.startswith(part, i)]
