"""The outbox: emails waiting to be handed to the relay, retried until they are."""

from __future__ import annotations

import email.policy
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import OutboxMessage
from .types import utcnow

EMAIL = "email"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"


def enqueue(
    session: Session, message: EmailMessage, envelope_to: list[str], request_id: int | None
) -> OutboxMessage:
    """Queue `message` for delivery to `envelope_to`, in the caller's transaction."""
    del message["Bcc"]  # envelope recipients are never revealed in a header
    row = OutboxMessage(
        request_id=request_id,
        message_id=str(message["Message-ID"]),
        mail_from=message["From"].addresses[0].addr_spec,
        recipients=envelope_to,
        subject=str(message["Subject"]),
        # CRLF line ends: smtplib sends bytes as they are, and SMTP wants CRLF.
        body=message.as_bytes(policy=email.policy.SMTP),
    )
    session.add(row)
    session.flush()
    return row


def claim_next(session: Session, worker: str, lease: timedelta) -> OutboxMessage | None:
    """Lease the next due row to `worker`; the caller commits before sending.

    One statement, so that on PostgreSQL concurrent workers skip each other's rows and on
    SQLite the write lock is taken at once instead of after a read.
    """
    now = utcnow()
    claimable = (
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )
    next_due = (
        select(OutboxMessage.id)
        .where(*claimable)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id == next_due, *claimable)
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return session.scalars(claim).first()


def settle_sent(session: Session, row_id: int, worker: str) -> bool:
    """Mark a claimed row sent; False when the lease was lost to another worker meanwhile."""
    return _settle(session, row_id, worker, status=SENT, sent_at=utcnow(), last_error=None)


def settle_failed(session: Session, row_id: int, worker: str, error: str, retry_in: timedelta | None) -> bool:
    """Record a failed attempt; with no `retry_in` the message is given up on."""
    if retry_in is None:
        return _settle(session, row_id, worker, status=FAILED, last_error=error)
    return _settle(session, row_id, worker, next_attempt_at=utcnow() + retry_in, last_error=error)


def _settle(session: Session, row_id: int, worker: str, **values: object) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == PENDING,
        )
        .values(attempts=OutboxMessage.attempts + 1, claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def messages_for_request(session: Session, request_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.request_id == request_id, OutboxMessage.kind == EMAIL)
            .order_by(OutboxMessage.id)
        )
    )
