"""The outbox: emails waiting to be handed to the relay, retried until they are."""

from __future__ import annotations

import email.policy
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import LargeBinary, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from .chat import CHAT_KINDS
from .models import OutboxMessage
from .types import TZDateTime, utcnow

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


# Built once: building SQLAlchemy statements costs more than running them.
_OUTBOX = OutboxMessage.__table__
_CLAIMABLE = (
    _OUTBOX.c.status == PENDING,
    _OUTBOX.c.next_attempt_at <= bindparam("now"),
    or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < bindparam("now")),
)
_CLAIM = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(
            select(_OUTBOX.c.id)
            .where(*_CLAIMABLE)
            .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
            .limit(bindparam("batch"))
            .with_for_update(skip_locked=True)
        ),
        *_CLAIMABLE,
    )
    .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until", type_=TZDateTime()))
    .returning(OutboxMessage)
    .execution_options(synchronize_session=False)
)
_HELD_BY_WORKER = (
    _OUTBOX.c.id == bindparam("row_id"),
    _OUTBOX.c.claimed_by == bindparam("worker"),
    _OUTBOX.c.status == PENDING,
)
# One attempt made: everything an outcome may change, each left as it was when given None.
_SETTLE = (
    update(_OUTBOX)
    .where(*_HELD_BY_WORKER)
    .values(
        attempts=_OUTBOX.c.attempts + 1,
        claimed_by=None,
        claimed_until=None,
        status=bindparam("new_status"),
        last_error=bindparam("error"),
        sent_at=bindparam("sent_at", type_=TZDateTime()),
        next_attempt_at=func.coalesce(bindparam("retry_at", type_=TZDateTime()), _OUTBOX.c.next_attempt_at),
        body=func.coalesce(bindparam("composed", type_=LargeBinary()), _OUTBOX.c.body),
    )
)
_RELEASE = update(_OUTBOX).where(*_HELD_BY_WORKER).values(claimed_by=None, claimed_until=None)


def claim_due(session: Session, worker: str, lease: timedelta, batch: int) -> list[OutboxMessage]:
    """Lease up to `batch` due rows to `worker`, oldest due first; the caller commits before sending.

    One statement, so that on PostgreSQL concurrent workers skip each other's rows and on
    SQLite the write lock is taken at once instead of after a read.
    """
    now = utcnow()
    params = {"now": now, "until": now + lease, "worker": worker, "batch": batch}
    rows = session.scalars(_CLAIM, params).all()
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id))


def settle_sent(session: Session, row_id: int, worker: str, composed: bytes | None = None) -> bool:
    """Mark a claimed row sent (keeping the body if the worker `composed` it); False when the
    lease was lost to another worker meanwhile."""
    return _settle(session, row_id, worker, SENT, error=None, sent_at=utcnow(), composed=composed)


def settle_failed(session: Session, row_id: int, worker: str, error: str, retry_in: timedelta | None) -> bool:
    """Record a failed attempt; with no `retry_in` the message is given up on."""
    if retry_in is None:
        return _settle(session, row_id, worker, FAILED, error=error)
    return _settle(session, row_id, worker, PENDING, error=error, retry_at=utcnow() + retry_in)


def release(session: Session, row_id: int, worker: str) -> None:
    """Give a claimed row back unattempted: it is due again at once, for any worker."""
    session.connection().execute(_RELEASE, {"row_id": row_id, "worker": worker})


def _settle(
    session: Session,
    row_id: int,
    worker: str,
    new_status: str,
    *,
    error: str | None,
    sent_at: datetime | None = None,
    retry_at: datetime | None = None,
    composed: bytes | None = None,
) -> bool:
    params = {
        "row_id": row_id,
        "worker": worker,
        "new_status": new_status,
        "error": error,
        "sent_at": sent_at,
        "retry_at": retry_at,
        "composed": composed,
    }
    return session.connection().execute(_SETTLE, params).rowcount == 1


def messages_for_request(session: Session, request_id: int) -> list[OutboxMessage]:
    """The request's deliveries to people: its emails and its Slack and Discord messages."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.request_id == request_id, OutboxMessage.kind.in_((EMAIL, *CHAT_KINDS)))
            .order_by(OutboxMessage.id)
        )
    )
