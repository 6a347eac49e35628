"""The SDK's public face matches HumanLayer's: the names, the constructors and how results read.

Nothing here needs the service; the same behaviour against a running service is in
tests/test_core_loop.py, tests/test_async_sdk.py and tests/test_escalate.py.
"""

import asyncio
import inspect
import socket

import pytest

import signoff
from signoff import (
    ApprovalMethod,
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    HumanLayer,
    HumanLayerException,
    ResponseOption,
    SignoffConnectionError,
    SignoffError,
    UserDeniedError,
)

from terminal_script import run_typing

# The names HumanLayer's users import, as its SDK (0.7.x) spells them.
HUMANLAYER_NAMES = [
    "ApprovalMethod",
    "AsyncHumanLayer",
    "ContactChannel",
    "EmailContactChannel",
    "EmailRecipient",
    "Escalation",
    "FunctionCall",
    "FunctionCallSpec",
    "FunctionCallStatus",
    "HumanContact",
    "HumanContactSpec",
    "HumanContactStatus",
    "HumanLayer",
    "HumanLayerError",
    "HumanLayerException",
    "ResponseOption",
    "SlackContactChannel",
    "SMSContactChannel",
    "UserDeniedError",
    "WhatsAppContactChannel",
]

HUMANLAYER_METHODS = [
    "require_approval",
    "human_as_tool",
    "fetch_approval",
    "create_function_call",
    "get_function_call",
    "respond_to_function_call",
    "escalate_email_function_call",
    "fetch_human_response",
    "create_human_contact",
    "get_human_contact",
    "respond_to_human_contact",
    "escalate_email_human_contact",
]

CONSTRUCTOR_ARGUMENTS = [
    "api_key",
    "api_base_url",
    "run_id",
    "agent_name",
    "contact_channel",
    "verbose",
    "approval_method",
    "http_timeout_seconds",
]

TWO_OPTIONS_ONE_NAME = [ResponseOption(name="later"), ResponseOption(name="later", title="Later")]


@pytest.mark.parametrize("name", HUMANLAYER_NAMES)
def test_every_humanlayer_name_imports_from_signoff(name):
    assert name in signoff.__all__
    assert getattr(signoff, name) is not None


@pytest.mark.parametrize("layer_class", [HumanLayer, AsyncHumanLayer])
def test_both_classes_take_the_same_arguments_and_have_the_same_methods(layer_class):
    parameters = inspect.signature(layer_class).parameters
    assert all(name in parameters for name in CONSTRUCTOR_ARGUMENTS)
    assert all(callable(getattr(layer_class, method, None)) for method in HUMANLAYER_METHODS)


@pytest.mark.parametrize(
    "method", [name for name in HUMANLAYER_METHODS if name not in ("require_approval", "human_as_tool")]
)
def test_the_async_class_awaits_every_call_to_the_service(method):
    assert inspect.iscoroutinefunction(getattr(AsyncHumanLayer, method))
    assert not inspect.iscoroutinefunction(getattr(HumanLayer, method))


@pytest.mark.parametrize("layer_class", [HumanLayer, AsyncHumanLayer])
def test_cli_and_cloud_constructors(layer_class, monkeypatch):
    monkeypatch.setenv("HUMANLAYER_API_KEY", "key-from-env")

    assert layer_class.cli().approval_method is ApprovalMethod.CLI
    assert layer_class.cloud().approval_method is ApprovalMethod.BACKEND
    assert layer_class(approval_method="cli").approval_method is ApprovalMethod.CLI
    configured = layer_class.cloud(
        api_key="k", api_base_url="http://signoff.internal:9000", run_id="r", verbose=True
    )
    assert configured.client.base_url == "http://signoff.internal:9000/humanlayer/v1"
    assert configured.run_id == "r" and configured.verbose


@pytest.mark.parametrize("layer_class", [HumanLayer, AsyncHumanLayer])
def test_cloud_without_a_key_says_what_is_missing(layer_class):
    with pytest.raises(HumanLayerException, match="API key"):
        layer_class.cloud()


