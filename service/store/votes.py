"""Each person's vote on a request that needs several approvers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Vote
from .requests import Decision


@dataclass(frozen=True)
class Tally:
    approvals: int
    rejections: int


def add_vote(session: Session, request_id: int, decision: Decision) -> Vote | None:
    """Record the vote; None when this person has voted on the request already."""
    vote = Vote(
        request_id=request_id,
        voter=decision.decided_by,
        channel=decision.decided_via,
        approved=decision.approved,
        comment=decision.comment,
        option_name=decision.option_name,
    )
    try:
        with session.begin_nested():
            session.add(vote)
    except IntegrityError:
        return None
    return vote


def votes_for_request(session: Session, request_id: int) -> list[Vote]:
    return list(session.scalars(select(Vote).where(Vote.request_id == request_id).order_by(Vote.id)))


def vote_of(session: Session, request_id: int, voter: str) -> Vote | None:
    return session.scalar(select(Vote).where(Vote.request_id == request_id, Vote.voter == voter))


def tally(votes: list[Vote]) -> Tally:
    return Tally(
        approvals=sum(1 for vote in votes if vote.approved),
        rejections=sum(1 for vote in votes if vote.approved is False),
    )
