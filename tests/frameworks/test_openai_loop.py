"""The raw OpenAI client's tool-calling loop (examples/openai_tools.py) with a signoff-gated tool.

The real `openai` package talks HTTP to a scripted chat-completions server on loopback; the
person approves or rejects by the links in the email `signoff serve` sends.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from framework_testing import (
    click,
    example_env,
    import_framework,
    in_background,
    load_example,
    start_example,
    tool_building_layer,
    wait_for_mail_about,
)
from scripted_chat import Answer, CallTool, Script, ScriptedChatServer
from signoff_testing import WAIT_SECONDS, MailSink, RunningService, text_body, unique_address

openai = import_framework("openai", "openai")

example = load_example("openai_tools")

REFUND = {"order_id": "A-1009", "amount_cents": 1250, "reason": "charged twice"}


def refund_script() -> Script:
    return Script([CallTool("refund_payment", REFUND), Answer("Done: {tool_result}")])


def test_tool_schemas_keep_the_functions_signature_and_docstring() -> None:
    tools = example.build_tools(tool_building_layer("lee@example.com"))
    refund, ask = (example.function_tool(tool)["function"] for tool in tools)

    assert refund["name"] == "refund_payment"
    assert refund["description"] == "Refund part or all of an order's payment to the customer's card."
    parameters = refund["parameters"]
    assert parameters["required"] == ["order_id", "amount_cents", "reason"]
    assert {name: field["type"] for name, field in parameters["properties"].items()} == {
        "order_id": "string",
        "amount_cents": "integer",
        "reason": "string",
    }
    assert ask["name"] == "contact_human_via_email_lee_example_com"
    assert ask["parameters"]["required"] == ["message"]
    assert set(ask["parameters"]["properties"]) == {"message", "subject"}


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"


def test_schema_resolves_the_callers_own_types_through_the_wrapper() -> None:
    # The wrapper lives in the SDK's module; these annotations name types of this one.
    @tool_building_layer("lee@example.com").require_approval()
    def open_incident(title: str, severity: Severity, notify: Literal["pager", "email"] = "email") -> str:
        """Open an incident."""
        return title

    parameters = example.function_tool(open_incident)["function"]["parameters"]
    assert parameters["required"] == ["title", "severity"]
    assert parameters["$defs"]["Severity"]["enum"] == ["minor", "major"]
    assert parameters["properties"]["notify"] == {
        "default": "email",
        "enum": ["pager", "email"],
        "title": "Notify",
        "type": "string",
    }


def test_example_script_refunds_once_approved(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("billing")
    with ScriptedChatServer(refund_script()) as llm:
        env = example_env(service, project_key, OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="sk-scripted")
        agent = start_example("openai_tools", [approver], env)
        try:
            approval = wait_for_mail_about(mail_sink, approver, "refund_payment")
            assert "A-1009" in text_body(approval) and "1250" in text_body(approval)
            click(approval, "Approve:")
            stdout, stderr = agent.communicate(timeout=WAIT_SECONDS)
        finally:
            agent.kill()

    assert agent.returncode == 0, stderr
    assert stdout.strip() == "Done: refunded 1250 cents on order A-1009"
    assert llm.errors == []
    offered = {tool["function"]["name"]: tool["function"] for tool in llm.requests[0]["tools"]}
    assert offered["refund_payment"]["parameters"]["required"] == ["order_id", "amount_cents", "reason"]
    tool_reply = llm.requests[1]["messages"][-1]
    assert tool_reply["role"] == "tool" and tool_reply["tool_call_id"] == "call_1"
    assert tool_reply["content"] == "refunded 1250 cents on order A-1009"


def test_rejection_is_sent_to_the_model_as_the_tool_result(
    service: RunningService, mail_sink: MailSink, signoff_env: None
) -> None:
    approver = unique_address("billing")
    with ScriptedChatServer(refund_script()) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="sk-scripted", max_retries=0)
        agent = in_background(example.main, approver, client)
        click(
            wait_for_mail_about(mail_sink, approver, "refund_payment"),
            "Reject:",
            "Refund the card, not cash.",
        )
        answer = agent.result(timeout=WAIT_SECONDS)

    denial = "User denied refund_payment with message: Refund the card, not cash."
    assert answer == f"Done: {denial}"
    assert llm.script.tool_results == [denial]
