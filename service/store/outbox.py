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


def enqueue(session: Session, message: EmailMessage, request_id: int | None) -> OutboxMessage:
    recipients = [address for header in ("To", "Cc", "Bcc") for address in _addresses(message, header)]
    del message["Bcc"]  # Bcc recipients are in the envelope only; the header would reveal them
    row = OutboxMessage(
        request_id=request_id,
        message_id=str(message["Message-ID"]),
        mail_from=_addresses(message, "From")[0],
        recipients=recipients,
        subject=str(message["Subject"]),
        # CRLF line ends: smtplib sends bytes as they are, and SMTP wants CRLF.
        body=message.as_bytes(policy=email.policy.SMTP),
    )
    session.add(row)
    session.flush()
    return row


def _addresses(message: EmailMessage, header: str) -> list[str]:
    value = message[header]
    if value is None:
        return []
    return [address.addr_spec for address in value.addresses]


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
