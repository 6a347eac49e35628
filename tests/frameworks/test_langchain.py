"""LangChain: signoff-gated functions and `human_as_tool` as StructuredTools in an agent loop.

The agent is examples/langchain_tools.py, driven by a scripted chat model; the person answers
by clicking the links and replying to the emails `signoff serve` sends.
"""

from __future__ import annotations

from framework_testing import (
    click,
    import_framework,
    in_background,
    load_example,
    reply,
    tool_building_layer,
    wait_for_mail_about,
)
from signoff_testing import WAIT_SECONDS, MailSink, RunningService, text_body, unique_address

import_framework("langchain_core", "langchain-core")

from scripted_chat import Answer, CallTool, Script  # noqa: E402
from scripted_langchain import ScriptedChatModel  # noqa: E402

example = load_example("langchain_tools")


def contact_tool_name(address: str) -> str:
    """The name the agent's question tool gets for this person."""
    return tool_building_layer(address).human_as_tool().__name__


def restart_script(oncall: str) -> Script:
    return Script(
        [
            CallTool(contact_tool_name(oncall), {"message": "Checkout answers 502. May I restart it?"}),
            CallTool("restart_service", {"name": "checkout", "reason": "502s for ten minutes"}),
            Answer("Outcome: {tool_result}"),
        ]
    )


def test_tools_keep_the_functions_signature_and_docstring() -> None:
    restart, ask = example.build_tools(tool_building_layer("dana@example.com", "Dana runs checkout"))

    assert restart.name == "restart_service"
    assert restart.description.startswith("Restart one production service by name")
    schema = restart.tool_call_schema.model_json_schema()
    assert schema["required"] == ["name", "reason"]
    assert {name: field["type"] for name, field in schema["properties"].items()} == {
        "name": "string",
        "reason": "string",
    }
    assert ask.name == "contact_human_via_email_dana_example_com"
    assert "Dana runs checkout" in ask.description
    ask_schema = ask.tool_call_schema.model_json_schema()
    assert set(ask_schema["properties"]) == {"message", "subject"}
    assert ask_schema["required"] == ["message"]


def test_agent_asks_by_email_then_restarts_once_approved(
    service: RunningService,
    mail_sink: MailSink,
    signoff_env: None,
) -> None:
    oncall = unique_address("oncall")
    script = restart_script(oncall)
    agent = in_background(example.main, oncall, ScriptedChatModel(script=script))

    question = wait_for_mail_about(mail_sink, oncall, "May I restart it?")
    reply(service, oncall, question, "Yes, restart it; tell #payments afterwards.")

    approval = wait_for_mail_about(mail_sink, oncall, "restart_service")
    assert "502s for ten minutes" in text_body(approval)
    click(approval, "Approve:")

    assert agent.result(timeout=WAIT_SECONDS) == "Outcome: checkout restarted"
    assert script.tool_results == ["Yes, restart it; tell #payments afterwards.", "checkout restarted"]
    offered = script.offered_tools["restart_service"]
    assert offered["description"].startswith("Restart one production service by name")
    assert offered["parameters"]["required"] == ["name", "reason"]


def test_rejection_comes_back_to_the_model_as_the_tool_message(
    service: RunningService,
    mail_sink: MailSink,
    signoff_env: None,
) -> None:
    oncall = unique_address("oncall")
    script = restart_script(oncall)
    agent = in_background(example.main, oncall, ScriptedChatModel(script=script))

    reply(
        service,
        oncall,
        wait_for_mail_about(mail_sink, oncall, "May I restart"),
        "Go ahead if it still fails.",
    )
    click(
        wait_for_mail_about(mail_sink, oncall, "restart_service"),
        "Reject:",
        "Not during the sale; page me at 18:00.",
    )

    denial = "User denied restart_service with message: Not during the sale; page me at 18:00."
    assert agent.result(timeout=WAIT_SECONDS) == f"Outcome: {denial}"
    assert script.tool_results[-1] == denial
