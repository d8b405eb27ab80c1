"""The last step of every level: answer from the retrieved context (or Lv3's memory)."""
from __future__ import annotations

import re
from typing import Annotated, Any

from longflow.core.context import Context
from longflow.core.registry import Range, node

from .as_written import as_written
from .cloze import in_its_place
from .compare import alike, compared, in_common, one_sided
from .grounding import (BESIDE_THE_POINT, ECHO, INVENTED, LOOK_ALIKE, NOT_IN_CONTEXT, STEP, WEAKER_CHOICE,
                        WRONG_KIND, a_step, asked_for, asked_kind, beside_the_point, closest, gives_kind, invents,
                        named_option, naming, option_texts, picked, plain, says_yes, sentences, stronger_option,
                        swapped, terms, unsupported, weaker_pick, with_known, without_known, yes_or_no)
from .llm import bullet_list
from .parsing import is_decline, string_list
from .templates import fill, quoted
from .tokens import count_tokens, first_within, language_of

# What the answer step says, without asking the model, when there is nothing to answer from: a small model
# handed an empty context invents an answer.
NOT_FOUND = {"en": "The document does not say.", "zh": "文档中没有提到。"}
_KNOWN_TOKENS = 150
_LANGUAGE_RULE = {"en": "Answer in English unless an instruction says otherwise.",
                  "zh": "除非指令另有要求，请用中文回答。"}


@node(outputs={"answer": "str", "sources": "list[Evidence]"}, uses_model=True,
      param_docs={"prompt": "template file overriding the built-in one",
                  "check": "decline an answer whose words are not in a passage of the context about what "
                           "was asked, and one that only repeats the question after asking again from the "
                           "most relevant sentences",
                  "focus": "how many of the context's sentences (those sharing most words with the "
                           "question) that second ask shows the model; 0: no second ask",
                  "evidence_tokens": "the most the reader's sentences asked from first may take (those "
                                     "sharing most words with the question, and with what Lv3's lookups "
                                     "answered, are kept)",
                  "instructions_prompt": "template file overriding the built-in one that applies the "
                                         "instructions to the answer"})
