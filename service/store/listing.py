"""Reads for the operator dashboard: requests filtered, pending first, a page at a time; what
happened to one; and whether the key an operator logged in with still holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, not_, select
from sqlalchemy.orm import Session

from .models import FUNCTION_CALL, HUMAN_CONTACT, HumanRequest, InboundMessage, Project, RequestEvent
from .stats import (
    ANSWERED,
    APPROVED,
    PENDING,
    REJECTED,
    TIMED_OUT,
    WITHDRAWN,
    request_state,
)


@dataclass(frozen=True)
class RequestFilter:
    """What the operator asked to see; `project_id` is the scope of a project's own key."""

    project_id: int | None = None
    project: str = ""
    state: str = ""
    recipient: str = ""
    function: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class ListedRequest:
    request: HumanRequest
    project: str

    @property
    def state(self) -> str:
        return state_of(self.request)


def state_of(request: HumanRequest) -> str:
    """One word for where a request stands, the same words the list filters on and metrics count."""
    return request_state(not request.is_decided, request.timed_out, request.withdrawn, request.approved)


def list_requests(
    session: Session, wanted: RequestFilter, limit: int, offset: int = 0
) -> tuple[list[ListedRequest], int]:
    """One page of matching requests, pending ones first then newest first, and how many match."""
    conditions = _conditions(wanted)
    total = session.scalar(select(func.count()).select_from(HumanRequest).join(Project).where(*conditions))
    rows = session.execute(
        select(HumanRequest, Project.name)
        .join(Project, Project.id == HumanRequest.project_id)
        .where(*conditions)
        .order_by(case((HumanRequest.responded_at.is_(None), 0), else_=1), HumanRequest.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [ListedRequest(request, project) for request, project in rows], total or 0


def project_names(session: Session) -> list[str]:
    return list(session.scalars(select(Project.name).order_by(Project.name)))


def request_in_scope(session: Session, request_id: int, project_id: int | None) -> ListedRequest | None:
    """The request and its project's name, if `project_id` (None: every project) may see it."""
    query = select(HumanRequest, Project.name).join(Project).where(HumanRequest.id == request_id)
    if project_id is not None:
        query = query.where(HumanRequest.project_id == project_id)
    row = session.execute(query).first()
    return None if row is None else ListedRequest(row[0], row[1])


def latest_change(session: Session, project_id: int | None) -> int:
    """The newest audit event's id in scope: it grows whenever a request is created or changes."""
    query = select(func.max(RequestEvent.id))
    if project_id is not None:
        query = query.where(RequestEvent.project_id == project_id)
    return session.scalar(query) or 0


def inbound_for_request(session: Session, request_id: int) -> list[InboundMessage]:
    return list(
        session.scalars(
            select(InboundMessage).where(InboundMessage.request_id == request_id).order_by(InboundMessage.id)
        )
    )


def _conditions(wanted: RequestFilter) -> list[Any]:
    conditions: list[Any] = []
    if wanted.project_id is not None:
        conditions.append(HumanRequest.project_id == wanted.project_id)
    if wanted.project:
        conditions.append(Project.name == wanted.project)
    if wanted.state:
        conditions.append(_state_condition(wanted.state))
    if wanted.recipient:
        recipients = func.lower(cast(HumanRequest.recipients, Text))
        conditions.append(recipients.contains(wanted.recipient.lower(), autoescape=True))
    if wanted.function:
        function = HumanRequest.spec["fn"].as_string()
        conditions.append(
            and_(HumanRequest.kind == FUNCTION_CALL, function.contains(wanted.function, autoescape=True))
        )
    if wanted.date_from is not None:
        conditions.append(HumanRequest.requested_at >= _start_of(wanted.date_from))
    if wanted.date_to is not None:
        conditions.append(HumanRequest.requested_at < _start_of(wanted.date_to + timedelta(days=1)))
    return conditions


def _state_condition(state: str) -> Any:
    decided = HumanRequest.responded_at.is_not(None)
    by_a_person = and_(decided, not_(HumanRequest.withdrawn), not_(HumanRequest.timed_out))
    return {
        PENDING: HumanRequest.responded_at.is_(None),
        WITHDRAWN: and_(decided, HumanRequest.withdrawn),
        TIMED_OUT: and_(decided, HumanRequest.timed_out, not_(HumanRequest.withdrawn)),
        APPROVED: and_(by_a_person, HumanRequest.kind == FUNCTION_CALL, HumanRequest.approved.is_(True)),
        REJECTED: and_(by_a_person, HumanRequest.kind == FUNCTION_CALL, HumanRequest.approved.is_(False)),
        ANSWERED: and_(by_a_person, HumanRequest.kind == HUMAN_CONTACT),
    }[state]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
