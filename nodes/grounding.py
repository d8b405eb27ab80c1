"""Whether a small model's words come from a given text: the test behind every "decide in code" check
of the node library (a reader's answer against its chunk, a split question against the question).

Terms are BM25's (stemmed English words without stop words, jieba's Chinese words) plus Chinese character
pairs, which match however either side was segmented.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from .bm25_text import WORD, analyze, lone_content_characters, segment
from .lang import (ASKING_ZH, CJK_CHAR, CJK_RANGES, CJK_RUN, EN_QUESTION_WORD, NATIONALITY_EN, STOP_EN,
                   STOP_ZH, ZH_QUESTION_WORD)
from .tokens import language_of

# A sentence ends after 。！？； at once, and after .!?; (and a closing quote or bracket) where a blank
# follows, but not after an initial ("Lyndon B. Johnson", "E.M. Forster") or a short title that goes with
# a name ("The Valley Jr. Warriors play at...", "Dr. Ada Brook", "Rihanna's No. 1 single"), inside a number
# (3.5), nor after a title that ends in an ellipsis ('"告诉我..." 是...的专辑'); nor, but for ";", where a
# lower-case word follows, which no English sentence starts with: the mark ends a name ('"Nativity!" is
# directed by...', "the E! reality series").
_SENTENCE_END = re.compile(r"(?<=[。！？；])\s*|(?<=[.!?;][\u201d\u2019\"')\]])(?<!\.\.[\u201d\u2019\"')\]])(?<!;.)\s+(?![\sa-z])"
                           r"|(?<=;[\u201d\u2019\"')\]])\s+|(?<=;)\s+"
                           r"|(?<!\b[A-Z]\.)(?<!\b(?:Jr|Sr|Dr|Mr|Ms|St|Mt|Ft|Lt|vs|No)\.)(?<!\b(?:Mrs|Rev|Gen|Col|Sgt)\.)"
                           r"(?<!\b(?:Prof|Capt)\.)(?<=[.!?])\s+(?![\sa-z])|\n+")
ECHO = "repeats the question"
NOT_IN_CONTEXT = "is not in the context"
NOT_ASKED = "comes from a part of the context about something else"
LOOK_ALIKE = "comes from a sentence built like the one about what was asked"
WEAKER_CHOICE = "picks the option the context says less of what was asked about"
WRONG_KIND = "gives no time, number or nationality, which the question asks for"
STEP = "names a step on the way to what was asked, not the answer"
INVENTED = "names something the context never writes"
BESIDE_THE_POINT = "says something else of what was asked about than what the question asks"
# A yes/no reply adds no word of its own, and is an answer all the same; so is a pick between the
# alternatives a question offers.
_YES_WORDS = frozenset({"yes", "是的", "是", "对"})
_NO_WORDS = frozenset({"no", "不是", "不", "否", "不对", "没有"})
_YES_OR_NO = "|".join(sorted(_YES_WORDS | _NO_WORDS, key=lambda word: (-len(word), word)))   # longest first
_YES_NO = re.compile(rf"^\W*({_YES_OR_NO})(\W|$)", re.IGNORECASE)
# ...but only to a question that can be answered so: one that starts with its verb ("Was...?"), or asks
# "吗", "是否"; or that holds no question word. "Yes, Hawaii v. Office of Hawaiian Affairs was a case..." does
# not answer "..., in an opinion by which Associate Justice...?": its other words are judged.
_ASKS_YES_NO = re.compile(r"^\W*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|"
                          r"may|might|must)\b|吗\W*$|是否|是不是|有没有|能否|可否", re.IGNORECASE)
_QUESTION_WORD = re.compile(rf"{EN_QUESTION_WORD.pattern}|什么|哪|谁|何|多少", re.IGNORECASE)
# The words that offer two options ("A or B", "A还是B"), in both patterns below.
_OR = r"\bor\b|还是|或者|或是"
_CHOICE = re.compile(rf"{_OR}|\bwhether\b|哪一个", re.IGNORECASE)
# The two options a question offers at its end: "Which genus has four species, Duboisia or Ctenanthe?",
# "Which dog has more traits, the Norwegian Buhund, or the English Foxhound?", "...first - Oklahoma or
# Kansas?", "以下哪位获得了1908年的诺贝尔文学奖：霍华德·法斯特还是鲁道夫·欧肯？"
_OPTIONS = re.compile(rf"(?:^|[,，:：;；]|\s[-–—]\s|\bwhich\b|哪)\s*(?:是\s*)?([^,，:：;；?？]{{1,60}}?)\s*,?\s*(?:{_OR})\s*"
                      r"([^,，:：;；?？]{1,60}?)\s*[?？]?\s*$", re.IGNORECASE)
# ...or between commas after the question word and what it asks for: "Which documentary, Crumb or Cancer,
# was produced first?", "哪个法庭案件，Gonzales v. Carhart还是Lawrence v. Texas，废除了鸡奸法？"
_OPTIONS_WITHIN = re.compile(rf"(?:\bwhich\b|哪)[^,，:：;；?？]{{0,30}}[,，]\s*([^,，:：;；?？]{{1,60}}?)\s*"
                             rf"(?:{_OR})\s*([^,，:：;；?？]{{1,60}}?)\s*[,，]", re.IGNORECASE)
# ...or, in Chinese, joined by 和 before the question word: "韩国战争和棉兰老岛战役哪个持续的时间更长？",
# "《Call Me Lucky》和《Eclipse of Reason》中，哪部是...？"
# Only a comparison ("更", "先", "最") or a pick "among" them ("中") is a choice: "孝感和明光位于哪个国家？" asks
# about both.
_OPTIONS_AND = re.compile(r"(?:^|[,，:：;；])\s*([^,，:：;；?？和]{1,30}?)\s*和\s*([^,，:：;；?？和的]{1,30}?)\s*"
                          r"(?:中\s*[,，]?\s*(?:哪|谁)|(?:哪(?!些)|谁)[^,，:：;；?？]*[更先最较])")
# ...or the two a question sets a choice between: "In between Splash and Son of Flubber, which one...?",
# "Of the film directors A and B, which one...?", "在《Splash》和《Son of Flubber》之间，哪一部...？"
_OPTIONS_BETWEEN = re.compile(r"\bbetween\s+([^,，:：;；?？]{1,60}?)\s+and\s+([^,，:：;；?？]{1,60}?)\s*,?\s*(?:which|who)\b"
                              r"|^\W*of\s+(?:the\s+)?(?:[a-z]+\s+){0,3}?((?-i:[A-Z])[^,，:：;；?？]{0,59}?)\s+and\s+"
                              r"([^,，:：;；?？]{1,60}?)\s*,\s*(?:which|who)\b"
                              r"|在\s*([^,，:：;；?？和]{1,30}?)\s*和\s*([^,，:：;；?？和]{1,30}?)\s*之间\s*[,，]?\s*(?:哪|谁)",
                              re.IGNORECASE)
# ...or, in English, two names joined by "or" right after the verb that opens the question, or after
# "Which" and its noun: "Was Nam Woo-hyun or Eddie Vedder born first?", "Did the composer Charles Gounod or
# Mikhail Glinka live past the year 1875?", "Which magazine YM or Midwest Living was founded first?". A name
# is capitalised words, with "the", "of" and the like between them ("Winnie the Pooh"); a name that holds
# "or" ("Live Free or Die Hard") or gives another ("Ovida, Obida or Odiva, was...") is not opened so.
_CAPITALISED = r"[A-Z0-9][\w'’.-]*"
_NAMED = (rf"{_CAPITALISED}(?:\s+(?:(?:of|the|and|a|an|in|on|for|to|de|la|le|du|von|van|der)\s+)*"
          rf"{_CAPITALISED})*")
_OPTIONS_NAMED = re.compile(rf"^\W*(?i:(?:was|were|is|are|did|does|do|has|have|had)(?:\s+the\s+[a-z]+)?|which\s+[a-z]+)"
                            rf"\s+({_NAMED})\s*,?\s+or\s+({_NAMED})\s+[a-z]")
# ...or, in Chinese, the two things a question opens with, joined by 还是, up to what is asked of them:
# "《YM》杂志还是《Midwest Living》杂志先创立？", "怀化还是七台河位于湖南省？".
_OPTIONS_OPENING = re.compile(r"^\s*(?:是\s*)?([^,，:：;；?？]{2,30}?)\s*(?:还是|或者|或是)\s*([^,，:：;；?？]{2,30}?)\s*"
                              r"(?:先|更|最|较|是|位于|离|来自|在|成立|出生|属于|有)")
# An option's length: a Chinese character, or a word of another script, is one.
_UNIT = re.compile(rf"{CJK_CHAR.pattern}|[^\s{CJK_RANGES}]+")
# Questions that ask for a time, or for a number, and what gives one: generous on purpose (`gives_kind`).
_ASKS_TIME = re.compile(r"^\W*when\b|\b(?:what|which)\s+(?:year|date|month|day|century|decade)\b"
                        r"|\bhow\s+long\s+ago\b|什么时候|何时|何年|哪一?年|哪一?天|哪个?月|几月|什么时间|什么年代|哪个世纪",
                        re.IGNORECASE)
# A nationality, asked in English (`NATIONALITY_EN` says what gives one). Not in Chinese: a Chinese
# country's name has no form of its own ("丹麦", "新加坡"), and a question there says "国籍" before or
# after its question word, which `asked_for` reads as what is asked.
_ASKS_NATIONALITY = re.compile(r"\bnationality\b|\b(?:what|which)\s+(?:country|nation)\b"
                               r"(?!\s+(?:music|singers?|songs?|club|house|star|artists?))", re.IGNORECASE)
_ASKS_NUMBER = re.compile(r"\bhow\s+(?:many|much|old|far|tall|high)\b|多少", re.IGNORECASE)
# "几个" asks how many only in a question with no other question word: else it is "a few" ("出现在几个节目中").
_ASKS_HOW_MANY_ZH = re.compile(r"几[个岁次位名座人种家部本条层]")
_NUMBER = (r"\d|[〇零一二三四五六七八九十百千万亿两半]|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
           r"eleven|twelve|\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
           r"million|billion|dozen|several|none|no|half|once|twice|thrice|first|second|third|"
           r"(?:four|fif|six|seven|eigh|nin|ten|eleven|twelf|\w+teen|\w+tie|hundred|thousand|million)th)\b")
_GIVES_NUMBER = re.compile(_NUMBER, re.IGNORECASE)
# (A Roman numeral is capitals: the "i" of "is" that `_beyond` leaves of "...is named after..." is no time.)
_GIVES_TIME = re.compile(_NUMBER + r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
                         r"|\b(?:century|decade|years?|spring|summer|autumn|fall|winter|before|after|during|"
                         r"since|until|ago|today|yesterday|morning|evening|night|\w+day|(?-i:[IVX]+))\b"
                         r"|[年月日时春夏秋冬朝代前后期]", re.IGNORECASE)
# A name in a question: capitalised Latin words in a row ("the Fifth Symphony", "Dance Gavin Dance").
_NAME = re.compile(r"[A-ZÀ-Þ][A-Za-z0-9À-ɏ'’.-]*(?:\s+[A-ZÀ-Þ][A-Za-z0-9À-ɏ'’.-]*)*")
_SENTENCE_START = re.compile(r"(^|[.!?。！？]\s*)$")
# A Chinese word that counts something ("一位", "第四") names nothing (`_in_its_place`).
_ZH_NUMERAL = re.compile(r"[〇零一二三四五六七八九十百千万亿两几]")
# ...and how Chinese writes the digits of a count (`_spelled`).
_ZH_DIGITS = "零一二三四五六七八九"
# What Lv3 adds to a question it asks again (`with_known`): facts found so far, not words of the question.
_KNOWN = re.compile(r"\s*(?:\(Known: (.*)\)|（已知：(.*)）)\s*$", re.DOTALL)
# ...and a small model copies them into its reply ("Not Giving Up (Known: The Saturdays) is a song by a girl
# group formed through..."): they are the question's words, not the reply's.
_KNOWN_COPIED = re.compile(r"\(Known:[^)]*\)|（已知：[^）]*）")


def plain(question: str | None) -> str:
    """The question's words alone, lowercased: how two askings of one question are compared."""
    return re.sub(r"[\W_]+", " ", str(question or "")).strip().lower()