def answer(question: str, context: Any = None, instructions: list | None = None,
           information: list | None = None, evidence: list | None = None, *, prompt: str = "",
           check: bool = True, focus: Annotated[int, Range(minimum=0)] = 6,
           evidence_tokens: Annotated[int, Range(minimum=1)] = 1500, instructions_prompt: str = "",
           ctx: Context) -> dict:
    """Answer the question from `context`, in the question's language, then obey the split-off instructions.

    `context` may be retrieved chunks (shown in document order with their ids, and their page or section
    when the document has them: `[doc0#3, page 2]`), Lv3 memory entries
    (`{"question", "answer"}`), or plain strings. With nothing in it to answer from (empty, or only
    sub-answers that found nothing), the reply is "The document does not say." without asking the model,
    which would invent one.

    `evidence`, the sentences Lv2's reader kept (`{"chunk", "text", ...}`, from every chunk and every
    lookup; not those kept from a chunk its reader said None to, `said_none`), is asked from first, alone:
    a 0.5B model that misses the answer in 5,000 tokens of retrieved chunks finds it in the 100 tokens of
    two sentences that hold it. Only when that answer is declined
    (by the model or by the check) is the model asked again from `context`.
    With Lv3's memory as `context`, that first ask adds what the lookups answered to the question ("...
    (Known: ...)", the last answer first): a small model shown the sentences its last lookup answered from,
    but not that answer, picks other words of them. The reply is checked against the question alone. If
    no answer is found, what the last lookup of the question itself answered (Lv2's run of it, or the
    question asked again with what was found) is the answer: Lv3 does not answer less than Lv2.

    A small model's answer is checked in code (`check`): its own words (those not in the question) must
    be in a passage of the context that speaks of what was asked (one holding a quarter of the question's
    words), or it is declined ("The document does not say.", with a note in the record). An answer that
    only repeats the question is asked again, shown only the `focus` sentences that share most words with
    the question (a 0.5B model lost in 2,000 tokens often finds the answer in 200), with a note that its
    echo is not the answer ("（答案不是“吉姆·汤林森”：问题里已经有了。）": asked "谁嫁给了吉姆·汤林森…？", a 0.5B
    model names him again and again; a question that offers options is asked to answer with one of
    them), and declined if the second one fails the check too, unless the question is Chinese and a
    sentence of the context fits around its question word: what it has in that word's place answers
    (`cloze.in_its_place`: "新加坡（…美国驻新加坡大使）" for "…美国驻哪个国家的大使？"), or the echo was given twice
    and the sentences that do not hold it give an answer that passes the check, asked once more (the
    answer is in what the question does not say: "《左轮手枪》由盖·里奇执导"). Asked again too is
    an answer that gives no time where the question asks when (no number where it asks how many, no
    nationality where an English question asks for one): a 0.5B model answers "When did the arena that
    hosted the trials open?" with the arena, and is then shown the sentences that give a time and name the
    question's words or the arena. A step on the way (the
    first hop of a two-hop question) is asked again from the sentences that say what was asked of it, and
    when the model gives the step again, the first of them that passes the check answers: "Tartuffe was
    written by Molière" for "Who wrote the comedy referenced in the subtitle of The Guilty Mother?".

    A reply that names part of one of the options a question offers ("Texas废除了鸡奸法" for "哪个法庭案件，
    Gonzales v. Carhart还是Lawrence v. Texas，废除了鸡奸法？") is answered with that option in full; one that picks
    the option the context says less of what was asked about, asked again with the options the other way
    round, and picks it again, is answered with the other option and the sentence that says it. A question
    that compares its two options by a year or a count ("Who was born first, A or B?", "哪个乐队成员更多，A
    还是B？") is settled by the context when it gives one such number for each (`compare.compared`): a
    reply that does not pick that option (a 0.5B model picks the first one about as often as the right
    one) gives way to the option, with the sentence that gives its number: "B (B was born in 1938)". A
    question that asks what two named things have in common ("A and B, have which occupation in common?"),
    left without an answer (a 0.5B model echoes it) or answered with what the context says of one of them
    only (`compare.one_sided`), is answered with the words the context's sentences about each share
    (`compare.in_common`): "tennis player (A is a tennis player; B is a tennis player)". A question that
    asks whether two named things are alike ("Are A and B of the same nationality?", "Are A and B both
    directors?") is answered from the sentences about each when they tell (`compare.alike`), unless the
    reply says so: "No (A is an American film director; B is an English film and stage actor)".

    An answer is given in full, as the context writes it (`as_written`): a name the 0.5B model shortened,
    when the context writes exactly one longer form ("斯图尔特" → "斯图尔特·斯图克雷", "Thomas Friedman" →
    "Thomas Loren Friedman", the latter from a sentence that shares a word with the question); in Chinese,
    a number alone with the one unit the context gives it ("1981" → "1981年") or in the numerals it writes
    ("5天" → "五天"), a title in its 《》, and a bare yes as "是的"; in English, a number in the words the
    context writes it in ("8" → "eight"); a year alone, asked when, as the one date of that year the
    context writes about what was asked ("1985" → "December 9, 1985").

    Several questions in one (a line each, with question marks: "Answer each of these: 1. ...? 2. ...?")
    are answered and checked one by one, and the answers numbered: a small model asked three at once
    answers one, and checked against all three that answer looks like one about something else.

    Instructions ("answer in French", "reply in JSON") are applied afterwards to an answer (not to a
    decline), in a second short call that sees only the question and the answer; the first call is asked
    the `information` split off the question. A translated answer could not be checked against the
    context, and a small model keeps to one task at a time.

    `sources` are the sentences the answer was taken from, among those the model was shown (the reader's
    and the passages', not Lv3's memory; `taken_from`: those holding most of its own words), less the
    ones the reader kept: Lv2 adds them to its evidence (`out: {sources: evidence}`), so that Lv3
    remembers the document's sentences, not only the model's words, and for a first hop ("Northwestern
    University" for "In what city did Duane Swank get his PhD?") the sentence that names it again, where
    the next hop starts ("Northwestern University is in Evanston, Illinois"). A declined answer has sources
    too: when the model named a step on the way that the check turned down ("Oliver Messel" for "What was
    the nationality of the costume designer of ...?"), the sentences it was taken from; else the sentences
    that name what an English question names (`naming_sentences`). They are what a lookup still found.
    """
    lang = language_of(question)
    # The instructions wait for the second call: the first one is asked the information alone.
    asked = " ".join(string_list(information)) if instructions and information else question
    # Sentences kept from a chunk whose reader said None (`read_chunk`: a first hop) lead the search to the
    # next hop; they are no reader's answer, and asked from alone a 0.5B model answers with the first hop
    # ("Nickelodeon" for "Where is the network that first aired Digimon Fusion located?").
    kept = usable(evidence)
    readable = [e for e in kept if not (isinstance(e, dict) and e.get("said_none"))]
    passages = usable(context)
    # Lv3's final step keeps the sentences read that share words with what its lookups answered, as well as
    # with the question: at 1M tokens its readers keep more than the budget, and the sentence where the
    # next hop starts shares none of the question's words ("Northwestern University is in Evanston,
    # Illinois" for "In what city did Duane Swank get his PhD?").
    answered = _found_answers(passages, _KNOWN_TOKENS)
    found = strongest(readable, asked, evidence_tokens, also=answered)
    if not found and not passages:
        ctx.record.note(ctx.node, "nothing relevant to answer from: the document does not say")
        return {"answer": NOT_FOUND[lang], "sources": []}
    questions = separate_questions(asked, information)
    on_the_way: list[str] = []   # replies declined as a step on the way to what was asked
    if len(questions) == 1:
        reply = _in_full(lang, asked, _answer_one(ctx, lang, prompt, asked, found, passages, answered, check,
                                                  focus, on_the_way), found, passages)
    else:
        # A small model asked three questions at once answers one of them, and its answer then shares
        # too few words with the whole to pass the check: each is asked, and checked, on its own.
        replies = []
        for q in questions:
            own = strongest(readable, q, evidence_tokens, also=answered)
            replies.append(_in_full(lang, q, _answer_one(ctx, lang, prompt, q, own, passages, answered, check,
                                                         focus, on_the_way), own, passages))
        ctx.record.note(ctx.node, f"{len(questions)} questions in one: each answered on its own",
                        answered=sum(not is_decline(r) for r in replies))
        reply = "\n".join(f"{i}. {r}" for i, r in enumerate(replies, 1)) \
            if any(not is_decline(r) for r in replies) else NOT_FOUND[lang]
    # The sentences the answer was taken from, among those the model was shown (Lv2 adds them to its
    # evidence: Lv3 then remembers the document's words, not only the model's, and a first hop's
    # sentences name where the next hop starts). A declined answer still found the sentences of a step on
    # the way it named, or those naming what the question names.
    shown = [*found, *(p for p in passages if not _looked_up(p))]
    taken = reply if not is_decline(reply) else " ".join(on_the_way)
    sources = taken_from(taken, asked, shown, kept) if taken else naming_sentences(asked, shown, kept)
    if instructions and not is_decline(reply):   # a small model told to format a decline invents an answer
        reply = _follow(ctx, lang, instructions_prompt, question, reply, instructions)
    return {"answer": reply, "sources": sources}


