"""An answer as the context writes it: a 0.5B model shortens what it copies. Asked "哪位英国画家兼音乐
家在《精选集1》中被列为贝斯手？" it answers "斯图尔特" from "斯图尔特·斯图克雷是一位英国画家兼音乐家", and asked
"哪一年...对公众开放了参观？" it answers "1981" from "自1981年起对公众开放参观". The name in full, the number
with the unit the context gives it (in the context's numerals: "五天", not "5天"), and a title in the 《》 the
context writes it in, are the answer the document holds; so are "Thomas Loren Friedman" for "Thomas Friedman",
"eight" for "8" where the context writes the word, and "December 9, 1985" for "1985" asked when."""
from __future__ import annotations

import re

from .grounding import (NAME_JOIN, NOT_IN_NAMES, ordinary_terms, sentence_terms, sentences, terms,
                        zh_numerals)
from .lang import CJK_RANGES, MONTH, NUMBER_WORDS, TENS_WORDS

# A part of one: up to six characters, none of those that join or follow names ("是", "的"...).
_PART = rf"(?:(?!{NOT_IN_NAMES.pattern})[{CJK_RANGES}]){{1,6}}?"
# A reply that is a number alone: digits, with thousands' commas or a decimal point.
_BARE_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+$|^\d+(?:\.\d+)?$")
# What Chinese writes right after a number to say what it counts: the year and the date first, then
# lengths, times, money and measure words, the longest form first ("平方英里" before "英里").
_UNITS = sorted("""年 月 日 天 周 小时 分钟 秒 岁 英里 公里 千米 米 英尺 英寸 平方英里 平方公里 平方英尺 平方米 英亩 公顷
吨 磅 公斤 千克 美元 英镑 欧元 元 人 名 位 个 次 部 张 首 座 家 条 集 季 幕 层 届 场 所 间 种 本 册 卷 章 艘 架 辆 门
倍 分 球 票 轮 局 年代 世纪""".split(), key=len, reverse=True)
_UNIT_AFTER = re.compile("|".join(_UNITS))


def as_written(reply: str, context: str, question: str = "") -> str:
    """`reply` as the context writes it, or `reply` itself: a name that is part of exactly one longer name
    of the context, with the same first part and (when it has two or more) the same last part
    ("布拉德利·库珀" of "布拉德利·查尔斯·库珀"); a number alone that the context writes with exactly one unit
    ("1400" of "全程为1400英里"); a number in digits that the context writes only in Chinese numerals ("5天"
    of "战斗持续了五天") or only in English words ("8" of "killed eight people"); a title the context writes
    in 《》, without them or in other quotes ("Loud" of "《Loud》中的歌曲"); a name in Latin letters that is
    part of exactly one longer one, as for a Chinese name ("Thomas Friedman" of "Thomas Loren Friedman",
    "Rangers" of "Rangers Football Club"), written in a sentence that shares a word with the `question`,
    when one is given: "London" is not "London Bridge" of a line of the book about something else; a year
    alone, for a question that asks when (not which year), as the one date of that year the context writes
    in a sentence tied to the question (`_date`)."""
    answer = reply.strip().rstrip("。.")
    if _BARE_NUMBER.match(answer) or _DIGITS_AND_UNIT.match(answer):
        return _date(answer, context, question) or _numerals(answer, context) or _in_words(answer, context) \
            or _with_unit(answer, context) or reply
    title = f"《{_QUOTES.sub('', answer)}》"
    if len(title) > 2 and title in context and title != answer:
        return title
    if _LATIN_NAME.fullmatch(answer):
        words = answer.split()
        longer = {name for name in _latin_names(context, question) if _extends(words, name.split())}
        return longer.pop() if len(longer) == 1 else reply
    parts = NAME_JOIN.split(answer)
    if not re.fullmatch(rf"[{CJK_RANGES}·•]+", answer) or any(len(p) < 2 for p in parts):
        return reply
    longer = {name for name in re.findall(_longer_name(parts), context)
              if _extends(parts, NAME_JOIN.split(name))}
    # Chinese runs a name on into the text: "达林·汉森出生于..." gives "达林·汉森出生" beside the "达林·汉森" a
    # line ends with, and the one that goes on from another is that name and the words after it.
    longer = {name for name in longer if not any(name != other and name.startswith(other) for other in longer)}
    return longer.pop() if len(longer) == 1 else reply


# A name in Latin letters: capitalised words on one line, with the small words names hold ("Bank of England").
_LATIN_NAME = re.compile(r"[A-ZÀ-Þ][A-Za-z0-9À-ɏ'’.&-]*(?:[ ]+(?:(?:of|the|de|la|le|du|von|van|der|da|di)[ ]+)*"
                         r"[A-ZÀ-Þ][A-Za-z0-9À-ɏ'’.&-]*)*")
# A number in digits with what it counts: "5天", "10周".
_DIGITS_AND_UNIT = re.compile(rf"^\d+(?:{_UNIT_AFTER.pattern})$")
_QUOTES = re.compile(r"^[\"'“‘「『]+|[\"'”’」』]+$")


def _latin_names(context: str, question: str) -> set[str]:
    """The names in Latin letters each sentence of the context writes (each that shares a word with the
    question, when one is given), without the full stop that ends the sentence ("Thomas Loren Friedman" of
    "...by Thomas Loren Friedman."; "Jr." keeps its own)."""
    found, asked = set(), terms(question)
    for sentence in sentences(context):
        if question and not terms(sentence) & asked:
            continue
        for name in _LATIN_NAME.finditer(sentence):
            text = name.group()
            ends = name.end() == len(sentence.rstrip()) and text.endswith(".") and len(text.split()[-1]) > 3
            found.add(text[:-1] if ends else text)
    return found


