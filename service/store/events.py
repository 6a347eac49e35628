"""The audit trail: one row per thing that happened to a request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import HumanRequest, Project, RequestEvent
from .types import utcnow

CREATED = "created"
EMAILED = "emailed"
POSTED = "posted"
# A Slack or Discord message that could not be posted or edited, and will not be retried.
POST_FAILED = "post_failed"
OPENED = "opened"
VOTED = "voted"
DECIDED = "decided"
REMINDED = "reminded"
ESCALATED = "escalated"
TIMED_OUT = "timed_out"
WITHDRAWN = "withdrawn"
RESENT = "resent"
WEBHOOK_DELIVERED = "webhook_delivered"
WEBHOOK_FAILED = "webhook_failed"

SERVER = "signoff"
EXPORT_BATCH = 1000


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


def event_as_dict(event: RequestEvent) -> dict[str, Any]:
    """One event as the API and the export show it."""
    return {
        "at": event.at.isoformat(),
        "kind": event.kind,
        "actor": event.actor,
        "channel": event.channel,
        "detail": event.detail,
    }


def export_rows(session: Session, project_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every event with its request's ids and project name, oldest first, read in batches."""
    query = (
        select(RequestEvent, HumanRequest.call_id, HumanRequest.run_id, HumanRequest.kind, Project.name)
        .join(HumanRequest, HumanRequest.id == RequestEvent.request_id)
        .join(Project, Project.id == RequestEvent.project_id)
        .order_by(RequestEvent.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    if project_id is not None:
        query = query.where(RequestEvent.project_id == project_id)
    for event, call_id, run_id, request_kind, project in session.execute(query):
        yield {
            "project": project,
            "request_kind": request_kind,
            "call_id": call_id,
            "run_id": run_id,
            **event_as_dict(event),
        }
