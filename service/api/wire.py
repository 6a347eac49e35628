"""Stored requests as the shared wire models, and statuses as decisions."""

from __future__ import annotations

from signoff.models import (
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
)

from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.requests import Decision

DECIDED_BY_API = "api"


def to_wire(request: HumanRequest) -> FunctionCall | HumanContact:
    if request.kind == FUNCTION_CALL:
        return FunctionCall(
            run_id=request.run_id,
            call_id=request.call_id,
            spec=FunctionCallSpec.model_validate(request.spec),
            status=FunctionCallStatus(
                requested_at=request.requested_at,
                responded_at=request.responded_at,
                approved=request.approved,
                # A rejection always carries a string: HumanLayer's client refuses one without.
                comment="" if request.approved is False and request.comment is None else request.comment,
                reject_option_name=request.option_name,
                timed_out=True if request.timed_out else None,
                withdrawn=True if request.withdrawn else None,
            ),
        )
    return HumanContact(
        run_id=request.run_id,
        call_id=request.call_id,
        spec=HumanContactSpec.model_validate(request.spec),
        status=HumanContactStatus(
            requested_at=request.requested_at,
            responded_at=request.responded_at,
            response=request.response,
            response_option_name=request.option_name,
            timed_out=True if request.timed_out else None,
            withdrawn=True if request.withdrawn else None,
        ),
    )


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
