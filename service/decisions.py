"""Recording a person's (or the server's) decision on a request, the one way every channel does.

Links, replies, the API and the timeout worker all come through `decide`, so the rule
for who wins, the audit trail and what follows a decision live in one place.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import audit
from .store import events
from .store.models import HumanRequest
from .store.requests import Decision, record_decision


def decide(session: Session, request: HumanRequest, decision: Decision) -> bool:
    """Record `decision` on `request` in the caller's transaction; True when it counted.

    The caller commits, then wakes the request's waiters (`Runtime.request_decided`).
    """
    if not record_decision(session, request.id, decision):
        return False
    audit.record(
        session,
        request,
        events.TIMED_OUT if decision.timed_out else events.DECIDED,
        actor=decision.decided_by,
        channel=decision.decided_via,
        approved=decision.approved,
        option_name=decision.option_name,
    )
    return True