def test_exceptions_keep_humanlayers_hierarchy():
    assert issubclass(UserDeniedError, signoff.HumanLayerError)
    assert HumanLayerException is SignoffError


def test_an_approved_call_completes_as_approved_with_its_comment():
    call = FunctionCall(
        run_id="r",
        call_id="c",
        spec=FunctionCallSpec(fn="deploy", kwargs={}, state={"attempt": 2}),
        status=FunctionCallStatus(approved=True, comment="go ahead"),
    )

    completed = FunctionCall.Completed(call=call).as_completed()

    assert completed == FunctionCallStatus.Approved(approved=True, comment="go ahead")
    assert FunctionCall.model_validate_json(call.model_dump_json()).spec.state == {"attempt": 2}


def test_a_rejection_always_reads_as_a_string_comment():
    call = FunctionCall(
        run_id="r",
        call_id="c",
        spec=FunctionCallSpec(fn="deploy", kwargs={}),
        status=FunctionCallStatus(approved=False),
    )

    assert FunctionCall.Completed(call=call).as_completed() == FunctionCallStatus.Rejected(
        approved=False, comment=""
    )


@pytest.mark.parametrize("status", [None, FunctionCallStatus()])
def test_an_undecided_call_cannot_complete(status):
    call = FunctionCall(run_id="r", call_id="c", spec=FunctionCallSpec(fn="deploy", kwargs={}), status=status)

    with pytest.raises(ValueError, match="not been decided"):
        FunctionCall.Completed(call=call).as_completed()


def test_an_answered_question_completes_as_its_answer():
    contact = HumanContact(
        run_id="r",
        call_id="c",
        spec=HumanContactSpec(msg="Which region?", response_options=[ResponseOption(name="eu")]),
        status=HumanContactStatus(response="eu-west-1", response_option_name="eu"),
    )

    assert HumanContact.Completed(contact=contact).as_completed() == "eu-west-1"
    with pytest.raises(ValueError, match="not been answered"):
        HumanContact.Completed(contact=contact.model_copy(update={"status": None})).as_completed()


@pytest.mark.parametrize("layer", [HumanLayer.cli(), AsyncHumanLayer.cli()], ids=["sync", "async"])
def test_options_with_one_name_twice_are_refused_when_the_tool_is_made(layer):
    with pytest.raises(HumanLayerException, match="reject_options must have unique names"):
        layer.require_approval(reject_options=TWO_OPTIONS_ONE_NAME)
    with pytest.raises(HumanLayerException, match="response_options must have unique names"):
        layer.human_as_tool(response_options=TWO_OPTIONS_ONE_NAME)


def test_async_decorator_gives_a_coroutine_function_with_the_original_face():
    def send_email(to: str, subject: str, body: str = "") -> str:
        """Send an email to a customer."""
        return "sent"

    async def send_sms(to: str, text: str) -> str:
        """Send a text message."""
        return "sent"

    decorator = AsyncHumanLayer(api_key="key").require_approval()
    for original, wrapped in ((send_email, decorator(send_email)), (send_sms, decorator.wrap(send_sms))):
        assert inspect.iscoroutinefunction(wrapped)
        assert wrapped.__name__ == original.__name__
        assert wrapped.__doc__ == original.__doc__
        assert inspect.signature(wrapped) == inspect.signature(original)


def test_async_email_tool_is_named_like_the_sync_one():
    channel = ContactChannel(email=EmailContactChannel(address="ops.lead@example.com"))

    sync_tool = HumanLayer(api_key="key").human_as_tool(channel)
    async_tool = AsyncHumanLayer(api_key="key").human_as_tool(channel)

    assert inspect.iscoroutinefunction(async_tool)
    assert async_tool.__name__ == sync_tool.__name__ == "contact_human_via_email_ops_lead_example_com"
    assert async_tool.__doc__ == sync_tool.__doc__
    assert inspect.signature(async_tool) == inspect.signature(sync_tool)


