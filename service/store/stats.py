"""Counts over the whole store, for metrics: every process reads the same figures.

One aggregate query per figure (GROUP BY, or sums over CASE), so a scrape costs a few
queries whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from .models import HumanRequest, InboundMessage, OutboxMessage

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
ANSWERED = "answered"
TIMED_OUT = "timed_out"
WITHDRAWN = "withdrawn"
REQUEST_STATES = (PENDING, APPROVED, REJECTED, ANSWERED, TIMED_OUT, WITHDRAWN)


@dataclass(frozen=True)
class Latencies:
    """Decision latencies as a histogram: cumulative counts for each upper bound."""

    bucket_counts: tuple[int, ...]
    count: int
    total_seconds: float


def requests_by_state(session: Session) -> dict[str, int]:
    """How many requests are in each of REQUEST_STATES (all of them present, zero or not)."""
    undecided = HumanRequest.responded_at.is_(None)
    columns = (undecided, HumanRequest.timed_out, HumanRequest.withdrawn, HumanRequest.approved)
    rows = session.execute(select(*columns, func.count()).group_by(*columns))
    counts = dict.fromkeys(REQUEST_STATES, 0)
    for is_undecided, timed_out, withdrawn, approved, count in rows:
        counts[request_state(bool(is_undecided), bool(timed_out), bool(withdrawn), approved)] += count
    return counts


def request_state(undecided: bool, timed_out: bool, withdrawn: bool, approved: bool | None) -> str:
    """One of REQUEST_STATES; a question has no `approved`, so a decided one is answered."""
    if undecided:
        return PENDING
    if timed_out:
        return TIMED_OUT
    if withdrawn:
        return WITHDRAWN
    if approved is None:
        return ANSWERED
    return APPROVED if approved else REJECTED


def outbox_by_status(session: Session, kind: str) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.kind == kind)
        .group_by(OutboxMessage.status)
    )
    return {status: count for status, count in rows}


def inbound_by_outcome(session: Session) -> dict[tuple[str, str | None], int]:
    """Inbound messages by (status, reason); the reason is None unless rejected."""
    rows = session.execute(
        select(InboundMessage.status, InboundMessage.reason, func.count()).group_by(
            InboundMessage.status, InboundMessage.reason
        )
    )
    return {(status, reason): count for status, reason, count in rows}


def decision_latencies(session: Session, upper_bounds: Sequence[float]) -> Latencies:
    """Time from asking to a person's decision; requests the server timed out are not counted."""
    seconds = _seconds_between(session, HumanRequest.requested_at, HumanRequest.responded_at)
    buckets = [func.coalesce(func.sum(case((seconds <= bound, 1), else_=0)), 0) for bound in upper_bounds]
    row = session.execute(
        select(*buckets, func.count(), func.coalesce(func.sum(seconds), 0)).where(
            HumanRequest.responded_at.is_not(None), HumanRequest.timed_out.is_(False)
        )
    ).one()
    *bucket_counts, count, total = row
    return Latencies(tuple(int(value) for value in bucket_counts), int(count), float(total))


def _seconds_between(session: Session, start: ColumnElement, end: ColumnElement) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps timestamps as text; julianday() reads them as fractional days.
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)
