"""CrewAI: a signoff-gated function and `human_as_tool` as CrewAI tools (examples/crewai_tools.py).

CrewAI is not in the test extra (see examples/README.md); these tests run where it is installed.
The example runs as a user runs it, its model being CrewAI's own OpenAI client pointed at a
scripted chat-completions server on loopback.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from framework_testing import (
    click,
    example_env,
    reply,
    require_optional_framework,
    start_example,
    wait_for_mail_about,
)
from scripted_chat import Answer, CallTool, Script, ScriptedChatServer
from signoff_testing import WAIT_SECONDS, MailSink, RunningService, text_body, unique_address

require_optional_framework(
    "crewai",
    "crewai",
    "it takes about 100 s and 1 GB to install (141 packages, among them chromadb, lancedb, pyarrow, "
    "onnxruntime and kubernetes) and pins pydantic<2.13 and openai<3",
)

EMAIL = {"to": "ops@customer.example", "subject": "API v1 closes on March 1", "body": "Hello Initech, ..."}

# Each example run keeps CrewAI's files in its own home, and sends nothing anywhere.
CREWAI_OFFLINE = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "OTEL_SDK_DISABLED": "true",
}


def run_crew(
    service: RunningService, key: str, owner: str, llm: ScriptedChatServer, home: Path
) -> subprocess.Popen[str]:
    env = example_env(
        service,
        key,
        OPENAI_BASE_URL=llm.base_url,
        OPENAI_API_KEY="sk-scripted",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        **CREWAI_OFFLINE,
    )
    return start_example("crewai_tools", [owner], env)


def finish(crew: subprocess.Popen[str]) -> str:
    stdout, stderr = crew.communicate(timeout=WAIT_SECONDS)
    assert crew.returncode == 0, stderr
    return stdout.strip().splitlines()[-1]


def email_script() -> Script:
    return Script([CallTool("send_customer_email", EMAIL), Answer("Final: {tool_result}")])


def test_crew_sends_the_email_once_approved(
    service: RunningService, mail_sink: MailSink, project_key: str, tmp_path: Path
) -> None:
    owner = unique_address("owner")
    with ScriptedChatServer(email_script()) as llm:
        crew = run_crew(service, project_key, owner, llm, tmp_path)
        try:
            approval = wait_for_mail_about(mail_sink, owner, "send_customer_email")
            assert "ops@customer.example" in text_body(approval)
            click(approval, "Approve:")
            final = finish(crew)
        finally:
            crew.kill()

    assert final == "Final: email to ops@customer.example sent"
    assert llm.errors == []
    offered = {tool["function"]["name"]: tool["function"] for tool in llm.requests[0]["tools"]}
    gated = offered["send_customer_email"]
    assert gated["description"].startswith("Send an email to a customer.")
    assert gated["parameters"]["required"] == ["to", "subject", "body"]
    assert any(name.startswith("contact_human_via_email_") for name in offered)


def test_rejection_by_reply_reaches_the_agent(
    service: RunningService, mail_sink: MailSink, project_key: str, tmp_path: Path
) -> None:
    owner = unique_address("owner")
    with ScriptedChatServer(email_script()) as llm:
        crew = run_crew(service, project_key, owner, llm, tmp_path)
        try:
            approval = wait_for_mail_about(mail_sink, owner, "send_customer_email")
            reply(service, owner, approval, "Wait for legal to approve the wording.")
            final = finish(crew)
        finally:
            crew.kill()

    denial = "User denied send_customer_email with message: Wait for legal to approve the wording."
    assert final == f"Final: {denial}"
    assert llm.script.tool_results == [denial]
