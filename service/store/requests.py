"""Human requests: creating them, finding them, and recording the one decision each gets."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from .models import FUNCTION_CALL, HumanRequest, OutboxMessage
from .types import utcnow

# Base32 without padding, lower-cased: mail systems may fold the case of a local part.
REPLY_TOKEN_BYTES = 15


@dataclass(frozen=True)
class Decision:
    """What a person decided, and who and how, ready to be recorded once."""

    decided_by: str
    decided_via: str
    approved: bool | None = None
    comment: str | None = None
    response: str | None = None
    option_name: str | None = None
    timed_out: bool = False


def new_reply_token() -> str:
    return secrets.token_hex(REPLY_TOKEN_BYTES)


# Statements built once: every status read runs one, and building the expression costs more
# than running it.
_CALL_ID_IS = (
    HumanRequest.project_id == bindparam("project_id"),
    HumanRequest.kind == bindparam("kind"),
    HumanRequest.call_id == bindparam("call_id"),
)
_BY_CALL_ID = select(HumanRequest).where(*_CALL_ID_IS)


def find_request(session: Session, project_id: int, kind: str, call_id: str) -> HumanRequest | None:
    return session.scalar(_BY_CALL_ID, {"project_id": project_id, "kind": kind, "call_id": call_id})


# What a status read shows, read as a plain row: loading a whole ORM object costs a status
# read more than its query does. The row has the same attribute names as a HumanRequest.
_STATUS_COLUMNS = [
    HumanRequest.id,
    HumanRequest.kind,
    HumanRequest.run_id,
    HumanRequest.call_id,
    HumanRequest.spec,
    HumanRequest.requested_at,
    HumanRequest.responded_at,
    HumanRequest.approved,
    HumanRequest.comment,
    HumanRequest.response,
    HumanRequest.option_name,
    HumanRequest.timed_out,
    HumanRequest.withdrawn,
]
_STATUS_BY_CALL_ID = select(*_STATUS_COLUMNS).where(*_CALL_ID_IS)
_STATUS_BY_ID = select(*_STATUS_COLUMNS).where(HumanRequest.id == bindparam("request_id"))


def find_status(session: Session, project_id: int, kind: str, call_id: str) -> Row[Any] | None:
    """The request's status fields, or None; for reads that show a request and change nothing."""
    parameters = {"project_id": project_id, "kind": kind, "call_id": call_id}
    return session.execute(_STATUS_BY_CALL_ID, parameters).first()


def status_by_id(session: Session, request_id: int) -> Row[Any]:
    return session.execute(_STATUS_BY_ID, {"request_id": request_id}).one()


# Which of the waited-on requests are decided, in one statement whose text never changes:
# the ids go as one value (a JSON array on SQLite, an array on PostgreSQL), not as one bound
# parameter each, so thousands of waiting agents neither make the statement huge nor fill
# every connection's statement cache with a new one per count of waiters.
_DECIDED_AMONG_SQLITE = text(
    "SELECT id FROM human_requests WHERE responded_at IS NOT NULL "
    "AND id IN (SELECT value FROM json_each(:ids))"
)
_DECIDED_AMONG_POSTGRESQL = text(
    "SELECT id FROM human_requests WHERE responded_at IS NOT NULL AND id = ANY(:ids)"
)


def decided_among(session: Session, request_ids: list[int]) -> list[int]:
    """The ids among `request_ids` whose requests are decided."""
    if session.get_bind().dialect.name == "sqlite":
        return list(session.scalars(_DECIDED_AMONG_SQLITE, {"ids": json.dumps(request_ids)}))
    return list(session.scalars(_DECIDED_AMONG_POSTGRESQL, {"ids": request_ids}))


def add_request(
    session: Session,
    *,
    project_id: int,
    kind: str,
    call_id: str,
    run_id: str,
    spec: dict[str, Any],
    recipients: list[str],
    timeout_at: datetime | None = None,
    next_step_at: datetime | None = None,
    slack_bot_token: str | None = None,
) -> HumanRequest:
    request = HumanRequest(
        slack_bot_token=slack_bot_token,
        timeout_at=timeout_at,
        next_step_at=next_step_at,
        project_id=project_id,
        kind=kind,
        call_id=call_id,
        run_id=run_id,
        spec=spec,
        recipients=recipients,
        reply_token=new_reply_token(),
        requested_at=utcnow(),
    )
    session.add(request)
    session.flush()
    return request


