"""Slack, end to end: messages posted through a stand-in of Slack's Web API, decided by signed interactions.

The service runs as `signoff serve` with its Slack API URL at the stand-in; the tests play
Slack's part on the other side, sending interaction payloads and events signed with the
app's signing secret exactly as Slack signs them (v0, HMAC-SHA256 over timestamp and body).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_standin import SlackStandIn, serve_slack_standin
from slack_testing import (
    SERVICE_TOKEN,
    button_labels,
    buttons,
    click,
    ephemeral_to,
    interaction_body,
    posted_to,
    send_event,
    send_interaction,
    shown_text,
    signed_headers,
    submit_modal,
    thread_reply,
    unique_channel,
    update_of,
)
from slack_testing import service_env as slack_env

from signoff import ContactChannel, FunctionCallSpec, ResponseOption, SlackContactChannel
from signoff.models import EmailContactChannel
from signoff_service.store.models import HumanRequest, OutboxMessage

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
pytestmark = pytest.mark.xdist_group("slack-service")

CHANNEL_TOKEN = "xoxb-test-channel-token"
PROJECT_TOKEN = "xoxb-test-project-token"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    yield from serve_slack_standin({SERVICE_TOKEN, CHANNEL_TOKEN, PROJECT_TOKEN})


@pytest.fixture(scope="module")
def slack_service(
    module_database_url: str,
    mail_sink: MailSink,
    slack: SlackStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    running = RunningService.configure(module_database_url, mail_sink, tmp_path_factory.mktemp("slack"))
    running.env.update(slack_env(slack))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def key(slack_service: RunningService, request: pytest.FixtureRequest) -> str:
    return slack_service.write_key(f"slack-{request.node.name}")


def status_of(service: RunningService, key: str, kind: str, call_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{service.api_url}/{kind}/{call_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json().get("status") or {}


def slack_channel(channel: str, **options: Any) -> ContactChannel:
    return ContactChannel(slack=SlackContactChannel(channel_or_user_id=channel, **options))


def call_id_in(service: RunningService, channel: str) -> str:
    """The call_id of the request posted to the Slack channel `channel`."""
    [found] = [
        row.call_id
        for row in service.rows(HumanRequest)
        if (row.spec.get("channel") or {}).get("slack", {}).get("channel_or_user_id") == channel
    ]
    return found


def in_background(call: Callable[[], Any]) -> Future:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


def ask_approval(
    service: RunningService, key: str, channel: ContactChannel, fn: str, /, **kwargs: Any
) -> str:
    """A function call waiting for approval in `channel`; returns its call_id."""
    hl = agent_layer(service, key, channel)
    return hl.create_function_call(FunctionCallSpec(fn=fn, kwargs=kwargs)).call_id


# --- tests written before the code ---------------------------------------------------------------


def test_approve_from_a_slack_button_returns_the_waiting_sdk_call(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(channel))

    @hl.require_approval()
    def transfer_funds(amount: int, to_account: str) -> str:
        return f"sent {amount} to {to_account}"

    result = in_background(lambda: transfer_funds(amount=250, to_account="ACME-42"))
    posted = posted_to(slack_service, slack, channel)
    assert posted.token == SERVICE_TOKEN
    shown = shown_text(posted.args["blocks"])
    assert "transfer_funds" in shown and "amount" in shown and "250" in shown and "ACME-42" in shown
    assert "transfer_funds" in posted.args["text"]
    assert button_labels(posted.args["blocks"]) == ["Approve", "Reject"]
    styles = [button.get("style") for button in buttons(posted.args["blocks"])]
    assert styles == ["primary", "danger"]

    answer = send_interaction(slack_service, interaction_body(click(posted, "approve", "UBOB", "bob")))
    assert answer.status_code == 200, answer.text
    assert result.result(timeout=WAIT_SECONDS) == "sent 250 to ACME-42"

    edited = update_of(slack, posted)
    assert buttons(edited.args["blocks"]) == []
    outcome = shown_text(edited.args["blocks"])
    assert "Approved" in outcome and "<@UBOB>" in outcome and "transfer_funds" in outcome


def test_reject_asks_for_a_comment_in_a_modal_and_the_model_reads_it(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(channel))

    @hl.require_approval()
    def drop_table(name: str) -> str:
        return f"dropped {name}"

    result = in_background(lambda: drop_table(name="customers"))
    posted = posted_to(slack_service, slack, channel)
    clicked = click(posted, "reject")
    answer = send_interaction(slack_service, interaction_body(clicked))
    assert answer.status_code == 200, answer.text

    opened = slack.wait_for("views.open", lambda call: call.args["trigger_id"] == clicked["trigger_id"])
    assert opened.token == SERVICE_TOKEN
    view = opened.args["view"]
    assert view["type"] == "modal"
    [comment_input] = [block for block in view["blocks"] if block["type"] == "input"]
    assert comment_input["element"]["type"] == "plain_text_input" and comment_input["element"]["multiline"]
    assert not comment_input.get("optional", False)

    empty = send_interaction(slack_service, interaction_body(submit_modal(opened, "   ")))
    assert empty.status_code == 200
    assert empty.json()["response_action"] == "errors"
    assert (
        status_of(slack_service, key, "function_calls", call_id_in(slack_service, channel))["approved"]
        is None
    )

    submitted = send_interaction(
        slack_service, interaction_body(submit_modal(opened, "not the customers table"))
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json() == {"response_action": "clear"}
    assert (
        result.result(timeout=WAIT_SECONDS) == "User denied drop_table with message: not the customers table"
    )

    outcome = shown_text(update_of(slack, posted).args["blocks"])
    assert "Rejected" in outcome and "<@UALICE>" in outcome and "not the customers table" in outcome


def test_a_thread_reply_answers_human_as_tool(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(channel))
    ask = hl.human_as_tool()

    answer = in_background(lambda: ask("Which region should the new cluster go to?"))
    posted = posted_to(slack_service, slack, channel)
    shown = shown_text(posted.args["blocks"])
    assert "Which region should the new cluster go to?" in shown
    assert "thread" in shown.lower()

    sent = send_event(slack_service, thread_reply(posted, "eu-west-1, please"))
    assert sent.status_code == 200, sent.text
    assert answer.result(timeout=WAIT_SECONDS) == "eu-west-1, please"

    outcome = shown_text(update_of(slack, posted).args["blocks"])
    assert "eu-west-1, please" in outcome and "<@UALICE>" in outcome


def test_url_verification_answers_with_the_challenge(slack_service: RunningService) -> None:
    sent = send_event(
        slack_service, {"type": "url_verification", "token": "x", "challenge": "c-123-challenge"}
    )
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"challenge": "c-123-challenge"}


def test_unsigned_mis_signed_stale_and_replayed_payloads_decide_nothing(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    call_id = ask_approval(slack_service, key, slack_channel(channel), "rotate_keys", scope="all")
    posted = posted_to(slack_service, slack, channel)
    body = interaction_body(click(posted, "approve"))

    unsigned = send_interaction(slack_service, body, headers={})
    wrong_secret = send_interaction(
        slack_service, body, headers=signed_headers(body, secret="not-the-secret")
    )
    tampered = send_interaction(
        slack_service, body.replace(b"UALICE", b"UMALLORY"), headers=signed_headers(body)
    )
    stale = send_interaction(slack_service, body, headers=signed_headers(body, int(time.time()) - 6 * 60))
    for refused in (unsigned, wrong_secret, tampered, stale):
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "unauthorized"
    assert status_of(slack_service, key, "function_calls", call_id)["approved"] is None

    # A click that decides nothing (Reject opens the modal), sent twice with the same signature.
    reject = click(posted, "reject")
    reject_body, reject_headers = interaction_body(reject), signed_headers(interaction_body(reject))
    assert send_interaction(slack_service, reject_body, reject_headers).status_code == 200
    replayed = send_interaction(slack_service, reject_body, reject_headers)
    assert replayed.status_code == 401, replayed.text
    assert (
        len(slack.calls_to("views.open", lambda call: call.args["trigger_id"] == reject["trigger_id"])) == 1
    )

    # An approval replayed: the second copy is refused too, and nothing else changes.
    approve_headers = signed_headers(body)
    assert send_interaction(slack_service, body, approve_headers).status_code == 200
    assert send_interaction(slack_service, body, approve_headers).status_code == 401
    status = status_of(slack_service, key, "function_calls", call_id)
    assert status["approved"] is True


def test_a_responder_outside_allowed_responder_ids_cannot_decide(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    route = slack_channel(channel, allowed_responder_ids=["UBOSS"])
    call_id = ask_approval(slack_service, key, route, "deploy", env="production")
    posted = posted_to(slack_service, slack, channel)

    refused = send_interaction(slack_service, interaction_body(click(posted, "approve", "UINTERN", "intern")))
    assert refused.status_code == 200, refused.text
    told = ephemeral_to(slack, posted, "UINTERN")
    assert "not" in told.args["text"].lower()
    assert status_of(slack_service, key, "function_calls", call_id)["approved"] is None

    # Nor through the modal: Reject by an outsider opens nothing.
    outsider_reject = click(posted, "reject", "UINTERN", "intern")
    assert send_interaction(slack_service, interaction_body(outsider_reject)).status_code == 200
    ephemeral_to(slack, posted, "UINTERN", count=2)
    assert (
        slack.calls_to("views.open", lambda call: call.args["trigger_id"] == outsider_reject["trigger_id"])
        == []
    )

    allowed = send_interaction(slack_service, interaction_body(click(posted, "approve", "UBOSS", "boss")))
    assert allowed.status_code == 200
    assert status_of(slack_service, key, "function_calls", call_id)["approved"] is True


def test_a_slack_api_error_is_kept_on_the_message_and_shown_on_the_dashboard(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    slack.fail_next("chat.postMessage", channel, "channel_not_found")
    call_id = ask_approval(slack_service, key, slack_channel(channel), "archive_project", name="apollo")

    def failed_row() -> OutboxMessage | None:
        rows = [row for row in slack_service.rows(OutboxMessage) if row.recipients == [channel]]
        return rows[0] if rows and rows[0].status == "failed" else None

    row = wait_until(failed_row, what="the Slack post to fail")
    assert "channel_not_found" in row.last_error  # type: ignore[union-attr]
    assert status_of(slack_service, key, "function_calls", call_id)["approved"] is None

    operator = Operator(slack_service)
    assert operator.login(ADMIN_PASSWORD).status_code == 303
    page = operator.get(f"/requests/{request_id_of(slack_service, call_id)}").text
    assert "channel_not_found" in page and channel in page


def test_markup_in_arguments_is_escaped_for_slack(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    note = "<script>alert(1)</script> <!channel> <@U0BOSS> Q&A"
    ask_approval(slack_service, key, slack_channel(channel), "send_note", note=note)
    posted = posted_to(slack_service, slack, channel)
    shown = shown_text(posted.args["blocks"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &lt;@U0BOSS&gt; Q&amp;A" in shown
    for raw in ("<script>", "<!channel>", "<@U0BOSS>", "Q&A"):
        assert raw not in shown and raw not in posted.args["text"]


@SQLITE_ONLY
def test_without_a_signing_secret_slack_requests_are_refused(
    database_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    running = RunningService.configure(database_url, mail_sink, tmp_path)
    running.start()
    try:
        body = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
        for path, content_type in (
            ("events", "application/json"),
            ("interactions", "application/x-www-form-urlencoded"),
        ):
            refused = requests.post(
                f"{running.base_url}/slack/{path}",
                data=body,
                headers={"Content-Type": content_type, **signed_headers(body)},
                timeout=WAIT_SECONDS,
            )
            assert refused.status_code == 401, refused.text
            assert "slack_signing_secret" in refused.json()["detail"]
    finally:
        running.stop()


# --- tests written beside the code ---------------------------------------------------------------


def test_a_reject_option_button_rejects_with_that_option(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(channel))
    options = [
        ResponseOption(name="too_big", title="Too much money", prompt_fill="the amount is over the limit"),
        ResponseOption(name="wrong_account", title="Wrong account"),
    ]

    @hl.require_approval(reject_options=options)
    def wire(amount: int) -> str:
        return "wired"

    result = in_background(lambda: wire(amount=10_000))
    posted = posted_to(slack_service, slack, channel)
    assert button_labels(posted.args["blocks"]) == ["Approve", "Reject", "Too much money", "Wrong account"]
    assert send_interaction(slack_service, interaction_body(click(posted, "option:0"))).status_code == 200
    assert (
        result.result(timeout=WAIT_SECONDS) == "User denied wire with message: the amount is over the limit"
    )
    status = status_of(slack_service, key, "function_calls", call_id_in(slack_service, channel))
    assert status["reject_option_name"] == "too_big"


def test_a_question_is_answered_by_an_option_button_or_the_answer_form(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    by_option, by_form = unique_channel(), unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(by_option))
    options = [ResponseOption(name="yes", title="Yes, go"), ResponseOption(name="no", title="No")]
    ask = hl.human_as_tool(response_options=options)
    answer = in_background(lambda: ask("Ship it?"))
    posted = posted_to(slack_service, slack, by_option)
    assert button_labels(posted.args["blocks"]) == ["Yes, go", "No", "Answer"]
    assert send_interaction(slack_service, interaction_body(click(posted, "option:0"))).status_code == 200
    assert answer.result(timeout=WAIT_SECONDS) == "Yes, go"
    status = status_of(slack_service, key, "contact_requests", call_id_in(slack_service, by_option))
    assert status["response_option_name"] == "yes"

    typed = in_background(lambda: hl.human_as_tool(contact_channel=slack_channel(by_form))("Which day?"))
    posted = posted_to(slack_service, slack, by_form)
    clicked = click(posted, "answer")
    assert send_interaction(slack_service, interaction_body(clicked)).status_code == 200
    opened = slack.wait_for("views.open", lambda call: call.args["trigger_id"] == clicked["trigger_id"])
    submitted = send_interaction(slack_service, interaction_body(submit_modal(opened, "Thursday")))
    assert submitted.json() == {"response_action": "clear"}
    assert typed.result(timeout=WAIT_SECONDS) == "Thursday"


def test_bot_messages_and_replies_on_a_function_call_are_not_answers(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    question_channel, call_channel = unique_channel(), unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(question_channel))
    answer = in_background(lambda: hl.human_as_tool()("Rollback?"))
    posted = posted_to(slack_service, slack, question_channel)
    call_id = call_id_in(slack_service, question_channel)

    from_a_bot = thread_reply(posted, "I am a bot", user="UBOTTY", bot_id="B0OTHER")
    edited = thread_reply(posted, "edited", subtype="message_changed")
    for event in (from_a_bot, edited):
        assert send_event(slack_service, event).status_code == 200
    assert status_of(slack_service, key, "contact_requests", call_id).get("response") is None

    fn_call = ask_approval(slack_service, key, slack_channel(call_channel), "reboot", host="db1")
    call_post = posted_to(slack_service, slack, call_channel)
    assert send_event(slack_service, thread_reply(call_post, "approve")).status_code == 200
    assert status_of(slack_service, key, "function_calls", fn_call)["approved"] is None

    assert send_event(slack_service, thread_reply(posted, "yes &amp; now &lt;3")).status_code == 200
    assert answer.result(timeout=WAIT_SECONDS) == "yes & now <3"


def test_a_retried_event_does_not_answer_twice(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(channel))
    answer = in_background(lambda: hl.human_as_tool()("Cache size?"))
    posted = posted_to(slack_service, slack, channel)
    event = thread_reply(posted, "512 MB", user="URETRY")
    assert send_event(slack_service, event, timestamp=int(time.time()) - 60).status_code == 200
    assert answer.result(timeout=WAIT_SECONDS) == "512 MB"

    # Slack's retry of the same event: signed anew (at its own time), marked as a retry, changing nothing.
    retry = send_event(slack_service, event, {"X-Slack-Retry-Num": "1"})
    assert retry.status_code == 200
    late = thread_reply(posted, "1 GB", user="ULATE")
    assert send_event(slack_service, late).status_code == 200
    told = ephemeral_to(slack, posted, "ULATE")
    assert "already answered" in told.args["text"] and told.args["thread_ts"] == posted.answer["ts"]
    assert slack.calls_to("chat.postEphemeral", lambda call: call.args["channel"] == channel) == [told]
    status = status_of(slack_service, key, "contact_requests", call_id_in(slack_service, channel))
    assert status["response"] == "512 MB"


def test_a_click_after_the_decision_tells_who_decided(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    call_id = ask_approval(slack_service, key, slack_channel(channel), "scale_down", replicas=0)
    posted = posted_to(slack_service, slack, channel)
    assert (
        send_interaction(slack_service, interaction_body(click(posted, "approve", "UFIRST"))).status_code
        == 200
    )
    late = send_interaction(slack_service, interaction_body(click(posted, "reject", "USECOND")))
    assert late.status_code == 200
    told = ephemeral_to(slack, posted, "USECOND")
    assert "already approved" in told.args["text"] and "<@UFIRST>" in told.args["text"]
    assert status_of(slack_service, key, "function_calls", call_id)["approved"] is True


def test_the_channels_own_bot_token_is_used_over_the_services(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    route = slack_channel(channel, bot_token=CHANNEL_TOKEN)
    call_id = ask_approval(slack_service, key, route, "restart", service="api")
    posted = posted_to(slack_service, slack, channel)
    assert posted.token == CHANNEL_TOKEN
    clicked = click(posted, "reject")
    assert send_interaction(slack_service, interaction_body(clicked)).status_code == 200
    opened = slack.wait_for("views.open", lambda call: call.args["trigger_id"] == clicked["trigger_id"])
    assert opened.token == CHANNEL_TOKEN
    send_interaction(slack_service, interaction_body(submit_modal(opened, "not now")))
    assert update_of(slack, posted).token == CHANNEL_TOKEN
    assert status_of(slack_service, key, "function_calls", call_id)["comment"] == "not now"


def test_a_direct_message_is_decided_in_its_own_channel_and_a_thread_is_kept(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    person = f"U{time.monotonic_ns():X}"
    call_id = ask_approval(slack_service, key, slack_channel(person), "rotate_password", user="root")
    posted = posted_to(slack_service, slack, person)
    assert posted.answer["channel"].startswith("D")
    assert (
        send_interaction(slack_service, interaction_body(click(posted, "approve", person))).status_code == 200
    )
    assert update_of(slack, posted).args["channel"] == posted.answer["channel"]
    assert status_of(slack_service, key, "function_calls", call_id)["approved"] is True

    channel = unique_channel()
    ask_approval(slack_service, key, slack_channel(channel, thread_ts="1700000000.000100"), "noop")
    assert posted_to(slack_service, slack, channel).args["thread_ts"] == "1700000000.000100"


def test_a_decision_by_email_link_edits_the_slack_message(
    slack_service: RunningService, slack: SlackStandIn, mail_sink: MailSink, key: str
) -> None:
    channel, person = unique_channel(), unique_address("lead")
    both = ContactChannel(
        email=EmailContactChannel(address=person), slack=SlackContactChannel(channel_or_user_id=channel)
    )
    hl = agent_layer(slack_service, key, both)

    @hl.require_approval()
    def publish(version: str) -> str:
        return f"published {version}"

    result = in_background(lambda: publish(version="2.0"))
    posted = posted_to(slack_service, slack, channel)
    link = link_after(mail_sink.wait_for_mail_to(person), "Approve:")
    assert requests.post(link, data={"text": ""}, timeout=WAIT_SECONDS).status_code == 200
    assert result.result(timeout=WAIT_SECONDS) == "published 2.0"
    edited = update_of(slack, posted)
    assert buttons(edited.args["blocks"]) == []
    assert "Approved" in shown_text(edited.args["blocks"]) and person in shown_text(edited.args["blocks"])


def test_a_timed_out_request_edits_the_message_to_say_so(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    hl = agent_layer(slack_service, key, slack_channel(channel))
    hl.create_function_call(FunctionCallSpec(fn="purge_cache", kwargs={}, timeout_seconds=1))
    posted = posted_to(slack_service, slack, channel)
    edited = update_of(slack, posted)
    assert (
        "No one responded in time" in shown_text(edited.args["blocks"])
        and buttons(edited.args["blocks"]) == []
    )


def test_a_rate_limited_post_is_retried(slack_service: RunningService, slack: SlackStandIn, key: str) -> None:
    channel = unique_channel()
    slack.fail_next("chat.postMessage", channel, status=429, retry_after=1)
    ask_approval(slack_service, key, slack_channel(channel), "resize", size="xl")
    posted = posted_to(slack_service, slack, channel)
    refused = slack.calls_to("chat.postMessage", lambda call: call.args["channel"] == channel and not call.ok)
    assert len(refused) == 1 and posted.ok


def test_signed_garbage_gets_a_400_not_a_crash(slack_service: RunningService) -> None:
    for body, status in (
        (b"payload=not-json", 400),
        (b"no-payload-field=1", 422),
        (b"payload=%5B1%2C2%5D", 422),
    ):
        answer = send_interaction(slack_service, body)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"] in ("invalid_json", "invalid_request")
    odd = {"type": "block_actions", "container": "x", "actions": "y", "user": 5}
    assert send_interaction(slack_service, interaction_body(odd)).status_code == 200
    bad_time = send_interaction(
        slack_service, b"payload=%7B%7D", {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
    )
    assert bad_time.status_code == 401


def test_a_channels_own_bot_token_is_never_shown_back(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    call_id = ask_approval(slack_service, key, slack_channel(channel, bot_token=CHANNEL_TOKEN), "restart")
    assert posted_to(slack_service, slack, channel).token == CHANNEL_TOKEN
    headers = {"Authorization": f"Bearer {key}"}
    shown = requests.get(f"{slack_service.api_url}/function_calls/{call_id}", headers=headers, timeout=10)
    assert shown.json()["spec"]["channel"]["slack"]["bot_token"] is None
    trail = requests.get(
        f"{slack_service.api_url}/function_calls/{call_id}/events", headers=headers, timeout=10
    )
    operator = Operator(slack_service)
    operator.login(ADMIN_PASSWORD)
    page = operator.get(f"/requests/{request_id_of(slack_service, call_id)}").text
    assert channel in page
    for seen in (shown.text, trail.text, page):
        assert CHANNEL_TOKEN not in seen


def test_a_projects_own_bot_token_is_used_over_the_services(
    slack_service: RunningService, slack: SlackStandIn
) -> None:
    project = f"slack-own-token-{unique_address('project')}"
    key = slack_service.create_key(project)
    result = slack_service.run_cli(
        "projects", "set-token", "--project", project, "--slack-bot-token", PROJECT_TOKEN
    )
    assert result.returncode == 0, result.stderr
    channel = unique_channel()
    ask_approval(slack_service, key, slack_channel(channel), "rotate_keys")
    assert posted_to(slack_service, slack, channel).token == PROJECT_TOKEN


def test_a_rate_limited_post_waits_as_long_as_slack_asks(
    slack_service: RunningService, slack: SlackStandIn, key: str
) -> None:
    channel = unique_channel()
    slack.fail_next("chat.postMessage", channel, status=429, retry_after=120)
    ask_approval(slack_service, key, slack_channel(channel), "resize", size="xxl")

    def refused_once() -> OutboxMessage | None:
        rows = [row for row in slack_service.rows(OutboxMessage) if row.recipients == [channel]]
        return rows[0] if rows and rows[0].attempts == 1 else None

    row = wait_until(refused_once, what="the rate-limited Slack post")
    assert row.status == "pending" and "ratelimited" in row.last_error  # type: ignore[union-attr]
    assert row.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=100)  # type: ignore[union-attr]
