"""Nothing is lost and nothing is sent twice when the relay fails or the host dies.

The outbox claims a batch of messages under a committed lease and sends them outside any
transaction, so a relay outage delays mail without duplicating it, and a `kill -9` re-sends
at most the batch that was in flight.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from aiosmtpd.smtp import Envelope, Session

from signoff_service.store.models import OutboxMessage
from signoff_service.workers.outbox import BATCH

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    answer_by_email,
    link_after,
    serve_relay,
    unique_address,
    wait_until,
)

# Short, so that a message whose sender died mid-send is retried within the test's patience.
OUTBOUND_TIMEOUT_SECONDS = "3"


@dataclass
class FlakyRelay(MailSink):
    """A relay that answers 451 (try again later) while `refusing`, then takes mail."""

    refusing: bool = True
    refused: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        if self.refusing:
            with self._count_lock:
                self.refused += 1
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        self.record(list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        return "250 OK"

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(message["Message-ID"]) for _, message in self.received)


@pytest.fixture
def flaky_relay() -> Iterator[FlakyRelay]:
    yield from serve_relay(FlakyRelay())


@pytest.fixture
def own_service(
    private_database_url: str, flaky_relay: FlakyRelay, tmp_path: Path
) -> Iterator[RunningService]:
    # A store of its own: another service's outbox worker would deliver (and count) its mail.
    running = RunningService.configure(private_database_url, flaky_relay, tmp_path)
    running.env["SIGNOFF_OUTBOUND_TIMEOUT_SECONDS"] = OUTBOUND_TIMEOUT_SECONDS
    running.start()
    yield running
    running.stop()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_call(service: RunningService, key: str, call_id: str, address: str) -> requests.Response:
    body = {
        "run_id": "durability",
        "call_id": call_id,
        "spec": {"fn": "rotate_keys", "kwargs": {"n": call_id}, "channel": {"email": {"address": address}}},
    }
    return requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(key), timeout=10)


def outbox_rows(service: RunningService) -> list[OutboxMessage]:
    return service.rows(OutboxMessage)


def test_a_relay_that_refuses_then_returns_gets_every_email_exactly_once(
    own_service: RunningService, flaky_relay: FlakyRelay
) -> None:
    key = own_service.write_key("flaky-relay")
    addresses = [unique_address(f"flaky{n}") for n in range(20)]
    for n, address in enumerate(addresses):
        assert create_call(own_service, key, f"flaky-{n}", address).status_code == 201
    wait_until(lambda: flaky_relay.refused >= 20, what="the relay to refuse every email once")
    assert flaky_relay.received == []

    flaky_relay.refusing = False
    wait_until(
        lambda: all(row.status == "sent" for row in outbox_rows(own_service)),
        timeout=60,
        what="every outbox message to be sent",
    )
    assert [len(flaky_relay.messages_to(address)) for address in addresses] == [1] * 20
    assert max(flaky_relay.message_ids().values()) == 1
    assert all(row.attempts >= 2 and row.last_error is None for row in outbox_rows(own_service))


@dataclass
class Acknowledged:
    """What the service said yes to while it was under load: all of it must survive the crash."""

    calls: dict[str, str] = field(default_factory=dict)  # call_id -> approver address
    approved: set[str] = field(default_factory=set)
    replies: dict[str, str] = field(default_factory=dict)  # call_id -> the answer emailed
    lock: threading.Lock = field(default_factory=threading.Lock)


def _create_load(service: RunningService, key: str, seen: Acknowledged, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        address = unique_address(f"load{n}")
        try:
            response = create_call(service, key, f"load-{n}", address)
        except requests.RequestException:  # the crash cut the answer off
            return
        if response.status_code == 201:
            with seen.lock:
                seen.calls[f"load-{n}"] = address
        n += 1


def _approve_load(
    service: RunningService, relay: MailSink, seen: Acknowledged, stop: threading.Event
) -> None:
    while not stop.is_set():
        with seen.lock:
            waiting = [
                (c, a) for c, a in seen.calls.items() if c not in seen.approved and relay.messages_to(a)
            ]
        for call_id, address in waiting[:5]:
            try:
                response = requests.post(link_after(relay.messages_to(address)[0], "Approve:"), timeout=10)
            except requests.RequestException:  # the crash cut the answer off
                return
            if response.status_code == 200:
                with seen.lock:
                    seen.approved.add(call_id)
        time.sleep(0.05)


def _first_mail_unless_stopped(relay: MailSink, address: str, stop: threading.Event) -> EmailMessage | None:
    while not stop.wait(0.05):
        if found := relay.messages_to(address):
            return found[0]
    return None


def _reply_load(
    service: RunningService, key: str, relay: MailSink, seen: Acknowledged, stop: threading.Event
) -> None:
    n = 0
    while not stop.is_set():
        person = unique_address(f"asked{n}")
        body = {
            "run_id": "durability",
            "call_id": f"ask-{n}",
            "spec": {"msg": f"Question {n}?", "channel": {"email": {"address": person}}},
        }
        try:
            created = requests.post(
                f"{service.api_url}/contact_requests", json=body, headers=bearer(key), timeout=10
            )
            if created.status_code != 201:
                return
            question = _first_mail_unless_stopped(relay, person, stop)
            if question is None:
                return
            answer = f"Answer number {n}."
            answer_by_email(service.smtp_port, person, question, answer)
        except (requests.RequestException, OSError):
            return
        with seen.lock:
            seen.replies[f"ask-{n}"] = answer
        n += 1


def test_kill_9_under_load_loses_nothing_and_a_blocked_agent_gets_its_decision(
    own_service: RunningService, flaky_relay: FlakyRelay
) -> None:
    flaky_relay.refusing = False
    service = own_service
    key = service.write_key("kill-9")
    blocked_approver = unique_address("blocked")
    hl = agent_layer(service, key, blocked_approver, poll_seconds=1)

    @hl.require_approval()
    def restore_backup(name: str) -> str:
        return f"restored {name}"

    seen = Acknowledged()
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=4) as pool:
        blocked = pool.submit(restore_backup, name="nightly")
        flaky_relay.wait_for_mail_to(blocked_approver)
        load = [
            pool.submit(_create_load, service, key, seen, stop),
            pool.submit(_approve_load, service, flaky_relay, seen, stop),
            pool.submit(_reply_load, service, key, flaky_relay, seen, stop),
        ]
        try:
            wait_until(lambda: len(seen.approved) >= 5 and len(seen.replies) >= 3, what="load to get going")
            service.kill_hard()
        finally:
            stop.set()
        for task in load:
            task.result(timeout=WAIT_SECONDS)
        assert not blocked.done()

        service.start()
        message = flaky_relay.messages_to(blocked_approver)[0]
        assert requests.post(link_after(message, "Approve:"), timeout=10).status_code == 200
        assert blocked.result(timeout=WAIT_SECONDS) == "restored nightly"

    def fetch(kind: str, call_id: str) -> dict:
        response = requests.get(f"{service.api_url}/{kind}/{call_id}", headers=bearer(key), timeout=10)
        assert response.status_code == 200, (call_id, response.text)
        return response.json()

    for call_id in seen.calls:
        fetch("function_calls", call_id)
    for call_id in seen.approved:
        assert fetch("function_calls", call_id)["status"]["approved"] is True
    wait_until(
        lambda: all(fetch("contact_requests", c)["status"]["response"] for c in seen.replies),
        what="every acknowledged reply to be read, the stored backlog too",
    )
    for call_id, answer in seen.replies.items():
        assert fetch("contact_requests", call_id)["status"]["response"] == answer
    # A reply stored just before the crash may have lost only its 250 on the way: read all the same.
    answered = Counter(row.request_id for row in service.inbound_rows() if row.status == "accepted")
    assert len(answered) >= len(seen.replies) and max(answered.values()) == 1

    # Every email queued before the crash goes out after it; at most the batch in flight twice.
    wait_until(
        lambda: all(row.status == "sent" for row in outbox_rows(service)),
        timeout=60,  # the batch in flight at the crash waits out its lease (2 x 3 s + 10 s)
        what="the outbox to drain after the restart",
    )
    for address in seen.calls.values():
        assert flaky_relay.messages_to(address)
    sent_twice = {mid: n for mid, n in flaky_relay.message_ids().items() if n > 1}
    assert len(sent_twice) <= BATCH and all(n == 2 for n in sent_twice.values()), sent_twice
