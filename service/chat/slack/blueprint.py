"""The two URLs Slack calls: /slack/interactions (buttons, forms) and /slack/events (thread replies).

Slack's signature is their authentication, not an API key: each request is verified on its
raw body before anything in it is read, and refused with 401 JSON otherwise. Whatever a
request decides is committed before Slack gets its 200.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request

from ...context import db, runtime
from ...errors import InvalidRequest, SignoffHTTPError
from .. import json_object
from .events import on_event_callback
from .interactions import on_block_actions, on_view_submission
from .signature import verified_body

bp = Blueprint("slack", __name__, url_prefix="/slack")

RETRY_HEADER = "X-Slack-Retry-Num"


@bp.errorhandler(SignoffHTTPError)
def _json_error(exc: SignoffHTTPError) -> tuple[Response, int, dict[str, str]]:
    return jsonify(error=exc.error, detail=exc.detail), exc.status, exc.headers


@bp.post("/interactions")
def interactions() -> Response | tuple[str, int]:
    session = db()
    payload = _interaction_payload(verified_body(request, runtime().settings.slack_signing_secret, session))
    kind = payload.get("type")
    if kind == "block_actions":
        on_block_actions(session, payload)
    elif kind == "view_submission":
        return jsonify(on_view_submission(session, payload))
    return "", 200


@bp.post("/events")
def events() -> Response | tuple[str, int]:
    session = db()
    envelope = json_object(verified_body(request, runtime().settings.slack_signing_secret, session))
    kind = envelope.get("type")
    if kind == "url_verification":
        return jsonify(challenge=str(envelope.get("challenge", "")))
    if kind == "event_callback":
        on_event_callback(session, envelope, is_retry=RETRY_HEADER in request.headers)
    return "", 200


def _interaction_payload(body: bytes) -> dict[str, Any]:
    """Slack posts a form whose one field, `payload`, is the interaction as JSON."""
    fields = parse_qs(body.decode("utf-8"))
    if len(fields.get("payload", [])) != 1:
        raise InvalidRequest("expected a form with one `payload` field, as Slack sends interactions")
    return json_object(fields["payload"][0].encode())
