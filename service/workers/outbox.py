"""Deliver outbox rows (emails to the relay, webhook POSTs).

Claim a batch of due rows (up to BATCH), send them one after another outside any
transaction, settle them together: two commits for the batch instead of two per message.

The claim is a committed lease, so a crash re-sends at most the batch that was in flight,
and only once its lease has run out. The lease is as long as for one message: the batch's
messages are sent only while its lease has a whole send's worth of time left, and the rest
are given back unattempted. A relay that hangs holds each message up for at most the send
timeout; retries back off so that an outage delays mail and loses none.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..chat import posted_message
from ..context import Runtime
from ..mail_in.receiver import compose_confirmation
from ..mail_out.compose import OutgoingMail
from ..mail_out.custom_template import CustomTemplateError
from ..mail_out.senders import MailSender, SendError
from ..store import chat, events, outbox, webhooks
from ..store.models import HumanRequest, OutboxMessage, Webhook
from ..webhooks import WebhookPoster

log = logging.getLogger(__name__)
RowT = TypeVar("RowT", HumanRequest, Webhook)

# Also wakes without a signal, for retries coming due and rows written by other processes.
IDLE_POLL_SECONDS = 1.0
FIRST_RETRY_SECONDS = 2
MAX_RETRY_SECONDS = 300
# The longest wait a rate-limited platform may ask of one message.
MAX_ASKED_WAIT_SECONDS = 3600
# A send may take several socket timeouts (connect, then each SMTP command); past this margin
# another worker may take the message over, and it could go out twice.
LEASE_SENDS = 2
LEASE_MARGIN_SECONDS = 10
# Of the margin, what is kept for settling the batch once its last message is sent.
SETTLE_SECONDS = 5
# Rows claimed at once: at most this many are sent again after a crash.
BATCH = 20


def retry_delay(attempts: int, asked: float | None = None) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes: a relay down for minutes delays mail, loses none.

    Longer when the other side `asked` for a wait (a rate limit's Retry-After), up to an hour.
    """
    backoff = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return timedelta(seconds=max(backoff, min(asked or 0, MAX_ASKED_WAIT_SECONDS)))


