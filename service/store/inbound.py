"""Inbound email: stored raw on arrival, its outcome recorded on the same row afterwards."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import InboundMessage
from .types import utcnow

RECEIVED = "received"
ACCEPTED = "accepted"
REJECTED = "rejected"


# One statement built once: every message taken over SMTP runs it before its 250.
_STORE = insert(InboundMessage).returning(InboundMessage.id)


def store_inbound(
    session: Session, *, peer: str, envelope_from: str, envelope_to: list[str], raw: bytes
) -> int:
    stored = {"peer": peer, "envelope_from": envelope_from, "envelope_to": envelope_to, "raw": raw}
    return session.execute(_STORE, stored).scalar_one()


def unprocessed_ids(session: Session) -> list[int]:
    """Messages stored but not yet processed, e.g. when the service stopped in between."""
    return list(
        session.scalars(
            select(InboundMessage.id).where(InboundMessage.status == RECEIVED).order_by(InboundMessage.id)
        )
    )


def record_outcome(
    row: InboundMessage,
    *,
    status: str,
    reason: str | None = None,
    detail: str | None = None,
    request_id: int | None = None,
) -> None:
    row.status = status
    row.reason = reason
    row.detail = storable_text(detail) if detail is not None else None
    row.request_id = request_id
    row.processed_at = utcnow()


def storable_text(text: str) -> str:
    """`text` without NUL characters, which PostgreSQL's text columns cannot hold.

    Rejection details quote the message (a header value, a parameter), and mail may carry NULs.
    """
    return text.replace("\x00", "\ufffd")


def attachments_for_request(session: Session, request_id: int) -> list[dict]:
    """Files sent with the accepted reply to a request."""
    rows = session.scalars(
        select(InboundMessage.attachments).where(
            InboundMessage.request_id == request_id, InboundMessage.status == ACCEPTED
        )
    )
    return [attachment for attachments in rows for attachment in attachments or []]
