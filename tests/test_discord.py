"""Discord end to end: requests posted by a bot with buttons, decided by signed interactions.

Discord's REST API is a stand-in on loopback (tests/discord_standin.py); the interactions
are signed here exactly as Discord signs them: Ed25519 over the timestamp and the raw body.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nacl.signing
import pytest
import requests
from discord_standin import DiscordStandIn, serving_discord
from discord_testing import (
    ALICE,
    BOT_TOKEN,
    _interaction,
    button,
    buttons,
    click,
    interact,
    ping,
    posted_to,
    send_interaction,
    shown_text,
    signed_headers,
    submit,
    text_inputs,
)
from discord_testing import service_env as discord_env

from signoff import ContactChannel, DiscordContactChannel, ResponseOption
from signoff_service.store.models import OutboxMessage

from signoff_testing import (
    ADMIN_PASSWORD,
    SQLITE_ONLY,
    WAIT_SECONDS,
    MailSink,
    Operator,
    RunningService,
    agent_layer,
    link_after,
    request_id_of,
    unique_address,
    wait_until,
)

# One service (and stand-in) for the module, on one worker, instead of one per worker.
pytestmark = pytest.mark.xdist_group("discord-service")


@pytest.fixture(scope="module")
def discord() -> Iterator[DiscordStandIn]:
    yield from serving_discord(BOT_TOKEN)


@pytest.fixture(scope="module")
def discord_service(
    module_database_url: str,
    mail_sink: MailSink,
    discord: DiscordStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    running = RunningService.configure(module_database_url, mail_sink, tmp_path_factory.mktemp("discord"))
    running.env.update(discord_env(discord))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def key(discord_service: RunningService) -> str:
    """One project for the module: each test has channels of its own, so their requests never meet."""
    return discord_service.create_key("discord")


@pytest.fixture
def agent_pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


def discord_channel(channel_id: str) -> ContactChannel:
    return ContactChannel(discord=DiscordContactChannel(channel_or_user_id=channel_id))


def create_call(service: RunningService, key: str, channel_id: str, **spec: Any) -> str:
    call_id = f"call-{time.monotonic_ns()}"
    body = {
        "run_id": "discord-run",
        "call_id": call_id,
        "spec": {
            "fn": spec.pop("fn", "deploy"),
            "kwargs": spec.pop("kwargs", {"service": "billing"}),
            "channel": spec.pop("channel", {"discord": {"channel_or_user_id": channel_id}}),
            **spec,
        },
    }
    created = requests.post(
        f"{service.api_url}/function_calls", json=body, headers=bearer(key), timeout=WAIT_SECONDS
    )
    assert created.status_code == 201, created.text
    return call_id


def call_status(service: RunningService, key: str, call_id: str) -> dict:
    found = requests.get(
        f"{service.api_url}/function_calls/{call_id}", headers=bearer(key), timeout=WAIT_SECONDS
    )
    assert found.status_code == 200, found.text
    return found.json()["status"]


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def approval_gate(service: RunningService, key: str, channel_id: str, calls: list, **options: Any) -> Any:
    hl = agent_layer(service, key, discord_channel(channel_id), run_id="discord-agent")

    @hl.require_approval(**options)
    def deploy(service_name: str, replicas: int) -> str:
        calls.append((service_name, replicas))
        return f"deployed {service_name} x{replicas}"

    return deploy


def result_of(future: Future) -> Any:
    return future.result(timeout=WAIT_SECONDS)


# --- the endpoint --------------------------------------------------------------------------


def test_ping_is_answered_with_pong(discord_service: RunningService) -> None:
    answered = interact(discord_service, ping())
    assert answered.status_code == 200
    assert answered.json() == {"type": 1}


def test_approve_button_runs_the_function_and_returns_its_result(
    discord_service: RunningService, discord: DiscordStandIn, key: str, agent_pool: ThreadPoolExecutor
) -> None:
    channel_id = discord.new_channel()
    calls: list = []
    deploy = approval_gate(discord_service, key, channel_id, calls)
    future = agent_pool.submit(deploy, service_name="billing-api", replicas=3)

    message = posted_to(discord_service, discord, channel_id)
    [post] = discord.calls_to("POST", f"/channels/{channel_id}/messages")
    assert post.authorization == f"Bot {BOT_TOKEN}"
    text = shown_text(message)
    assert "deploy" in text and "billing-api" in text and "3" in text
    assert [(part["label"], part["style"]) for part in buttons(message)] == [("Approve", 3), ("Reject", 4)]

    answered = interact(discord_service, click(message, "Approve"))
    assert answered.status_code == 200
    response = answered.json()
    assert response["type"] == 7
    assert response["data"]["components"] == []
    assert "Approved" in shown_text(response["data"]) and "alice" in shown_text(response["data"])

    assert result_of(future) == "deployed billing-api x3"
    assert calls == [("billing-api", 3)]


def test_reject_opens_a_modal_whose_comment_reaches_the_agent(
    discord_service: RunningService, discord: DiscordStandIn, key: str, agent_pool: ThreadPoolExecutor
) -> None:
    channel_id = discord.new_channel()
    calls: list = []
    deploy = approval_gate(discord_service, key, channel_id, calls)
    future = agent_pool.submit(deploy, service_name="billing-api", replicas=3)
    message = posted_to(discord_service, discord, channel_id)

    opened = interact(discord_service, click(message, "Reject"))
    assert opened.status_code == 200
    assert opened.json()["type"] == 9
    modal = opened.json()["data"]
    [field] = text_inputs(modal)
    assert field["style"] == 2 and field["required"] is True

    answered = interact(discord_service, submit(message, modal, "not on a Friday"))
    assert answered.status_code == 200
    assert answered.json()["type"] == 7
    shown = shown_text(answered.json()["data"])
    assert "Rejected" in shown and "not on a Friday" in shown

    assert result_of(future) == "User denied deploy with message: not on a Friday"
    assert calls == []


def test_human_as_tool_answered_through_the_answer_modal(
    discord_service: RunningService, discord: DiscordStandIn, key: str, agent_pool: ThreadPoolExecutor
) -> None:
    channel_id = discord.new_channel()
    hl = agent_layer(discord_service, key, discord_channel(channel_id), run_id="discord-agent")
    ask = hl.human_as_tool()
    future = agent_pool.submit(ask, "Which region should the new cluster go to?")
    message = posted_to(discord_service, discord, channel_id)
    assert "Which region should the new cluster go to?" in shown_text(message)

    opened = interact(discord_service, click(message, "Answer"))
    assert opened.json()["type"] == 9
    answered = interact(discord_service, submit(message, opened.json()["data"], "eu-west-1, please"))
    assert answered.json()["type"] == 7
    assert "eu-west-1, please" in shown_text(answered.json()["data"])

    assert result_of(future) == "eu-west-1, please"


def test_a_response_option_button_answers_with_the_option(
    discord_service: RunningService, discord: DiscordStandIn, key: str, agent_pool: ThreadPoolExecutor
) -> None:
    channel_id = discord.new_channel()
    hl = agent_layer(discord_service, key, discord_channel(channel_id), run_id="discord-agent")
    options = [
        ResponseOption(name="yes", title="Yes, go ahead"),
        ResponseOption(name="later", title="Not now", prompt_fill="wait until Monday"),
    ]
    ask = hl.human_as_tool(response_options=options)
    future = agent_pool.submit(ask, "Ship the release?")
    message = posted_to(discord_service, discord, channel_id)
    assert [part["label"] for part in buttons(message)] == ["Answer", "Yes, go ahead", "Not now"]

    answered = interact(discord_service, click(message, "Not now"))
    assert answered.json()["type"] == 7
    assert result_of(future) == "wait until Monday"


def test_a_reject_option_button_rejects_with_the_option(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    options = [{"name": "too_big", "title": "Too many replicas", "prompt_fill": "use at most 2"}]
    call_id = create_call(discord_service, key, channel_id, reject_options=options)
    message = posted_to(discord_service, discord, channel_id)
    assert button(message, "Too many replicas")["style"] == 2

    answered = interact(discord_service, click(message, "Too many replicas"))
    assert answered.json()["type"] == 7
    status = call_status(discord_service, key, call_id)
    assert status["approved"] is False
    assert status["reject_option_name"] == "too_big" and status["comment"] == "use at most 2"


# --- forged and replayed interactions ---------------------------------------------------------

OTHER_KEY = nacl.signing.SigningKey(bytes(range(1, 33)))


def _unsigned(body: bytes) -> tuple[bytes, dict]:
    return body, {"Content-Type": "application/json"}


def _signed_by_another_key(body: bytes) -> tuple[bytes, dict]:
    return body, signed_headers(body, key=OTHER_KEY)


def _body_changed_after_signing(body: bytes) -> tuple[bytes, dict]:
    return body + b" ", signed_headers(body)


def _stale(body: bytes) -> tuple[bytes, dict]:
    return body, signed_headers(body, timestamp=str(int(time.time()) - 6 * 60))


def _from_the_future(body: bytes) -> tuple[bytes, dict]:
    return body, signed_headers(body, timestamp=str(int(time.time()) + 6 * 60))


def _signature_not_hex(body: bytes) -> tuple[bytes, dict]:
    headers = signed_headers(body)
    headers["X-Signature-Ed25519"] = "zz" + headers["X-Signature-Ed25519"][2:]
    return body, headers


def _timestamp_not_a_number(body: bytes) -> tuple[bytes, dict]:
    return body, signed_headers(body, timestamp="yesterday")


FORGERIES = [
    _unsigned,
    _signed_by_another_key,
    _body_changed_after_signing,
    _stale,
    _from_the_future,
    _signature_not_hex,
    _timestamp_not_a_number,
]


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda forge: forge.__name__.strip("_"))
def test_forged_approve_gets_401_and_decides_nothing(
    discord_service: RunningService, discord: DiscordStandIn, key: str, forge: Any
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)

    body, headers = forge(json.dumps(click(message, "Approve")).encode())
    answered = send_interaction(discord_service, body, headers)
    assert answered.status_code == 401
    assert answered.json()["error"] == "unauthorized"
    assert call_status(discord_service, key, call_id)["approved"] is None


@pytest.mark.parametrize("forge", FORGERIES[:3], ids=lambda forge: forge.__name__.strip("_"))
def test_forged_ping_gets_401(discord_service: RunningService, forge: Any) -> None:
    body, headers = forge(json.dumps(ping()).encode())
    assert send_interaction(discord_service, body, headers).status_code == 401


def test_a_replayed_interaction_gets_401(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)
    opened = interact(discord_service, click(message, "Reject"))
    body = json.dumps(submit(message, opened.json()["data"], "no")).encode()
    headers = signed_headers(body)
    assert send_interaction(discord_service, body, headers).status_code == 200
    rejected = call_status(discord_service, key, call_id)

    replayed = send_interaction(discord_service, body, headers)
    assert replayed.status_code == 401
    assert call_status(discord_service, key, call_id) == rejected


def test_a_replayed_click_decides_nothing(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)
    body = json.dumps(click(message, "Reject")).encode()
    headers = signed_headers(body)
    assert send_interaction(discord_service, body, headers).json()["type"] == 9
    assert send_interaction(discord_service, body, headers).status_code == 401
    assert call_status(discord_service, key, call_id)["approved"] is None


def test_a_click_on_a_message_signoff_did_not_post_decides_nothing(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)
    elsewhere = {**message, "id": discord.snowflake()}

    answered = interact(discord_service, click(elsewhere, "Approve"))
    assert answered.status_code == 200
    assert answered.json()["type"] == 4 and answered.json()["data"]["flags"] == 64
    assert call_status(discord_service, key, call_id)["approved"] is None


def test_a_second_click_says_who_decided_and_changes_nothing(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)
    assert interact(discord_service, click(message, "Approve")).json()["type"] == 7

    bob = {"id": "800000000000000043", "username": "bob"}
    opened = interact(discord_service, click(message, "Reject", user=bob))
    assert opened.json()["type"] == 4 and opened.json()["data"]["flags"] == 64
    assert "alice" in opened.json()["data"]["content"]
    assert call_status(discord_service, key, call_id)["approved"] is True


# --- messages edited and errors shown -----------------------------------------------------------


def test_a_decision_through_the_api_edits_the_discord_message(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)

    decided = requests.post(
        f"{discord_service.api_url}/agent/function_calls/{call_id}/respond",
        json={"approved": False, "comment": "wrong service"},
        headers=bearer(key),
        timeout=WAIT_SECONDS,
    )
    assert decided.status_code == 200
    edit_path = f"/channels/{channel_id}/messages/{message['id']}"
    [edit] = wait_until(lambda: discord.calls_to("PATCH", edit_path), what="the message edited")  # type: ignore[misc]
    assert edit.body["components"] == []
    assert "Rejected" in shown_text(edit.body) and "wrong service" in shown_text(edit.body)


def test_a_user_id_gets_the_message_in_a_dm(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    user_id = discord.new_user()
    call_id = create_call(discord_service, key, user_id)
    dm_channel = wait_until(lambda: discord.dm_channels.get(user_id), what="a DM opened")
    message = posted_to(discord_service, discord, dm_channel)  # type: ignore[arg-type]

    dm_click = click(message, "Approve")
    del dm_click["member"], dm_click["guild_id"]
    dm_click["user"] = ALICE
    assert interact(discord_service, dm_click).json()["type"] == 7
    assert call_status(discord_service, key, call_id)["approved"] is True


def test_a_rate_limited_post_is_sent_again(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    discord.rate_limited_once[channel_id] = 0.25
    create_call(discord_service, key, channel_id)
    posted_to(discord_service, discord, channel_id)
    assert len(discord.calls_to("POST", f"/channels/{channel_id}/messages")) == 2


def test_an_unknown_channel_is_shown_on_the_outbox_row_and_the_dashboard(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    unknown = discord.snowflake()
    call_id = create_call(discord_service, key, unknown)
    request_id = request_id_of(discord_service, call_id)
    row = _failed_row(discord_service, request_id)
    assert row.status == "failed" and "Unknown Channel" in row.last_error

    operator = Operator(discord_service)
    assert operator.login(ADMIN_PASSWORD).status_code == 303
    page = operator.get(f"/requests/{request_id}")
    assert page.status_code == 200 and "Unknown Channel" in page.text


def test_a_refused_bot_token_is_shown_on_the_outbox_row(
    discord_service: RunningService, discord: DiscordStandIn
) -> None:
    project = f"discord-bad-token-{time.monotonic_ns()}"
    key = discord_service.create_key(project)
    _set_project_token(discord_service, project, "a-token-discord-does-not-know")
    call_id = create_call(discord_service, key, discord.new_channel())

    row = _failed_row(discord_service, request_id_of(discord_service, call_id))
    assert row.status == "failed" and "401" in row.last_error
    assert "a-token-discord-does-not-know" not in row.last_error


def _failed_row(service: RunningService, request_id: int) -> OutboxMessage:
    def failed() -> OutboxMessage | None:
        rows = [row for row in service.rows(OutboxMessage) if row.request_id == request_id]
        return next((row for row in rows if row.last_error), None)

    return wait_until(failed, what="a failed Discord delivery")  # type: ignore[return-value]


def _set_project_token(service: RunningService, project: str, token: str) -> None:
    result = service.run_cli("projects", "set-token", "--project", project, "--discord-bot-token", token)
    assert result.returncode == 0, result.stderr


def test_mentions_and_markdown_in_arguments_are_shown_as_text(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    create_call(
        discord_service,
        key,
        channel_id,
        fn="notify_**everyone**",
        kwargs={"text": "@everyone look <@123456> **now** `rm -rf` ||secret|| > quoted"},
    )
    message = posted_to(discord_service, discord, channel_id)
    [post] = discord.calls_to("POST", f"/channels/{channel_id}/messages")
    assert post.body["allowed_mentions"] == {"parse": []}
    text = shown_text(message)
    assert "@everyone" not in text and "<@123456>" not in text
    for raw in ("**now**", "`rm -rf`", "||secret||", "notify_**everyone**"):
        assert raw not in text, f"{raw!r} would be rendered as markdown"
    assert "\\*\\*now\\*\\*" in text and "\\|\\|secret\\|\\|" in text


@SQLITE_ONLY
def test_without_a_public_key_interactions_get_401_saying_so(
    database_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    running = RunningService.configure(database_url, mail_sink, tmp_path)
    running.start()
    try:
        answered = interact(running, ping())
    finally:
        running.stop()
    assert answered.status_code == 401
    assert "discord_public_key" in answered.json()["detail"]


# --- written beside the code ---------------------------------------------------------------------


def test_a_decision_by_the_emailed_link_edits_the_discord_message(
    discord_service: RunningService, discord: DiscordStandIn, mail_sink: MailSink, key: str
) -> None:
    channel_id = discord.new_channel()
    approver = unique_address("discord-approver")
    call_id = create_call(
        discord_service,
        key,
        channel_id,
        channel={"email": {"address": approver}, "discord": {"channel_or_user_id": channel_id}},
    )
    message = posted_to(discord_service, discord, channel_id)
    emailed = mail_sink.wait_for_mail_to(approver)

    decided = requests.post(link_after(emailed, "Approve:"), data={"text": ""}, timeout=WAIT_SECONDS)
    assert decided.status_code == 200
    edit_path = f"/channels/{channel_id}/messages/{message['id']}"
    [edit] = wait_until(lambda: discord.calls_to("PATCH", edit_path), what="the message edited")  # type: ignore[misc]
    assert edit.body["components"] == [] and "Approved" in shown_text(edit.body)
    assert approver.split("@")[0] in shown_text(edit.body)
    assert call_status(discord_service, key, call_id)["approved"] is True


def test_a_timed_out_request_edits_the_discord_message(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    create_call(discord_service, key, channel_id, timeout_seconds=1)
    message = posted_to(discord_service, discord, channel_id)
    edit_path = f"/channels/{channel_id}/messages/{message['id']}"
    [edit] = wait_until(lambda: discord.calls_to("PATCH", edit_path), what="the message edited")  # type: ignore[misc]
    assert edit.body["components"] == [] and "No one decided in time" in shown_text(edit.body)


def test_a_blank_comment_decides_nothing(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)
    opened = interact(discord_service, click(message, "Reject"))

    answered = interact(discord_service, submit(message, opened.json()["data"], "   \n "))
    assert answered.json()["type"] == 4 and answered.json()["data"]["flags"] == 64
    assert call_status(discord_service, key, call_id)["approved"] is None


def test_a_button_of_another_kind_of_request_decides_nothing(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    call_id = create_call(discord_service, key, channel_id)
    message = posted_to(discord_service, discord, channel_id)
    # An Answer button belongs to questions; on an approval it is no button signoff made.
    forged = _interaction(3, message, {"custom_id": "signoff:answer", "component_type": 2})
    assert interact(discord_service, forged).json()["data"]["flags"] == 64
    unknown_option = _interaction(3, message, {"custom_id": "signoff:option:7", "component_type": 2})
    assert interact(discord_service, unknown_option).json()["data"]["flags"] == 64
    assert call_status(discord_service, key, call_id)["approved"] is None


def test_an_id_that_is_not_a_snowflake_never_reaches_discord(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    call_id = create_call(discord_service, key, "../../users/@me")
    row = _failed_row(discord_service, request_id_of(discord_service, call_id))
    assert row.status == "failed" and "not a Discord channel or user id" in row.last_error
    assert not [call for call in discord.calls if "@me/messages" in call.path or ".." in call.path]


def test_a_rate_limited_post_waits_as_long_as_discord_asks(
    discord_service: RunningService, discord: DiscordStandIn, key: str
) -> None:
    channel_id = discord.new_channel()
    discord.rate_limited_once[channel_id] = 120.0
    request_id = request_id_of(discord_service, create_call(discord_service, key, channel_id))
    row = _failed_row(discord_service, request_id)
    assert row.status == "pending" and "retry after 120" in row.last_error
    assert row.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=100)