def _in_full(lang: str, question: str, reply: str, found: list, passages: list) -> str:
    """An answer in full: as the context writes it (`as_written`: a name in full; in Chinese, a number with
    its unit or in the context's numerals, a title in its marks), and a bare yes to a Chinese yes-no
    question as "是的", the form of the code's own (`_ALIKE`). A yes or no is no name ("No" of "No
    Devotion")."""
    if is_decline(reply) or says_yes(reply) is not None:
        return "是的" if lang == "zh" and reply.strip().rstrip("。.!！") == "是" and yes_or_no(reply, question) \
            else reply
    return as_written(reply, "\n".join(format_context(items, cite=False) for items in (found, passages)),
                      without_known(question)[0])


def _answer_one(ctx: Context, lang: str, prompt: str, question: str, found: list, passages: list,
                answered: list[str], check: bool, focus: int, on_the_way: list[str]) -> str:
    """An answer from the reader's sentences (asked with what Lv3's lookups `answered`), else from the
    passages, else a decline (the replies declined as a step on the way go to `on_the_way`)."""
    reply = NOT_FOUND[lang]
    if found:
        # Echoes go straight to the passages below, which have their own second ask. The answer may be
        # tied to the question through the passages: a reader keeps the sentence that answers a two-hop
        # question ("Ryan Babel plays for Besiktas") more often than the one that names its subject, which
        # retrieval, matching the question's words, brings.
        # Lv3's memory is not among the ties: its questions and answers are the models' words, and the
        # names they repeat would no longer count as rare.
        reply = _answer_from(ctx, lang, prompt, question, found, check, focus=0,
                             ties=[p for p in passages if not _looked_up(p)],
                             known=answered, on_the_way=on_the_way)
        if is_decline(reply) and passages:
            ctx.record.note(ctx.node, "no answer from the reader's sentences: asking from the passages")
    if is_decline(reply) and passages:
        reply = _answer_from(ctx, lang, prompt, question, passages, check, focus, on_the_way=on_the_way)
    if is_decline(reply) and (whole := _whole_looked_up(passages, question)):
        # Lv3 looked the question itself up (that lookup is Lv2's own run, or the question asked again with
        # what was found) and it answered: Lv3 does not know less than the Lv2 it asked.
        ctx.record.note(ctx.node, "no answer from what was found: the lookup of the question itself answered",
                        answer=whole)
        reply = whole
    # Code decides three kinds of question a small model gets wrong, each from the sentences about the
    # things it names: what two things share, which option a comparison's numbers pick, whether two things
    # are alike. Each reads the question without what Lv3 found for it ("...? (Known: ...)"), whose names
    # are not the ones asked of, and the document's sentences first, what Lv3's lookups stated only where
    # those do not tell (its final step may have nothing else).
    plainly = without_known(question)[0]
    told = _told_by_sentences(plainly, found, passages)
    shared = told(in_common) if is_decline(reply) or told(lambda q, text: one_sided(reply, q, text)) else None
    if shared:
        # Asked what two named things have in common, a 0.5B model echoes the question ("Thomaz Koch and
        # Sébastien Lareau have the same occupation in common."), or names what one of them is and the
        # other not: the words their sentences share answer.
        ctx.record.note(ctx.node, "no answer from the model: answered with what the sentences about the "
                                  "two things share", shared=shared[0])
        return _IN_COMMON[lang].format(answer=shared[0], first=shared[1][0].rstrip("。."),
                                       second=shared[1][1].rstrip("。."))
    settled = told(compared)
    if settled and picked(reply, plainly) != [settled[0]]:
        # The question compares two options by a year or a count, and the context gives one for each: a
        # small model picks the first name it is offered about as often as the right one, and code reads
        # the numbers without error. The answer is the option, with the sentence that gives its number.
        ctx.record.note(ctx.node, "the context's numbers pick the other option: answered with it",
                        reply=reply)
        return _SETTLED[lang].format(option=option_texts(plainly)[settled[0]],
                                     sentence=settled[1].rstrip("。.").strip())
    alikeness = told(alike)  # (yes or no, a sentence about each), or None
    if alikeness and (says_yes(reply) is not alikeness[0] or is_decline(reply)):
        # Asked whether two things are alike, a 0.5B model says yes to nearly every one; what the
        # sentences about each say is right far more often. A "No, the document does not say." is no
        # "no": it declines.
        ctx.record.note(ctx.node, "the sentences about the two things answer whether they are alike",
                        reply=reply)
        yes, (first, second) = alikeness
        return _ALIKE[lang][yes].format(first=first.rstrip("。.").strip(), second=second.rstrip("。.").strip())
    option = None if is_decline(reply) else named_option(reply, plainly)
    if option:
        # A small model answers a choice with the words it kept of the option ("Texas废除了鸡奸法"): the
        # answer is the option, as the question names it.
        ctx.record.note(ctx.node, "the answer names part of one option: answered with the option",
                        reply=reply)
        reply = option
    return reply