def add_recipients(session: Session, request: HumanRequest, addresses: list[str]) -> list[str]:
    """Add normalized `addresses` to the request; returns those that were not on it yet."""
    new = [address for address in dict.fromkeys(addresses) if address not in request.recipients]
    if new:
        # A new list, so the ORM sees the JSON column change.
        request.recipients = [*request.recipients, *new]
        session.flush()
    return new


# Reads nothing the caller may have pending: not flushing first keeps a write (and SQLite's
# write lock) from starting before the reply's checks are done.
_BY_REPLY_TOKEN = (
    select(HumanRequest)
    .where(HumanRequest.reply_token == bindparam("token"))
    .execution_options(autoflush=False)
)


def request_by_reply_token(session: Session, token: str) -> HumanRequest | None:
    return session.scalar(_BY_REPLY_TOKEN, {"token": token.lower()})


def request_by_sent_message_ids(session: Session, message_ids: Iterable[str]) -> HumanRequest | None:
    """The request whose email carried one of these Message-IDs (for replies that lost Reply-To)."""
    ids = [message_id for message_id in message_ids if message_id]
    if not ids:
        return None
    return session.scalar(
        select(HumanRequest)
        .join(OutboxMessage, OutboxMessage.request_id == HumanRequest.id)
        .where(OutboxMessage.message_id.in_(ids), OutboxMessage.kind == "email")
        .limit(1)
    )


_DECISION_FIELDS = (
    "approved",
    "comment",
    "response",
    "option_name",
    "decided_by",
    "decided_via",
    "timed_out",
)
_RECORD_DECISION = (
    update(HumanRequest)
    .where(HumanRequest.id == bindparam("request_id"), HumanRequest.responded_at.is_(None))
    .values(
        responded_at=bindparam("decided_at"),
        **{field: bindparam(f"decided_{field}") for field in _DECISION_FIELDS},
    )
    .execution_options(synchronize_session=False)
)


def record_decision(session: Session, request_id: int, decision: Decision) -> bool:
    """Record `decision` unless the request was already decided; True when this one counted.

    The check and the write are one UPDATE, so two people deciding at the same moment
    on two nodes cannot both win.
    """
    values = {f"decided_{field}": getattr(decision, field) for field in _DECISION_FIELDS}
    result = session.execute(_RECORD_DECISION, {"request_id": request_id, "decided_at": utcnow(), **values})
    return result.rowcount == 1


def withdraw_request(session: Session, request: HumanRequest, by: str, via: str) -> bool:
    """Close an undecided request with nobody's approval; True unless it was decided already.

    The agent hears a sentence saying so: as a rejection's comment, or as a question's answer.
    """
    is_call = request.kind == FUNCTION_CALL
    if is_call:
        said = f"The request to run {request.spec.get('fn')} was withdrawn by {by}."
    else:
        said = f"The question was withdrawn by {by}; no one will answer it."
    result = session.execute(
        update(HumanRequest)
        .where(HumanRequest.id == request.id, HumanRequest.responded_at.is_(None))
        .values(
            responded_at=utcnow(),
            withdrawn=True,
            approved=False if is_call else None,
            comment=said if is_call else None,
            response=None if is_call else said,
            decided_by=by,
            decided_via=via,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def due_for_timeout(session: Session, limit: int) -> list[HumanRequest]:
    """Undecided requests whose timeout has passed, locked so that other workers skip them."""
    return _undecided_due(session, HumanRequest.timeout_at, limit)


def due_for_next_step(session: Session, limit: int) -> list[HumanRequest]:
    """Undecided requests whose next schedule step is due, locked so that other workers skip them."""
    return _undecided_due(session, HumanRequest.next_step_at, limit)


def _undecided_due(session: Session, due_at: InstrumentedAttribute[Any], limit: int) -> list[HumanRequest]:
    return list(
        session.scalars(
            select(HumanRequest)
            .where(HumanRequest.responded_at.is_(None), due_at <= utcnow())
            .order_by(due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
