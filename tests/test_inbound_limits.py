"""Inbound limits and transport: header count, a per-sender rate, and STARTTLS."""

from __future__ import annotations

import smtplib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from signoff import HumanContactSpec, HumanLayer

from signoff_testing import (
    REPLY_DOMAIN,
    SQLITE_ONLY,
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    send_email,
    signoff_command,
    unique_address,
)
from tls_testing import ServerCertificate, make_server_certificate


@dataclass
class Question:
    layer: HumanLayer
    call_id: str
    reply_to: str

    def answer(self) -> str | None:
        return self.layer.client.wait_for_human_contact(self.call_id, timeout=WAIT_SECONDS).status.response


def ask(service: RunningService, key: str, mail_sink: MailSink, address: str) -> Question:
    """A question mailed to `address`, with the reply address it went out with."""
    layer = agent_layer(service, key, address)
    contact = layer.create_human_contact(HumanContactSpec(msg="Which vendor?"))
    return Question(layer, contact.call_id, str(mail_sink.wait_for_mail_to(address)["Reply-To"]))


@SQLITE_ONLY
def test_a_reply_with_too_many_header_fields_is_kept_and_rejected(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("headers")
    question = ask(service, project_key, mail_sink, address)
    reply_to = question.reply_to
    filler = {f"X-Filler-{number}": "padding" for number in range(500)}
    send_email(service.smtp_port, mail_from=address, to=reply_to, body="Vendor B.", headers=filler)
    [row] = service.processed_inbound_to(reply_to)
    assert (row.status, row.reason) == ("rejected", "too_many_headers")
    assert "500" in row.detail and b"Vendor B." in row.raw
    # Not taken as the answer: the question is still open, and a normal reply still answers it.
    assert question.layer.client.get_human_contact(question.call_id).status.response is None
    send_email(service.smtp_port, mail_from=address, to=reply_to, body="Vendor C.")
    assert question.answer() == "Vendor C."


# --- Inbound messages per hour, per sender -----------------------------------------------------

LIMIT = 3


@pytest.fixture
def limited_service(
    private_database_url: str, mail_sink: MailSink, tmp_path: Path
) -> Iterator[RunningService]:
    running = RunningService.configure(private_database_url, mail_sink, tmp_path)
    running.env.update(SIGNOFF_INBOUND_MESSAGES_PER_HOUR=str(LIMIT))
    running.start()
    yield running
    running.stop()


def dialogue(service: RunningService, mail_from: str, to: str) -> list[tuple[int, bytes]]:
    """MAIL FROM, RCPT TO and (if both were taken) DATA: each answer, up to the first refusal."""
    answers = []
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.ehlo()
        for step in (lambda: client.mail(mail_from), lambda: client.rcpt(to)):
            answers.append(step())
            if answers[-1][0] != 250:
                return answers
        answers.append(client.data(f"From: {mail_from}\r\nTo: {to}\r\nSubject: hi\r\n\r\nVendor B.\r\n"))
    return answers


@SQLITE_ONLY
def test_a_sender_over_the_hourly_limit_is_told_to_try_later_others_are_not(
    limited_service: RunningService, mail_sink: MailSink
) -> None:
    key = limited_service.write_key("limited")
    address = unique_address("eager")
    reply_to = ask(limited_service, key, mail_sink, address).reply_to
    local, domain = address.split("@")
    # One sender however it is written: case does not make a new one.
    spellings = [address, address.upper(), f"{local}@{domain.upper()}"]
    for spelling in spellings:
        assert dialogue(limited_service, spelling, reply_to)[-1][0] == 250
    refused = dialogue(limited_service, address, reply_to)[-1]
    assert refused[0] == 450 and refused[1].startswith(b"4.7.1"), refused
    # Someone else is not held up by it.
    other = unique_address("patient")
    assert dialogue(limited_service, other, f"reply+0123abcd@{REPLY_DOMAIN}")[-1][0] == 250
    # A sender on the reply domain is limited too, and its address (a reply+<token>?) never logged.
    for _ in range(LIMIT):
        dialogue(limited_service, reply_to, f"reply+0123abcd@{REPLY_DOMAIN}")
    assert dialogue(limited_service, reply_to, f"reply+0123abcd@{REPLY_DOMAIN}")[-1][0] == 450
    # Only the three taken were stored; the log says why the fourth was not, naming no reply address.
    assert len(limited_service.processed_inbound_to(reply_to, count=LIMIT)) == LIMIT
    limited = [line for line in limited_service.log_path.read_text().splitlines() if "rate limit" in line]
    assert len(limited) == 2 and address.lower() in limited[0]
    assert not any("reply+" in line for line in limited)
    metrics = requests.get(f"{limited_service.base_url}/metrics", timeout=10).text
    assert 'signoff_rate_limited_total{limit="inbound"} 2.0' in metrics


# --- Inbound STARTTLS ---------------------------------------------------------------------------


@pytest.fixture
def tls_service(mail_sink: MailSink, tmp_path: Path) -> Iterator[tuple[RunningService, ServerCertificate]]:
    certificate = make_server_certificate(tmp_path / "tls")
    running = RunningService.configure(f"sqlite:///{tmp_path / 'tls.db'}", mail_sink, tmp_path)
    running.env.update(
        SIGNOFF_SMTP_TLS_CERT_FILE=str(certificate.cert_file),
        SIGNOFF_SMTP_TLS_KEY_FILE=str(certificate.key_file),
    )
    running.start()
    yield running, certificate
    running.stop()


def test_with_a_certificate_the_smtp_server_offers_starttls_and_takes_replies_over_it(
    tls_service: tuple[RunningService, ServerCertificate], mail_sink: MailSink
) -> None:
    service, certificate = tls_service
    address = unique_address("private")
    question = ask(service, service.write_key("tls"), mail_sink, address)
    reply_to = question.reply_to
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        # The server's certificate must verify against the test CA, host name included.
        client.starttls(context=certificate.client_context())
        client.ehlo()
        client.sendmail(address, [reply_to], f"From: {address}\r\nTo: {reply_to}\r\n\r\nVendor B.\r\n")
    assert question.answer() == "Vendor B."


@SQLITE_ONLY
def test_without_a_certificate_starttls_is_not_offered(service: RunningService) -> None:
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")


@pytest.mark.parametrize(
    ("cert", "key", "named"),
    [
        ("missing.pem", "server.key", "smtp_tls_cert_file"),
        ("server.pem", "missing.key", "smtp_tls_key_file"),
        ("server.pem", "", "smtp_tls_key_file"),
        ("server.key", "server.key", "smtp_tls_cert_file"),
    ],
    ids=["missing-cert", "missing-key", "cert-without-key", "not-a-certificate"],
)
def test_a_tls_setting_that_cannot_be_used_stops_the_start_naming_it(
    mail_sink: MailSink, tmp_path: Path, cert: str, key: str, named: str
) -> None:
    directory = tmp_path / "tls"
    make_server_certificate(directory)
    running = RunningService.configure(f"sqlite:///{tmp_path / 'bad.db'}", mail_sink, tmp_path)
    running.env.update(
        SIGNOFF_SMTP_TLS_CERT_FILE=str(directory / cert),
        SIGNOFF_SMTP_TLS_KEY_FILE=str(directory / key) if key else "",
    )
    try:
        result = subprocess.run(
            [signoff_command(), "serve"],
            env=running.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"signoff serve started with {named} unusable")
    assert result.returncode != 0
    assert named in result.stderr and "Traceback" not in result.stderr, result.stderr