def _told_by_sentences(question: str, found: list, passages: list):
    """`decide(question, text)` (`in_common`, `compared`, `alike`) read from the reader's sentences and the
    document's passages, and from what Lv3's lookups answered too only when those do not tell."""
    documented = [p for p in passages if not _looked_up(p)]
    in_document = "\n".join([format_context(found, cite=False), format_context(documented, cite=False)])
    # Lv3's memory as what its lookups stated: its questions are the model's words, and an answer made by
    # code gives its sentences rather than a quote of a quote ("不是（A: 不是（…）…）").
    stated = "\n".join(_stated(str(p["answer"])) for p in passages if _looked_up(p))

    def told(decide):
        return decide(question, in_document) or (
            decide(question, f"{in_document}\n{stated}") if stated else None)
    return told


def _stated(answer: str) -> str:
    """An answer made by code from two sentences ("No (A is a pilot; B is a miller)": `_ALIKE`,
    `_IN_COMMON`) as its sentences, one a line; any other answer as it is."""
    made = _MADE_BY_CODE.match(answer.strip())
    return "\n".join([made.group(1), *re.split(r"\s*[;；]\s*", made.group(2))]) if made else answer


# "head (sentence; sentence)": the form of every answer made by code from two sentences.
_MADE_BY_CODE = re.compile(r"^(.*?)\s*[(（](.+?[;；].+)[)）]$", re.DOTALL)


# A comparison settled by its numbers (`compared`): the option, and the sentence that says why.
_SETTLED = {"en": "{option} ({sentence})", "zh": "{option}（{sentence}）"}
# What two things have in common (`in_common`), and the sentences that say it of each.
_IN_COMMON = {"en": "{answer} ({first}; {second})", "zh": "{answer}（{first}；{second}）"}
# What the sentence that fits around a Chinese question word has in its place (`cloze.in_its_place`).
_PLACED = "{answer}（{sentence}）"
# Whether two things are alike (`alike`), and the sentence about each.
_ALIKE = {"en": {True: "Yes ({first}; {second})", False: "No ({first}; {second})"},
          "zh": {True: "是的（{first}；{second}）", False: "不是（{first}；{second}）"}}

_QUESTION_MARK = re.compile(r"[?？]")
_NUMBERING = re.compile(r"^\s*(?:\d+\s*[.)、．]|[-*•])\s*")


def separate_questions(asked: str, information: list | None = None) -> list[str]:
    """The questions in `asked`: each line (or each item of the split-off information) that holds a
    question mark, without its numbering, when there are two or more ("Answer each of these: 1. ...? 2.
    ...?"); else `asked` whole. A line with two questions in it is one question about one thing."""
    items = [i for i in string_list(information) if _QUESTION_MARK.search(i)]
    if len(items) < 2:
        items = [line for line in asked.splitlines() if _QUESTION_MARK.search(line)]
    items = [_NUMBERING.sub("", i).strip() for i in items]
    return items if len(items) >= 2 else [asked]


def _answer_from(ctx: Context, lang: str, prompt: str, question: str, items: list, check: bool,
                 focus: int, ties: list = (), known: list = (), on_the_way: list | None = None) -> str:
    # The model may be asked with what Lv3's lookups answered; the reply is checked against the question.
    reply = _ask(ctx, lang, prompt, with_known(question, known, lang) if known else question, items)
    return _checked(ctx, lang, prompt, question, items, reply, focus, ties, on_the_way) \
        if check and not is_decline(reply) else reply


def _ask(ctx: Context, lang: str, prompt: str, question: str, evidence: list) -> str:
    return ctx.chat(fill(ctx, "answer", lang, prompt, question=question, instructions=_LANGUAGE_RULE[lang],
                         context=quoted(format_context(evidence)))).strip()


