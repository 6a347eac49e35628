"""Deliver outbox rows to the relay, retrying transient failures with backoff."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from ..context import Runtime
from ..mail_out.senders import MailSender, SendError
from ..store import outbox
from ..store.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH_SIZE = 20
# Also wakes without a signal, for retries coming due and rows written by other processes.
IDLE_POLL_SECONDS = 1.0
FIRST_RETRY_SECONDS = 2
MAX_RETRY_SECONDS = 300


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 5 minutes: a relay down for minutes delays mail, loses none."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


class OutboxWorker:
    def __init__(self, runtime: Runtime, sender: MailSender) -> None:
        self._runtime = runtime
        self._sender = sender
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._runtime.outbox_wakeup.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        wakeup = self._runtime.outbox_wakeup
        while not self._stopping.is_set():
            wakeup.clear()
            try:
                delivered_full_batch = self.deliver_due() == BATCH_SIZE
            except Exception:
                # The loop must outlive a database hiccup; the rows stay pending for the next turn.
                log.exception("outbox: delivery round failed")
                delivered_full_batch = False
            if not delivered_full_batch:
                wakeup.wait(IDLE_POLL_SECONDS)

    def deliver_due(self) -> int:
        """Attempt every due row once; returns how many were attempted."""
        with self._runtime.session() as session:
            rows = outbox.claim_due(session, BATCH_SIZE)
            for row in rows:
                self._attempt(row)
        return len(rows)

    def _attempt(self, row: OutboxMessage) -> None:
        try:
            self._sender.send(row.mail_from, row.recipients, row.subject, row.body)
        except SendError as exc:
            retry_in = None if exc.permanent else retry_delay(row.attempts + 1)
            outbox.mark_attempt_failed(row, str(exc), retry_in)
            log.warning(
                "outbox: message %s to %s failed (%s); retry in %s", row.id, row.recipients, exc, retry_in
            )
            return
        outbox.mark_sent(row)
        log.info("outbox: message %s sent to %s", row.id, ", ".join(row.recipients))
