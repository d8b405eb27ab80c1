"""Understanding the question: split it into information and instructions; turn it into keywords."""
from __future__ import annotations

import re
from typing import Annotated

from longflow.core.context import Context
from longflow.core.registry import Range, node

from .grounding import held, terms
from .lang import CJK_RANGES, QUESTION_STOP
from .llm import ask_json
from .parsing import string_list
from .templates import fill
from .tokens import language_of, truncate_to_tokens

# A CJK run, or a word of any other letters and digits: "Sébastien" and "Molière" whole (an ASCII class
# cut them into "S" + "bastien", terms no chunk holds, which the relevance gate weighed as missing).
_LETTER = f"[^\\W_{CJK_RANGES}]"
_QUESTION_WORD = re.compile(f"[{CJK_RANGES}]+|{_LETTER}(?:{_LETTER}|['\\-])*")


@node(outputs={"information": "list[str]", "instructions": "list[str]", "language": "str"}, uses_model=True,
      param_docs={"prompt": "template file overriding the built-in one (relative to the flow; may use {lang})"})
def split_query(question: str, *, prompt: str = "", ctx: Context) -> dict:
    """Split the question into the information to find and the instructions on how to answer.

    Small models sometimes return no usable JSON, answer the question instead of splitting it, copy
    the prompt's example, or give the question's options as instructions: an item whose words are not the
    question's is dropped, so is an instruction that says nothing of how to answer, and with no
    information left, or with the information and instructions holding less than half of the question's
    words (a fragment, or the first of several questions), the whole question is the information; the run
    record says so (`fallbacks`).
    `language` is 'en' or 'zh', from the question's script, not from the model.
    """
    lang = language_of(question)
    reply = ask_json(ctx, fill(ctx, "split_query", lang, prompt, question=question),
                     ("information", "instruction", "instructions"), lang)
    information = string_list(reply.get("information")) if reply else []
    instructions = string_list(reply.get("instruction", reply.get("instructions"))) if reply else []
    # A small model answers the question instead of splitting it, or copies the prompt's example: keep
    # only what the question itself says.
    asked = terms(question)
    kept = [i for i in information if held(i, asked) >= 0.9]
    # ...and takes a question's options ("Peter Tscherkassky", "Abel Ferrara") for instructions, which the
    # answer is then rewritten to obey ("Peter Tscherkassky ... is older than Abel Ferrara"): an instruction
    # says how to answer.
    obeyed = [i for i in instructions if held(i, asked) >= 0.6 and _HOW_TO_ANSWER.search(i)]
    if len(kept) < len(information) or len(obeyed) < len(instructions):
        ctx.record.fallback(ctx.node, "parts of the reply are not in the question, or are no instructions: "
                                      "dropped",
                            information=[i for i in information if i not in kept],
                            instructions=[i for i in instructions if i not in obeyed])
    if not kept:
        ctx.record.fallback(ctx.node, "no information in the reply: using the whole question", reply=reply)
        kept = [question]
    elif len(asked & set().union(*map(terms, kept + obeyed))) < 0.5 * len(asked):
        # A small model keeps a fragment ("Not Giving Up" of "\"Not Giving Up\" is a song by a girl group
        # formed through what record label?"), or the first of a list of questions: the readers would look
        # for that alone.
        ctx.record.fallback(ctx.node, "the information leaves out most of the question: using the whole "
                                      "question", information=kept)
        kept = [question]
    return {"information": kept, "instructions": obeyed, "language": lang}


# The words of an instruction on how to answer: its verb, the language, the form or the length asked for.
_HOW_TO_ANSWER = re.compile(
    r"\b(?:answer|answers|reply|respond|response|write|give|list|format|begin|start|end|keep|include|"
    r"translate|say|state|express|limit|use|only|sentences?|words?|paragraphs?|bullets?|table|json|yaml|"
    r"markdown|language|english|french|german|spanish|italian|portuguese|russian|chinese|japanese|korean|"
    r"uppercase|lowercase|capitals?|brief|briefly|short|concise|detailed|numbered|please|prefix|quote)\b|"
    r"回答|回复|答|请|用|格式|以|开头|结尾|列出|写|给出|翻译|只|不要|必须|字|句|语|简短|简洁|详细",
    re.IGNORECASE)


@node(outputs={"keywords": "list[str]"}, uses_model=True,
      param_docs={"max_input_tokens": "cap on the text sent to the model (evidence can be long)",
                  "query_words": "also search for the question's own content words",
                  "prompt": "template file overriding the built-in one"})
def extract_keywords(question: str, information: list | None = None, *,
                     max_input_tokens: Annotated[int, Range(minimum=1)] = 2000,
                     query_words: bool = True, prompt: str = "", ctx: Context) -> dict:
    """Keywords in English and Chinese for BM25, from the information part of the question.

    The question's own content words are added too (`query_words`), so that a model that returns poor or
    no keywords still leaves a usable query; with no usable reply at all, those words are the query and
    the run record says so.
    """
    text = "\n".join(string_list(information)) or question
    text = truncate_to_tokens(text, max_input_tokens)
    lang = language_of(question)
    reply = ask_json(ctx, fill(ctx, "extract_keywords", lang, prompt, text=text),
                     ("keywords_en", "keywords_zh", "keywords"), lang)
    keywords = []
    if reply:
        for key in ("keywords_en", "keywords_zh", "keywords"):
            keywords += string_list(reply.get(key))
    own = content_words(question)
    if not keywords:
        ctx.record.fallback(ctx.node, "no keywords in the reply: using the question's words", reply=reply)
    return {"keywords": _unique(keywords + (own if query_words or not keywords else []))}


def content_words(text: str) -> list[str]:
    """The question's words that carry meaning (stop words out); CJK runs kept whole for BM25 to segment."""
    words = _QUESTION_WORD.findall(text)
    return [w for w in words if w.lower() not in QUESTION_STOP]


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out
