"""The scripted server's rules as an in-process langchain chat model: the same test double, without HTTP.

    model = ScriptedChatModel.of(Script(needles=[...], plan=[...]))
    run_flow("flows/lv3.yaml", documents=[...], question="...", model=model)

Like the server, it replies by the form of each prompt (a prompt it does not know raises), plans from
what earlier steps found, and takes tools (`tool_calling=False` in the script makes it refuse them).
"""
from __future__ import annotations

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from .scripted_server import Responder, Script


class ToolsRefused(Exception):
    """What an endpoint without tool calling answers a request with tools: HTTP 400."""
    status_code = 400


class ScriptedChatModel(BaseChatModel):
    responder: Any = None
    tools: list | None = None

    @classmethod
    def of(cls, script: Script) -> "ScriptedChatModel":
        return cls(responder=Responder(script))

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: list, **kwargs) -> "ScriptedChatModel":
        return self.model_copy(update={"tools": list(tools)})

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs) -> ChatResult:
        if self.tools and not self.responder.script.tool_calling:
            raise ToolsRefused("tools are not supported by this model")
        plain = [{"role": m.type, "content": m.content} for m in messages]
        text, call, _ = self.responder.reply(plain, self.tools)
        calls = [{"name": call["name"], "args": call["arguments"], "id": "call_1"}] if call else []
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, tool_calls=calls))])


__all__ = ["ScriptedChatModel", "Script"]
