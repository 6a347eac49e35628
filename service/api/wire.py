"""Stored rows as the shared wire models, statuses as decisions, and the service's own bodies.

The SDK's models cover requests; the audit trail, webhooks and errors are the service's own,
modelled here so the views answer with them and `/openapi.json` describes the same classes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from signoff.models import FunctionCallStatus, HumanContactStatus

from ..store.models import FUNCTION_CALL
from ..store.requests import Decision

DECIDED_BY_API = "api"


class StoredRequest(Protocol):
    """What the wire form is made of: a HumanRequest, or a row of its status columns."""

    kind: str
    run_id: str
    call_id: str
    spec: dict[str, Any]
    requested_at: datetime
    responded_at: datetime | None
    approved: bool | None
    comment: str | None
    response: str | None
    option_name: str | None
    timed_out: bool
    withdrawn: bool


def wire_body(request: StoredRequest) -> dict[str, Any]:
    """The request as the API answers with it: a FunctionCall or a HumanContact.

    The spec was validated by the SDK's model and stored as its JSON when the request was
    created, so it goes out as stored instead of being validated again on every read.
    """
    return {
        "run_id": request.run_id,
        "call_id": request.call_id,
        "spec": request.spec,
        "status": wire_status(request),
    }


def wire_status(request: StoredRequest) -> dict[str, Any]:
    status: FunctionCallStatus | HumanContactStatus
    if request.kind == FUNCTION_CALL:
        status = FunctionCallStatus(
            requested_at=request.requested_at,
            responded_at=request.responded_at,
            approved=request.approved,
            # A rejection always carries a string: HumanLayer's client refuses one without.
            comment="" if request.approved is False and request.comment is None else request.comment,
            reject_option_name=request.option_name,
            timed_out=True if request.timed_out else None,
            withdrawn=True if request.withdrawn else None,
        )
    else:
        status = HumanContactStatus(
            requested_at=request.requested_at,
            responded_at=request.responded_at,
            response=request.response,
            response_option_name=request.option_name,
            timed_out=True if request.timed_out else None,
            withdrawn=True if request.withdrawn else None,
        )
    return status.model_dump(mode="json")


def decision_from_function_call_status(status: FunctionCallStatus) -> Decision:
    if status.approved is None:
        raise ValueError("approved must be true or false")
    return Decision(
        decided_by=DECIDED_BY_API,
        decided_via=DECIDED_BY_API,
        approved=status.approved,
        comment=status.comment if status.approved else status.comment or "",
        option_name=status.reject_option_name,
    )


def decision_from_human_contact_status(status: HumanContactStatus) -> Decision:
    if status.response is None:
        raise ValueError("response must be a string")
    return Decision(
        decided_by=DECIDED_BY_API,
        decided_via=DECIDED_BY_API,
        response=status.response,
        option_name=status.response_option_name,
    )


class ErrorBody(BaseModel):
    """Every API error: a stable name to branch on and a sentence saying what to change."""

    error: str
    detail: str


class AuditEvent(BaseModel):
    """One thing that happened to a request: when, what, who, through which channel."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    actor: str
    channel: str
    detail: dict[str, Any]


class WebhookInfo(BaseModel):
    """A registered webhook; its secret is shown only when it is created."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    created_at: datetime


class NewWebhook(WebhookInfo):
    """A webhook just created, with the secret its deliveries are signed with."""

    secret: str


class WebhookDelivery(BaseModel):
    """One POST to a webhook (an outbox row): which event, and how its attempts went."""

    model_config = ConfigDict(from_attributes=True)

    # The outbox keeps a webhook delivery's event name where an email keeps its subject.
    event: str = Field(validation_alias="subject")
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


def as_json(items: BaseModel | list[BaseModel]) -> Any:
    """A model, or a list of them, as the JSON-ready value a view returns."""
    if isinstance(items, list):
        return [item.model_dump(mode="json") for item in items]
    return items.model_dump(mode="json")
