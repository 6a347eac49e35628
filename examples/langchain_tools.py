"""A LangChain agent that asks the on-call engineer before it restarts anything.

The agent has two tools: `restart_service`, which runs only after a person approves it by
email, and a tool to email that person a question and wait for the reply. Both are ordinary
LangChain tools made with `StructuredTool.from_function`.

    python examples/langchain_tools.py oncall@example.com

Needs `pip install langchain-core langchain-openai`, OPENAI_API_KEY, and signoff's
SIGNOFF_API_KEY / SIGNOFF_API_BASE (see examples/README.md). Any LangChain chat model that
supports tool calling works: pass it to `main(chat_model=...)`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool

from signoff import ContactChannel, EmailContactChannel, HumanLayer

MAX_MODEL_CALLS = 10

TASK = (
    "The checkout service has answered 502 for the last ten minutes. Ask the on-call engineer "
    "whether a restart is fine, then restart it if they agree, and tell me what happened."
)


def build_tools(hl: HumanLayer) -> list[BaseTool]:
    @hl.require_approval()
    def restart_service(name: str, reason: str) -> str:
        """Restart one production service by name; `reason` is shown to whoever approves it."""
        return f"{name} restarted"

    return [
        StructuredTool.from_function(restart_service),
        StructuredTool.from_function(hl.human_as_tool()),
    ]


def run_agent(chat_model: BaseChatModel, tools: Sequence[BaseTool], task: str) -> str:
    """Call the model, run the tools it asks for, feed their results back, until it answers."""
    model_with_tools = chat_model.bind_tools(tools)
    tools_by_name = {tool.name: tool for tool in tools}
    messages: list[BaseMessage] = [
        SystemMessage("You are a careful site-reliability assistant. Use your tools."),
        HumanMessage(task),
    ]
    for _ in range(MAX_MODEL_CALLS):
        reply = model_with_tools.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return reply.text
        for tool_call in reply.tool_calls:
            # Invoking a tool with the model's tool call returns the ToolMessage the model reads next.
            messages.append(tools_by_name[tool_call["name"]].invoke(tool_call))
    raise RuntimeError(f"no final answer after {MAX_MODEL_CALLS} model calls")


def default_chat_model() -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise SystemExit("the default model needs `pip install langchain-openai`") from exc

    return ChatOpenAI(model=os.getenv("OPENAI_MODEL", "gpt-4o-mini"))


def main(oncall_email: str, chat_model: BaseChatModel | None = None) -> str:
    hl = HumanLayer(
        agent_name="sre-assistant",
        contact_channel=ContactChannel(
            email=EmailContactChannel(
                address=oncall_email, context_about_user="the on-call engineer for checkout"
            )
        ),
    )
    answer = run_agent(chat_model or default_chat_model(), build_tools(hl), TASK)
    print(answer)
    return answer


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "you@example.com")
