"""The SDK without a server: terminal approvals, and what decorators and tools look like."""

import inspect

import pytest

from signoff import ApprovalMethod, ContactChannel, EmailContactChannel, HumanLayer
from signoff.client import SignoffClient

from terminal_script import run_typing

APPROVAL_SCRIPT = """
from signoff import HumanLayer

hl = HumanLayer.cli(run_id="cli-test")

@hl.require_approval()
def transfer(amount: int, to: str) -> str:
    return f"sent {amount} to {to}"

print("RESULT:", transfer(25, to="bob"))
"""

QUESTION_SCRIPT = """
from signoff import HumanLayer

ask = HumanLayer.cli(run_id="cli-test").human_as_tool()
print("RESULT:", ask("Which region should I deploy to?"))
"""


def result(output: str) -> str:
    # The prompt has no newline and piped input is not echoed, so RESULT can share its line.
    return output.split("RESULT: ", 1)[1].rstrip("\n")


def test_enter_approves_and_runs_the_function(tmp_path):
    output = run_typing(APPROVAL_SCRIPT, "\n", tmp_path)

    assert "transfer(" in output
    assert '"amount": 25' in output  # positional arguments are shown by name
    assert '"to": "bob"' in output
    assert result(output) == "sent 25 to bob"


def test_typed_feedback_denies_without_running(tmp_path):
    output = run_typing(APPROVAL_SCRIPT, "too much, send 10\n", tmp_path)

    assert result(output) == "User denied transfer with feedback: too much, send 10"
    assert "sent 25" not in output


def test_human_as_tool_returns_the_typed_answer(tmp_path):
    output = run_typing(QUESTION_SCRIPT, "eu-west-1\n", tmp_path)

    assert "Which region should I deploy to?" in output
    assert result(output) == "eu-west-1"


@pytest.mark.parametrize("make_layer", [HumanLayer.cli, lambda: HumanLayer(api_key="test-key")])
def test_decorated_function_keeps_name_docstring_and_signature(make_layer):
    def send_email(to: str, subject: str, body: str = "") -> str:
        """Send an email to a customer."""
        return "sent"

    wrapped = make_layer().require_approval()(send_email)

    assert wrapped.__name__ == "send_email"
    assert wrapped.__doc__ == "Send an email to a customer."
    assert inspect.signature(wrapped) == inspect.signature(send_email)


def test_wrap_is_the_same_as_decorating():
    def deploy(service: str) -> str:
        return service

    wrapped = HumanLayer.cli().require_approval().wrap(deploy)

    assert wrapped.__name__ == "deploy"
    assert inspect.signature(wrapped) == inspect.signature(deploy)


def test_email_tool_is_named_after_the_address():
    channel = ContactChannel(email=EmailContactChannel(address="ops.lead@example.com"))

    tool = HumanLayer(api_key="test-key").human_as_tool(channel)

    assert tool.__name__ == "contact_human_via_email_ops_lead_example_com"
    assert "via email" in tool.__doc__
    assert "wait" in tool.__doc__
    assert list(inspect.signature(tool).parameters) == ["message", "subject"]


def test_cli_denies_when_nobody_can_type(monkeypatch):
    from signoff import UserDeniedError

    def closed_input(prompt=""):
        raise EOFError

    monkeypatch.setattr("builtins.input", closed_input)
    ran = []

    @HumanLayer.cli().require_approval()
    def delete_everything() -> None:
        ran.append(True)

    with pytest.raises(UserDeniedError):
        delete_everything()
    assert ran == []


@pytest.mark.parametrize(
    "given",
    [
        "http://signoff.internal:8080",
        "http://signoff.internal:8080/",
        "http://signoff.internal:8080/humanlayer/v1",
        "http://signoff.internal:8080/humanlayer/v1/",
    ],
)
def test_base_url_accepts_server_root_or_api_base(given):
    assert SignoffClient(given, "key").base_url == "http://signoff.internal:8080/humanlayer/v1"


def test_base_url_defaults_to_local_service():
    assert HumanLayer(api_key="key").client.base_url == "http://127.0.0.1:8080/humanlayer/v1"


def test_signoff_settings_win_over_humanlayer_ones(monkeypatch):
    monkeypatch.setenv("HUMANLAYER_API_BASE", "http://old:1")
    monkeypatch.setenv("SIGNOFF_API_BASE", "http://new:2")

    assert HumanLayer(api_key="key").client.base_url == "http://new:2/humanlayer/v1"


def test_without_a_key_approvals_happen_on_the_terminal():
    layer = HumanLayer()

    assert layer.approval_method is ApprovalMethod.CLI
    assert layer.client is None


def test_with_a_key_approvals_go_to_the_service():
    assert HumanLayer(api_key="key").approval_method is ApprovalMethod.BACKEND


@pytest.mark.parametrize("setting", ["SIGNOFF_API_KEY", "HUMANLAYER_API_KEY"])
def test_key_from_the_environment_selects_the_service(monkeypatch, setting):
    monkeypatch.setenv(setting, "key")

    assert HumanLayer().approval_method is ApprovalMethod.BACKEND
    assert HumanLayer.cli().approval_method is ApprovalMethod.CLI


def test_run_id_is_made_from_the_agent_name():
    assert HumanLayer(agent_name="Billing Bot!").run_id.startswith("billing-bot-")
    assert HumanLayer().run_id.startswith("agent-")
    assert HumanLayer(run_id="fixed").run_id == "fixed"
