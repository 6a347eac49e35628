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
    row = OutboxMessage(
        request_id=request_id,
        message_id=str(message["Message-ID"]),
        mail_from=message["From"].addresses[0].addr_spec,
        recipients=envelope_to,
        subject=str(message["Subject"]),
        body=wire_bytes(message),
    )
    session.add(row)
    session.flush()
    return row


def enqueue_to_compose(
    session: Session,
    request_id: int,
    recipient: str,
    *,
    mail_from: str,
    subject: str,
    message_id: str,
    confirms_inbound_id: int | None = None,
) -> None:
    """Queue an email to `recipient` that the worker composes when it sends it: from the
    request, or as the confirmation of the reply `confirms_inbound_id`."""
    session.add(
        OutboxMessage(
            request_id=request_id,
            message_id=message_id,
            mail_from=mail_from,
            recipients=[recipient],
            subject=subject,
            body=None,
            confirms_inbound_id=confirms_inbound_id,
        )
    )


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes to the relay."""
    del message["Bcc"]  # envelope recipients are never revealed in a header
    # CRLF line ends: smtplib sends bytes as they are, and SMTP wants CRLF.
    return message.as_bytes(policy=email.policy.SMTP)


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


def settle_sent(session: Session, row_id: int, worker: str, composed: bytes | None = None) -> bool:
    """Mark a claimed row sent (keeping the body if the worker `composed` it); False when the
    lease was lost to another worker meanwhile."""
    values = {"body": composed} if composed is not None else {}
    return _settle(session, row_id, worker, status=SENT, sent_at=utcnow(), last_error=None, **values)


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