def with_known(question: str, facts: list[str], lang: str) -> str:
    """The question asked again with the facts found so far: "... (Known: A; B)"; a question that was
    asked with some already gets the others after them, in one bracket."""
    question, before = without_known(question)
    known = "; ".join(([before] if before else []) + list(facts))
    return f"{question} (Known: {known})" if lang == "en" else f"{question}（已知：{known}）"


def without_known(question: str) -> tuple[str, str]:
    """The question and the facts `with_known` added to it ('' when none were)."""
    match = _KNOWN.search(question)
    if not match:
        return question, ""
    return question[:match.start()], match.group(1) or match.group(2) or ""


def terms(text: str) -> set[str]:
    """`text`'s BM25 terms, its Chinese character pairs, and its names made of letters joined by "&" or
    dots, which the terms leave out letter by letter ("A&M", "AT&T", "R.E.M.")."""
    return set(analyze(text)) | _pairs(text) | _letters_joined(text)


def _letters_joined(text: str) -> set[str]:
    return {m.lower().replace(".", "") for m in _LETTERS_JOINED.findall(text)}


_LETTERS_JOINED = re.compile(r"(?<![A-Za-z])[A-Za-z]{1,2}(?:[&.][A-Za-z]{1,2})+(?![A-Za-z])")


def word_terms(text: str) -> set[str]:
    """`text`'s terms less its one-character Chinese words other than verbs and nouns: "上" of "历史上" and
    "曾" are in nearly every other sentence of a Chinese book, and sharing one is sharing no word; "写" of
    "谁写了..." is what "《达尔杜夫》是由莫里哀所写" shares with the question."""
    kept = lone_content_characters(text)
    return {t for t in terms(text) if not CJK_CHAR.fullmatch(t) or t in kept}


# A function word between two of the question's words ("在" of "北大西洋在缅因州") makes no word of the reply's own.
_STOP_CHARS = frozenset(w for w in STOP_ZH if len(w) == 1)


def _pairs(text: str) -> set[str]:
    """The Chinese character pairs of `text`, which match however either side was segmented."""
    return {run[i:i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)}


def held(text: str, source: str | set[str]) -> float:
    """The share of `text`'s terms that `source` holds (1.0 for a text with no terms)."""
    own = terms(text)
    if not own:
        return 1.0
    return len(own & (source if isinstance(source, set) else terms(source))) / len(own)


def closest(texts: list[str], question: str, k: int, least: int = 1,
            asked: set[str] | None = None) -> list[int]:
    """The places of the `k` texts that share most terms with the question (at least `least`; `asked`, its
    terms, when not all of `terms`), in order."""
    asked = terms(question) if asked is None else asked
    shared = [len(terms(t) & asked) for t in texts]
    return sorted(sorted((i for i, n in enumerate(shared) if n >= least), key=lambda i: -shared[i])[:max(k, 0)])