def worker_name() -> str:
    """Unique per worker, readable in the store: which host and process holds a lease."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claimed:
    """A leased row with what sending it needs: its webhook, or the request its email is about."""

    row: OutboxMessage
    webhook: Webhook | None
    request: HumanRequest | None
    # Planned at create, composed here: the body goes into the store with the outcome.
    to_compose: bool


class OutboxWorker:
    def __init__(self, runtime: Runtime, sender: MailSender) -> None:
        self._runtime = runtime
        self._sender = sender
        send_timeout = runtime.settings.outbound_timeout_seconds
        self._poster = WebhookPoster(send_timeout, runtime.settings.webhook_private_addresses)
        self.name = worker_name()
        self._one_send_seconds = LEASE_SENDS * send_timeout
        self._lease = timedelta(seconds=self._one_send_seconds + LEASE_MARGIN_SECONDS)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._runtime.outbox_wakeup.set()
        self._thread.join(timeout=self._runtime.settings.outbound_timeout_seconds + 5)

    def _run(self) -> None:
        wakeup = self._runtime.outbox_wakeup
        try:
            while not self._stopping.is_set():
                wakeup.clear()
                try:
                    delivered = self.deliver_batch()
                except Exception:
                    # The loop must outlive a database hiccup; the rows stay pending for the next turn.
                    log.exception("outbox: delivery failed")
                    delivered = False
                if not delivered:
                    self._sender.close_if_idle()
                    wakeup.wait(IDLE_POLL_SECONDS)
        finally:
            self._sender.close()

    def deliver_batch(self) -> bool:
        """Claim, attempt and settle up to BATCH due messages; False when none was due."""
        # Taken before the claim, so that it runs out no later than the lease in the store.
        lease_ends = time.monotonic() + self._lease.total_seconds()
        claimed = self._claim()
        if not claimed:
            return False
        outcomes: list[tuple[Claimed, SendError | None]] = []
        try:
            for item in claimed:
                if time.monotonic() + self._one_send_seconds + SETTLE_SECONDS > lease_ends:
                    break
                outcomes.append((item, self._attempt(item.row, item.webhook, item.request)))
            unsent = claimed[len(outcomes) :]
        except Exception:
            # What went out is recorded all the same; the message that raised keeps its lease.
            unsent = claimed[len(outcomes) + 1 :]
            raise
        finally:
            self._settle_batch(outcomes, unsent)
        return True

    def _settle_batch(self, outcomes: list[tuple[Claimed, SendError | None]], unsent: list[Claimed]) -> None:
        """One transaction: each outcome recorded (while the lease is still ours), the rest given back."""
        with self._runtime.session() as session:
            for item, error in outcomes:
                self._settle(session, item, error)
            for item in unsent:
                outbox.release(session, item.row.id, self.name)

    def _claim(self) -> list[Claimed]:
        with self._runtime.session() as session:
            rows = outbox.claim_due(session, self.name, self._lease, BATCH)
            requests = _by_id(session, HumanRequest, {row.request_id for row in rows})
            hooks = _by_id(session, Webhook, {row.webhook_id for row in rows})
        return [
            Claimed(row, hooks.get(row.webhook_id), requests.get(row.request_id), to_compose=row.body is None)
            for row in rows
        ]

    def _settle(self, session: Session, item: Claimed, error: SendError | None) -> None:
        row = item.row
        if error is None:
            settled = outbox.settle_sent(session, row.id, self.name, row.body if item.to_compose else None)
            if settled and item.request is not None:
                _record_delivered(session, row, item.request)
        else:
            retry_in = None if error.permanent else retry_delay(row.attempts + 1, error.retry_after)
            settled = outbox.settle_failed(session, row.id, self.name, str(error), retry_in)
            if settled and retry_in is None and item.request is not None and row.kind in chat.CHAT_KINDS:
                _record_chat_given_up(session, row, item.request, error)
        if not settled:
            log.warning("outbox: message %s outlived its lease; another worker took it over", row.id)

    def _attempt(
        self, row: OutboxMessage, webhook: Webhook | None, request: HumanRequest | None
    ) -> SendError | None:
        try:
            if self._runtime.chat.handles(row):
                row.body = self._runtime.chat.deliver(row, request)
            elif row.kind != webhooks.WEBHOOK:
                body = row.body or self._compose(row, request)
                row.body = body
                self._sender.send(row.mail_from, row.recipients, row.subject, body)
            elif webhook is None or webhook.deleted_at is not None:
                raise SendError("the webhook was removed", permanent=True)
            else:
                self._poster.post(row, webhook)
        except SendError as exc:
            log.warning("outbox: message %s to %s failed (%s)", row.id, row.recipients, exc)
            return exc
        log.info("outbox: message %s sent to %s", row.id, ", ".join(row.recipients))
        return None

    def _compose(self, row: OutboxMessage, request: HumanRequest | None) -> bytes:
        if request is None:
            raise SendError("its request is gone", permanent=True)
        if row.confirms_inbound_id is not None:
            return outbox.wire_bytes(self._confirmation(row, request).message)
        try:
            mail = self._runtime.composer.request_email(request, row.recipients[0], row.message_id)
        except CustomTemplateError as exc:
            raise SendError(f"the request's template failed: {exc}", permanent=True) from exc
        return outbox.wire_bytes(mail.message)

    def _confirmation(self, row: OutboxMessage, request: HumanRequest) -> OutgoingMail:
        with self._runtime.session() as session:
            mail = compose_confirmation(session, self._runtime.composer, request, row)
        if mail is None:
            raise SendError("the reply it confirms or its recorded answer is gone", permanent=True)
        return mail


def _by_id(session: Session, model: type[RowT], ids: set[int | None]) -> dict[int | None, RowT]:
    wanted = ids - {None}
    if not wanted:
        return {}
    return {found.id: found for found in session.scalars(select(model).where(model.id.in_(wanted)))}


def _record_delivered(session: Session, row: OutboxMessage, request: HumanRequest) -> None:
    if row.kind in chat.CHAT_KINDS:
        _record_chat_delivered(session, row, request)
        return
    if row.kind == webhooks.WEBHOOK:
        audit.record(
            session,
            request,
            events.WEBHOOK_DELIVERED,
            actor=events.SERVER,
            channel="webhook",
            url=row.recipients[0],
            event=row.subject,
            attempts=row.attempts + 1,
        )
        return
    audit.record(
        session,
        request,
        events.EMAILED,
        actor=events.SERVER,
        channel="email",
        recipients=row.recipients,
        subject=row.subject,
        message_id=row.message_id,
    )


def _record_chat_delivered(session: Session, row: OutboxMessage, request: HumanRequest) -> None:
    if row.subject != chat.POST:
        return  # an edit showing the outcome: the outcome itself is in the trail already
    posted = posted_message(row)
    post = chat.record_post(session, request.id, row.kind, posted.channel_id, posted.message_ref)
    audit.record(
        session,
        request,
        events.POSTED,
        actor=events.SERVER,
        channel=row.kind,
        destination=row.recipients[0],
        channel_id=posted.channel_id,
        message_ref=posted.message_ref,
    )
    # Decided while the message was on its way: it was posted with buttons, so edit it now.
    # The row lock orders this against a decision being recorded at the same moment (which
    # updates the row): either it is seen here, or the decision's own edits see this post.
    session.flush()
    locked = {"key_share": True}
    if session.get(HumanRequest, request.id, populate_existing=True, with_for_update=locked).is_decided:
        chat.enqueue_updates_of(session, request.id, [post])


def _record_chat_given_up(
    session: Session, row: OutboxMessage, request: HumanRequest, error: SendError
) -> None:
    audit.record(
        session,
        request,
        events.POST_FAILED,
        actor=events.SERVER,
        channel=row.kind,
        destination=row.recipients[0],
        action=row.subject,
        error=str(error),
    )
