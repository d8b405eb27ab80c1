"""How right one reply to one benchmark case is, 0..100, without asking a model.

The retrieval and reasoning scores are NeedleBench v1's, so that our numbers sit beside published ones;
the F1 is LV-Eval's keyword-recall F1, which punishes a reply that pads a lucky keyword with noise. Two
tasks are ours: `absent` (the document does not hold the answer: the right reply says so and names
nothing) and `instruction` (the answer, in the form the question asked for). One rule is ours too: a
reasoning question that offers the gold and one other option scores 0 when the reply picks the other,
whatever sentence it quotes (NeedleBench's word match would find the gold in the quote), and one that
declines scores 0 (the word match finds the gold "no" in "does not say").

Matching is NeedleBench's: a keyword counts when it occurs in the reply as written (case-sensitive), and
multi-needle reasoning compares lowercased words as substrings. jieba (for Chinese F1) is imported on
first use, so importing this module costs nothing.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import re
import string
import unicodedata
from collections import Counter

from longflow.nodes.lang import ASKING_EN, ASKING_ZH, CJK_CHAR, STOP_EN, STOP_ZH

TASKS = ("single", "multi", "reasoning", "absent", "instruction")

# NeedleBench v1's overall score, from open-compass/opencompass:
#   opencompass/configs/summarizers/needlebench.py, create_summarizer(mean=False): the
#   'NeedleBench-Overall-Score-<size>' group weights Single-Needle-Retrieval (S-RT) 0.4,
#   Multi-Needle-Reasoning (M-RS) 0.3, Multi-Needle-Retrieval (M-RT) 0.3;
#   opencompass/summarizers/needlebench.py, calculate_elementwise_average, applies the same 0.4/0.3/0.3 to
#   the origin / parallel / multi-needle columns for the overall figure.
# (NeedleBench v2, `mean=True` there, weights the three 1/3 each; our scorers are v1's, so v1's weights.)
# Our tasks map as single -> S-RT (origin), multi -> M-RT (parallel), reasoning -> M-RS (multi).
# `absent` and `instruction` have no NeedleBench counterpart: they are left out of this overall and
# reported on their own, so that the overall stays comparable with NeedleBench's.
NEEDLEBENCH_WEIGHTS = {"single": 0.4, "multi": 0.3, "reasoning": 0.3}

# Levenshtein is quadratic; a rambling reply against a one-sentence answer must not cost seconds.
_MAX_CELLS = 300_000


# --- NeedleBench ----------------------------------------------------------------------------------------

def levenshtein(a: str, b: str) -> int:
    """Edit distance. Beyond _MAX_CELLS the longer string is cut and the cut length added: an upper
    bound (exact when the cut part is pure excess, as in a long reply against a short answer), whose
    similarity is at most len(short) / len(long) off, i.e. a fraction of a point at that size."""
    if len(a) < len(b):
        a, b = b, a
    start = 0                                   # a shared prefix and suffix cost nothing
    while start < len(b) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    while b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if not b:
        return len(a)
    cut = 0
    if len(a) * len(b) > _MAX_CELLS:
        keep = max(_MAX_CELLS // len(b), len(b))
        cut, a = max(0, len(a) - keep), a[:keep]
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] + cut


def single_needle(prediction: str, keyword: str, reference: str | None = None) -> float:
    """100 if the keyword is in the reply; else a fifth of the reply's similarity to the gold answer
    (NeedleBench compares with the gold sentence, `reference`; without one, with the keyword), on
    strings with all whitespace removed."""
    if keyword and keyword in prediction:
        return 100.0
    pred, ref = _squash(prediction), _squash(reference or keyword)
    longest = max(len(pred), len(ref))
    similarity = 1 - levenshtein(pred, ref) / longest if longest else 1.0
    return 0.2 * 100 * similarity


def multi_needle(prediction: str, keywords: list[str]) -> float:
    """100/N for each of the N keywords in the reply."""
    if not keywords:
        return 0.0
    return 100 * sum(1 for k in keywords if k and k in prediction) / len(keywords)


def reasoning(prediction: str, answer: str) -> float:
    """The share of the answer's words found in the reply, both lowercased (a Chinese answer without
    spaces is one word: all or nothing, as in NeedleBench)."""
    words, pred = answer.lower().split(), prediction.lower()
    return 100 * sum(1 for w in words if w in pred) / len(words) if words else 0.0


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- Option questions: the option picked, not the words quoted -----------------------------------------
# "Who is older, A or B?" with gold B: NeedleBench's word match gives 100 to "A (B was born in 1951)",
# because the sentence the reply quotes names the gold. Such a reply picks A. A question that offers the
# gold and one other thing, joined by or/and/还是/和..., is scored by which of the two the reply's own words
# (brackets removed) name first.

_OPTION_END = r"[,，:：;；?？。!！(（)）]"
_OPEN_QUOTE, _CLOSE_QUOTE = "\"'“‘「『《", "\"'”’」』》"
_OPTION_JOIN = r"(?:\s+(?:or|and|vs\.?|versus)\s+|\s*(?:还是|或者|或是|和|与|或|跟|及)\s*)"
_BEFORE_GOLD = re.compile(_OPTION_JOIN + r"(?:the\s+)?[" + _OPEN_QUOTE + r"]?$")
# after the gold: its closing quote, a Chinese noun of the option ("《YM》杂志还是…"), a comma, the join
_AFTER_GOLD = re.compile(r"[" + _CLOSE_QUOTE + r"]?(?:" + CJK_CHAR.pattern + r"{1,2}(?=还是|或))?,?"
                         + _OPTION_JOIN + r"(?:the\s+)?")
_YES_NO = frozenset({"yes", "no", "是", "否", "是的", "不是", "对", "不"})
_BRACKETED = re.compile(r"\([^()]*\)|（[^（）]*）")


def other_option(question: str, gold: str) -> tuple[str, str] | None:
    """(side, text) of the option the question offers beside the gold: "left" when it stands before the
    gold (its text runs back to the clause's start, "Was Nam Woo-hyun"), "right" when after it (its text
    runs on to the clause's end, "Eddie Vedder born first"); None when the question offers no choice."""
    if not gold or gold.lower() in _YES_NO:
        return None
    at = question.find(gold)
    if at < 0:
        return None
    before, after = question[:at], question[at + len(gold):]
    if joined := _BEFORE_GOLD.search(before):
        text = re.sub(r"[" + _CLOSE_QUOTE + r"]?,?\s*$", "", before[:joined.start()])
        return "left", re.split(_OPTION_END, text)[-1].strip(" " + _OPEN_QUOTE + _CLOSE_QUOTE)
    if joined := _AFTER_GOLD.match(after):
        return "right", re.split(_OPTION_END, after[joined.end():])[0].strip(" " + _OPEN_QUOTE + _CLOSE_QUOTE)
    return None


def _option_names(side: str, text: str) -> list[str]:
    """How a reply may name the other option, longest first: the ends of the text next to the join (its
    words from a capitalised one in English; two characters or more in Chinese)."""
    chinese = bool(CJK_CHAR.search(text))
    units, joined = (list(text), "") if chinese else (text.split(), " ")
    cuts = [joined.join(units[k:]) for k in range(len(units))] if side == "left" else \
        [joined.join(units[:k]) for k in range(len(units), 0, -1)]
    return [c for c in cuts if (len(c.strip()) >= 2 if chinese else c[:1].isupper() or c[:1].isdigit())]


def own_words(reply: str) -> str:
    """The reply without what it puts in brackets (the sentences it quotes as its reasons)."""
    previous = None
    while previous != reply:
        previous, reply = reply, _BRACKETED.sub(" ", reply)
    return reply


def picks_other_option(question: str, gold: str, reply: str) -> bool:
    """The question offers the gold and one other thing, and the reply's own words name the other first
    (or only the other)."""
    other = other_option(question, gold)
    if not other:
        return False
    words, gold = own_words(reply), own_words(gold).strip()
    at_gold = words.find(gold)
    masked = words.replace(gold, "\0" * len(gold))
    for name in _option_names(*other):
        at = masked.find(name)
        if at >= 0 and name not in gold:
            return at_gold < 0 or at < at_gold
    return False


# --- LV-Eval keyword-recall F1 --------------------------------------------------------------------------

# The function words LV-Eval leaves out of the keyword recall (open-compass/opencompass,
# opencompass/datasets/lveval/evaluators.py, ABANDON_WORDS_EN / ABANDON_WORDS_ZH).
BLACKLIST_EN = frozenset("""
and to of in her was with for it from is that his he by she they or at because be on are their what as
had were about being this who but have has when which does
""".split())
BLACKLIST_ZH = frozenset("""
的 和 是 等 在 年 可以 为 与 ‰ 了 或 一种 月 c 至 日 有 进行 于 不 中 × 根据 小 由 亩 也 要 指 法 会 元 主要 以及
通过 首先 对 然后 号 以 所 后 丁 包括 无 将 用 能 形 方面 因素 位于 而 从 到 一定 用于 但 使用 让 具有 并 亿元 万元 上
类 基于 才 来 地 片 其他 个 或者 变得 时 给 你 使 条 受 已经 带 度
""".split())
RECALL_FLOOR = {"en": 0.2, "zh": 0.4}


def keyword_recall_f1(prediction: str, answer: str, lang: str, keywords: str | None = None) -> float:
    """Token F1 against the answer, or 0 when the reply recalls too few of the answer's keywords
    (`keywords`, by default the answer itself; blacklisted function words never count as recalled)."""
    tokens = _tokens_zh if lang == "zh" else _tokens_en
    pred, gold = tokens(prediction), tokens(answer)
    key = tokens(keywords) if keywords else gold
    if not pred or not gold:
        return 0.0
    if key:
        blacklist = BLACKLIST_ZH if lang == "zh" else BLACKLIST_EN
        recalled = sum(n for w, n in (Counter(pred) & Counter(key)).items() if w not in blacklist)
        if recalled / len(key) < RECALL_FLOOR["zh" if lang == "zh" else "en"]:
            return 0.0
    same = sum((Counter(pred) & Counter(gold)).values())
    if not same:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 100 * 2 * precision * recall / (precision + recall)


def _strip_punctuation(text: str) -> str:
    """ASCII punctuation and symbols (LV-Eval's set) and every Unicode punctuation mark, so that curly
    quotes and Chinese marks never stick to a word."""
    return "".join(ch for ch in text if ch not in string.punctuation
                   and not unicodedata.category(ch).startswith("P"))


def _tokens_en(text: str) -> list[str]:
    return [w for w in _strip_punctuation(text.lower()).split() if w not in ("a", "an", "the")]


def _tokens_zh(text: str) -> list[str]:
    words = (re.sub(r"\s+", "", _strip_punctuation(w.lower())) for w in _jieba().lcut(text))
    return [w for w in words if w]


@functools.lru_cache(maxsize=1)
def _jieba():
    """jieba, loaded on first use and quietly (it logs its dictionary load to stderr)."""
    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


# --- Absent answers -------------------------------------------------------------------------------------

_VERBS = ("say|says|mention|mentions|state|states|specify|specifies|include|includes|contain|contains|"
          "provide|provides|give|gives|tell|tells|reveal|reveals|indicate|indicates|discuss|discusses|name|"
          "names|identify|identifies|describe|describes|answer|answers|cover|covers|address|addresses|"
          "refer|refers|record|records|list|lists|disclose|discloses|show|shows|offer|offers|know|have|has")
_PARTICIPLES = ("mentioned|stated|specified|given|provided|included|named|identified|disclosed|revealed|"
                "indicated|described|addressed|discussed|covered|recorded|listed|answered|shown|"
                "documented|referenced|contained|said")
_SOURCE = r"(?:document|text|passage|context|excerpt|book|story|material|source|article|content|record)s?"
_DECLINE_EN = re.compile("|".join([
    rf"\b(?:does|do|did)(?:n't|\s+not)\s+(?:\w+ly\s+)?(?:{_VERBS})\b",           # does not (explicitly) say
    rf"(?:\bnot|n't|\bnever)\s+(?:been\s+)?(?:\w+ly\s+)?(?:{_PARTICIPLES})\b",   # is not mentioned
    # found / known / available / clear only about the answer or with a place: "the treasure was not
    # found" asserts a fact, "the answer is not found in the text" does not.
    r"\b(?:answer|information|info|detail|details|name|this|that|it)\s+(?:is|was|are|were|remains?)"
    r"(?:n't|\s+not)\s+(?:\w+ly\s+)?(?:found|known|available|clear|present|certain|given)\b",
    rf"\bnot\s+(?:\w+\s+){{0,3}}?(?:in|within|from|by|anywhere\s+in)\s+(?:the\s+|this\s+|these\s+|any\s+|"
    rf"of\s+|provided\s+|given\s+|above\s+)*{_SOURCE}\b",                         # not in the passages
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't|unable\s+to|not\s+able\s+to|impossible\s+to|"
    r"no\s+way\s+to)\s+(?:\w+ly\s+)?(?:find|locate|determine|answer|tell|say|identify|know|confirm|"
    r"be\s+(?:determined|found|answered|identified|known|inferred|established|confirmed))\b",
    r"\bno\s+(?:\w+\s+)?(?:information|mention|details?|record|data|indication|evidence|reference|answer|"
    r"clue|idea)\b",                                                   # no (relevant) information
    r"\b(?:not\s+enough|insufficient)\s+(?:information|context|evidence|details?|data)\b",
    r"\bnothing\s+(?:is\s+)?(?:in|about|on|regarding|mentioned|said|stated)\b",
    rf"\bnone\s+of\s+the\s+(?:\w+\s+)?{_SOURCE}\b",
    r"\b(?:is|are|was|were|remains?|remained|be)\s+(?:still\s+)?(?:unknown|unclear|unspecified|"
    r"unmentioned|unanswerable)\b",
    r"\bunanswerable\b",
    r"^\W*(?:none|n/?a|unknown|no\s+answer|not\s+(?:mentioned|stated|given|specified|found))\b",
]), re.IGNORECASE)

_DECLINE_ZH = re.compile("|".join([
    r"(?:没有|没|未|并未|并没有|不曾|从未|均未|都没有)(?:明确|具体|直接|详细|清楚)?(?:地)?"
    r"(?:提到|提及|说明|说到|说|讲|记载|记录|描述|涉及|给出|指出|透露|交代|写|包含|出现|显示|表明|列出)",
    r"(?:无法|不能|难以|没法|无从|不可能)(?:从\S{0,8}?中)?(?:回答|确定|得知|判断|知道|找到|获知|推断|确认|得出|查到|判定)",
    r"(?:没有|没|无|缺乏|缺少|找不到|未找到|未发现|没有找到)(?:任何)?(?:相关|有关|具体|足够|此类|这方面|明确)?的?"
    r"(?:信息|内容|资料|记载|答案|线索|描述|说明|依据)",
    r"(?:文档|文本|文章|文中|原文|材料|资料|段落|上下文)(?:中|里|内)?(?:并|均|都)?(?:没有|没|未|无|不包含|不含)",
    r"不知道|不清楚|不得而知|无从得知|不详|找不到|未找到|没找到|查不到|未见",
    r"未知(?=\W|$)",                     # "未知的星球" describes; "答案未知。" declines
    r"^\W*(?:无|没有|不知道|none)\W*$",
]), re.IGNORECASE)


def declines(prediction: str, lang: str = "en") -> bool:
    """The reply says the document does not hold the answer. Whether it also offers one is
    `names_nothing`'s question: both are needed for an `absent` case."""
    text = prediction.replace("\u2019", "'").replace("\u2018", "'")
    if lang == "zh":   # a Chinese answer may decline in English too (models switch)
        return bool(_DECLINE_ZH.search(text) or _DECLINE_EN.search(text))
    return bool(_DECLINE_EN.search(text))


# The words of a decline and of the courtesy around it: they say nothing about the world.
_DECLINE_WORDS_EN = frozenset("""
document documents text texts passage passages context excerpt excerpts book story material materials
source sources article content contents provided given above say says said state states stated mention
mentions mentioned specify specifies specified include includes included contain contains contained
provide provides information info detail details find found locate located determine determined answer
answers answered tell tells know known unknown clear unclear unspecified unanswerable able unable cannot
nothing none record records recorded data evidence indication reference references refer refers explicitly
directly clearly specifically anywhere sorry unfortunately afraid apologies apologize based according idea
enough insufficient relevant specific available regarding concerning question identify identified name
named reveal revealed indicate indicated discuss discussed describe described cover covered address
addressed present possible impossible certain sure neither either appear appears seem seems any anything
can't don't doesn't didn't isn't aren't wasn't weren't couldn't n/a
""".split())
# A guess or a "but ...": with any content word after the decline, the reply offers something.
# (Modals only as "might be": "I could not find it" is a plain decline.)
_MARKERS_EN = re.compile(r"\b(?:probably|likely|perhaps|maybe|possibly|presumably|guess|suppose|believe|"
                         r"think|suspect|assume|but|although|though|however|yet|except|"
                         r"(?:might|could|may|must)\s+(?:well\s+)?(?:be|have))\b", re.IGNORECASE)
_DECLINE_WORDS_ZH = frozenset("""
文档 文本 文章 文中 原文 材料 资料 段落 上下文 内容 信息 相关 有关 具体 明确 任何 答案 问题 回答 提到 提及 说明 记载 描述
给出 提供 找到 发现 确定 得知 知道 清楚 无法 不能 没有 未 无 不 抱歉 对不起 很 遗憾 很遗憾 根据 关于 所 中 里 内 并
此 该 这方面 方面 名字 名称 姓名 哪位 哪个 哪一个 什么 谁 未知 不详 显示 表明 包含 涉及 出现 线索 足够 能够 判断 推断
确认 得出 查到 依据 请 您 认为 觉得 看来 我们
""".split())
_MARKERS_ZH = re.compile(r"可能|也许|或许|大概|估计|猜测|推测|似乎|应该|恐怕|但|不过|然而|可是|只是|除了")
_COPULA_ZH = frozenset("是 为 叫 叫做 名叫 名为".split())
_EN_WORD = re.compile(r"[^\W_][\w'-]*")
_SAY_NOTHING_EN = STOP_EN | ASKING_EN | _DECLINE_WORDS_EN


def names_nothing(prediction: str, question: str = "", lang: str = "en") -> bool:
    """Nothing substantive is left once the question's own words, the decline and the function words
    are gone: at most two content words (English) or four CJK characters (Chinese), and no name, number,
    guess or "but ..." among them."""
    text = prediction.replace("\u2019", "'").replace("\u2018", "'")
    if lang == "zh":
        return _names_nothing_zh(text, question)
    content = _content_en(text, question)
    if len(content) > 2 or (content and _MARKERS_EN.search(text)):
        return False
    return not any(w[0].isupper() or w[0].isdigit() for w in content)


def _content_en(text: str, question: str) -> list[str]:
    """The reply's words that are not the question's, not a decline's, not function words; as written."""
    asked = {_stem(w.lower()) for w in _EN_WORD.findall(question)}
    out = []
    for word in _EN_WORD.findall(text):
        low = word.lower().removesuffix("'s")
        if low in _SAY_NOTHING_EN or _stem(low) in asked or _stem(low) in _SAY_NOTHING_STEMS \
                or _MARKERS_EN.fullmatch(low):
            continue
        out.append(word)
    return out


def _stem(word: str) -> str:
    """Enough stemming to see "coached" in "coach": the question's words come back inflected."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[:-len(suffix)]
    return word


_SAY_NOTHING_STEMS = frozenset(map(_stem, _SAY_NOTHING_EN))


def _names_nothing_zh(text: str, question: str) -> bool:
    jieba = _jieba()
    asked = set(jieba.lcut(question))
    words = jieba.lcut(_DECLINE_ZH.sub(" ", text))
    guessing = bool(_MARKERS_ZH.search(text))
    chars, latin, after_copula = 0, [], False
    for word in words:
        if word in asked or word in STOP_ZH or word in ASKING_ZH or word in _DECLINE_WORDS_ZH:
            after_copula = word in _COPULA_ZH
            continue
        if CJK_CHAR.search(word):
            if after_copula or guessing:
                return False      # "……没有提到，但应该是X" or "……，乐队是X": a candidate
            chars += len(CJK_CHAR.findall(word))
        elif _EN_WORD.fullmatch(word):
            latin.append(word)
        after_copula = False
    english = _content_en(" ".join(latin), question)   # a Chinese reply may name someone in Latin script
    return chars <= 4 and not english


def absent(prediction: str, question: str, lang: str = "en") -> float:
    """100 for a reply that says the document does not say, and offers nothing in its place."""
    return 100.0 if declines(prediction, lang) and names_nothing(prediction, question, lang) else 0.0


# --- Instructions ---------------------------------------------------------------------------------------

_FENCE = re.compile(r"^```[\w-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
# Function words that mark French and are rare as English words (no "a", "on", "plus").
_FRENCH = frozenset("""
le la les est sont de des du un une et en que qui dans pour était étaient avec sur au aux ce cette ces il
elle ils elles ne pas par se son sa ses leur leurs été ont où mais ou nous vous lui très aussi
""".split())
_ELISION = re.compile(r"(?<!\w)(?:l|d|s|qu|n|c|j|m|t)['\u2019](?=[^\W\d_])", re.IGNORECASE)  # l'île
_ENGLISH = frozenset("""
the is are was were of and to in that which who with for this on by from it he she they not
""".split())


def instruction(prediction: str, keyword: str, kind: str, lang: str = "en") -> tuple[float, dict]:
    """100 only when the answer's keyword is there and the form asked for is obeyed; the parts say which
    of the two failed. kinds: json (a JSON object, maybe in a code fence, whose `answer` holds the
    keyword), prefix (starts with ANSWER: / 答案：), french (English cases only)."""
    if kind == "json":
        obj = _json_object(prediction)
        obeyed = isinstance(obj, dict) and "answer" in obj
        where = (obj["answer"] if isinstance(obj["answer"], str)
                 else json.dumps(obj["answer"], ensure_ascii=False)) if obeyed else prediction
        found = bool(keyword) and keyword in where
    elif kind == "prefix":
        head = prediction.strip()
        # A Chinese reply's colon may come out half-width: the label is what was asked for.
        obeyed = head.startswith("ANSWER:") if lang == "en" else head.startswith(("答案：", "答案:"))
        found = bool(keyword) and keyword in prediction
    elif kind == "french":
        if lang != "en":
            raise ValueError("the french instruction is for English cases only")
        obeyed, found = reads_french(prediction), bool(keyword) and keyword in prediction
    else:
        raise ValueError(f"unknown instruction kind {kind!r}: json, prefix or french")
    parts = {"keyword": found, "obeyed": obeyed}
    return (100.0 if found and obeyed else 0.0), parts


def _json_object(text: str):
    """The reply as JSON, after whitespace and one code fence; None when it is not JSON at all (prose
    around the object counts as not obeying)."""
    text = text.strip()
    fenced = _FENCE.match(text)
    try:
        return json.loads(fenced.group(1) if fenced else text)
    except (json.JSONDecodeError, ValueError):
        return None


def reads_french(text: str) -> bool:
    """At least two French function words or elisions, and more of them than English function words.
    The keyword (a name) stays as it is in any language, so the words around it decide."""
    words = re.findall(r"[^\W\d_]+", _ELISION.sub(" ", text.lower()))
    french = len(_ELISION.findall(text)) + sum(1 for w in words if w in _FRENCH)
    english = sum(1 for w in words if w in _ENGLISH)
    return french >= 2 and french > english


# --- One case, and the overall ---------------------------------------------------------------------------

def score(case: dict, prediction: str | None) -> dict:
    """{"score", "f1", "parts"} for a reply to a case (a dict with task, language, question, answer,
    keywords and, for instruction cases, instruction)."""
    prediction = prediction or ""
    task, lang = case["task"], case.get("language", "en")
    answer, keywords = case.get("answer") or "", list(case.get("keywords") or [])
    if task == "single":
        keyword = keywords[0] if keywords else ""
        value = single_needle(prediction, keyword, answer or None)
        parts = {"keyword": bool(keyword) and keyword in prediction}
    elif task == "multi":
        value = multi_needle(prediction, keywords)
        parts = {"found": [k for k in keywords if k in prediction],
                 "missing": [k for k in keywords if k not in prediction]}
    elif task == "reasoning":
        gold = answer or " ".join(keywords)
        parts = {"words": len(gold.split())}
        if picks_other_option(case.get("question", ""), gold, prediction):
            return {"score": 0.0, "f1": 0.0, "parts": {**parts, "picked": "the other option"}}
        if absent(prediction, case.get("question", ""), lang):
            # A reply that would answer an absent case declines: "The document does not say." holds the gold
            # "no" ("not"), and "文档中没有提到。" the gold "没有", but answers nothing.
            return {"score": 0.0, "f1": 0.0, "parts": {**parts, "declined": True}}
        value = reasoning(prediction, gold)
    elif task == "absent":
        parts = {"declines": declines(prediction, lang),
                 "names_nothing": names_nothing(prediction, case.get("question", ""), lang)}
        value = 100.0 if parts["declines"] and parts["names_nothing"] else 0.0
        return {"score": value, "f1": value, "parts": parts}
    elif task == "instruction":
        value, parts = instruction(prediction, keywords[0] if keywords else "", case["instruction"], lang)
    else:
        raise ValueError(f"unknown task {task!r}: one of {', '.join(TASKS)}")
    return {"score": value, "f1": keyword_recall_f1(prediction, answer, lang), "parts": parts}


def overall(task_scores: dict[str, float]) -> float:
    """NeedleBench's weighted overall of the mean task scores (see NEEDLEBENCH_WEIGHTS; other tasks are
    ignored). A missing task's weight goes to the others in proportion; NaN when none is present."""
    present = {t: w for t, w in NEEDLEBENCH_WEIGHTS.items()
               if task_scores.get(t) is not None and not math.isnan(task_scores[t])}
    if not present:
        return math.nan
    return sum(task_scores[t] * w for t, w in present.items()) / sum(present.values())
