"""The audit trail: one row per thing that happened to a request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import HumanRequest, RequestEvent
from .types import utcnow

CREATED = "created"
EMAILED = "emailed"
OPENED = "opened"
VOTED = "voted"
DECIDED = "decided"
REMINDED = "reminded"
ESCALATED = "escalated"
TIMED_OUT = "timed_out"
WEBHOOK_DELIVERED = "webhook_delivered"
WEBHOOK_FAILED = "webhook_failed"

SERVER = "signoff"


def record_event(
    session: Session, request: HumanRequest, kind: str, *, actor: str, channel: str, **detail: Any
) -> RequestEvent:
    """Add an event to `request`'s trail, in the caller's transaction."""
    event = RequestEvent(
        project_id=request.project_id,
        request_id=request.id,
        at=utcnow(),
        kind=kind,
        actor=actor,
        channel=channel,
        detail=detail,
    )
    session.add(event)
    return event


def events_for_request(session: Session, request_id: int) -> list[RequestEvent]:
    return list(
        session.scalars(
            select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)
        )
    )
