"""Requests through the API: create them, read them (long-polling) and answer them."""

from __future__ import annotations

import math
from typing import Any

from flask import Response, g, jsonify, request

from signoff.models import FunctionCall, FunctionCallStatus, HumanContact, HumanContactStatus

from ..context import db, runtime
from ..decisions import decide
from ..errors import AlreadyResponded, InvalidRequest
from ..requesting import CallIdTaken, NewRequest, RequestSpec, create_request
from ..store.models import FUNCTION_CALL, HUMAN_CONTACT
from ..store.requests import Decision, status_by_id
from ..waiting import request_key
from .blueprint import bp, find_or_404, parse_body, require_deciding_key, status_or_404
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


def _create(kind: str, run_id: str, call_id: str, spec: RequestSpec) -> tuple[Response, int]:
    new = NewRequest(g.project_id, kind, run_id, call_id, spec)
    try:
        created = create_request(db(), runtime(), new, actor=f"run {run_id}", via="api")
    except CallIdTaken as taken:
        return jsonify(wire_body(taken.existing)), 200
    return jsonify(wire_body(created)), 201


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
