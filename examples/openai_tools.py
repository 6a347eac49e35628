"""OpenAI's chat-completions tool calling, with refunds that wait for a person's approval.

No framework: the loop below sends the conversation and the tool schemas, runs the tools the
model asks for, and sends their results back until the model answers. The tool schemas come
from the decorated functions themselves (signature and docstring), so decorating a function
with `require_approval()` changes nothing the model sees.

    python examples/openai_tools.py billing-lead@example.com

Needs `pip install openai`, OPENAI_API_KEY, and signoff's SIGNOFF_API_KEY / SIGNOFF_API_BASE
(see examples/README.md). OPENAI_BASE_URL points the client at any OpenAI-compatible server.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from openai import OpenAI
from pydantic import TypeAdapter

from signoff import ContactChannel, EmailContactChannel, HumanLayer

MAX_MODEL_CALLS = 10

TASK = (
    "Order A-1009 was charged twice for the same $12.50 lunch. Refund the duplicate charge, "
    "then tell me what happened."
)


def function_tool(fn: Callable[..., Any]) -> dict[str, Any]:
    """The chat-completions tool entry for `fn`: its name, docstring and parameters."""
    return {
        "type": "function",
        "function": {
            "name": fn.__name__,
            "description": inspect.getdoc(fn) or "",
            # Follows functools.wraps back to the undecorated function's parameters.
            "parameters": TypeAdapter(fn).json_schema(),
        },
    }


def build_tools(hl: HumanLayer) -> list[Callable[..., Any]]:
    @hl.require_approval()
    def refund_payment(order_id: str, amount_cents: int, reason: str) -> str:
        """Refund part or all of an order's payment to the customer's card."""
        return f"refunded {amount_cents} cents on order {order_id}"

    return [refund_payment, hl.human_as_tool()]


def call_tool(tools_by_name: dict[str, Callable[..., Any]], name: str, arguments: str) -> str:
    """Run one tool call; a call the model got wrong becomes a message it can correct."""
    tool = tools_by_name.get(name)
    if tool is None:
        return f"There is no tool named {name!r}."
    return str(tool(**json.loads(arguments)))


def run_agent(client: OpenAI, model: str, tools: list[Callable[..., Any]], task: str) -> str:
    """Call the model, run the tools it asks for, feed their results back, until it answers."""
    tools_by_name = {tool.__name__: tool for tool in tools}
    schemas = [function_tool(tool) for tool in tools]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a billing assistant. Use your tools."},
        {"role": "user", "content": task},
    ]
    for _ in range(MAX_MODEL_CALLS):
        completion = client.chat.completions.create(model=model, messages=messages, tools=schemas)
        reply = completion.choices[0].message
        messages.append(reply.model_dump(exclude_none=True))
        if not reply.tool_calls:
            return reply.content or ""
        for tool_call in reply.tool_calls:
            result = call_tool(tools_by_name, tool_call.function.name, tool_call.function.arguments)
            messages.append({"role": "tool", "tool_call_id": tool_call.id, "content": result})
    raise RuntimeError(f"no final answer after {MAX_MODEL_CALLS} model calls")


def main(approver_email: str, client: OpenAI | None = None) -> str:
    hl = HumanLayer(
        agent_name="billing-assistant",
        contact_channel=ContactChannel(email=EmailContactChannel(address=approver_email)),
    )
    model = os.getenv("OPENAI_MODEL", "gpt-4o-mini")
    answer = run_agent(client or OpenAI(), model, build_tools(hl), TASK)
    print(answer)
    return answer


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "you@example.com")