def test_the_sync_class_points_async_functions_to_the_async_one():
    async def deploy() -> None: ...

    with pytest.raises(TypeError, match="AsyncHumanLayer"):
        HumanLayer.cli().require_approval()(deploy)


ASYNC_TERMINAL_SCRIPT = """
import asyncio
from signoff import AsyncHumanLayer

hl = AsyncHumanLayer.cli(run_id="async-cli-test")

@hl.require_approval()
async def scale(service: str, replicas: int) -> str:
    await asyncio.sleep(0)
    return f"scaled {service} to {replicas}"

async def main():
    print("RESULT:", await scale("web", replicas=4))
    print("ANSWER:", await hl.human_as_tool()("Which region?"))

asyncio.run(main())
"""


def after(label: str, output: str) -> str:
    # Prompts end without a newline and piped input is not echoed, so a label can share a line.
    return output.split(label, 1)[1].splitlines()[0].strip()


def test_async_cli_mode_enter_approves_and_typed_text_answers(tmp_path):
    output = run_typing(ASYNC_TERMINAL_SCRIPT, "\neu-west-1\n", tmp_path)

    assert '"replicas": 4' in output and '"service": "web"' in output
    assert after("RESULT:", output) == "scaled web to 4"
    assert "Which region?" in output
    assert after("ANSWER:", output) == "eu-west-1"


def test_async_cli_mode_typed_feedback_denies(tmp_path):
    output = run_typing(ASYNC_TERMINAL_SCRIPT, "not during business hours\neu\n", tmp_path)

    assert after("RESULT:", output) == "User denied scale with feedback: not during business hours"


def test_async_run_id_is_made_from_the_agent_name_like_the_sync_one():
    layer = AsyncHumanLayer(api_key="key", agent_name="Async Bot")

    assert layer.run_id.startswith("async-bot-")
    assert repr(layer).startswith("AsyncHumanLayer(approval_method='backend'")


def test_async_calls_raise_the_same_errors_as_sync_ones():
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(SignoffConnectionError, match="could not reach signoff"):
        HumanLayer(api_key="key", api_base_url=base).get_function_call("call-1")
    with pytest.raises(SignoffConnectionError, match="could not reach signoff"):
        asyncio.run(AsyncHumanLayer(api_key="key", api_base_url=base).get_function_call("call-1"))


@pytest.mark.parametrize("layer_class", [HumanLayer, AsyncHumanLayer])
def test_api_token_is_taken_like_api_key(layer_class):
    layer = layer_class(api_token="token-from-the-docs", api_base_url="http://127.0.0.1:9")
    assert layer.approval_method is ApprovalMethod.BACKEND
    assert layer.client.session.headers["Authorization"] == "Bearer token-from-the-docs"


@pytest.mark.parametrize("layer_class", [HumanLayer, AsyncHumanLayer])
@pytest.mark.parametrize(
    ("route", "context", "name"),
    [
        ("slack", "a DM with the head of sales", "contact_human_in_a_dm_with_the_head_of_sales"),
        ("discord", "the on-call channel (EU)", "contact_human_in_the_on_call_channel_eu"),
        ("slack", None, "contact_human_in_slack"),
        ("discord", None, "contact_human_in_discord"),
    ],
)
def test_a_chat_tool_is_named_after_what_the_agent_was_told_of_the_channel(layer_class, route, context, name):
    routes = {"slack": signoff.SlackContactChannel, "discord": signoff.DiscordContactChannel}
    channel = ContactChannel(
        **{route: routes[route](channel_or_user_id="C0X", context_about_channel_or_user=context)}
    )
    tool = layer_class(api_key="key").human_as_tool(channel)
    assert tool.__name__ == name
    assert tool.__doc__.startswith(f"Contact a human via {route}")
    if context:
        assert context in tool.__doc__
