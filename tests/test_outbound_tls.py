"""Outbound smtp+starttls:// and smtps:// check the relay's certificate and host name by default."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from signoff import HumanContactSpec
from signoff_service.store.models import OutboxMessage

from signoff_testing import (
    SQLITE_ONLY,
    MailSink,
    RunningService,
    agent_layer,
    start_mail_sink,
    unique_address,
    wait_until,
)
from tls_testing import ServerCertificate, make_server_certificate

SCHEMES = ["smtp+starttls", "smtps"]


@dataclass
class TlsRelay:
    scheme: str
    sink: MailSink
    certificate: ServerCertificate

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.sink.port}"


def start_tls_relay(scheme: str, certificate: ServerCertificate) -> tuple[TlsRelay, Controller]:
    """An SMTP relay on loopback speaking STARTTLS or TLS from the first byte, with `certificate`."""
    if scheme == "smtps":
        sink, controller = start_mail_sink(ssl_context=certificate.server_context())
    else:
        sink, controller = start_mail_sink(tls_context=certificate.server_context(), require_starttls=True)
    return TlsRelay(scheme, sink, certificate), controller


@pytest.fixture(params=SCHEMES)
def tls_relay(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TlsRelay]:
    relay, controller = start_tls_relay(request.param, make_server_certificate(tmp_path / "relay-ca"))
    yield relay
    controller.stop()


@contextmanager
def relaying_service(
    database_url: str, relay: TlsRelay, workdir: Path, **settings: str
) -> Iterator[RunningService]:
    """`signoff serve` sending through `relay`, with `settings` (env) on top, while in the block."""
    service = RunningService.configure(database_url, relay.sink, workdir)
    service.env.update(SIGNOFF_OUTBOUND_URL=relay.url, SIGNOFF_OUTBOUND_TIMEOUT_SECONDS="5", **settings)
    service.start()
    try:
        yield service
    finally:
        service.stop()


def ask(service: RunningService, address: str) -> None:
    layer = agent_layer(service, service.write_key("tls-out"), address)
    layer.create_human_contact(HumanContactSpec(msg="Which vendor?"))


def failed_attempt(service: RunningService) -> OutboxMessage:
    """The outbox row of the first send that failed, once one has."""
    [failed] = wait_until(
        lambda: [row for row in service.rows(OutboxMessage) if row.last_error], what="a failed attempt"
    )
    return failed


@SQLITE_ONLY
def test_mail_goes_out_when_the_relay_certificate_is_signed_by_the_configured_ca(
    private_database_url: str, tls_relay: TlsRelay, tmp_path: Path
) -> None:
    trusting = {"SIGNOFF_OUTBOUND_CA_FILE": str(tls_relay.certificate.ca_file)}
    with relaying_service(private_database_url, tls_relay, tmp_path, **trusting) as service:
        address = unique_address("trusted")
        ask(service, address)
        assert "Which vendor?" in str(tls_relay.sink.wait_for_mail_to(address).get_body())


@SQLITE_ONLY
def test_an_untrusted_relay_certificate_fails_the_send_and_loses_nothing(
    private_database_url: str, tls_relay: TlsRelay, tmp_path: Path
) -> None:
    address = unique_address("untrusted")
    with relaying_service(private_database_url, tls_relay, tmp_path) as service:
        ask(service, address)
        failed = failed_attempt(service)
    assert failed.status == "pending" and failed.attempts >= 1
    assert "certificate" in failed.last_error.lower()
    assert tls_relay.sink.messages_to(address) == []
    # Once the operator trusts the relay's CA, the same message goes out: nothing was lost.
    trusting = {"SIGNOFF_OUTBOUND_CA_FILE": str(tls_relay.certificate.ca_file)}
    with relaying_service(private_database_url, tls_relay, tmp_path, **trusting) as service:
        tls_relay.sink.wait_for_mail_to(address)
        wait_until(
            lambda: [
                row for row in service.rows(OutboxMessage) if row.id == failed.id and row.status == "sent"
            ],
            what="the failed message to be recorded as sent",
        )


@SQLITE_ONLY
def test_with_verification_off_an_untrusted_relay_still_gets_the_mail(
    private_database_url: str, tls_relay: TlsRelay, tmp_path: Path
) -> None:
    unverified = {"SIGNOFF_OUTBOUND_TLS_VERIFY": "false"}
    with relaying_service(private_database_url, tls_relay, tmp_path, **unverified) as service:
        address = unique_address("unverified")
        ask(service, address)
        tls_relay.sink.wait_for_mail_to(address)


def test_a_certificate_for_another_host_name_is_refused_even_from_a_trusted_ca(
    mail_sink: MailSink, tmp_path: Path
) -> None:
    certificate = make_server_certificate(tmp_path / "other-ca", names=("relay.example.net",))
    relay, controller = start_tls_relay("smtps", certificate)
    trusting = {"SIGNOFF_OUTBOUND_CA_FILE": str(certificate.ca_file)}
    try:
        with relaying_service(f"sqlite:///{tmp_path / 'host.db'}", relay, tmp_path, **trusting) as service:
            ask(service, unique_address("misnamed"))
            failed = failed_attempt(service)
    finally:
        controller.stop()
    assert failed.status == "pending" and "not valid for '127.0.0.1'" in failed.last_error


def test_an_unreadable_outbound_ca_file_stops_the_start_naming_it(
    mail_sink: MailSink, tmp_path: Path
) -> None:
    service = RunningService.configure(f"sqlite:///{tmp_path / 'ca.db'}", mail_sink, tmp_path)
    service.env.update(
        SIGNOFF_OUTBOUND_URL="smtps://127.0.0.1:1", SIGNOFF_OUTBOUND_CA_FILE=str(tmp_path / "missing-ca.pem")
    )
    result = service.run_cli("keys", "create", "--project", "p")
    assert result.returncode == 0, result.stderr  # commands that send nothing are not held up
    try:
        with pytest.raises(AssertionError, match="outbound_ca_file"):
            service.start()
    finally:
        service.stop()
