"""The outbox: emails waiting to be handed to the relay, retried until they are."""

from __future__ import annotations

import email.policy
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import OutboxMessage
from .types import utcnow

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


def claim_due(session: Session, limit: int) -> list[OutboxMessage]:
    """Rows due for an attempt, locked so that another worker skips them."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def mark_sent(row: OutboxMessage) -> None:
    row.status = SENT
    row.sent_at = utcnow()
    row.attempts += 1
    row.last_error = None


def mark_attempt_failed(row: OutboxMessage, error: str, retry_in: timedelta | None) -> None:
    """Record a failed attempt; with no `retry_in` the message is given up on."""
    row.attempts += 1
    row.last_error = error
    if retry_in is None:
        row.status = FAILED
    else:
        row.next_attempt_at = utcnow() + retry_in


def messages_for_request(session: Session, request_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.request_id == request_id).order_by(OutboxMessage.id)
        )
    )
