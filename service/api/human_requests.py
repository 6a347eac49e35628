"""Requests through the API: create them, read them (long-polling) and answer them."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from signoff.models import ContactChannel, FunctionCall, FunctionCallStatus, HumanContact, HumanContactStatus

from .. import audit
from ..addresses import InvalidAddress, normalize_address
from ..channels import Destinations, UndeliverableChannel, destinations
from ..context import db, runtime
from ..decisions import decide
from ..errors import AlreadyResponded, InvalidRequest
from ..mail_out.custom_template import CustomTemplateError
from ..store import chat, events, outbox
from ..store.keys import default_channel
from ..store.models import FUNCTION_CALL, HUMAN_CONTACT
from ..store.requests import Decision, add_request, find_request, status_by_id
from ..store.types import utcnow
from ..waiting import request_key
from .blueprint import bp, find_or_404, parse_body, require_deciding_key, status_or_404
from .bodies import check_recipient_count
from .wire import decision_from_function_call_status, decision_from_human_contact_status, wire_body

MAX_WAIT_SECONDS = 60.0
ASYNC_WAIT_HEADER = "X-Signoff-Async-Wait"
WAIT_TICKET_HEADER = "X-Signoff-Wait-Ticket"
WAIT_SECONDS_HEADER = "X-Signoff-Wait-Seconds"


@bp.post("/function_calls")
def create_function_call() -> tuple[Response, int]:
    call = parse_body(FunctionCall, content="spec")
    return _create(FUNCTION_CALL, call.run_id, call.call_id, call.spec)


@bp.post("/contact_requests")
def create_human_contact() -> tuple[Response, int]:
    contact = parse_body(HumanContact, content="spec")
    return _create(HUMAN_CONTACT, contact.run_id, contact.call_id, contact.spec)


@bp.get("/function_calls/<call_id>")
def get_function_call(call_id: str) -> Response:
    return _get(FUNCTION_CALL, call_id)


@bp.get("/contact_requests/<call_id>")
def get_human_contact(call_id: str) -> Response:
    return _get(HUMAN_CONTACT, call_id)


@bp.post("/agent/function_calls/<call_id>/respond")
def respond_to_function_call(call_id: str) -> Response:
    require_deciding_key()
    status = parse_body(FunctionCallStatus)
    return _respond(FUNCTION_CALL, call_id, status, decision_from_function_call_status)


@bp.post("/agent/human_contacts/<call_id>/respond")
def respond_to_human_contact(call_id: str) -> Response:
    require_deciding_key()
    status = parse_body(HumanContactStatus)
    return _respond(HUMAN_CONTACT, call_id, status, decision_from_human_contact_status)


NO_CHANNEL = (
    "spec.channel is missing and this project has no default channel: name one in spec.channel "
    "(or in the SDK's HumanLayer(contact_channel=...)), or set the project's with "
    "`signoff projects set-channel --project NAME --email ADDRESS`"
)


def _with_project_channel(spec: Any) -> Any:
    """The spec, with the project's default channel when it names none."""
    if spec.channel is not None:
        return spec
    default = default_channel(db(), g.project_id)
    if default is None:
        raise InvalidRequest(NO_CHANNEL)
    return spec.model_copy(update={"channel": ContactChannel.model_validate(default)})


def _destinations(spec: Any) -> Destinations:
    try:
        found = destinations(spec.channel)
    except UndeliverableChannel as exc:
        raise InvalidRequest(f"spec.channel{exc}") from exc
    if found.chats and getattr(spec, "approval_rule", "first") != "first":
        raise InvalidRequest(
            "spec.approval_rule: with a Slack or Discord channel the first answer decides; "
            '"all" and "quorum" count the votes of email recipients only'
        )
    return found