# A question that asks when, or on what date or day, and not for a year, a decade or a century.
_ASKS_WHEN = re.compile(r"^\W*when\b|\b(?:what|which)\s+(?:date|day)\b|什么时候|何时|哪一?天|什么时间|几月几[日号]",
                        re.IGNORECASE)


def _date(answer: str, context: str, question: str) -> str | None:
    """A year alone ("1985", "1985年"), asked when, as the one date of that year the context writes
    ("December 9, 1985", "9 December 1985", "1985年12月9日") in a sentence tied to the question: one that
    shares a word with it, or a name with a sentence that does and writes the year. "Alice in Wonderland
    was first telecast on December 9, 1985" is tied to "When was the movie ... adapted from a Lewis Carroll
    book ...?" through "Alice in Wonderland (1985 film) is a 1985 two-part ... adaptation of Lewis
    Carroll's books", from which a 0.5B model takes the year."""
    year = answer.removesuffix("年")
    if not (question and re.fullmatch(r"1\d{3}|20\d{2}", year) and _ASKS_WHEN.search(question)):
        return None
    dated = re.compile(rf"(?:\b\d{{1,2}}\s+)?\b{MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?{year}\b"
                       rf"|(?<!\d){year}年\d{{1,2}}月(?:\d{{1,2}}[日号])?", re.IGNORECASE)
    asked, (said, each) = terms(question), sentence_terms(context)
    # The names of the sentences that write the year and speak of what the question asks about.
    named = set().union(*(got - ordinary_terms(s) - {year} for s, got in zip(said, each)
                          if year in got and (got - {year}) & asked))
    dates = {date.group() for s, got in zip(said, each) for date in dated.finditer(s)
             if (got - terms(date.group())) & (asked | named)}
    return dates.pop() if len(dates) == 1 else None


def _with_unit(number: str, context: str) -> str | None:
    """A number alone with the one unit the context writes right after it, if it writes exactly one."""
    if not _BARE_NUMBER.match(number):
        return None
    units = {match.group() for match in (_UNIT_AFTER.match(context, end) for end in _ends(number, context))
             if match}
    return number + units.pop() if len(units) == 1 else None


def _numerals(answer: str, context: str) -> str | None:
    """A number from 1 to 99 in digits (with its unit, or alone) as the context writes it in Chinese
    numerals, when it writes it so in exactly one way and never in digits: "5天" of "五天", "3" of "三门"."""
    digits = re.match(r"\d+", answer).group()
    unit = answer[len(digits):]
    if not 0 < int(digits) < 100 or _ends(digits, context):
        return None
    spelled = "|".join(zh_numerals(int(digits)))
    counted = re.escape(unit) if unit else _UNIT_AFTER.pattern
    # not inside a longer numeral: "五" of "二十五"
    found = re.finditer(rf"(?<![零一二三四五六七八九十两百千万])(?:{spelled})(?:{counted})", context)
    written = {m.group() for m in found}
    return written.pop() if len(written) == 1 else None


def _in_words(answer: str, context: str) -> str | None:
    """A number from 1 to 99 in digits as the context writes it in English words, when it writes it so in
    exactly one way and never in digits: "8" of "Anders Behring Breivik killed eight people"."""
    if not answer.isdigit() or not 0 < int(answer) < 100 or _ends(answer, context):
        return None
    tens, ones = divmod(int(answer), 10)
    spelled = [NUMBER_WORDS[int(answer)]] if tens < 2 else [TENS_WORDS[tens]] if not ones else \
        [f"{TENS_WORDS[tens]}-{NUMBER_WORDS[ones]}", f"{TENS_WORDS[tens]} {NUMBER_WORDS[ones]}"]
    # not the start of a longer number: "twenty" of "twenty-one"
    digit = "|".join(NUMBER_WORDS[1:10])
    found = re.finditer(rf"\b(?:{'|'.join(spelled)})\b(?![- ](?:{digit})\b)", context, re.IGNORECASE)
    written = {m.group().lower() for m in found}
    return written.pop() if len(written) == 1 else None


def _longer_name(parts: list[str]) -> str:
    """A pattern for a name with more parts than `parts`, its first part the same, and its last part the same
    for a name of two parts or more; the last part of a longer one ends where a character that follows names
    (`NOT_IN_NAMES`: "是", "的"...) or anything but Chinese does: Chinese runs names into the text, and a
    name that runs on into other characters is not known."""
    first, joined = re.escape(parts[0]), NAME_JOIN.pattern
    if len(parts) > 1:
        return rf"{first}(?:{joined}{_PART})+?{joined}{re.escape(parts[-1])}"
    return rf"{first}(?:{joined}{_PART})+?(?={NOT_IN_NAMES.pattern}|[^{CJK_RANGES}·•]|$)"


def _ends(number: str, context: str) -> list[int]:
    """Where each writing of `number` in the context ends, a writing that is not part of a longer number."""
    return [m.end() for m in re.finditer(rf"(?<![\d,.]){re.escape(number)}(?![\d]|[,.]\d)", context)]


def _extends(short: list[str], full: list[str]) -> bool:
    """Whether a name's parts `full` are more than `short`'s, its first part the same and, for a short name of
    two parts or more, its last part too, the others kept in order."""
    if len(full) <= len(short) or full[0] != short[0] or (len(short) > 1 and full[-1] != short[-1]):
        return False
    rest = iter(full[1:-1] if len(short) > 1 else full[1:])
    return all(part in rest for part in short[1:-1] if len(short) > 1)
