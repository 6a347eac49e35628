"""The outbox keeps its relay connection open while mail keeps coming, and never pays for it
in lost or doubled mail: a connection the relay dropped is replaced, and an idle one is closed.
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from aiosmtpd.smtp import SMTP, Envelope, Session

from signoff_service.store.models import OutboxMessage

from signoff_testing import MailSink, RunningService, serve_relay, unique_address, wait_until

EMAILS = 30


@dataclass
class CountingRelay(MailSink):
    """A relay that counts the connections mail came over and the QUITs that closed them.

    With `drop_reused`, it hangs up on a connection as soon as a second message starts on it,
    without a word: what a relay that times out idle clients looks like to the sender.
    """

    drop_reused: bool = False
    connections: set[tuple[str, int]] = field(default_factory=set)
    dropped: int = 0
    quits: int = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.drop_reused and session.peer in self.connections:
            with self._lock:
                self.dropped += 1
            server.transport.close()  # type: ignore[union-attr]
            return "421 4.4.2 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        with self._lock:
            self.connections.add(session.peer)  # type: ignore[arg-type]
        self.record(list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            self.quits += 1
        return "221 Bye"

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(message["Message-ID"]) for _, message in self.received)


@pytest.fixture
def relay() -> Iterator[CountingRelay]:
    yield from serve_relay(CountingRelay())


@pytest.fixture
def dropping_relay() -> Iterator[CountingRelay]:
    yield from serve_relay(CountingRelay(drop_reused=True))


def running_service(database_url: str, relay: CountingRelay, workdir: Path) -> RunningService:
    # A store of its own: another service's outbox worker would deliver (and count) its mail.
    service = RunningService.configure(database_url, relay, workdir)
    service.start()
    return service


def ask_many(service: RunningService, prefix: str) -> list[str]:
    """Create EMAILS approval requests, one approver each, as fast as the API takes them."""
    key = service.write_key(prefix)
    addresses = [unique_address(f"{prefix}{n}") for n in range(EMAILS)]
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {key}"
        for n, address in enumerate(addresses):
            body = {
                "run_id": prefix,
                "call_id": f"{prefix}-{n}",
                "spec": {"fn": "deploy", "kwargs": {"n": n}, "channel": {"email": {"address": address}}},
            }
            assert http.post(f"{service.api_url}/function_calls", json=body, timeout=10).status_code == 201
    return addresses


def all_sent(service: RunningService) -> list[OutboxMessage]:
    rows = service.rows(OutboxMessage)
    return rows if rows and all(row.status == "sent" for row in rows) else []


def test_many_emails_reach_the_relay_over_fewer_connections_than_emails(
    private_database_url: str, relay: CountingRelay, tmp_path: Path
) -> None:
    service = running_service(private_database_url, relay, tmp_path)
    try:
        addresses = ask_many(service, "burst")
        wait_until(lambda: all_sent(service), what="every email to be sent")
    finally:
        service.stop()
    assert [len(relay.messages_to(address)) for address in addresses] == [1] * EMAILS
    assert len(relay.connections) <= EMAILS // 3, relay.connections


def test_a_relay_that_drops_a_reused_connection_still_gets_every_email_exactly_once(
    private_database_url: str, dropping_relay: CountingRelay, tmp_path: Path
) -> None:
    service = running_service(private_database_url, dropping_relay, tmp_path)
    try:
        addresses = ask_many(service, "dropped")
        sent = wait_until(lambda: all_sent(service), what="every email to be sent")
    finally:
        service.stop()
    assert dropping_relay.dropped > 0
    assert [len(dropping_relay.messages_to(address)) for address in addresses] == [1] * EMAILS
    assert max(dropping_relay.message_ids().values()) == 1
    # A dropped connection is replaced on the spot: no send counts as failed, none waits to retry.
    assert all(row.attempts == 1 and row.last_error is None for row in sent)  # type: ignore[attr-defined]


def test_an_idle_worker_closes_its_relay_connection(
    private_database_url: str, relay: CountingRelay, tmp_path: Path
) -> None:
    service = running_service(private_database_url, relay, tmp_path)
    try:
        ask_many(service, "idle")
        wait_until(lambda: all_sent(service), what="every email to be sent")
        wait_until(
            lambda: relay.quits >= len(relay.connections),
            what="the worker to QUIT every connection once the mail has gone",
        )
    finally:
        service.stop()