def _checked(ctx: Context, lang: str, prompt: str, question: str, evidence: list, reply: str,
             focus: int, ties: list = (), on_the_way: list | None = None) -> str:
    """`reply` if the context supports it (`evidence`, what the model was shown, with `ties`, more of
    the document that may tie it to the question). An echo of the question, an answer taken from a
    look-alike of the sentence about what was asked, or the pick of the option the context says less of,
    is asked again from the most relevant sentences (the model did not find the answer in what it was
    shown, or took the wrong one of two alike), the echo with a note that it is not the answer (or, when
    the question offers options, to answer with one of them), the pick with the options in the other
    order (a small model picks the first name it is offered); a supported reply that gives no time, number or
    nationality where the question asks for one (`gives_kind`), or one that gives one the context does not
    hold, is asked again from the sentences that give one (`of_kind`), and a step on the way (`a_step`), or a
    reply beside the point (`beside_the_point`: what the context says of a thing the question names, not what
    the question asks of it), from those that say what was asked: if that second reply fails too, the first of
    those sentences that passes the check is the answer (`next_hop`), and a pick of the weaker option made
    again gives way to the other option, with the sentence that says it (`stronger_option`: "Pellora (Pellora
    is a genus of four species)"); any other second reply that fails is declined. An answer the context does
    not hold, or holds only in a part about something else, is declined at once (the model had nothing to
    find, and a second ask would only make it pick some other words from the context). A declined step, or
    reply of the wrong kind, goes to `on_the_way`."""
    shown = format_context(evidence, cite=False)
    source = _together(shown, format_context(ties, cite=False)) if ties else shown
    why = _judged(reply, question, source)
    held = why != NOT_IN_CONTEXT     # what the reply says is in the context (of any kind)
    if why == NOT_IN_CONTEXT and asked_kind(question) and gives_kind(reply, question):
        # Asked how many, a 0.5B model writes a count of its own ("1", "10人") where the context gives
        # "seven novels", "八人": the number is made up, not the thing asked about; like a reply that
        # gives no number, it is asked again from the sentences that give one.
        why = WRONG_KIND
    # A reply of the wrong kind that the context holds is a step on the way too: "The costume designer of
    # Homage to the Queen was Oliver Messel." for "What was the nationality of ...?".
    onward = why == STEP or why == WRONG_KIND and held
    if why in (ECHO, LOOK_ALIKE, WEAKER_CHOICE, WRONG_KIND, STEP, INVENTED, BESIDE_THE_POINT):
        # A pick of the weaker option is asked again with the options the other way round, from the
        # sentences shown when there are no fewer to show; a reply of the wrong kind, a step on the way
        # or a reply beside the point, from the sentences that hold the kind, or the thing, asked for; one
        # that makes up a name, from those closest to the question and to the words of it that are written.
        # A step goes with itself as a fact found: the next hop starts from it (shown "Oliver Messel is an
        # English artist" without what ties him to the question, a 0.5B model names the designer again).
        again_asked = (swapped(question) if why == WEAKER_CHOICE
                       else _one_of(question, lang) or _not_this(question, reply, lang) if why == ECHO
                       else with_known(question, [reply], lang) if onward else None) or question
        by_kind = why in (WRONG_KIND, STEP, INVENTED, BESIDE_THE_POINT)
        kind = of_kind(source, question, reply, focus, why, onward) if by_kind else []
        # (with nothing of the kind asked for in the context, a reply of the wrong kind is declined at once)
        narrowed = (kind if by_kind else focused(evidence, question, focus)) \
            or (evidence if again_asked != question and why != WRONG_KIND else [])
        if narrowed and (format_context(narrowed, cite=False) != shown or again_asked != question):
            ctx.record.count("answers_asked_again")
            first, reply = reply, _ask(ctx, lang, prompt, again_asked, narrowed)
            declined = is_decline(reply)
            again = "" if declined else _judged(reply, question, source)
            if not declined and not again and why == WEAKER_CHOICE and len(picked(reply, question)) != 1:
                # Asked again because its pick was doubtful, a reply that names both options (or
                # neither) has not picked: "...分别是..., 所以棉兰老岛战役更长" against the dates it quotes.
                again = "picks neither option"
            if not declined and not again:
                return reply
            hop = next_hop(kind, question, source) if why in (STEP, BESIDE_THE_POINT) \
                else next_hop(_going_on(kind, first, question, source), question, source) if onward else None
            if hop:
                # A 0.5B model asked again from "Tartuffe was written by Molière", with the step known,
                # copies the step: the sentence that goes on from the step, and passes the check, answers.
                ctx.record.note(ctx.node, f"the answer {first[:200]!r} is a step on the way, and asked again "
                                          "the model found no more: answered with the sentence that goes on "
                                          "from it", reply=reply)
                return hop
            plainly = without_known(question)[0]
            stronger = stronger_option(plainly, source) \
                if why == WEAKER_CHOICE and again.startswith(WEAKER_CHOICE) else None
            if stronger:
                # Asked again with the options the other way round, a 0.5B model picks the option the context
                # says less of again: the other one, with the sentence that says it, answers.
                ctx.record.note(ctx.node, f"the answer {first[:200]!r} picks the option the context says less "
                                          "of, twice: answered with the other", reply=reply)
                return _SETTLED[lang].format(option=option_texts(plainly)[stronger[0]],
                                             sentence=stronger[1].rstrip("。.").strip())
            placed = in_its_place(plainly, source) if why == ECHO else None
            if placed and not _judged(placed[0], question, source):
                # A 0.5B model asked a Chinese question echoes a value of it ("美国" for "...美国驻哪个国家的大
                # 使？") twice; the sentence that fits around the question word has the answer in its place.
                ctx.record.note(ctx.node, f"the answer {first[:200]!r} repeats the question, and asked again the "
                                          "model found no more: answered with what the sentence that fits around "
                                          "the question word has in its place", reply=reply)
                return _PLACED.format(answer=placed[0], sentence=placed[1].rstrip("。.").strip())
            if declined:
                return reply
            apart = _apart(narrowed, first, reply) if why == ECHO and again.startswith(ECHO) else []
            if apart:
                # Told that its echo is not the answer, a 0.5B model gives it again ("缅因州北港" from "鹅岩灯塔
                # 是一座位于缅因州北港附近的灯塔，在佩诺布斯科特湾"): the answer is in what the question does not say,
                # so it is asked once more from the sentences that do not hold the echo.
                ctx.record.count("answers_asked_again")
                third = _ask(ctx, lang, prompt, question, apart)
                if not is_decline(third) and not _judged(third, question, source):
                    ctx.record.note(ctx.node, f"the answer {first[:200]!r} repeats the question, twice: "
                                              "answered from the sentences that do not hold it", reply=third)
                    return third
            why = f"{why} (asked again: {reply[:200]!r} {again})"
            reply = first
    if not why:
        return reply
    ctx.record.note(ctx.node, f"the answer {reply[:200]!r} {why}: declined")
    if on_the_way is not None and why.startswith((STEP, WRONG_KIND)):
        # The model named a step on the way (the first hop, or what the question asks a time or a
        # nationality of): declined, it is still what was found, and where the next hop starts.
        on_the_way.append(reply)
    return NOT_FOUND[lang]


