"""Deliver outbox rows (emails to the relay, webhook POSTs).

Claim one, send it outside any transaction, settle it.

The claim is a committed lease, so a crash re-sends at most the message that was in
flight, and only once its lease has run out. A relay that hangs holds each message up for
at most the send timeout; retries back off so that an outage delays mail and loses none.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from .. import audit
from ..context import Runtime
from ..mail_in.receiver import compose_confirmation
from ..mail_out.compose import OutgoingMail
from ..mail_out.custom_template import CustomTemplateError
from ..mail_out.senders import MailSender, SendError
from ..store import events, outbox, webhooks
from ..store.models import HumanRequest, OutboxMessage, Webhook
from ..webhooks import WebhookPoster

log = logging.getLogger(__name__)

# Also wakes without a signal, for retries coming due and rows written by other processes.
IDLE_POLL_SECONDS = 1.0
FIRST_RETRY_SECONDS = 2
MAX_RETRY_SECONDS = 300
# A send may take several socket timeouts (connect, then each SMTP command); past this margin
# another worker may take the message over, and it could go out twice.
LEASE_SENDS = 2
LEASE_MARGIN_SECONDS = 10


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes: a relay down for minutes delays mail, loses none."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def worker_name() -> str:
    """Unique per worker, readable in the store: which host and process holds a lease."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxWorker:
    def __init__(self, runtime: Runtime, sender: MailSender) -> None:
        self._runtime = runtime
        self._sender = sender
        send_timeout = runtime.settings.outbound_timeout_seconds
        self._poster = WebhookPoster(send_timeout, runtime.settings.webhook_private_addresses)
        self.name = worker_name()
        self._lease = timedelta(seconds=LEASE_SENDS * send_timeout + LEASE_MARGIN_SECONDS)
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
        while not self._stopping.is_set():
            wakeup.clear()
            try:
                delivered = self.deliver_next()
            except Exception:
                # The loop must outlive a database hiccup; the row stays pending for the next turn.
                log.exception("outbox: delivery failed")
                delivered = False
            if not delivered:
                wakeup.wait(IDLE_POLL_SECONDS)

    def deliver_next(self) -> bool:
        """Claim, attempt and settle one due message; False when none was due."""
        with self._runtime.session() as session:
            row = outbox.claim_next(session, self.name, self._lease)
            webhook = session.get(Webhook, row.webhook_id) if row and row.webhook_id else None
            request = session.get(HumanRequest, row.request_id) if row and row.request_id else None
        if row is None:
            return False
        composing = row.body is None
        error = self._attempt(row, webhook, request)
        with self._runtime.session() as session:
            if error is None:
                settled = outbox.settle_sent(session, row.id, self.name, row.body if composing else None)
                if settled:
                    _record_delivered(session, row)
            else:
                retry_in = None if error.permanent else retry_delay(row.attempts + 1)
                settled = outbox.settle_failed(session, row.id, self.name, str(error), retry_in)
        if not settled:
            log.warning("outbox: message %s outlived its lease; another worker took it over", row.id)
        return True

    def _attempt(
        self, row: OutboxMessage, webhook: Webhook | None, request: HumanRequest | None
    ) -> SendError | None:
        try:
            if row.kind != webhooks.WEBHOOK:
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


def _record_delivered(session: Session, row: OutboxMessage) -> None:
    request = session.get(HumanRequest, row.request_id) if row.request_id is not None else None
    if request is None:
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