def sentences(text: str) -> list[str]:
    """`text` cut after sentence ends (English and Chinese) and at line breaks, blanks dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


@lru_cache(maxsize=8)
def sentence_terms(text: str) -> tuple[tuple[str, ...], tuple[frozenset[str], ...]]:
    """`text`'s sentences and the terms of each: computed once for the checks that judge one reply
    (`unsupported`, `a_step`, `_weaker_choice`) against one context."""
    cut = tuple(sentences(text))
    return cut, tuple(frozenset(terms(s)) for s in cut)


def unsupported(reply: str, question: str, context: str, share: float = 0.5, tie: float = 0.25,
                links: int = 3) -> str:
    """Why `reply` is not an answer taken from `context`, or '' when it is one.

    A reply's own terms are those the question does not hold (not counting the character pairs where two of
    the question's words meet in a Chinese reply: `_said`). It is an answer from the context when a sentence
    of the context (with its neighbours) holds at least `share` of them and at least `tie` of the question's
    terms (less the pairs where a Chinese word meets a function word, and its question words: `_tying`): the
    words that tie the answer to what was asked. A small model asked about something the document does not
    hold picks words from sentences about something else; a sentence that gives the answer speaks of what was
    asked. For a multi-hop question the tie may pass through up to `links` other sentences, each sharing a
    name with the one before it (a term found in no more sentences than such a chain holds: "Patient was
    released in 2017", "Patient is sung by Tilian Pearson", "Tilian Pearson sings in Dance Gavin Dance"):
    together they must hold `tie` of the question's terms, each one bringing a term of the question that those
    before it lack (`_chained`), or reach a name the question writes (`written_names`) that few sentences
    hold, linked by no word of the reply (a first hop's name would link itself). A reply with no terms of its
    own is an echo ("Bonnie and Clyde's gang" for "Buck Barrow is married to what member of Bonnie and Clyde's
    gang?"), unless it is a short name that holds a function word the question lacks, as the context writes it
    ("Us Weekly" for "...from what weekly celebrity magazine?"), or the question offers a choice and the reply
    is shorter than half of it ("Which came first, A or B?": "A"), and does not pick the option the context
    says less of what was asked about (`_weaker_choice`: WEAKER_CHOICE); a yes or no is an answer too, to a
    question that asks for one (the rest of a "Yes, ..." to any other question is judged as the reply). A
    sentence that holds no word of the question itself, or that another one outdoes (`_outdone`: built like
    it, the same words of the question and more), does not tie a reply directly: LOOK_ALIKE says so. An
    English question that names something (`names`) no sentence of the context names (a long name may be
    misspelt by a letter: `_names_it`) is not answered by it.
    Facts a question was asked again with (`with_known`) count as context, not as the question. A Chinese
    reply that holds the question's question word (什么, 哪, 谁...) is an echo, whatever else it holds.
    """
    if yes_or_no(reply, question):
        return ""
    yes_no = _YES_NO.match(reply)
    if yes_no:
        reply = reply[yes_no.end():]
    reply = _KNOWN_COPIED.sub(" ", reply)
    # The facts a question was asked again with are context to tie the reply through, not words of the
    # question: counted as asked, they would raise the tie it needs and hide the names the chain goes by.
    question, known = without_known(question)
    context = f"{context}\n{known}" if known else context
    asked, said = terms(question), _said(reply, question)
    own = said - asked
    if set(ZH_QUESTION_WORD.findall(reply)) & set(ZH_QUESTION_WORD.findall(question)):
        # A Chinese question keeps its question word in place ("刀具被称为什么术语？"), and so does a reply
        # that only restates it with words from the context around ("刀具被称为什么术语是在...创造的").
        return ECHO
    if own and _restates(reply, question) and _renamed(reply, question, own, asked - said, context):
        return ECHO
    if not own:
        offered = options(question)
        chosen, short = _picks(said, offered), len(said) * 2 < len(asked)
        # One of the options, in the question's words however many of them ("Lawrence v. Texas struck
        # it down"), is a pick; so is a short reply to a choice whose options are not told apart.
        if len(chosen) == 1 or (short and (chosen or (_CHOICE.search(question) and not offered))):
            return WEAKER_CHOICE if _weaker_choice(said, question, context) else ""
        if offered and short:
            # Short, and the question's words, but neither option: "Ron Howard导演" for "在《Splash》和
            # 《Son of Flubber》之间，哪一部是由Ron Howard导演的？" picks nothing.
            return ECHO
        # A short name may hold a function word the question lacks ("Us Weekly" for "...from what weekly
        # celebrity magazine?"): the reply is no echo, and the name's terms must be found like its own.
        own = _named_beyond(reply, question, context)
        if not own:
            return ECHO
    each = _with_counts(own, context)
    # Only an English question marks its names (capitalised words); the Latin words left in a Chinese one
    # are the translation's leftovers ("在缅甸伯爵埃arl Mountbatten和休伯特·兰斯爵士的崇高赞助下"), which its
    # Chinese needles need not hold, while the names they do hold are not marked.
    written = written_names(question)   # once: a chain may reach one of them (below)
    named = written if language_of(question) == "en" else []
    texts = sentence_terms(context)[0]
    if named and not any(_names_it(sentence, name, text) for name in _name_words(question)
                         for sentence, text in zip(each, texts)):
        # The question names what it asks about, and no sentence of the context names any of it: the
        # reply is about something else ("the bicycle" for "...the same century as the Fifth Symphony
        # was composed?" in a document that never mentions the symphony).
        return NOT_ASKED if own & set().union(*each) else NOT_IN_CONTEXT
    around = [set().union(*each[max(i - 1, 0):i + 2]) for i in range(len(each))]
    # The tie is counted in the question's words, not where they meet a function word: a Chinese question
    # has about as many such pairs as words ("市和", "于哪" of "双辽市和磐石市都位于哪个省份？"), and no sentence
    # holds them. (The look-alike tests keep them: "年发" of "哪一年发布" is in "2006年发布".)
    tying = _tying(question, asked)

    def ties(got: set[str]) -> bool:
        return len(got & tying) >= tie * len(tying)

    holding = [i for i, sentence in enumerate(each)
               if sentence & own and len(own & around[i]) >= share * len(own)]
    direct = [i for i in holding if ties(around[i])]
    # A sentence ties the reply directly when it speaks of what was asked itself (a neighbour may add the
    # rest: "Her brother kept the accounts" after "Anna rebuilt the mill"), and neither it nor that
    # neighbour is a look-alike.
    if any(asked & each[i] and not _outdone(i, each, asked, holding, own)
           and ties(_tied(i, each, asked, holding)) for i in direct):
        return ""
    # A name may be in every sentence of a chain ("加拿大轮胎中心" in the three needles that say where
    # the trials were, what the arena is and when it opened): rarer than that, a term is a name. A link is
    # a name the question does not say, or one it names: "Robert Boyle" links the needle on his meditations
    # to the one on where he was born, which alone holds too little of a long question.
    seen = Counter(t for sentence in each for t in sentence)
    unlinking = asked - set().union(*named)
    if language_of(question) == "zh":
        # Chinese marks few names, but a word of three characters or more is most often one ("奥运会" of
        # "1996年夏季奥运会", which links the Olympics a shooter took part in to where they were held).
        unlinking = {t for t in unlinking if not (CJK_RUN.fullmatch(t) and len(t) >= 3)}
    rare = {}
    for j, sentence in enumerate(each):
        # ...and in English a name is written with a capital: in a few passages of a book, "see" and
        # "week" are as rare as any name, and chained "On seeing Alpátych he went" to a needle through
        # "Princess Mary did not see her father for a whole week" and "At the end of the week...".
        candidates = {t for t in sentence - unlinking if seen[t] <= links + 1}
        for t in candidates - ordinary_terms(texts[j]) if candidates else ():
            rare.setdefault(t, []).append(j)
    if any(_chained(i, each, around, asked, holding, rare, ties, links, own) for i in holding):
        return ""
    # A chain also ties when it reaches a name the question writes, one the context holds in no more
    # sentences than a chain has: "Billy Zane is American" through "Fishtales stars Billy Zane" for "What
    # nationality is the male lead of the film Fishtales?", which holds one word of five. Such a chain is
    # not linked by a word of the reply: the first hop, "Billy Zane", would reach the film through itself.
    # (Not a name of two Latin letters: "EP", "DJ", "TV" name a kind of thing.)
    titled = [name for name in written
              if all(seen[t] <= links + 1 for t in name)
              and any(len(t) > 2 or CJK_CHAR.search(t) for t in name)]
    if titled:
        unsaid = {t: found for t, found in rare.items() if t not in own}
        if any(_chained(i, each, around, asked, holding, unsaid,
                        lambda got: any(name <= got for name in titled), links, own) for i in holding):
            return ""
    if holding:
        return LOOK_ALIKE if direct else NOT_ASKED
    return ECHO if _restates(reply, question) else NOT_IN_CONTEXT


def _restates(reply: str, question: str) -> bool:
    """Whether a reply is the question restated with a word or two of the model's own ("促进全球性知识运动，
    旨在鼓励和加强所有非洲裔人民之间的团结联系" for "...致力于推动什么样的全球性知识运动，旨在鼓励和加强所有非洲裔人民之间
    的团结联系？"): three of its words or more are the question's, and fewer than a third are not. Such a reply
    found nothing, as an echo did, and is asked again as one."""
    words, asked = set(analyze(reply)), set(analyze(question))
    return len(words & asked) >= 3 and 3 * len(words - asked) < len(words & asked)


def _renamed(reply: str, question: str, own: set[str], dropped: set[str], context: str) -> bool:
    """Whether a reply that restates the question keeps what the question asks about as the question words
    it (the words after its question word) and has for its own words only another name the context gives a
    thing the question names: a sentence holds them and words of the question the reply left out. "Cleveland
    Ohio based department store was one of the original anchors for The Shoppes at Parma." for "What Cleveland
    Ohio based department store was one of the original anchors for the Parmatown Mall?", where the context
    says "The Shoppes at Parma used to be known as Parmatown Mall": it names no store, as an echo would not."""
    after = terms(" ".join(_asked_around(question)[0]))
    return bool(after) and after <= terms(reply) \
        and any(own <= got and got & dropped for got in sentence_terms(context)[1])


def _with_counts(own: set[str], context: str) -> tuple[frozenset[str], ...]:
    """The terms of each sentence of `context`, a reply's small counts in digits (`own`) among them where
    the sentence writes them in words: a model answers "8" from "艾伦·德文郡为英格兰赢得了八顶帽子", and from "The
    cricketer won eight caps". Not 1: "一" is in every other Chinese sentence ("一部小说" is "a novel"), and
    "1部" would be held by it."""
    cut, each = sentence_terms(context)
    spelled = {t: _spelled(int(t)) for t in own if t.isdigit() and 1 < int(t) < 100}
    if not spelled:
        return each
    return tuple(got | {t for t, (chinese, english) in spelled.items()
                        if any(w in text for w in chinese) or english and english <= got}
                 for text, got in zip(cut, each))


def _spelled(n: int) -> tuple[tuple[str, ...], set[str]]:
    """How Chinese writes a number from 2 to 99 (`zh_numerals`), and the terms of the English word for it (up
    to twenty, and the tens; none for the others)."""
    return zh_numerals(n), set(analyze(_EN_NUMBERS.get(n, "")))


def zh_numerals(n: int) -> tuple[str, ...]:
    """How Chinese writes a number from 1 to 99: "一", "八", "十二", "二十五"; 2 also "两"."""
    tens, ones = divmod(n, 10)
    word = (_ZH_DIGITS[tens] if tens > 1 else "") + ("十" if tens else "") + (_ZH_DIGITS[ones] if ones else "")
    return (word, "两") if n == 2 else (word,)


_EN_NUMBERS = dict(enumerate("""zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty""".split())) | {
    10 * k: w for k, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}


def yes_or_no(reply: str, question: str) -> bool:
    """Whether `reply` answers yes or no ("Yes, both airports are in the United States", "没有。") to a
    question that asks for one: whatever else it says is not the answer, and is not judged. A question
    that offers two options asks for one of them, with a question word or without ("是Jeff Martin还是Mark
    Rankin也拥有独唱生涯？": a 0.5B model answers "是"); none of NeedleBench's 340 has a yes or no for gold."""
    return bool(_YES_NO.match(reply)) and not options(question) \
        and (asks_whether(question) or not _QUESTION_WORD.search(question))


def says_yes(reply: str) -> bool | None:
    """True for a reply that opens with a yes ("Yes, ...", "是的"), False for one that opens with a no ("No.",
    "不是", "没有。"), None for any other."""
    found = _YES_NO.match(reply)
    return None if found is None else found.group(1).lower() not in _NO_WORDS


def asks_whether(question: str) -> bool:
    """Whether the question asks for a yes or no by its form: it starts with its verb ("Was...?"), or asks
    "吗", "是否"."""
    return bool(_ASKS_YES_NO.search(question.strip()))


def _named_beyond(reply: str, question: str, context: str, most: int = 3) -> set[str]:
    """The terms of the reply's short names (two to `most` capitalised words) that hold a function word
    the question does not ("Us" of "Us Weekly") and that the context holds as they are written, or an
    empty set. (Terms leave function words out, so the name is looked for whole.)"""
    asked = {w.lower() for w in WORD.findall(question)}
    found = set()
    for match in _NAME.finditer(reply):
        name = match.group().rstrip(".'’-")   # the name, not the full stop after it
        words = name.split()
        if (2 <= len(words) <= most and name in context
                and any(w.lower() in STOP_EN and w.lower() not in asked for w in words)):
            found |= terms(name)
    return found


def _said(reply: str, question: str) -> set[str]:
    """The reply's terms without the character pairs where two of the question's words meet in it ("役持"
    of "棉兰老岛战役持续的时间更长" for "韩国战争和棉兰老岛战役哪个持续的时间更长？"), or one of them meets a
    function word ("洋在" of "北大西洋在缅因州" for "...北大西洋的一个入口，位于缅因州中南部？"): both characters are
    the question's or function words, and no word of the reply is the pair. Such a pair is no word of the
    reply's own."""
    chars, words = set(CJK_CHAR.findall(question)) | _STOP_CHARS, set(analyze(reply)) | _letters_joined(reply)
    return words | {p for p in _pairs(reply) if p in words or not (p[0] in chars and p[1] in chars)}


def question_terms(question: str) -> set[str]:
    """The question's terms that a sentence answering it can hold (`_tying`): in Chinese, its words and the
    character pairs inside them, not those where a word meets a function word or the question word."""
    return _tying(question, terms(question))


def _tying(question: str, asked: set[str]) -> set[str]:
    """The question's terms `asked` less those no answering sentence holds: the terms inside its Chinese
    question words ("哪个", "一年" of "哪一年"), and the character pairs where one of its Chinese words meets a
    function word ("市和", "于哪", "个省" of "双辽市和磐石市都位于哪个省份？"; but "霍曼" of "霍/曼", a name
    jieba does not know, stays)."""
    seams, inner, asking = set(), set(), []
    for run in CJK_RUN.findall(question):
        words = segment(run)
        idle = [w in STOP_ZH or w in ASKING_ZH or bool(ZH_QUESTION_WORD.search(w)) for w in words]
        seams |= {a[-1] + b[0] for a, b, x, y in zip(words, words[1:], idle, idle[1:]) if x or y}
        inner |= set().union(*map(_pairs, words))
        asking += [w for w, x in zip(words, idle) if x and (w not in STOP_ZH or ZH_QUESTION_WORD.search(w))]
    return {t for t in asked - (seams - inner) if not any(t in w for w in asking)}


def asked_kind(question: str) -> str:
    """"time" when the question asks for one ("When...?", "In what year...?", "哪一年"), "number" when it
    asks how many ("How many...?", "多少", "几个"), "nationality" when an English question asks for one ("What
    was the nationality of ...?", "...from what country?"), else "" (and for a question that offers options:
    it is answered by one of them)."""
    if options(question):
        return ""
    if _ASKS_TIME.search(question):
        return "time"
    if _ASKS_NUMBER.search(question) or (_ASKS_HOW_MANY_ZH.search(question)
                                         and not ZH_QUESTION_WORD.search(question)):
        return "number"
    # "Are A and B of the same nationality?" asks for a yes or no.
    return "nationality" if _ASKS_NATIONALITY.search(question) and not asks_whether(question) else ""


def gives_kind(text: str, question: str, kind: str | None = None) -> bool:
    """Whether `text`, where it does not repeat the question, holds the kind of thing the question asks
    for (`kind`, else `asked_kind`; True when it asks for none). Generous: a reply with no digit, number
    word, month, season or the like ("the Canadian Tire Centre" for "When did the arena that hosted the
    2017 trials open?": its year is the question's), or no people's or country's name ("Oliver Messel" for
    "What was the nationality of the costume designer of ...?": the first hop), has answered something
    else."""
    kind = asked_kind(question) if kind is None else kind
    if not kind:
        return True
    if kind == "nationality":
        # The question's own may be the answer's: "...the Korean folktale ... stars Jo Yeo-jeong from what
        # country?", "South Korea".
        return bool(NATIONALITY_EN.search(text))
    return bool((_GIVES_TIME if kind == "time" else _GIVES_NUMBER).search(_beyond(text, question)))


def asked_for(question: str) -> set[str]:
    """The terms of what the question asks for, around its question word: the words right after it (a
    noun: "record label" of "...formed through what record label?", "省份" of "位于哪个省份？"), the word
    before it ("formed", "位于") or, when it comes first, the question's last word ("born" of "In which city
    was ... born?"), but not after an opening "who", whose verb says what is asked ("wrote" of "Who wrote
    the book ... the Franklin National Bank?", not "bank"). Empty for a question with no question word, or
    one that asks for a time or a number or offers options (`asked_kind` and `options` judge those)."""
    return _wanted(*_asked_around(question))


def _wanted(after: list[str], before: list[str], last: list[str]) -> set[str]:
    return terms(" ".join(after + (before or last)))


def _asked_around(question: str) -> tuple[list[str], list[str], list[str]]:
    """The words of what the question asks for (`asked_for`) after its question word, before it, and the
    question's last word (what stands for the word before a question word that comes first)."""
    if asked_kind(question) or options(question):
        return [], [], []
    tokens = [t for piece in _TOKEN.findall(question)
              for t in (segment(piece) if CJK_RUN.fullmatch(piece) else [piece])]
    at = next((i for i, t in enumerate(tokens)
               if _QUESTION_WORD.fullmatch(t) or ZH_QUESTION_WORD.match(t)), None)
    if at is None:
        return [], [], []

    def content(t: str) -> bool:
        # a word with terms of its own; not a lone Chinese measure word ("支" of "哪支")
        return bool(terms(t)) and not (CJK_CHAR.fullmatch(t) and len(t) == 1)

    def run(seq: list[str], most: int) -> list[str]:
        """The first `most` content words of `seq`, up to a mark; function words are passed over."""
        kept = []
        for t in seq:
            if not WORD.fullmatch(t) or len(kept) == most:
                break
            if content(t):
                kept.append(t)
        return kept

    after = run(tokens[at + 1:], 2) if ZH_QUESTION_WORD.match(tokens[at]) else \
        run(_head(tokens[at + 1:]), 3)
    before = run(tokens[at - 1::-1], 1) if at else []
    if after and tokens[at].lower() in ("who", "whom") and not any(WORD.fullmatch(t) for t in tokens[:at]):
        # "Who wrote the book ... the Franklin National Bank?" asks who wrote it: the verb says what is
        # asked, and the last word ("bank") is only what the book is about.
        return after, before, []
    noun = _noun_of(tokens[at:])
    if noun:
        # "What was the 2011 population of the area that includes the village Eastoft?" asks for a
        # population: the last word ("Eastoft") is only whose.
        return run(noun, 3), before, []
    ending = tokens[::-1]   # for a question word that comes first ("In which city was ... born?")
    while ending and not WORD.fullmatch(ending[0]):
        ending.pop(0)
    return after, before, run(ending, 1)


# A question's words, Chinese runs and marks, in order (`asked_for`). A word of letters and digits stops
# where Chinese starts: "2014年Much Music视频奖的...哪档真人秀节目？" is "2014", "年", "Much", ..., not two words.
_TOKEN = re.compile(rf"{CJK_RUN.pattern}|[^\W_{CJK_RANGES}]+|[^\w\s]")


def _noun_of(words: list[str]) -> list[str]:
    """The noun of an English question that opens "What/Which is the NOUN of ...": "capital" of "What is
    the capital of the state Curly Ray Cline is from?", "2011 population" of "What was the 2011 population
    of ...?"; [] for any other question ("What is the actor who starred in ... best known for?")."""
    if len(words) < 4 or words[0].lower() not in ("what", "which") or words[1].lower() not in _BE \
            or words[2].lower() not in ("the", "a", "an"):
        return []
    noun = _head(words[3:])
    return noun if noun and words[3 + len(noun):4 + len(noun)] == ["of"] else []


_BE = frozenset({"is", "was", "are", "were"})


def _head(words: list[str]) -> list[str]:
    """The words of the noun right after an English question word: those up to the first function word
    ("record label" of "what record label?", none of "What is ..."; "directed" of "Who directed ...")."""
    out = []
    for w in words:
        if w.lower() in STOP_EN or not WORD.fullmatch(w):
            break
        out.append(w)
    return out


def a_step(reply: str, question: str, context: str, share: float = 0.5, tie: float = 0.25) -> bool:
    """Whether `reply` names a step on the way to the answer, not the answer: neither it nor a sentence it
    comes from that speaks of the question holds what the question asks for (`asked_for`), and another
    sentence that names it does. '"Not Giving Up" is a song by a girl group formed through what record
    label?': "The Saturdays" is in "Not Giving Up is a song by girl group The Saturdays" (the question's
    song and group), and "The Saturdays were formed through Fascination Records" says what was asked,
    and names something new: a name, or in Chinese, which marks no names by capitals, the word in the
    question word's place (`_in_its_place`). A small model stops a two-hop question at the first fact."""
    question, known = without_known(question)
    context = f"{context}\n{known}" if known else context
    after, before, last = _asked_around(question)   # once: it segments the question with jieba
    wanted, asked = _wanted(after, before, last), terms(question)
    own = _said(reply, question) - asked
    if not wanted or not own or wanted & terms(reply):
        return False
    tying = _tying(question, asked)
    holding = [(text, got) for text, got in zip(*sentence_terms(context)) if len(own & got) >= share * len(own)]
    said = asked | terms(reply)
    around = _beside_question_word(after, before)
    # ...and another says what was asked of it, naming something else: the answer ("Fascination Records").
    # A sentence that names nothing new ("Donovan is a Scottish singer, songwriter and guitarist") makes
    # the reply the answer to both halves of the question, not a step.
    return any(not got & wanted and len(got & tying) >= tie * len(tying) for _, got in holding) \
        and any(_says_what_was_asked(text, got, wanted, said, around) for text, got in holding)


def beside_the_point(reply: str, question: str, context: str, share: float = 0.5, most: int = 3,
                     links: int = 3) -> bool:
    """Whether `reply` says something else of what the question names than what it asks: neither it nor a
    sentence it comes from holds what the question asks for (`asked_for`), and another sentence does, naming
    something new, is linked to the reply's sentences by no name the question lacks (it would be a hop before
    them: `_linked`), and is itself an answer tied to the question (`unsupported`, tried on the `most` that
    share most of the question's words). "Franklin National Bank was the United States' 20th largest bank."
    for "Who wrote the book Power in Earth detailing the connections between ... the Franklin National Bank?",
    where "Power on Earth is written by Nick Tosches" says who wrote it: a small model copies the sentence
    that shares the question's names, whatever it says of them."""
    plainly, known = without_known(question)
    after, before, last = _asked_around(plainly)
    wanted, asked = _wanted(after, before, last), terms(plainly)
    own = _said(reply, plainly) - asked
    if not wanted or not own or wanted & terms(reply):
        return False
    cut, each = sentence_terms(f"{context}\n{known}" if known else context)
    holding = {i for i, got in enumerate(each) if len(own & got) >= share * len(own)}
    if not holding or any(each[i] & wanted for i in holding):
        return False
    said, around = asked | terms(reply), _beside_question_word(after, before)
    # A sentence linked to the reply's by names the question lacks is a hop before it ("Tam Orrin got his
    # doctorate from Carrow College" before "Carrow College stands in Lindford"; "Where Danger Lives stars
    # Faith Domergue", "Domergue is Howard Hughes' protege" before "Howard Hughes has OCD"): the reply goes
    # on from it.
    reached = _linked(holding, cut, each, asked, links)
    wanted -= set().union(*names(plainly))   # "Lives" of "Where Danger Lives" is a name's, not what is asked
    saying = [cut[j] for j, got in enumerate(each)
              if j not in reached and _says_what_was_asked(cut[j], got, wanted, said, around)]
    return any(not unsupported(text, question, context) for text in
               [saying[i] for i in closest(saying, plainly, most)])


def _linked(start: set[int], cut: tuple[str, ...], each: tuple[frozenset[str], ...], asked: set[str],
            links: int) -> set[int]:
    """The sentences `start` and those linked to them through at most `links` others, each sharing with the
    one before it a term the question (`asked`) lacks that is no ordinary word (`ordinary_terms`)."""
    linking = [got - asked - ordinary_terms(text) for text, got in zip(cut, each)]
    reached, frontier = set(start), set().union(*(linking[i] for i in start))
    for _ in range(links):
        new = {j for j, got in enumerate(linking) if j not in reached and got & frontier}
        if not new:
            break
        reached |= new
        frontier = set().union(*(linking[j] for j in new))
    return reached


def _says_what_was_asked(text: str, got: frozenset[str], wanted: set[str], said: set[str],
                         around: list[set[str]]) -> bool:
    """Whether a sentence (its text, its terms) holds what the question asks for and names something new:
    a name no term of `said` (the question's and the reply's) holds, or in Chinese, which marks no names by
    capitals, a word in the question word's place (`_in_its_place`)."""
    return bool(got & wanted) and (any(name - said for name in names(text)) or _in_its_place(text, around, said))


def _beside_question_word(after: list[str], before: list[str]) -> list[set[str]]:
    """The terms of the word right after the question word and of the words before it (`_in_its_place`):
    a later word of what is asked ("韩国" of "哪部是基于韩国...的故事？") has another in front of it in a
    sentence ("根据", where the question says "基于"), not the answer."""
    return [terms(after[0]) if after else set(), terms(" ".join(before))]


def _in_its_place(text: str, around: list[set[str]], said: set[str]) -> bool:
    """Whether the Chinese of `text` names something new (no term of `said`) where the question has its
    question word: the word before one that holds what is asked for after it ("德克萨斯" of "德克萨斯大学" for
    "...曾就读哪所大学？"), or the word after one that holds the word before it ("吉林省" of "位于吉林省" for
    "...位于哪个省份？"). Chinese marks no names by capitals; an answer takes the question word's place."""
    after, before = around
    for run in CJK_RUN.findall(text):
        words = segment(run)
        for i, word in enumerate(words):
            got = terms(word)
            near = (words[i - 1:i] if got & after else []) + (words[i + 1:i + 2] if got & before else [])
            if any(len(w) > 1 and w not in STOP_ZH and not _ZH_NUMERAL.search(w) and not terms(w) & said
                   for w in near):
                return True
    return False


def naming(question: str, texts: list[str]) -> list[int]:
    """The indices of `texts` that name one of an English question's names (`_names_it`: every word of it);
    none for a Chinese question, whose names are not marked."""
    if language_of(question) != "en":
        return []
    wanted = _name_words(question)
    return [i for i, text in enumerate(texts)
            if any(_names_it(frozenset(terms(text)), name, text) for name in wanted)]


def _name_words(question: str) -> list[list[tuple[str, set[str]]]]:
    """Each name the question holds (`name_texts`) as its words, each with its terms (words with none left
    out)."""
    return [words for text in name_texts(question) if (words := [(w, t) for w in text.split() if (t := terms(w))])]


def _names_it(sentence: frozenset[str], name: list[tuple[str, set[str]]], text: str) -> bool:
    """Whether a sentence (its terms, its text) names a name (its words and their terms): holds every term of
    it, a long one misspelt by a letter too ("Axeltory" of a question for the "Axeltorv" of the document: the
    question's writer made the slip, not the document); a word before the last one also when the sentence
    writes its initial ("Maurice E. Dockrell" for "Maurice Edward Dockrell") or the word misspelt by a letter
    ("Andre Thysse" for "Andry Thysse")."""
    def held(t: str, least: int) -> bool:
        return t in sentence or len(t) >= least and any(_one_letter_apart(t, u) for u in sentence)
    *before, (_, last) = name
    return all(held(t, 6) for t in last) and all(
        all(held(t, 4) for t in found) or re.search(rf"\b{re.escape(word[0])}\.", text) for word, found in before)


def _one_letter_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter changed, added or left out."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1:]


def invents(reply: str, question: str, context: str) -> bool:
    """Whether `reply`, to an English question, holds a name (`names`) that neither the question nor the
    context writes, accents aside ("Besiktas" for "Beşiktaş" is written), nor a word of five letters or
    more one letter from a written one ("South Korea" of "a South Korean actress"). The check's share lets
    half of a reply's own words come from elsewhere: "...Jamaal Charles attended the University of
    Pennsylvania", where the document says "Jamaal Charles play for the University of Texas", shares the
    player's name with it. A name is what an answer is; one the document never writes was made up. (A Chinese question's
    Latin words are its translation's leftovers, and a reply may translate them: not judged.)"""
    if language_of(question) != "en":
        return False
    # Terms drop accents already (`bm25_text`): "besiktas" is a term of "Beşiktaş".
    written = terms(question) | terms(context)
    return any(t not in written and not (len(t) >= 5 and any(_one_letter_apart(t, w) for w in written))
               for name in names(reply) for t in name)


def _beyond(text: str, question: str, least: int = 4) -> str:
    """`text` without the stretches of `least` or more characters it repeats of the question (case aside)."""
    low, asked, kept, i = text.lower(), question.lower(), [], 0
    while i < len(text):
        n = least
        while i + n <= len(text) and low[i:i + n] in asked:
            n += 1
        if n > least:
            i += n - 1
            kept.append(" ")
        else:
            kept.append(text[i])
            i += 1
    return "".join(kept)


def options(question: str) -> list[set[str]]:
    """The terms of the two options a question offers ("..., A or B?", "Which X, A or B, ...?"), or []
    when it offers none."""
    text = question.strip()
    return _option_terms(text, _option_spans(text))


def picked(reply: str, question: str) -> list[int]:
    """Which of the question's options (`options`) `reply` names, by their terms: [0], [1], both or none."""
    return _picks(terms(reply), options(question))


def _picks(said: set[str], offered: list[set[str]]) -> list[int]:
    """Which options `said` names, by the words of each the other lacks when both have some: "The Chien-gris
    breed of dog" names "the Chien-gris", not "Chinese Crested Dog"."""
    own = [option - offered[1 - k] for k, option in enumerate(offered)] if len(offered) == 2 else []
    return [k for k, option in enumerate(own if all(own) else offered) if said & option]


def named_option(reply: str, question: str) -> str | None:
    """The option of the question, as the question words it, that `reply` names part of and not all of
    ("Texas废除了鸡奸法" for "哪个法庭案件，Gonzales v. Carhart还是Lawrence v. Texas，废除了鸡奸法？": "Lawrence v.
    Texas"), or None when the reply names all of it, or both options, or neither. A small model answers
    a choice with the words it kept of it."""
    text = question.strip()
    spans = _option_spans(text)
    offered, said = _option_terms(text, spans), terms(reply)
    chosen = _picks(said, offered)
    if len(chosen) != 1 or offered[chosen[0]] <= said:
        return None
    a, b = spans[chosen[0]]
    return text[a:b].strip()


def option_texts(question: str) -> list[str]:
    """The two options a question offers, as it writes them ("the Doberman Pinscher", "Old Time Farm
    Shepherd"), or [] when it offers none (`options`)."""
    text = question.strip()
    spans = _option_spans(text)
    return [text[a:b].strip() for a, b in spans] if _option_terms(text, spans) else []


def _option_terms(text: str, spans: tuple | None) -> list[set[str]]:
    if not spans:
        return []
    # An "option" that asks something is not one: "这位音乐家还是什么虚拟乐队的主要创作歌手" ("also is"); a
    # capitalised question word is a title's ("Who Put the Bomp", "The Man Who Skied Down Everest").
    if any(not w.group()[0].isupper() for a, b in spans for w in _QUESTION_WORD.finditer(text[a:b])):
        return []
    found = [terms(text[a:b]) for a, b in spans]
    return found if all(found) and found[0] != found[1] else []


def swapped(question: str) -> str | None:
    """The question with its two options in the other order ("..., Ctenanthe or Duboisia?"), or None
    when it offers none. A small model picks the first of two names it is offered far more often than
    the second: a pick that follows the order was a guess."""
    text = question.strip()
    spans = _option_spans(text)
    if not _option_terms(text, spans):
        return None
    (a0, a1), (b0, b1) = spans
    return text[:a0] + text[b0:b1] + text[a1:b0] + text[a0:a1] + text[b1:]


def _option_spans(text: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where the two options of "..., A or B?" (or "Which X, A or B, ...?", "A和B哪个...?", "Between A and
    B, which...?") are in `text`. Options that run from the question's start ("Was the president who
    appointed him a democrat or a republican?", "...的总统是民主党还是共和党？") have no mark where the first
    one begins: it is taken as long as the second (in words, or in Chinese characters), when the question
    holds more than that before the "or"."""
    match = _OPTIONS.search(text)
    if not match:
        within = _OPTIONS_WITHIN.search(text) or _OPTIONS_AND.search(text)
        if within:
            return within.span(1), within.span(2)
        between = _OPTIONS_BETWEEN.search(text)
        if not between:
            return _opening_spans(text)
        first = next(k for k in (1, 3, 5) if between.group(k) is not None)
        return between.span(first), between.span(first + 1)
    first, second = match.span(1), match.span(2)
    if text[:first[0]].strip():
        return first, second
    size = len(_UNIT.findall(match.group(2)))
    before = list(_UNIT.finditer(match.group(1)))
    if len(before) <= size:
        return _opening_spans(text)
    return (before[-size].start() + first[0], first[1]), second


def _opening_spans(text: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where the two options a question opens with are: names joined by "or" after an English question's
    opening verb (`_OPTIONS_NAMED`), or the two things a Chinese one starts with, joined by 还是
    (`_OPTIONS_OPENING`)."""
    named = _OPTIONS_NAMED.search(text) or _OPTIONS_OPENING.search(text)
    return (named.span(1), named.span(2)) if named else None


def weaker_pick(reply: str, question: str, context: str) -> bool:
    """Whether `reply`, whatever else it says, picks the option of the question the context says less of
    what was asked about (`_weaker_choice`): "Son of Flubber was directed by Robert Stevenson." for "In
    between Splash and Son of Flubber, which one was directed by Ron Howard?" is a pick, and a true
    sentence, where "Splash was directed by Ron Howard" says the rest of the question."""
    return bool(options(question)) and _weaker_choice(_said(reply, question), question, context)


def stronger_option(question: str, context: str) -> tuple[int, str] | None:
    """The option of the question (0 or 1) the context says more of what was asked about than of the other
    (`_weaker_choice`'s reading), with the sentence that says it; None when neither is said more of, or the
    stronger is said nothing of (a sentence that names it must hold a word of what was asked)."""
    found = _supports(options(question), question, context)
    if len(found) != 2:
        return None
    k = max((0, 1), key=lambda i: found[i][0])
    if found[k][0] < 1 or found[k][0] == found[1 - k][0]:
        return None
    return k, found[k][1]


def _supports(offered: list[set[str]], question: str, context: str) -> list[tuple[int, str]]:
    """For each option (its terms), how many of the question's other words the best sentence naming it (half
    its terms) holds, and that sentence; (-1, "") when none names it: an option no sentence names is said
    less of than one a sentence names with none of those words."""
    rest = terms(question) - set().union(*offered)
    each = list(zip(*sentence_terms(context)))
    return [max(((len(rest & held), text) for text, held in each if len(option & held) * 2 >= len(option)),
                default=(-1, ""), key=lambda found: found[0]) for option in offered]


def _weaker_choice(said: set[str], question: str, context: str) -> bool:
    """Whether the reply picks one option, and the context says more of what was asked about the other:
    for "Which genus has four species, A or B?", the sentences naming A and those naming B are compared
    by the question's other words they hold ("genus", "four", "species"); an option no sentence names is
    said least of ("Republican" where only "Johnson was a Democrat" is). A small model picks one of two
    names it was handed about as often as the other."""
    offered = options(question)
    chosen = _picks(said, offered)
    if len(chosen) != 1:
        return False
    found = _supports(offered, question, context)
    return any(support > found[chosen[0]][0] for k, (support, _) in enumerate(found) if k != chosen[0])


# What a Chinese question marks as a name: a run of Latin words ("Marguerite Coppin"), a transliteration
# ("贾马尔·查尔斯") or a title ("《丛林之书》").
_ZH_NAME = re.compile(rf"[A-Za-zÀ-ɏ][A-Za-z0-9À-ɏ'’.&-]*(?:\s+[A-Za-z0-9À-ɏ][A-Za-z0-9À-ɏ'’.&-]*)*"
                      rf"|[{CJK_RANGES}]+(?:[·•][{CJK_RANGES}]+)+|《[^》]+》")


def written_names(question: str) -> list[set[str]]:
    """The terms of each name a question marks (`written_name_texts`), names with no terms left out."""
    return [found for name in written_name_texts(question) if (found := terms(name))]


def written_name_texts(question: str) -> list[str]:
    """The names a question marks, as written: capitalised Latin words in English (`name_texts`); in
    Chinese, which has no capitals, its Latin words, transliterations joined by "·" and titles in 《》."""
    if language_of(question) == "en":
        return name_texts(question)
    return [name for match in _ZH_NAME.finditer(question) for name in _one_name_each(match.group())]


def _one_name_each(written: str) -> list[str]:
    """A transliteration runs on into the Chinese around it, which has no spaces ("约翰·科利尔和马丁·艾米斯是
    同国籍吗" is one match): it is cut at the characters that join or follow names and are not in them
    ("和", "是", "的"...), into the parts that hold a "·". Latin words and titles are whole already."""
    if not NAME_JOIN.search(written) or written.startswith("《"):
        return [written]
    return [part for part in NOT_IN_NAMES.split(written) if NAME_JOIN.search(part)]


# The mark that joins the parts of a transliterated name ("约翰·科利尔").
NAME_JOIN = re.compile(r"[·•]")
# Characters that join names or start what is said of them, and are not used to spell foreign names.
NOT_IN_NAMES = re.compile(r"[和与及跟同共是的在吗呢都有于为被把从由对向也曾不没否或还这那哪谁么几个位名一两将以等即]")


def names(question: str) -> list[set[str]]:
    """The terms of each name the question holds (`name_texts`), names with no terms dropped."""
    return [found for name in name_texts(question) if (found := terms(name))]


def name_texts(question: str) -> list[str]:
    """The names the question holds: capitalised Latin words in a row, the first word of a sentence left
    out ("What", "Masakatsu" of "Masakatsu Ueda is ...")."""
    found = []
    for match in _NAME.finditer(question):
        words = match.group().split()
        if _SENTENCE_START.search(question[:match.start()]):
            words = words[1:]
        found.append(" ".join(words))
    return found


def _chained(i: int, each: tuple[frozenset[str], ...], around: list[set[str]], asked: set[str],
             holding: list[int], rare: dict[str, list[int]], ties: Callable[[set[str]], bool],
             links: int, own: set[str]) -> bool:
    """Whether the answer's sentence `i` is tied to the question through a chain of at most `links`
    other sentences, each sharing a rare name with the one before it. The chain ties at a sentence that
    brings a word of the question the chain lacks so far (a look-alike that holds most of the question
    already is not made an answer by any sentence sharing a name); one that brings none only links on.
    None may be a look-alike itself or the sentence the answer's is a look-alike of (two needles of one
    template share its words)."""
    paths, reached = [(i, asked & each[i])], {i}
    for _ in range(links):
        longer = []
        for k, got in paths:
            for j in sorted({j for t in each[k] if k in rare.get(t, ()) for j in rare[t]} - reached):
                if _outdone(j, each, asked, holding) or _alike(j, i, each, asked, own):
                    continue
                reached.add(j)   # each sentence joins one chain, the shortest: the search stays small
                brings = asked & each[j] - got
                if not brings:
                    # A link that holds no word of the question ("Vegas Stripped is a look at the South
                    # Point Hotel" between the show's channel and the hotel's place) passes the chain on,
                    # and adds nothing to it, nor its neighbours' words.
                    longer.append((j, got))
                    continue
                now = got | asked & around[j]
                if ties(now):
                    return True
                longer.append((j, now))
        paths = longer
    return False


def ordinary_terms(text: str) -> set[str]:
    """The terms `text` writes only in words that start with a small letter: ordinary words, not names
    (digits and Chinese have no small letters, and stay)."""
    words = WORD.findall(text)
    lower = [w for w in words if w[0].islower()]
    return terms(" ".join(lower)) - terms(" ".join(w for w in words if w[0].isupper())) if lower else set()


def _alike(j: int, i: int, each: tuple[frozenset[str], ...], asked: set[str], own: set[str]) -> bool:
    """Whether sentence `j` is the one the answer's sentence `i` is a look-alike of (`_better`): built
    like it in words of the question ("hidden", "island" of two needles of one template). A sentence that
    shares only a name the question does not say with it ("Andrés D'Alessandro") is the chain's link."""
    return bool(each[j] & each[i] & asked) and _better(j, i, each, asked, own=own)


def _tied(i: int, each: tuple[frozenset[str], ...], asked: set[str], holding: list[int]) -> set[str]:
    """The question's terms that sentence `i` and its neighbours hold, leaving out neighbours that are
    look-alikes: a line of the text next to the needle about another island holds that island's words,
    and a reply taken from the line does not speak of the island asked about."""
    window = range(max(i - 1, 0), min(i + 2, len(each)))
    return asked & set().union(*(each[m] for m in window if m == i or not _outdone(m, each, asked, holding)))


def _outdone(i: int, each: tuple[frozenset[str], ...], asked: set[str], holding: list[int],
             own: set[str] = frozenset(), alike: float = 0.5) -> bool:
    """Whether sentence `i` is a look-alike of a better one: another sentence, built like it
    (`_built_alike`) but not holding the reply, that says the same of what was asked and more
    ("...hidden on Storm Island is the Sun Stone" for "...hidden on Golden Island?", where "...hidden on
    Golden Island is the Time-Space Key" is in the context too). Such a reply took its words from the
    sentence about something else. It may still pass as the last hop of a chain, through a name it
    shares with another sentence."""
    return bool(asked & each[i]) and any(k not in holding and _better(k, i, each, asked, alike, own)
                                         for k in range(len(each)))


def _better(k: int, i: int, each: tuple[frozenset[str], ...], asked: set[str], alike: float = 0.5,
            own: set[str] = frozenset()) -> bool:
    """Whether sentence `k` is built like sentence `i` (`_built_alike`, sharing more of the question's
    terms than not) and says the same of what was asked and more, with something of its own in the
    reply's place. Two sentences that share mostly a name ("The 1926 Navy team represented the United States
    Naval Academy", "United States Naval Academy is in the state of Maryland") are two links of a chain, not
    two needles of one template; one that only says what the question says ("《左轮手枪》由杰森·斯坦森主演"
    for "谁导演了…《左轮手枪》，该片主演了…杰森·斯坦森？") offers no other answer than `i`'s ("…由盖·里奇执导")."""
    shared = each[k] & each[i]
    return asked & each[k] > asked & each[i] and _built_alike(len(shared), each[k], each[i], own, alike) \
        and len(shared & asked) > len(shared - asked) and _rival(each[k], asked | each[i])


def _built_alike(shared: int, other: frozenset[str], answers: frozenset[str], own: set[str],
                 alike: float) -> bool:
    """Whether two sentences that share `shared` terms are built alike: they hold `alike` of the answer's
    sentence's terms, or, when the answer fills at most half of its sentence (the reply's `own` terms
    there), `alike` of what each of them says besides it (the other taken to hold as long an answer). A
    short needle is mostly its answer: "Hidden on Forgotten Island is the legendary Time-Space Key" shares
    three of its seven terms with "Hidden on Mysterious Island is the legendary Magic Essence", and three of
    the four that are not the answer. A sentence that is all answer ("Trolls (film) revolve around two
    trolls on a quest...", copied whole) has no form to share."""
    filled = len(own & answers)
    rest = len(answers) - filled
    return shared >= alike * len(answers) or 0 < filled <= rest and shared >= alike * rest \
        and shared >= alike * (len(other) - filled)


# Characters that say nothing of their own: the stop words of one character, and those that join names or
# start what is said of them (`NOT_IN_NAMES`).
_FUNCTION_CHARS = _STOP_CHARS | set(NOT_IN_NAMES.pattern[1:-1])


def _rival(got: frozenset[str], known: set[str]) -> bool:
    """Whether a sentence's terms `got` hold something `known` (the question's and the reply's sentence's
    terms) does not: a word, not a pair of characters that meet where two known words do ("森主" of
    "杰森·斯坦森主演"), nor a function character or one beside it ("曾", "曼曾" of "保罗·S·登曼曾是英国乐队Sade的成员"
    against "保罗·登曼也是英国乐队Sweetback的成员": the same fact, with the answer in the named band's place)."""
    chars = {c for t in known for c in CJK_CHAR.findall(t)} | _FUNCTION_CHARS
    return any(not (len(t) <= 2 and CJK_RUN.fullmatch(t) and set(t) <= chars) for t in got - known)
