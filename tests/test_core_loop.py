"""The core loop end to end: an agent asks, a person answers by link or by reply, the agent goes on.

Everything runs for real: `signoff serve` in a subprocess, mail to an SMTP sink, clicks
over HTTP, replies over SMTP, the SDK blocking in a thread as an agent would.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from signoff import ContactChannel, EmailContactChannel, FunctionCallSpec, HumanLayer

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    link_after,
    reply_headers,
    send_email,
    text_body,
    unique_address,
)


@pytest.fixture
def agent_pool() -> ThreadPoolExecutor:
    pool = ThreadPoolExecutor(max_workers=4)
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


def make_layer(service: RunningService, key: str, address: str) -> HumanLayer:
    return agent_layer(service, key, address, run_id="test-run")


def approval_gate(service: RunningService, key: str, address: str, calls: list) -> object:
    hl = make_layer(service, key, address)

    @hl.require_approval()
    def transfer_funds(amount: int, to_account: str) -> str:
        """Move money between accounts."""
        calls.append((amount, to_account))
        return f"moved {amount} to {to_account}"

    return transfer_funds


def result_of(future: Future) -> object:
    return future.result(timeout=WAIT_SECONDS)


def test_approve_post_runs_the_function_and_returns_its_result(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    approver = unique_address("approver")
    calls: list = []
    transfer_funds = approval_gate(service, project_key, approver, calls)

    future = agent_pool.submit(transfer_funds, amount=250, to_account="ACME-42")
    message = mail_sink.wait_for_mail_to(approver)
    assert "transfer_funds" in str(message["Subject"])
    body = text_body(message)
    assert "250" in body and "ACME-42" in body

    approve_page = requests.get(link_after(message, "Approve:"), timeout=10)
    assert approve_page.status_code == 200
    assert "transfer_funds" in approve_page.text and "<form" in approve_page.text
    assert not future.done() and calls == []

    decided = requests.post(link_after(message, "Approve:"), data={"text": ""}, timeout=10)
    assert decided.status_code == 200
    assert "Approved" in decided.text and approver in decided.text
    assert result_of(future) == "moved 250 to ACME-42"
    assert calls == [(250, "ACME-42")]


def test_reject_with_comment_returns_the_denial_with_the_comment(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    approver = unique_address("rejecter")
    calls: list = []
    transfer_funds = approval_gate(service, project_key, approver, calls)

    future = agent_pool.submit(transfer_funds, amount=9000, to_account="OFFSHORE-1")
    message = mail_sink.wait_for_mail_to(approver)
    reject_link = link_after(message, "Reject:")
    form = requests.get(reject_link, timeout=10)
    assert form.status_code == 200 and 'name="text"' in form.text

    decided = requests.post(reject_link, data={"text": "Too much; ask finance first."}, timeout=10)
    assert decided.status_code == 200 and "Rejected" in decided.text
    assert result_of(future) == "User denied transfer_funds with message: Too much; ask finance first."
    assert calls == []


def test_opening_either_link_decides_nothing(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("scanner")
    hl = make_layer(service, project_key, approver)
    call = hl.create_function_call(_spec("delete_records", {"table": "customers"}, approver))
    message = mail_sink.wait_for_mail_to(approver)

    for label in ("Approve:", "Reject:", "Approve:"):
        assert requests.get(link_after(message, label), timeout=10).status_code == 200
        requests.head(link_after(message, label), timeout=10)

    status = hl.get_function_call(call.call_id).status
    assert status is not None and status.approved is None and status.responded_at is None


def test_human_as_tool_returns_the_reply_without_quote_or_signature(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    person = unique_address("answerer")
    ask = make_layer(service, project_key, person).human_as_tool()

    future = agent_pool.submit(ask, "Which region should the new cluster go in?")
    question = mail_sink.wait_for_mail_to(person)
    assert "Which region" in text_body(question)
    reply = (
        "Put it in eu-west-1, next to the database.\n"
        "\n"
        "-- \n"
        "Dana Answerer\n"
        "Platform team\n"
        "\n"
        "On Thu, Nov 26, 2026 at 10:00 AM signoff <signoff@example.com> wrote:\n"
        "> An agent has a question for you.\n"
        "> Which region should the new cluster go in?\n"
    )
    send_email(
        service.smtp_port,
        mail_from=person,
        to=str(question["Reply-To"]),
        body=reply,
        headers=reply_headers(question),
    )
    assert result_of(future) == "Put it in eu-west-1, next to the database."


def test_reply_from_another_address_is_not_taken(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    person = unique_address("owner")
    stranger = unique_address("stranger")
    ask = make_layer(service, project_key, person).human_as_tool()

    future = agent_pool.submit(ask, "May I rotate the production keys tonight?")
    question = mail_sink.wait_for_mail_to(person)
    send_email(service.smtp_port, mail_from=stranger, to=str(question["Reply-To"]), body="Sure, go ahead.")
    [row] = service.processed_inbound_to(str(question["Reply-To"]))
    assert (row.status, row.reason) == ("rejected", "sender_not_allowed")
    assert not future.done()

    send_email(service.smtp_port, mail_from=person, to=str(question["Reply-To"]), body="Not tonight.")
    assert result_of(future) == "Not tonight."


@pytest.mark.parametrize(
    ("headers", "envelope_from", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, None, "auto_reply"),
        ({"X-Autoreply": "yes"}, None, "auto_reply"),
        ({"Precedence": "bulk"}, None, "auto_reply"),
        ({}, "", "bounce"),
    ],
    ids=["auto-submitted", "x-autoreply", "precedence-bulk", "null-sender"],
)
def test_auto_replies_and_bounces_are_not_answers(
    service: RunningService,
    mail_sink: MailSink,
    project_key: str,
    agent_pool: ThreadPoolExecutor,
    headers: dict,
    envelope_from: str | None,
    reason: str,
) -> None:
    person = unique_address("vacationer")
    calls: list = []
    transfer_funds = approval_gate(service, project_key, person, calls)

    future = agent_pool.submit(transfer_funds, amount=1, to_account="X")
    message = mail_sink.wait_for_mail_to(person)
    send_email(
        service.smtp_port,
        mail_from=person,
        to=str(message["Reply-To"]),
        body="Approved",  # an auto-responder quoting an approve word must still not approve
        headers=headers,
        envelope_from=envelope_from,
    )
    [row] = service.processed_inbound_to(str(message["Reply-To"]))
    assert (row.status, row.reason) == ("rejected", reason)
    assert not future.done() and calls == []

    send_email(service.smtp_port, mail_from=person, to=str(message["Reply-To"]), body="No.\nWrong account.")
    assert result_of(future) == "User denied transfer_funds with message: Wrong account."


def test_approve_by_email_reply(
    service: RunningService, mail_sink: MailSink, project_key: str, agent_pool: ThreadPoolExecutor
) -> None:
    person = unique_address("replier")
    calls: list = []
    transfer_funds = approval_gate(service, project_key, person, calls)

    future = agent_pool.submit(transfer_funds, amount=5, to_account="PETTY-CASH")
    message = mail_sink.wait_for_mail_to(person)
    # Some clients drop Reply-To; the thread headers still find the request.
    send_email(
        service.smtp_port,
        mail_from=person.upper(),
        to=f"replies@{service_reply_domain(service)}",
        body="LGTM\n\nSent from my iPhone",
        headers=reply_headers(message),
    )
    assert result_of(future) == "moved 5 to PETTY-CASH"


def service_reply_domain(service: RunningService) -> str:
    return service.env["SIGNOFF_REPLY_DOMAIN"]


def test_tampered_and_used_links_get_readable_error_pages(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("tamper")
    hl = make_layer(service, project_key, approver)
    hl.create_function_call(_spec("drop_table", {"name": "orders"}, approver))
    message = mail_sink.wait_for_mail_to(approver)
    approve_link = link_after(message, "Approve:")

    signature = approve_link.rsplit(".", 1)[1]
    tampered = approve_link.replace(signature, signature[::-1])
    for method in (requests.get, requests.post):
        page = method(tampered, timeout=10)
        assert page.status_code == 400
        assert "text/html" in page.headers["Content-Type"] and "This link does not work" in page.text

    assert requests.post(approve_link, timeout=10).status_code == 200
    for method in (requests.get, requests.post):
        page = method(approve_link, timeout=10)
        assert page.status_code == 409
        assert "Already approved" in page.text and approver in page.text
    reject_after = requests.post(link_after(message, "Reject:"), data={"text": "no"}, timeout=10)
    assert reject_after.status_code == 409 and "Already approved" in reject_after.text


def test_expired_link_gets_a_readable_page(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from signoff_service.tokens import LINK_SALT

    from signoff_testing import SECRET_KEY

    approver = unique_address("late")
    make_layer(service, project_key, approver).create_function_call(_spec("restart", {}, approver))
    link = link_after(mail_sink.wait_for_mail_to(approver), "Approve:")
    claim = URLSafeTimedSerializer(SECRET_KEY, salt=LINK_SALT).loads(link.rsplit("/", 1)[1])

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 8 * 24 * 3600

    old_token = URLSafeTimedSerializer(SECRET_KEY, salt=LINK_SALT, signer=EightDaysAgo).dumps(claim)
    page = requests.post(f"{service.base_url}/d/{old_token}", timeout=10)
    assert page.status_code == 410 and "expired" in page.text


def test_each_key_sees_only_its_own_project(service: RunningService, mail_sink: MailSink) -> None:
    key_a = service.write_key("isolation-a")
    key_b = service.write_key("isolation-b")
    approver = unique_address("iso")
    call = make_layer(service, key_a, approver).create_function_call(_spec("secret_op", {}, approver))

    url = f"{service.api_url}/function_calls/{call.call_id}"
    assert requests.get(url, headers=_bearer(key_a), timeout=10).status_code == 200
    other = requests.get(url, headers=_bearer(key_b), timeout=10)
    assert other.status_code == 404 and other.json()["error"] == "not_found"
    respond = requests.post(
        f"{service.api_url}/agent/function_calls/{call.call_id}/respond",
        json={"approved": True},
        headers=_bearer(key_b),
        timeout=10,
    )
    assert respond.status_code == 404
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error", "detail"}
    assert requests.get(url, headers=_bearer(key_a), timeout=10).json()["status"]["approved"] is None


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _spec(fn: str, kwargs: dict, address: str) -> FunctionCallSpec:
    return FunctionCallSpec(
        fn=fn, kwargs=kwargs, channel=ContactChannel(email=EmailContactChannel(address=address))
    )