def _create(kind: str, run_id: str, call_id: str, spec: Any) -> tuple[Response, int]:
    session = db()
    spec = _with_project_channel(spec)
    found = _destinations(spec)
    recipients, chats = found.emails, found.chats
    _check_quorum(spec, recipients)
    scheduled = _schedule_addresses(spec)
    check_recipient_count({*recipients, *scheduled}, "the request with its schedule")
    try:
        created = add_request(
            session,
            project_id=g.project_id,
            kind=kind,
            call_id=call_id,
            run_id=run_id,
            spec=spec.model_dump(mode="json"),
            recipients=recipients,
            timeout_at=_after(spec.timeout_seconds),
            next_step_at=_after(spec.schedule[0].after_seconds if spec.schedule else None),
        )
        audit.record(
            session,
            created,
            events.CREATED,
            actor=f"run {run_id}",
            channel="api",
            recipients=recipients,
            **({"chats": [f"{kind}:{destination}" for kind, destination in chats]} if chats else {}),
        )
        for kind, destination in chats:
            chat.enqueue_post(session, created.id, kind, destination)
        for mail in runtime().composer.planned_emails(created):
            outbox.enqueue_to_compose(
                session,
                created.id,
                mail.recipient,
                mail_from=mail.mail_from,
                subject=mail.subject,
                message_id=mail.message_id,
            )
        session.commit()
    except CustomTemplateError as exc:
        session.rollback()
        raise InvalidRequest(f"spec.channel.email.template: {exc}") from exc
    except IntegrityError:
        # The call_id is taken (a retry, or two at once): answer with the request stored first.
        # Inserting first and looking up only then saves a query on every create.
        session.rollback()
        existing = find_request(session, g.project_id, kind, call_id)
        if existing is None:
            raise
        return jsonify(wire_body(existing)), 200
    runtime().mail_queued()
    return jsonify(wire_body(created)), 201


def _check_quorum(spec: Any, recipients: list[str]) -> None:
    quorum = getattr(spec, "quorum", None)
    if quorum is not None and quorum > len(recipients):
        raise InvalidRequest(
            f"spec.quorum: {quorum} approvals are needed but the request goes to {len(recipients)} "
            "address(es); add recipients or lower the quorum"
        )


def _after(seconds: float | None) -> datetime | None:
    return None if seconds is None else utcnow() + timedelta(seconds=seconds)


def _schedule_addresses(spec: Any) -> list[str]:
    """Everyone the schedule's escalations would add, normalized; a bad address fails naming its field."""
    addresses = []
    for index, step in enumerate(spec.schedule or []):
        for number, recipient in enumerate(step.additional_recipients or []):
            try:
                addresses.append(normalize_address(recipient.address))
            except InvalidAddress as exc:
                raise InvalidRequest(
                    f"spec.schedule.{index}.additional_recipients.{number}.address: {exc}"
                ) from exc
    return addresses


def _get(kind: str, call_id: str) -> Response:
    wait = _wait_seconds()
    found = status_or_404(kind, call_id)
    if not wait or found.responded_at is not None:
        return jsonify(wire_body(found))
    return _long_poll(found.id, wait)


def _long_poll(request_id: int, wait: float) -> Response:
    hub = runtime().hub
    # Subscribe before re-reading, so a decision in between still wakes us.
    ticket = hub.subscribe(request_key(request_id))
    session = db()
    session.rollback()  # end the snapshot: the re-read must see decisions committed since
    found = status_by_id(session, request_id)
    decided = found.responded_at is not None
    if decided or request.headers.get(ASYNC_WAIT_HEADER) != runtime().async_wait_secret:
        if not decided:
            session.close()  # hold no connection while we wait
            ticket.wait(wait)
            found = status_by_id(session, request_id)
        hub.release(ticket)
        return jsonify(wire_body(found))
    # Our ASGI layer waits on the event loop and asks again, so no thread waits here.
    response = jsonify(wire_body(found))
    response.headers[WAIT_TICKET_HEADER] = str(ticket.id)
    response.headers[WAIT_SECONDS_HEADER] = repr(wait)
    return response


def _wait_seconds() -> float:
    raw = request.args.get("wait")
    if raw is None or raw == "":
        return 0.0
    try:
        wait = float(raw)
    except ValueError as exc:
        raise InvalidRequest(f"wait must be a number of seconds, got {raw!r}") from exc
    if not math.isfinite(wait) or wait < 0 or wait > MAX_WAIT_SECONDS:
        raise InvalidRequest(f"wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds, got {raw!r}")
    return wait


def _respond(kind: str, call_id: str, status: Any, to_decision: Any) -> Response:
    found = find_or_404(kind, call_id)
    try:
        decision: Decision = to_decision(status)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    session = db()
    recorded = decide(session, found, decision)
    session.commit()
    if not recorded:
        session.refresh(found)
        raise AlreadyResponded(
            f"call_id {call_id!r} was already decided by {found.decided_by} ({found.decided_via}); "
            "the first answer stands"
        )
    runtime().request_decided(found.id)
    session.refresh(found)
    return jsonify(wire_body(found))
