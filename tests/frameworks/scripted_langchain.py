"""A LangChain chat model that plays a `Script`: tool calls first, then a final answer.

langchain-core's own fake chat models return canned messages but cannot bind tools, so an agent
loop cannot hand them its tools; this one binds them the way a real provider does (as OpenAI
function schemas) and lets the script check that the tools it calls were offered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict

from scripted_chat import CallTool, Script


class ScriptedChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: Script

    @property
    def _llm_type(self) -> str:
        return "signoff-scripted"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tool_results = [message.text for message in messages if isinstance(message, ToolMessage)]
        step = self.script.next_step(kwargs.get("tools", []), tool_results)
        if isinstance(step, CallTool):
            reply = AIMessage(
                content="",
                tool_calls=[{"name": step.name, "args": step.arguments, "id": self.script.new_call_id()}],
            )
        else:
            reply = AIMessage(content=step.text)
        return ChatResult(generations=[ChatGeneration(message=reply)])
