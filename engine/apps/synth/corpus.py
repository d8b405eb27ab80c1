"""The documents a synthesis run reads: found on disk, loaded and chunked the way the flow chunks them.

A document's id is its path relative to the folder given (or the path as given, for a file): stable
across runs and machines, so that resuming and a Ray worker on another host name the same document.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from longflow.core.context import Context
from longflow.core.spec import Flow, load_flow
from longflow.nodes.documents import SUPPORTED_SUFFIXES, chunk, load_document

DEFAULT_CHUNK_TOKENS = 512    # what lv1, lv2 and lv3 chunk at


@dataclass(frozen=True)
class DocRef:
    """A document to read: where it is and what it is called in the output."""
    id: str
    path: str = ""
    text: str = ""            # the document itself, for one given inline (a Q/A file's "text")


def find_documents(given: list[str]) -> list[DocRef]:
    """Every supported file under each folder (recursively, sorted) and each file given, in order.

    Raises ValueError naming what is missing or empty, and how to fix it."""
    if not given:
        raise ValueError("no documents: give --docs FOLDER or --docs FILE (repeatable)")
    refs: list[DocRef] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not files:
                raise ValueError(f"--docs {item}: the folder holds no document with a supported suffix "
                                 f"({', '.join(SUPPORTED_SUFFIXES)})")
            refs += [DocRef(str(p.relative_to(path)), str(p)) for p in files]
        elif path.is_file():
            refs.append(DocRef(item, str(path)))
        else:
            raise ValueError(f"--docs {item}: no such file or folder; give a folder of documents or a "
                             f"document's path")
    seen: set[str] = set()
    unique = []
    for ref in refs:   # a file named twice (or inside a folder also given) is read once
        key = str(Path(ref.path).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(ref)
    return unique


@dataclass
class LoadedDocument:
    ref: DocRef
    document: dict            # longflow.nodes.documents.Document, id "doc0" (the id the flow's chunks carry)
    chunks: list[dict]        # as the flow chunks it: ids "doc0#i"

    @property
    def tokens(self) -> int:
        return sum(c["tokens"] for c in self.chunks)

    @property
    def text(self) -> str:
        return self.document["text"]


def load(ref: DocRef, chunk_tokens: int) -> LoadedDocument:
    """Load and chunk one document (the chunkings are cached on disk, as in a run)."""
    ctx = Context(node="synth", stream=None)
    given = {"id": "doc0", "text": ref.text, "source": ref.id} if ref.text else ref.path
    document = load_document([given], ctx=ctx)["documents"][0]
    return LoadedDocument(ref, document, chunk([document], tokens=chunk_tokens, ctx=ctx)["chunks"])


def chunk_tokens(flow: Flow, given: dict | None = None) -> int:
    """The chunk size of the flow's first `chunk` node (in imported flows too, with the importing node's
    `with: {chunk.tokens: N}` or `--set ask.chunk.tokens=N`), so that the chunk ids a run reports and the
    proposing chunks' ids name the same text. `given`: such dotted parameters from the importing node."""
    given = given or {}
    for node in flow.nodes.values():
        if node.kind is not None and node.kind.name == "chunk":
            return int(given.get(f"{node.name}.tokens", node.params.get("tokens", DEFAULT_CHUNK_TOKENS)))
        if node.subflow is not None:
            inner = {k: v for k, v in node.params.items() if "." in k}    # the node's `with: {chunk.tokens}`
            inner |= {k.split(".", 1)[1]: v for k, v in given.items() if k.startswith(f"{node.name}.")}
            found = chunk_tokens(node.subflow, inner)
            if found:
                return found
    return 0


@functools.lru_cache(maxsize=8)
def cached_flow(path: str, overrides: tuple = ()) -> Flow:
    """A flow loaded once per process (a worker runs many documents with it)."""
    return load_flow(path, overrides=dict(overrides))
