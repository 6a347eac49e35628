"""A request's audit trail through the API: every event, oldest first."""

from __future__ import annotations

from flask import Response, jsonify

from ..context import db
from ..store.events import events_for_request
from ..store.models import FUNCTION_CALL, HUMAN_CONTACT
from .blueprint import bp, find_or_404
from .wire import AuditEvent, as_json


@bp.get("/function_calls/<call_id>/events")
def function_call_events(call_id: str) -> Response:
    return _trail(FUNCTION_CALL, call_id)


@bp.get("/contact_requests/<call_id>/events")
def human_contact_events(call_id: str) -> Response:
    return _trail(HUMAN_CONTACT, call_id)


def _trail(kind: str, call_id: str) -> Response:
    found = find_or_404(kind, call_id)
    return jsonify(
        as_json([AuditEvent.model_validate(event) for event in events_for_request(db(), found.id)])
    )
