"""Who counts as the sender, and what happens to odd, broken or oversized mail."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from signoff import FunctionCallSpec, HumanContactSpec, HumanLayer

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    link_after,
    send_email,
    text_body,
    unique_address,
)

# Every test here runs on one worker (--dist loadgroup), so that
# its DKIM-requiring service is started once, not on each worker.
pytestmark = pytest.mark.xdist_group("dkim-service")


def layer(service: RunningService, key: str, address: str) -> HumanLayer:
    return agent_layer(service, key, address)


def send_raw(service: RunningService, mail_from: str, to: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.sendmail(mail_from, [to], raw)


def test_case_and_plus_tags_do_not_hide_the_recipient(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("ann")
    local, domain = address.split("@")
    hl = layer(service, project_key, address)
    contact = hl.create_human_contact(HumanContactSpec(msg="Which vendor?"))
    question = mail_sink.wait_for_mail_to(address)
    send_email(
        service.smtp_port,
        mail_from=f"{local.upper()}+phone@{domain.upper()}",
        to=str(question["Reply-To"]),
        body="Vendor B.",
    )
    answered = hl.client.wait_for_human_contact(contact.call_id, timeout=WAIT_SECONDS)
    assert answered.status.response == "Vendor B."
    # The confirmation goes to the address the request was sent to, and only once.
    confirmation = mail_sink.wait_for_mail_to(address, count=2)
    assert "Vendor B." in text_body(confirmation)


def test_no_confirmation_is_sent_for_auto_replies(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("away")
    hl = layer(service, project_key, address)
    hl.create_human_contact(HumanContactSpec(msg="Are you there?"))
    question = mail_sink.wait_for_mail_to(address)
    send_email(
        service.smtp_port,
        mail_from=address,
        to=str(question["Reply-To"]),
        body="I am out of office until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    [row] = service.processed_inbound_to(str(question["Reply-To"]))
    assert row.reason == "auto_reply"
    # A later, accepted reply is confirmed; the auto-reply before it was not.
    send_email(service.smtp_port, mail_from=address, to=str(question["Reply-To"]), body="Yes, here.")
    service.processed_inbound_to(str(question["Reply-To"]), count=2)
    mail_sink.wait_for_mail_to(address, count=2)
    assert len(mail_sink.messages_to(address)) == 2


MALFORMED = {
    "multipart-without-boundary": (
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all, just text\r\n",
        {"accepted", "rejected"},
    ),
    "unknown-charset": (
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nOK with \xe9\xe8 bytes\r\n",
        {"accepted"},
    ),
    "eight-bit-garbage-in-headers": (
        b"Subject: \xff\xfe broken \xc3\r\nContent-Type: text/plain\r\n\r\nSure thing.\r\n",
        {"accepted"},
    ),
    "base64-that-is-not": (
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
        {"accepted", "rejected"},
    ),
    "four-hundred-headers": (
        b"".join(b"X-Filler-%d: padding\r\n" % number for number in range(400))
        + b"Content-Type: text/plain\r\n\r\nFine by me.\r\n",
        {"accepted"},
    ),
    "folded-giant-subject": (
        b"Subject: "
        + b"\r\n ".join([b"word" * 50] * 400)
        + b"\r\nContent-Type: text/plain\r\n\r\nNoted.\r\n",
        {"accepted"},
    ),
    "attachment-only": (
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=quote.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQK\r\n--XX--\r\n",
        {"rejected"},
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_mail_gets_a_recorded_outcome(
    service: RunningService, mail_sink: MailSink, project_key: str, case: str
) -> None:
    address = unique_address(case)
    hl = layer(service, project_key, address)
    hl.create_human_contact(HumanContactSpec(msg="Anything to add?"))
    reply_to = str(mail_sink.wait_for_mail_to(address)["Reply-To"])
    body, outcomes = MALFORMED[case]
    send_raw(service, address, reply_to, f"From: {address}\r\nTo: {reply_to}\r\n".encode() + body)
    [row] = service.processed_inbound_to(reply_to)
    assert row.status in outcomes, (row.status, row.reason, row.detail)
    assert row.status == "accepted" or row.reason


def test_attachments_are_kept_and_listed_not_read_as_the_answer(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("files")
    hl = layer(service, project_key, address)
    call = hl.create_function_call(FunctionCallSpec(fn="pay_invoice", kwargs={"invoice": "INV-7"}))
    request_mail = mail_sink.wait_for_mail_to(address)
    reply_to = str(request_mail["Reply-To"])
    raw = (
        f"From: {address}\r\nTo: {reply_to}\r\nSubject: Re: invoice\r\n"
        "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain\r\n\r\napprove\r\n"
        "--XX\r\nContent-Type: text/plain; name=notes.txt\r\n"
        "Content-Disposition: attachment; filename=notes.txt\r\n\r\n"
        "reject this please\r\n--XX--\r\n"
    ).encode()
    send_raw(service, address, reply_to, raw)
    status = hl.client.wait_for_function_call(call.call_id, timeout=WAIT_SECONDS).status
    assert status.approved is True
    [row] = service.processed_inbound_to(reply_to)
    assert row.attachments == [{"filename": "notes.txt", "content_type": "text/plain", "size": 18}]
    page = requests.get(link_after(request_mail, "Approve:"), timeout=10)
    assert page.status_code == 409 and "notes.txt" in page.text


@pytest.fixture(scope="module")
def dkim_service(mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    workdir: Path = tmp_path_factory.mktemp("dkim")
    running = RunningService.configure(f"sqlite:///{workdir / 'dkim.db'}", mail_sink, workdir)
    running.env.update(SIGNOFF_REQUIRE_DKIM="true", SIGNOFF_TRUSTED_AUTHSERV_ID="mx.signoff.test")
    running.start()
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("results", "accepted"),
    [
        ("mx.signoff.test; dkim=pass header.d=example.com; spf=pass", True),
        ("mx.signoff.test; dkim=fail header.d=example.com", False),
        ("mx.evil.test; dkim=pass header.d=example.com", False),
        ("mx.signoff.test; dkim=pass header.d=other.example.net", False),
        (None, False),
    ],
    ids=["trusted-pass", "trusted-fail", "untrusted-relay", "other-domain", "no-results"],
)
def test_require_dkim_reads_only_the_trusted_relays_verdict(
    dkim_service: RunningService, mail_sink: MailSink, results: str | None, accepted: bool
) -> None:
    address = unique_address("signed")
    hl = layer(dkim_service, dkim_service.write_key("dkim"), address)
    hl.create_human_contact(HumanContactSpec(msg="Signed reply please"))
    reply_to = str(mail_sink.wait_for_mail_to(address)["Reply-To"])
    headers = {"Authentication-Results": results} if results else {}
    send_email(dkim_service.smtp_port, mail_from=address, to=reply_to, body="Here it is.", headers=headers)
    [row] = dkim_service.processed_inbound_to(reply_to)
    assert (row.status == "accepted") is accepted
    if not accepted:
        assert row.reason == "dkim_failed"


@pytest.mark.parametrize(
    ("envelope_from", "extra_headers", "body"),
    [
        ("", "", "Delivery failed."),
        ("MAILER-DAEMON@mail.example.org", "", "Your message could not be delivered."),
        (
            "postmaster@mail.example.org",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n",
            "--R\r\nContent-Type: text/plain\r\n\r\napprove\r\n--R--\r\n",
        ),
    ],
    ids=["null-sender", "mailer-daemon", "delivery-report"],
)
def test_bounces_never_count(
    service: RunningService,
    mail_sink: MailSink,
    project_key: str,
    envelope_from: str,
    extra_headers: str,
    body: str,
) -> None:
    address = unique_address("bounced")
    hl = layer(service, project_key, address)
    hl.create_function_call(FunctionCallSpec(fn="send_newsletter", kwargs={}))
    reply_to = str(mail_sink.wait_for_mail_to(address)["Reply-To"])
    raw = f"From: {address}\r\nTo: {reply_to}\r\n{extra_headers}\r\n{body}".encode()
    if not extra_headers:
        raw = f"From: {address}\r\nTo: {reply_to}\r\nContent-Type: text/plain\r\n\r\n{body}".encode()
    send_raw(service, envelope_from, reply_to, raw)
    [row] = service.processed_inbound_to(reply_to)
    assert (row.status, row.reason) == ("rejected", "bounce")
    assert len(mail_sink.messages_to(address)) == 1  # no confirmation to a bounce