# What a second ask after an echo adds to the question: a 0.5B model asked "谁嫁给了吉姆·汤林森...？" answers
# "吉姆·汤林森" again and again, from the two sentences that name his wife.
_NOT_THIS = {"en": '{question} (Not "{reply}": the question says that already.)',
             "zh": "{question}（答案不是“{reply}”：问题里已经有了。）"}
_NOT_THIS_CHARS = 60


# What a second ask after an echo adds to a question that offers options: a 0.5B model asked "In between
# Splash and Son of Flubber, which one was directed by Ron Howard?" answers "Ron Howard" again when told
# that is not it, and picks when told to pick.
_ONE_OF = {"en": "{question} (Answer with one of: {a}, {b}.)", "zh": "{question}（只回答{a}或{b}。）"}


def _one_of(question: str, lang: str) -> str | None:
    """The question with a note to answer with one of its options (None when it offers none)."""
    offered = option_texts(question)
    return _ONE_OF[lang].format(question=question, a=offered[0], b=offered[1]) if offered else None


def _naming(found: list[str], reply: str, question: str) -> list[str]:
    """The sentences of `found` that hold a word of `reply` the question does not."""
    own = terms(reply) - terms(question)
    return [s for s in found if terms(s) & own]


def _going_on(found: list[str], reply: str, question: str, source: str) -> list[str]:
    """The sentences of `found` that go on from `reply`, a step: they name what it named (`_naming`), and
    are not where it was taken from (of the sentences of `source` that name it, those that share most of
    the question's terms). "Varno Hall opened in May 1921" goes on from "Varno Hall", "The 1910 Lakeside
    Chess Finals were held at Varno Hall" is its source; "Crespo每年举办的啤酒节基于慕尼黑啤酒节" gives a time to
    the generous test ("每年"), and is where "慕尼黑啤酒节" came from."""
    asked = terms(question)
    naming = _naming(sentences(source), reply, question)
    most = max((len(terms(s) & asked) for s in naming), default=0)
    return [s for s in _naming(found, reply, question) if len(terms(s) & asked) < most]


def _apart(evidence: list, *echoes: str) -> list[str]:
    """The sentences of `evidence` that hold none of `echoes` (a reply's words that the question has);
    [] when every sentence, or none, holds one."""
    echoes = tuple(e.strip().rstrip("。.") for e in echoes if e.strip())
    found = _sentences_of(evidence)
    apart = [s for s in found if not any(e in s for e in echoes)]
    return apart if len(apart) < len(found) else []


def _not_this(question: str, reply: str, lang: str) -> str | None:
    """The question with a note that `reply`, an echo of it, is not the answer (None for a long reply,
    which would crowd the question)."""
    reply = reply.strip().rstrip("。.")
    return _NOT_THIS[lang].format(question=question, reply=reply) if len(reply) <= _NOT_THIS_CHARS else None


def _judged(reply: str, question: str, source: str) -> str:
    """Why `reply` is no answer to the question from `source`, or '' when it is one: not supported by it
    (`unsupported`), or supported but not the kind of thing asked for (a time, a number), or a step on
    the way to it (`a_step`: the first hop of a two-hop question), or holding a name the source never
    writes (`invents`)."""
    if yes_or_no(reply, question):
        return ""
    return unsupported(reply, question, source) or ("" if gives_kind(reply, question) else WRONG_KIND) \
        or (WEAKER_CHOICE if weaker_pick(reply, question, source) else "") \
        or (INVENTED if invents(reply, question, source) else "") \
        or (STEP if a_step(reply, question, source) else "") \
        or (BESIDE_THE_POINT if beside_the_point(reply, question, source) else "")


