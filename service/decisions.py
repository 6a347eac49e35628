"""Recording a person's (or the server's) decision on a request, the one way every channel does.

Links, replies, the API and the timeout worker all come through `decide`, so the rule
for who wins, the audit trail and what follows a decision live in one place.

With several approvers (`approval_rule` "all" or "quorum"), a click or a reply is a vote:
it is recorded, and the request is decided by the vote that meets the rule. The API and
the timeout decide outright, as the agent's or the request's own word.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import audit
from .store import events, votes
from .store.models import FUNCTION_CALL, HumanRequest
from .store.requests import Decision, record_decision, withdraw_request

VOTING_CHANNELS = frozenset({"link", "email"})


def decide(session: Session, request: HumanRequest, decision: Decision) -> bool:
    """Record `decision` on `request` in the caller's transaction; True when it counted.

    A counted vote may leave the request open (`request.is_decided` says, once refreshed).
    The caller commits, then wakes the request's waiters (`Runtime.request_decided`).
    """
    if counts_votes(request) and decision.decided_via in VOTING_CHANNELS:
        return _vote(session, request, decision)
    return _record(session, request, decision)


def recorded_for(session: Session, request: HumanRequest, person: str) -> Decision | None:
    """What `decide` recorded for `person` through a voting channel: their vote where votes
    count, else the request's decision if it was theirs."""
    if counts_votes(request):
        vote = votes.vote_of(session, request.id, person)
        if vote is None:
            return None
        return Decision(
            vote.voter,
            vote.channel,
            approved=vote.approved,
            comment=vote.comment,
            option_name=vote.option_name,
        )
    if request.decided_by != person or request.decided_via not in VOTING_CHANNELS:
        return None
    return Decision(
        person,
        request.decided_via,
        approved=request.approved,
        comment=request.comment,
        response=request.response,
        option_name=request.option_name,
    )


def counts_votes(request: HumanRequest) -> bool:
    return request.kind == FUNCTION_CALL and request.spec.get("approval_rule", "first") != "first"


def approvals_needed(request: HumanRequest) -> int:
    if request.spec.get("approval_rule") == "all":
        return len(request.recipients)
    return int(request.spec.get("quorum") or 1)


def _record(session: Session, request: HumanRequest, decision: Decision) -> bool:
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


def _vote(session: Session, request: HumanRequest, decision: Decision) -> bool:
    # The vote is written first: on SQLite that takes the write lock before any read, and on
    # PostgreSQL the row lock below orders the tallies of votes cast at the same moment. The
    # vote's foreign key holds a key-share lock on the request, which FOR UPDATE would wait
    # on in every other voter at once (a deadlock); FOR NO KEY UPDATE waits only on them.
    vote = votes.add_vote(session, request.id, decision)
    if vote is None:
        return False
    locked = session.get(
        HumanRequest, request.id, with_for_update={"key_share": True}, populate_existing=True
    )
    if locked is None or locked.is_decided:
        session.delete(vote)
        return False
    audit.record(
        session,
        locked,
        events.VOTED,
        actor=decision.decided_by,
        channel=decision.decided_via,
        approved=decision.approved,
    )
    if _meets_the_rule(locked, decision, votes.tally(votes.votes_for_request(session, locked.id))):
        return _record(session, locked, decision)
    return True


def _meets_the_rule(request: HumanRequest, decision: Decision, tally: votes.Tally) -> bool:
    needed = approvals_needed(request)
    if decision.approved:
        return tally.approvals >= needed
    if request.spec.get("any_reject_rejects", True):
        return True
    return len(request.recipients) - tally.rejections < needed


def withdraw(session: Session, request: HumanRequest, *, by: str, via: str) -> bool:
    """Close `request` undecided, in the caller's transaction; True unless it was decided already.

    The caller commits, then wakes the request's waiters, as after `decide`.
    """
    if not withdraw_request(session, request, by, via):
        return False
    audit.record(session, request, events.WITHDRAWN, actor=by, channel=via)
    return True
