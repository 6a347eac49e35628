"""`AsyncHumanLayer` against the running service: awaited approvals, questions and API calls.

Each test runs its own event loop with `asyncio.run`, as an asyncio agent would, and plays
the person from threads (reading the relay sink, clicking links, replying over SMTP).
"""

from __future__ import annotations

import asyncio

import pytest
import requests

from signoff import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    EmailRecipient,
    Escalation,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContactSpec,
    HumanContactStatus,
    SignoffTimeoutError,
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


@pytest.fixture(scope="module")
def project_key(service: RunningService) -> str:
    # One project for the module; every test uses addresses and call_ids of its own.
    return service.create_key("async-sdk")


def async_layer(service: RunningService, key: str, address: str, **options: object) -> AsyncHumanLayer:
    return AsyncHumanLayer(
        api_key=key,
        api_base_url=service.api_url,
        run_id="async-test",
        contact_channel=ContactChannel(email=EmailContactChannel(address=address)),
        **options,
    )


async def as_the_person(action: object, *args: object, **kwargs: object) -> object:
    """Do what the person does (blocking I/O) off the event loop the agent runs on."""
    return await asyncio.to_thread(action, *args, **kwargs)  # type: ignore[arg-type]


def test_an_async_tool_runs_once_approved_and_the_loop_keeps_running_meanwhile(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("async-approver")
    hl = async_layer(service, project_key, approver)
    deployed: list[str] = []

    @hl.require_approval()
    async def deploy(service_name: str, version: str) -> str:
        await asyncio.sleep(0)
        deployed.append(version)
        return f"deployed {service_name} {version}"

    async def scenario() -> tuple[object, int]:
        ticks = 0
        agent = asyncio.create_task(deploy("billing", version="1.4.2"))
        mail = asyncio.create_task(as_the_person(mail_sink.wait_for_mail_to, approver))
        while not mail.done():  # other work goes on while the agent waits for a person
            ticks += 1
            await asyncio.sleep(0.01)
        message = mail.result()
        assert "service_name" in text_body(message) and "billing" in text_body(message)
        assert not agent.done() and deployed == []
        await as_the_person(requests.post, link_after(message, "Approve:"), data={"text": ""}, timeout=10)
        return await asyncio.wait_for(agent, WAIT_SECONDS), ticks

    result, ticks = asyncio.run(scenario())

    assert result == "deployed billing 1.4.2"
    assert deployed == ["1.4.2"]
    assert ticks > 0


def test_a_rejected_sync_tool_does_not_run_and_the_agent_reads_why(
    service: RunningService, mail_sink: MailSink, project_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    approver = unique_address("async-rejecter")
    hl = async_layer(service, project_key, approver, verbose=True)
    purged: list[str] = []

    @hl.require_approval()
    def purge_cache(region: str) -> str:
        purged.append(region)
        return "purged"

    async def scenario() -> object:
        agent = asyncio.create_task(purge_cache(region="eu"))
        message = await as_the_person(mail_sink.wait_for_mail_to, approver)
        await as_the_person(
            requests.post, link_after(message, "Reject:"), data={"text": "Not now."}, timeout=10
        )
        return await asyncio.wait_for(agent, WAIT_SECONDS)

    assert asyncio.run(scenario()) == "User denied purge_cache with message: Not now."
    assert purged == []
    assert "signoff: human denied purge_cache with message: Not now." in capsys.readouterr().out


def test_the_async_human_tool_returns_the_emailed_reply(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("async-answerer")
    ask = async_layer(service, project_key, person).human_as_tool()

    async def scenario() -> object:
        agent = asyncio.create_task(ask("Which queue should the retry job use?", subject="Retry queue"))
        question = await as_the_person(mail_sink.wait_for_mail_to, person)
        assert "Which queue should the retry job use?" in text_body(question)
        await as_the_person(
            send_email,
            service.smtp_port,
            mail_from=person,
            to=str(question["Reply-To"]),
            body="The low-priority one.",
            headers=reply_headers(question),
        )
        return await asyncio.wait_for(agent, WAIT_SECONDS)

    assert asyncio.run(scenario()) == "The low-priority one."


def test_async_create_get_escalate_and_respond(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person, boss = unique_address("async-person"), unique_address("async-boss")
    hl = async_layer(service, project_key, person)
    escalation = Escalation(
        escalation_msg="Still waiting.", additional_recipients=[EmailRecipient(address=boss)]
    )

    async def scenario() -> dict[str, object]:
        call, contact = await asyncio.gather(
            hl.create_function_call(FunctionCallSpec(fn="resize_disk", kwargs={"gb": 500}, state={"job": 7})),
            hl.create_human_contact(HumanContactSpec(msg="Which disk type?", state={"job": 7})),
        )
        seen: dict[str, object] = {"pending": await hl.get_function_call(call.call_id)}
        seen["escalated"] = await hl.escalate_email_function_call(call.call_id, escalation)
        seen["approved"] = await hl.respond_to_function_call(call.call_id, FunctionCallStatus(approved=True))
        await hl.escalate_email_human_contact(contact.call_id, escalation)
        seen["answered"] = await hl.respond_to_human_contact(
            contact.call_id, HumanContactStatus(response="SSD")
        )
        seen["fetched"] = await hl.get_human_contact(contact.call_id)
        return seen

    seen = asyncio.run(scenario())

    assert seen["pending"].status.approved is None
    assert seen["pending"].spec.state == {"job": 7}
    assert seen["escalated"].status.approved is None
    assert seen["approved"].status.approved is True
    assert seen["answered"].status.response == "SSD"
    assert seen["fetched"].spec.state == {"job": 7} and seen["fetched"].status.response == "SSD"
    follow_ups = [text_body(mail_sink.wait_for_mail_to(boss, count=count)) for count in (1, 2)]
    assert any("resize_disk" in body and "Still waiting." in body for body in follow_ups)
    assert any("Which disk type?" in body for body in follow_ups)


def test_a_cancelled_wait_leaves_the_request_waiting_for_the_person(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("async-cancelled")
    hl = async_layer(
        service, project_key, person, poll_seconds=1, genid=lambda prefix: "call-async-cancelled"
    )

    async def scenario() -> str:
        agent = asyncio.create_task(hl.fetch_human_response(HumanContactSpec(msg="Shall I retry?")))
        await as_the_person(mail_sink.wait_for_mail_to, person)
        agent.cancel()
        with pytest.raises(asyncio.CancelledError):
            await agent
        return (await hl.get_human_contact("call-async-cancelled")).status.response

    assert asyncio.run(scenario()) is None


def test_a_wait_that_runs_out_raises_a_timeout_error(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("async-silent")
    hl = async_layer(service, project_key, person, wait_timeout_seconds=1.5, poll_seconds=1)

    with pytest.raises(SignoffTimeoutError, match=r"not decided within 1\.5 s"):
        asyncio.run(hl.fetch_approval(FunctionCallSpec(fn="reboot", kwargs={"host": "db-1"})))
    mail_sink.wait_for_mail_to(person)  # the person was asked all the same