def _together(shown: str, ties: str) -> str:
    """`ties` and the sentences of `shown` it does not hold: each sentence once, so that a name the
    reader's sentence shares with a passage still counts as rare (a reader's sentences are in the chunks
    they came from)."""
    known = set(sentences(ties))
    return "\n".join([ties, *(s for s in sentences(shown) if s not in known)])


def _follow(ctx: Context, lang: str, prompt: str, question: str, reply: str, instructions: list) -> str:
    rewritten = ctx.chat(fill(ctx, "follow_instructions", lang, prompt, question=question, answer=reply,
                              instructions=bullet_list(string_list(instructions)))).strip()
    if not rewritten:
        ctx.record.fallback(ctx.node, "the model returned nothing for the instructions: the answer is "
                                      "given as it was", answer=reply)
        return reply
    return rewritten


def focused(evidence: list, question: str, k: int) -> list[str]:
    """The `k` sentences of `evidence` that share most terms with the question (at least one), in the
    order they come."""
    found = _sentences_of(evidence)
    return [found[i] for i in closest(found, question, k)]


def _sentences_of(evidence: list) -> list[str]:
    """The sentences of each item of `evidence`, in order, without its citation (an item's sentences never run
    into the next's)."""
    return [s for item in evidence for s in sentences(format_context([item], cite=False)) if terms(s)]


def of_kind(source: str, question: str, reply: str, k: int, why: str = WRONG_KIND,
            onward: bool = False) -> list[str]:
    """The `k` sentences of `source` that give the kind of thing the question asks for (a time, a number, a
    nationality; for a STEP, what it asks for by name, `asked_for`; for a reply BESIDE_THE_POINT, what it
    asks for in any; any, for a reply that makes up a name) and share most terms with the question and
    `reply`, in the order they come; for a step on the way (`onward`: a STEP, or a reply of the wrong kind
    that the context holds), in those that hold the reply's own words when some do. A reply of the wrong
    kind often names what the answer is about ("the Canadian Tire Centre" for "When did the arena that
    hosted the trials open?"), and the sentence that dates it names it too; so does the sentence that says
    what was asked of a step ("The Saturdays were formed through Fascination Records")."""
    if why in (STEP, BESIDE_THE_POINT):
        # ...the sentences that say what was asked of the step itself, when some do: a 0.5B model shown
        # the book's other lines about writing copies the step again.
        wanted = asked_for(question)
        found = [s for s in sentences(source) if terms(s) & wanted]
    elif why == INVENTED:
        found = sentences(source)
    else:
        kind = asked_kind(question)   # once: it reads the question's options, with jieba for Chinese
        found = [s for s in sentences(source) if gives_kind(s, question, kind)]
    if onward or why == STEP:
        found = _naming(found, reply, question) or found
    return [found[i] for i in closest(found, f"{question}\n{reply}", k)]


def next_hop(found: list[str], question: str, source: str) -> str | None:
    """The first of `found` (the sentences that say what was asked of a step, `of_kind`) that, taken as the
    reply, is an answer to the question from `source` (`_judged`): not a step itself, tied to the question
    through the step's sentence. On NeedleBench's reasoning records with book lines around, the first hop
    judged a step, it holds the gold answer 185 times in 215 (English), 65 in 78 (Chinese)."""
    return next((s for s in found if not _judged(s, question, source)), None)


def strongest(evidence: list, question: str, budget: int, also: list[str] = ()) -> list:
    """`evidence` without repeats, cut to `budget` tokens by keeping the items that share most terms with
    the question and the texts `also` (what Lv3's lookups answered), in document order. Lv3 gathers the
    same sentence from several lookups, and a reader at 1M tokens keeps some sentence from hundreds of
    chunks."""
    unique = list({_text(item): item for item in evidence}.values())
    asked = terms("\n".join([question, *also]))
    kept, spent = [], 0
    for i in sorted(range(len(unique)), key=lambda i: -len(terms(_text(unique[i])) & asked)):
        cost = count_tokens(_text(unique[i]))
        if spent + cost <= budget:
            kept.append(i)
            spent += cost
    return sorted((unique[i] for i in kept), key=_place)


def taken_from(reply: str, question: str, items: list, known: list = (), most: int = 3) -> list[dict]:
    """For each sentence of the reply, the sentences of `items` (the reader's sentences, retrieved chunks)
    that hold as many of its own words (those the question lacks) as any, and at least half, the `most`
    that hold most of the question's; as evidence items (`{"chunk", "doc", "start", "end", "text"}`), none
    already in `known`.

    They are what the answer was taken from, and for a step on the way, where the next step starts: "Duane
    Swank got his PhD from Northwestern University." has "Northwestern University" of its own, held by
    the sentence it came from and by "Northwestern University is in Evanston, Illinois"."""
    asked = terms(without_known(question)[0])
    seen = _texts(known)
    candidates = _item_sentences(items)
    held = {text: terms(text) for text, _ in candidates}
    taken = {}
    for part in sentences(reply) or [reply]:
        own = terms(part) - asked
        holding = {text: (len(held[text] & own), item) for text, item in candidates
                   if own and len(held[text] & own) * 2 >= len(own)}
        # Only those that hold as many as any: "The college bell rang." holds half of "Harwick College".
        most_held = max((n for n, _ in holding.values()), default=0)
        best = sorted((text for text, (n, _) in holding.items()
                       if n == most_held and not _within(text, seen)),
                      key=lambda text: -len(held[text] & asked))[:most]
        for text in best:
            taken.setdefault(text, holding[text][1])
    return [_evidence(text, item) for text, item in taken.items()]


