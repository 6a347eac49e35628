"""The endpoint Discord sends interactions to: PING, button clicks and modal submissions.

Set it as the application's Interactions Endpoint URL: https://<host>/discord/interactions.
Its requests are authenticated by Discord's signature alone (no API key, no CSRF token):
checked on the raw body before anything else is read, then refused if seen before.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ... import decisions
from ...context import db, runtime
from ...errors import SignoffHTTPError, Unauthorized
from ...store import chat
from ...store.models import FUNCTION_CALL, HumanRequest
from ...store.requests import Decision
from .. import answer_decision, json_object, option_words
from . import components as layout
from .components import ANSWER, APPROVE, OPTION, REJECT, Action
from .signature import MAX_AGE, verified_signature

log = logging.getLogger(__name__)

bp = Blueprint("discord", __name__, url_prefix="/discord")

DECIDED_VIA = "discord"
# Interaction types Discord sends, and the response types we answer with.
PING, MESSAGE_COMPONENT, MODAL_SUBMIT = 1, 3, 5
PONG, CHANNEL_MESSAGE, UPDATE_MESSAGE, MODAL = 1, 4, 7, 9


@bp.errorhandler(SignoffHTTPError)
def _signoff_error(exc: SignoffHTTPError) -> tuple[Response, int]:
    return jsonify(error=exc.error, detail=exc.detail), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    return jsonify(error=(exc.name or "error").lower().replace(" ", "_"), detail=exc.description), status


@bp.post("/interactions")
def receive() -> Response:
    body = request.get_data()
    signature = verified_signature(runtime().settings.discord_public_key, request.headers, body)
    session = db()
    if not chat.first_sight(session, chat.DISCORD, signature, MAX_AGE):
        session.rollback()
        raise Unauthorized("replayed: this signed interaction was received already")
    session.commit()
    return jsonify(_answer(session, json_object(body)))


def _answer(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    kind = payload.get("type")
    if kind == PING:
        return {"type": PONG}
    if kind not in (MESSAGE_COMPONENT, MODAL_SUBMIT):
        return _only_you("signoff has nothing for this kind of interaction; use the buttons on its messages.")
    found = _request_clicked(session, payload)
    if found is None:
        return _only_you("This message is not a signoff request, or its request is gone.")
    data = _object(payload.get("data"))
    action = Action.parse(data.get("custom_id"))
    if action is None or not _fits(found, action):
        return _only_you("signoff does not know this button.")
    if found.is_decided:
        return _only_you(_already_decided(found))
    person = _person(payload)
    if person is None:
        return _only_you("Discord did not say who you are, so this decides nothing.")
    if kind == MESSAGE_COMPONENT and action.verb in (REJECT, ANSWER):
        return {"type": MODAL, "data": layout.modal(found, action)}
    text = _text_field(data) if kind == MODAL_SUBMIT else ""
    if kind == MODAL_SUBMIT and action.verb != OPTION and not text:
        return _only_you("Please write something: the agent reads it.")
    return _decide(session, found, _decision(found, action, person, text))


def _decision(found: HumanRequest, action: Action, person: str, text: str) -> Decision:
    """What the click (or the form's `text`) says, as the pages would record it."""
    if action.verb == APPROVE:
        return Decision(person, DECIDED_VIA, approved=True)
    if action.verb in (REJECT, ANSWER):
        return answer_decision(found, person, DECIDED_VIA, text)
    option = layout.option_at(found, action.index) or {}  # _fits made sure there is one
    return answer_decision(found, person, DECIDED_VIA, text or option_words(option), option)


def _decide(session: Session, found: HumanRequest, decision: Decision) -> dict[str, Any]:
    recorded = decisions.decide(session, found, decision)
    session.commit()
    session.refresh(found)
    if not recorded:
        return _only_you(_already_decided(found))
    runtime().request_decided(found.id)
    log.info("discord: request %s decided by %s", found.id, decision.decided_by)
    return {"type": UPDATE_MESSAGE, "data": layout.outcome_message(found)}


def _request_clicked(session: Session, payload: dict[str, Any]) -> HumanRequest | None:
    """The request behind the message Discord says was clicked (never an id from the button)."""
    message = _object(payload.get("message"))
    channel_id = payload.get("channel_id") or _object(payload.get("channel")).get("id")
    message_id = message.get("id")
    if not isinstance(channel_id, str) or not isinstance(message_id, str):
        return None
    post = chat.post_at(session, chat.DISCORD, channel_id, message_id)
    return None if post is None else session.get(HumanRequest, post.request_id)


def _fits(found: HumanRequest, action: Action) -> bool:
    if action.verb == OPTION:
        return layout.option_at(found, action.index) is not None
    if action.verb == ANSWER:
        return found.kind != FUNCTION_CALL
    return found.kind == FUNCTION_CALL


def _person(payload: dict[str, Any]) -> str | None:
    """Who clicked: the member's user in a server, the user in a DM."""
    user = _object(_object(payload.get("member")).get("user") or payload.get("user"))
    user_id, name = user.get("id"), user.get("username")
    if not isinstance(user_id, str) or not user_id:
        return None
    return f"discord:{user_id} ({name})" if isinstance(name, str) and name else f"discord:{user_id}"


def _text_field(data: dict[str, Any]) -> str:
    """What was typed in the modal's one text field, from either layout Discord sends."""
    for part in data.get("components") or []:
        part = _object(part)
        inner = [part.get("component")] if "component" in part else part.get("components") or []
        for item in inner:
            item = _object(item)
            if item.get("custom_id") == layout.TEXT_FIELD and isinstance(item.get("value"), str):
                return item["value"].strip()[: layout.MAX_TEXT_CHARS]
    return ""


def _already_decided(found: HumanRequest) -> str:
    return f"Already closed, nothing changed. {layout.outcome_sentence(found)}"


def _only_you(text: str) -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE, "data": layout.ephemeral(text)}


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
