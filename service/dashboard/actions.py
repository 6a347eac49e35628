"""What an operator does to a request, each a plain form POST: decide it, withdraw it, or send
its email again. Each goes on the audit trail under the operator's name."""

from __future__ import annotations

from flask import Response, flash, g, redirect, request, url_for

from .. import decisions
from ..context import db, runtime
from ..errors import AlreadyResponded, InvalidRequest
from ..escalation import send_follow_up
from ..mail_out.custom_template import CustomTemplateError
from ..store import events
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.requests import Decision
from .blueprint import bp
from .views import find_in_scope

DECIDED_VIA_DASHBOARD = "dashboard"
MAX_TEXT_LENGTH = 10_000


@bp.post("/requests/<int:request_id>/decide")
def decide(request_id: int) -> Response:
    found = _undecided(request_id)
    recorded = decisions.decide(db(), found, _decision(found))
    _settle(found, recorded)
    flash("Your decision was recorded; the agent has it now.")
    return _back_to(found)


@bp.post("/requests/<int:request_id>/cancel")
def cancel(request_id: int) -> Response:
    found = _undecided(request_id)
    session = db()
    recorded = decisions.withdraw(session, found, by=g.operator.name, via=DECIDED_VIA_DASHBOARD)
    _settle(found, recorded)
    flash("The request was withdrawn; the agent was told so.")
    return _back_to(found)


@bp.post("/requests/<int:request_id>/resend")
def resend(request_id: int) -> Response:
    found = _undecided(request_id)
    session = db()
    try:
        send_follow_up(
            session,
            runtime().composer,
            found,
            [],
            None,
            event=events.RESENT,
            actor=g.operator.name,
            channel=DECIDED_VIA_DASHBOARD,
        )
    except CustomTemplateError as exc:
        session.rollback()
        raise InvalidRequest(f"The request's own email template does not render: {exc}") from exc
    session.commit()
    runtime().mail_queued()
    flash(f"The email was queued again for {len(found.recipients)} recipient(s).")
    return _back_to(found)


def _undecided(request_id: int) -> HumanRequest:
    found = find_in_scope(request_id).request
    if found.is_decided:
        raise _already_decided(found)
    return found


def _already_decided(found: HumanRequest) -> AlreadyResponded:
    return AlreadyResponded(
        f"Request #{found.id} was already decided by {found.decided_by} ({found.decided_via}); "
        "nothing was changed."
    )


def _decision(found: HumanRequest) -> Decision:
    action = request.form.get("action", "")
    text = request.form.get("text", "").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidRequest(f"Please keep the text under {MAX_TEXT_LENGTH} characters.")
    operator = g.operator.name
    if found.kind == FUNCTION_CALL:
        if action not in ("approve", "reject"):
            raise InvalidRequest("Choose approve or reject.")
        approved = action == "approve"
        return Decision(
            operator, DECIDED_VIA_DASHBOARD, approved=approved, comment=text or (None if approved else "")
        )
    if action != "respond" or not text:
        raise InvalidRequest("Please write an answer before sending.")
    return Decision(operator, DECIDED_VIA_DASHBOARD, response=text)


def _settle(found: HumanRequest, recorded: bool) -> None:
    """Commit, then wake whoever waits on the request; a lost race is a readable 409."""
    session = db()
    session.commit()
    if not recorded:
        session.refresh(found)
        raise _already_decided(found)
    runtime().request_decided(found.id)


def _back_to(found: HumanRequest) -> Response:
    return redirect(url_for("dashboard.detail", request_id=found.id), 303)