def naming_sentences(question: str, items: list, known: list = (), most: int = 3) -> list[dict]:
    """The sentences of `items` that name what the question names (`grounding.naming`), the `most` that
    share most of its words, as evidence items; none already in `known`. What a lookup that found no answer
    still found: "Vitol is a larger oil trader than Trafigura" for "In which city was this ... company
    larger than Trafigura as an oil trader formed?", a sentence a reader asked the whole question drops
    (it does not say where), and where Lv3's next hop starts."""
    seen = _texts(known)
    candidates = [(text, item) for text, item in _item_sentences(items) if not _within(text, seen)]
    named = [candidates[i] for i in naming(without_known(question)[0], [text for text, _ in candidates])]
    return [_evidence(text, item) for text, item in
            (named[i] for i in closest([text for text, _ in named], question, most))]


def _item_sentences(items: list) -> list[tuple[str, dict]]:
    """Each sentence of the evidence items or chunks `items` (its spaces made single), with its item."""
    return [(" ".join(sentence.split()), item) for item in items
            if isinstance(item, dict) and str(item.get("text") or "").strip()
            for sentence in sentences(str(item["text"]))]


def _texts(known: list) -> list[str]:
    """The texts of `known` (evidence items or strings), their spaces made single."""
    return [" ".join(_text(item).split()) for item in known]


def _within(text: str, seen: list[str]) -> bool:
    """Whether `text` is part of one of the texts `seen` (a sentence already known)."""
    return any(text in known_text for known_text in seen)


def _evidence(text: str, item: dict) -> dict:
    """A sentence of an evidence item or a chunk, as an evidence item."""
    return {"chunk": item.get("chunk", item.get("id")), "doc": item.get("doc"), "start": item.get("start"),
            "end": item.get("end"), "text": text}


def _text(item: Any) -> str:
    return str(item.get("text", "")) if isinstance(item, dict) else str(item)


def _place(item: Any) -> tuple:
    """Where an evidence item is in the documents; items that do not say keep their order."""
    if isinstance(item, dict) and isinstance(item.get("start"), int):
        return str(item.get("doc", "")), item["start"]
    return "", 0


def _found_answers(passages: list, budget: int) -> list[str]:
    """What Lv3's lookups answered (`passages`' memory entries; those that found nothing are not usable),
    each once, the last first, within `budget` tokens."""
    return first_within(list(dict.fromkeys(str(p["answer"]).strip() for p in reversed(passages)
                                           if _looked_up(p))), budget)


def _whole_looked_up(passages: list, question: str) -> str | None:
    """What the last of Lv3's lookups of `question` itself (as asked, or with the facts found added:
    `with_known`) answered, if one found something."""
    whole = plain(question)
    return next((str(p["answer"]).strip() for p in reversed(passages)
                 if _looked_up(p) and plain(without_known(str(p.get("question", "")))[0]) == whole), None)


def _looked_up(item: Any) -> bool:
    """Whether `item` is an entry of Lv3's memory, `{"question", "answer"}`, rather than document text."""
    return isinstance(item, dict) and "answer" in item and "text" not in item


def usable(context: Any) -> list:
    """The context items worth answering from: not empty, and not a looked-up answer that itself says
    the document does not say (Lv3's memory of a sub-question that found nothing)."""
    items = context if isinstance(context, list) else [context] if context else []
    out = []
    for item in items:
        if _looked_up(item):
            if str(item.get("answer") or "").strip() and not is_decline(str(item["answer"])):
                out.append(item)
        elif isinstance(item, dict) and str(item.get("text") or "").strip():
            out.append(item)
        elif isinstance(item, str) and item.strip():
            out.append(item)
    return out


def citation(item: dict) -> str:
    """A chunk's or an evidence item's header: "doc0#3", or "doc0#3, page 2" when it comes from a page,
    slide, sheet or heading of a rich document (a plain text's prompts stay as they always were)."""
    where = item.get("id") or item.get("chunk", "")
    return f"{where}, {item['section']}" if item.get("section") else str(where)


def format_context(context: Any, cite: bool = True) -> str:
    """The context as the model is shown it: each passage under its citation (`[doc0#3, page 2]`), each of
    Lv3's lookups as "Q: ...\nA: ...". Without `cite`, the text the checks read: a chunk's number is no
    count the document gives ("3" for "How many...?" is not in "[doc0#3]"); a mark with no words in its
    place keeps the passages apart, as the citation did (a sentence is tied through its neighbours)."""
    if not context:
        return "(nothing relevant was found)"
    parts = []
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict) and "text" in item:
            parts.append(f"[{citation(item) if cite else '#'}]\n{item['text'].strip()}")
        elif isinstance(item, dict) and "answer" in item:
            parts.append(f"Q: {item.get('question', '')}\nA: {item['answer']}")
        else:
            parts.append(str(item))
    return "\n\n".join(parts)
