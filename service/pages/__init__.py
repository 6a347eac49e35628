"""The pages behind emailed links: a GET shows the request, only the form's POST decides.

Mail scanners and link previewers open every link in an email; if opening one decided,
they would approve payments nobody looked at.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import audit, decisions
from ..context import db, runtime
from ..errors import RateLimited
from ..mail_out.presenting import arguments_for_page
from ..store import events, inbound, votes
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.requests import Decision
from ..tokens import APPROVE, REJECT, RESPOND, LinkClaim, LinkInvalid

bp = Blueprint("pages", __name__)

DECIDED_VIA_LINK = "link"
MAX_COMMENT_LENGTH = 10_000


@bp.before_request
def limit_per_client() -> None:
    retry_after = runtime().rate_limits.pages.hit(request.remote_addr or "unknown")
    if retry_after is not None:
        raise RateLimited(
            f"Too many pages were opened from your address. Please try again in {retry_after} seconds.",
            retry_after,
        )


@bp.get("/d/<token>")
def show(token: str) -> tuple[str, int]:
    claim, found, option = _open_link(token)
    _record_opened(claim, found)
    if found.is_decided:
        return _already_decided(found)
    if votes.vote_of(db(), found.id, claim.recipient) is not None:
        return _voted_page(found, claim.recipient, just_now=False), 409
    return _form_page(claim, found, option), 200


@bp.post("/d/<token>")
def decide(token: str) -> tuple[str, int]:
    claim, found, option = _open_link(token)
    if found.is_decided:
        return _already_decided(found)
    text = request.form.get("text", "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        problem = f"Please keep it under {MAX_COMMENT_LENGTH} characters."
        return _form_page(claim, found, option, problem), 422
    if claim.action == RESPOND and not text and option is None:
        return _form_page(claim, found, option, "Please write an answer before sending."), 422
    session = db()
    recorded = decisions.decide(session, found, _decision(claim, text, option))
    session.commit()
    session.refresh(found)
    if not recorded:
        if found.is_decided:
            return _already_decided(found)
        return _voted_page(found, claim.recipient, just_now=False), 409
    if not found.is_decided:
        return _voted_page(found, claim.recipient, just_now=True), 200
    runtime().request_decided(found.id)
    return _decided_page(found, just_now=True), 200


def _record_opened(claim: LinkClaim, found: HumanRequest) -> None:
    # An entry in the audit trail only: the request, its links and its outcome stay as they
    # were, so a mail scanner opening the link still decides nothing (its visit is on record).
    session = db()
    audit.record(
        session, found, events.OPENED, actor=claim.recipient, channel=DECIDED_VIA_LINK, action=claim.action
    )
    session.commit()


def _open_link(token: str) -> tuple[LinkClaim, HumanRequest, dict | None]:
    """The link's claim, its request, and the option it picks (if it picks one)."""
    claim = runtime().signer.verify(token)
    found = db().get(HumanRequest, claim.request_id)
    if found is None:
        raise LinkInvalid("The request behind this link no longer exists.")
    if claim.option is None:
        return claim, found, None
    for option in found.options:
        if option["name"] == claim.option:
            return claim, found, option
    raise LinkInvalid("The option behind this link is not part of the request.")


def _decision(claim: LinkClaim, text: str, option: dict | None) -> Decision:
    if option is not None:
        # An option's own words stand in for a comment the person did not write.
        text = text or option.get("prompt_fill") or option.get("title") or option["name"]
    option_name = option["name"] if option else None
    if claim.action == APPROVE:
        return Decision(claim.recipient, DECIDED_VIA_LINK, approved=True, comment=text or None)
    if claim.action == REJECT:
        return Decision(
            claim.recipient, DECIDED_VIA_LINK, approved=False, comment=text, option_name=option_name
        )
    return Decision(claim.recipient, DECIDED_VIA_LINK, response=text, option_name=option_name)


def _form_page(claim: LinkClaim, found: HumanRequest, option: dict | None, problem: str | None = None) -> str:
    prefill = option.get("prompt_fill") if option else None
    return render_template(
        "pages/decide.html",
        action=claim.action,
        option=option,
        recipient=claim.recipient,
        problem=problem,
        text=request.form.get("text", prefill or ""),
        **_describe(found),
    )


def _already_decided(found: HumanRequest) -> tuple[str, int]:
    # 409: the link has done its one job; opening it again changes nothing.
    return _decided_page(found, just_now=False), 409


def _decided_page(found: HumanRequest, just_now: bool) -> str:
    attachments = inbound.attachments_for_request(db(), found.id)
    return render_template(
        "pages/decided.html", **_describe(found), just_now=just_now, attachments=attachments
    )


def _voted_page(found: HumanRequest, voter: str, just_now: bool) -> str:
    """A vote counted on a request that stays open until its approval rule is met."""
    described = _describe(found)
    return render_template(
        "pages/voted.html",
        **described,
        voter=voter,
        just_now=just_now,
        approvals=votes.tally(described["votes"]).approvals,
        needed=decisions.approvals_needed(found),
    )


def _describe(found: HumanRequest) -> dict:
    spec = found.spec
    if found.kind == FUNCTION_CALL:
        outcome = None if found.approved is None else ("approved" if found.approved else "rejected")
        if found.withdrawn:
            outcome = "withdrawn"
        return {
            "is_function_call": True,
            "title": f"Run {spec['fn']}?",
            "fn": spec["fn"],
            "arguments": arguments_for_page(spec["kwargs"]),
            "question": None,
            "run_id": found.run_id,
            "outcome": outcome,
            "found": found,
            "votes": votes.votes_for_request(db(), found.id) if decisions.counts_votes(found) else [],
        }
    return {
        "is_function_call": False,
        "title": spec.get("subject") or "A question for you",
        "fn": None,
        "arguments": [],
        "question": spec["msg"],
        "run_id": found.run_id,
        "outcome": ("withdrawn" if found.withdrawn else "answered") if found.is_decided else None,
        "found": found,
        "votes": [],
    }
