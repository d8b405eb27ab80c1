"""The last step of every level: answer from the retrieved context (or Lv3's memory)."""
from __future__ import annotations

from typing import Any

from longflow.core.context import Context
from longflow.core.registry import node

from .llm import bullet_list
from .parsing import string_list
from .templates import fill
from .tokens import language_of

_LANGUAGE_RULE = {"en": "Answer in English unless an instruction says otherwise.",
                  "zh": "除非指令另有要求，请用中文回答。"}
_INSTRUCTIONS = {"en": "Follow these instructions:", "zh": "遵守以下指令："}


@node(outputs={"answer": "str"}, uses_model=True,
      param_docs={"prompt": "template file overriding the built-in one"})
def answer(question: str, context: Any = None, instructions: list | None = None, *, prompt: str = "",
           ctx: Context) -> dict:
    """Answer the question from `context`, in the question's language, obeying the split-off instructions.

    `context` may be retrieved chunks (shown in document order with their ids), Lv3 memory entries
    (`{"question", "answer"}`), or plain strings. With nothing relevant in it, the prompt tells the model
    to say that the document does not say, rather than invent an answer.
    """
    lang = language_of(question)
    rules = [_LANGUAGE_RULE[lang]]
    if instructions:
        rules = [_INSTRUCTIONS[lang], bullet_list(string_list(instructions))]
    text = fill(ctx, "answer", lang, prompt, question=question, context=format_context(context),
                      instructions="\n".join(rules))
    return {"answer": ctx.chat(text).strip()}


def format_context(context: Any) -> str:
    if not context:
        return "(nothing relevant was found)"
    parts = []
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict) and "text" in item:
            parts.append(f"[{item.get('id', '')}]\n{item['text'].strip()}")
        elif isinstance(item, dict) and "answer" in item:
            parts.append(f"Q: {item.get('question', '')}\nA: {item['answer']}")
        else:
            parts.append(str(item))
    return "\n\n".join(parts)
