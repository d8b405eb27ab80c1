"""The last step of every level: answer from the retrieved context (or Lv3's memory)."""
from __future__ import annotations

from typing import Any

from longflow.core.context import Context
from longflow.core.registry import node

from .llm import bullet_list
from .parsing import is_decline, string_list
from .templates import fill
from .tokens import language_of

# What the answer step says, without asking the model, when there is nothing to answer from: a small model
# handed an empty context invents an answer.
NOT_FOUND = {"en": "The document does not say.", "zh": "文档中没有提到。"}
_LANGUAGE_RULE = {"en": "Answer in English unless an instruction says otherwise.",
                  "zh": "除非指令另有要求，请用中文回答。"}
_INSTRUCTIONS = {"en": "Follow these instructions:", "zh": "遵守以下指令："}


@node(outputs={"answer": "str"}, uses_model=True,
      param_docs={"prompt": "template file overriding the built-in one"})
def answer(question: str, context: Any = None, instructions: list | None = None, *, prompt: str = "",
           ctx: Context) -> dict:
    """Answer the question from `context`, in the question's language, obeying the split-off instructions.

    `context` may be retrieved chunks (shown in document order with their ids), Lv3 memory entries
    (`{"question", "answer"}`), or plain strings. With nothing in it to answer from (empty, or only
    sub-answers that found nothing), the reply is "The document does not say." without asking the model,
    which would invent one; the prompt also tells it to say so when the context does not hold the answer.
    """
    lang = language_of(question)
    evidence = usable(context)
    if not evidence:
        ctx.record.note(ctx.node, "nothing relevant to answer from: the document does not say")
        return {"answer": NOT_FOUND[lang]}
    rules = [_LANGUAGE_RULE[lang]]
    if instructions:
        rules = [_INSTRUCTIONS[lang], bullet_list(string_list(instructions))]
    text = fill(ctx, "answer", lang, prompt, question=question, context=format_context(evidence),
                instructions="\n".join(rules))
    return {"answer": ctx.chat(text).strip()}


def usable(context: Any) -> list:
    """The context items worth answering from: not empty, and not a looked-up answer that itself says
    the document does not say (Lv3's memory of a sub-question that found nothing)."""
    items = context if isinstance(context, list) else [context] if context else []
    out = []
    for item in items:
        if isinstance(item, dict) and "answer" in item and "text" not in item:
            if str(item.get("answer") or "").strip() and not is_decline(str(item["answer"])):
                out.append(item)
        elif isinstance(item, dict) and str(item.get("text") or "").strip():
            out.append(item)
        elif isinstance(item, str) and item.strip():
            out.append(item)
    return out


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
