"""One sample: a line of chat fine-tuning data, as trainers read it, with its metadata beside it.

    {"id": "...", "messages": [{"role": "system", ...}, {"role": "user", "content": DOCUMENT + question},
                               {"role": "assistant", "content": answer}],
     "meta": {"flow", "model", "document": {"id", "tokens", "sha256"}, "kind", "evidence_chunks",
              "proposed_from", "agreement", "filters", ...}}

Trainers that take `messages` ignore the other keys; `meta` is for choosing and auditing samples.
"""
from __future__ import annotations

import hashlib
import re

SYSTEM = {
    "en": "You answer questions about the document the user gives you, from the document alone. When it "
          "does not hold the answer, say so.",
    "zh": "你根据用户给出的文档回答问题，只依据文档。文档中没有答案时，就如实说明。",
}
QUESTION_LABEL = {"en": "Question: ", "zh": "问题："}


def sample_id(doc_sha256: str, question: str, flow: str) -> str:
    """The same question about the same text, answered by the same flow, is the same sample: this is the
    key a resumed run skips finished work by."""
    normal = re.sub(r"\s+", " ", question.strip().lower())
    return hashlib.sha256(f"{doc_sha256}\n{flow}\n{normal}".encode()).hexdigest()[:20]


def user_message(documents: list[str], question: str, lang: str) -> str:
    """The full document(s), then the question: what a long-context model is to be trained to read."""
    if len(documents) == 1:
        body = documents[0]
    else:
        body = "\n\n".join(f"[Document {i}]\n{text}" for i, text in enumerate(documents, 1))
    return f"{body.rstrip()}\n\n{QUESTION_LABEL.get(lang, QUESTION_LABEL['en'])}{question}"


def chat(documents: list[str], question: str, answer: str, lang: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM.get(lang, SYSTEM["en"])},
            {"role": "user", "content": user_message(documents, question, lang)},
            {"role": "assistant", "content": answer}]


def line(id_: str, documents: list[str], question: str, answer: str, lang: str, meta: dict) -> dict:
    return {"id": id_, "messages": chat(documents, question, answer, lang), "meta": meta}


def rejected(id_: str, question: str, answer: str, reason: str, meta: dict) -> dict:
    """A side-file line: no document text (the side file is for reading why, not for training)."""
    return {"id": id_, "question": question, "answer": answer, "reason": reason, "meta": meta}
