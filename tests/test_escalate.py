"""Escalation: a waiting request brought to more people, in the same email thread.

The agent blocks as it would in production while the test escalates, reads the follow-up
from the relay sink, and answers as the new person by link or by reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from signoff import (
    ContactChannel,
    EmailContactChannel,
    EmailRecipient,
    Escalation,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContactSpec,
    HumanLayer,
)

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    link_after,
    reply_headers,
    send_email,
    text_body,
    unique_address,
)

NUDGE = "Nobody has answered for an hour; could you decide instead?"


@pytest.fixture(scope="module")
def project_key(service: RunningService) -> str:
    # One project for the module (each test uses call_ids of its own); another is made where needed.
    return service.create_key("escalation")


@pytest.fixture
def agent_pool() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2)
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


def layer_for(service: RunningService, key: str, address: str, call_id: str) -> HumanLayer:
    """A HumanLayer whose next request gets `call_id`, so the test can escalate it."""
    return HumanLayer(
        api_key=key,
        api_base_url=service.api_url,
        run_id="escalation-test",
        contact_channel=ContactChannel(email=EmailContactChannel(address=address)),
        genid=lambda prefix: call_id,
    )


def escalate(service: RunningService, key: str, path: str, body: object) -> requests.Response:
    return requests.post(
        f"{service.api_url}/agent/{path}/escalate_email",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_the_new_person_gets_a_follow_up_in_the_thread_and_their_approval_counts(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    first, boss = unique_address("first"), unique_address("boss")
    hl = layer_for(service, project_key, first, "call-escalate-approve")

    @hl.require_approval()
    def wire_money(amount: int) -> str:
        return f"wired {amount}"

    waiting = agent_pool.submit(wire_money, 4000)
    original = mail_sink.wait_for_mail_to(first)

    escalated = hl.escalate_email_function_call(
        "call-escalate-approve",
        Escalation(escalation_msg=NUDGE, additional_recipients=[EmailRecipient(address=boss)]),
    )
    assert escalated.call_id == "call-escalate-approve"
    assert escalated.status is not None and escalated.status.approved is None

    follow_up = mail_sink.wait_for_mail_to(boss)
    assert NUDGE in text_body(follow_up)
    assert boss in str(follow_up["To"])
    assert "wire_money" in text_body(follow_up) and "4000" in text_body(follow_up)
    assert follow_up["In-Reply-To"] == original["Message-ID"]
    assert original["Message-ID"] in str(follow_up["References"])
    assert follow_up["Reply-To"] == original["Reply-To"]
    assert len(mail_sink.messages_to(first)) == 1  # the follow-up went to the new person only

    decided = requests.post(link_after(follow_up, "Approve:"), data={"text": ""}, timeout=10)
    assert decided.status_code == 200
    assert waiting.result(timeout=WAIT_SECONDS) == "wired 4000"


def test_a_reply_from_the_escalated_person_answers_the_question(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    first, expert = unique_address("first"), unique_address("expert")
    hl = layer_for(service, project_key, first, "call-escalate-question")

    waiting = agent_pool.submit(hl.human_as_tool(), "Which datacenter holds the backups?")
    mail_sink.wait_for_mail_to(first)
    hl.escalate_email_human_contact(
        "call-escalate-question",
        Escalation(escalation_msg=NUDGE, additional_recipients=[EmailRecipient(address=expert, field="cc")]),
    )
    follow_up = mail_sink.wait_for_mail_to(expert)
    assert "Which datacenter holds the backups?" in text_body(follow_up)

    send_email(
        service.smtp_port,
        mail_from=expert,
        to=str(follow_up["Reply-To"]),
        body="The one in Frankfurt.",
        headers=reply_headers(follow_up),
    )
    assert waiting.result(timeout=WAIT_SECONDS) == "The one in Frankfurt."


def test_an_escalation_naming_nobody_reminds_everyone_in_their_own_thread(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    first, second = unique_address("first"), unique_address("second")
    hl = layer_for(service, project_key, first, "call-escalate-remind")
    channel = ContactChannel(
        email=EmailContactChannel(address=first, additional_recipients=[EmailRecipient(address=second)])
    )
    hl.create_function_call(FunctionCallSpec(fn="rotate_keys", kwargs={}, channel=channel))
    originals = {address: mail_sink.wait_for_mail_to(address) for address in (first, second)}

    hl.escalate_email_function_call("call-escalate-remind", Escalation(escalation_msg="A reminder."))

    for address, original in originals.items():
        reminder = mail_sink.wait_for_mail_to(address, count=2)
        assert "A reminder." in text_body(reminder)
        assert reminder["In-Reply-To"] == original["Message-ID"]


def test_a_bad_address_is_refused_naming_the_field_and_nobody_is_mailed(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    first = unique_address("first")
    hl = layer_for(service, project_key, first, "call-escalate-bad")
    hl.create_human_contact(HumanContactSpec(msg="Is the release frozen?"))
    mail_sink.wait_for_mail_to(first)

    bad = escalate(
        service,
        project_key,
        "human_contacts/call-escalate-bad",
        {
            "escalation_msg": NUDGE,
            "additional_recipients": [{"address": "ok@example.com"}, {"address": "nope"}],
        },
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_request"
    assert "additional_recipients.1.address" in bad.json()["detail"]

    not_email = escalate(
        service,
        project_key,
        "human_contacts/call-escalate-bad",
        {"escalation_msg": NUDGE, "channel": {"sms": {"phone_number": "+15550100"}}},
    )
    assert not_email.status_code == 422 and "channel.email" in not_email.json()["detail"]

    assert escalate(service, project_key, "human_contacts/call-escalate-bad", {}).status_code == 422
    assert mail_sink.messages_to("ok@example.com") == []
    assert len(mail_sink.messages_to(first)) == 1


def test_another_projects_or_unknown_call_is_not_found(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    first = unique_address("first")
    layer_for(service, project_key, first, "call-escalate-private").create_function_call(
        FunctionCallSpec(fn="drop_table", kwargs={"table": "users"})
    )
    other_key = service.write_key("escalation-other-project")
    body = {"escalation_msg": NUDGE, "additional_recipients": [{"address": unique_address("intruder")}]}

    for key, path in (
        (other_key, "function_calls/call-escalate-private"),
        (project_key, "function_calls/call-nobody-made"),
        (project_key, "human_contacts/call-escalate-private"),  # a function call, not a question
    ):
        answer = escalate(service, key, path, body)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "not_found"


def test_a_decided_request_cannot_be_escalated(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    first, late = unique_address("first"), unique_address("late")
    hl = layer_for(service, project_key, first, "call-escalate-decided")
    hl.create_function_call(FunctionCallSpec(fn="restart", kwargs={}))
    hl.respond_to_function_call("call-escalate-decided", FunctionCallStatus(approved=True))

    refused = escalate(
        service,
        project_key,
        "function_calls/call-escalate-decided",
        {"escalation_msg": NUDGE, "additional_recipients": [{"address": late}]},
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "already_responded"
    assert mail_sink.messages_to(late) == []
