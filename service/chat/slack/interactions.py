"""Clicks on our messages' buttons (block_actions) and the forms they open (view_submission).

Approve and an option decide at once. Reject (and Answer, on a question) open a modal for
the comment (the answer); its submission decides. The modal names the message it was opened
from in its private_metadata, which only this app can set and Slack returns as it was.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm import Session

from ...context import runtime
from ...mail_out.senders import SendError
from ...store import chat
from ...store.models import FUNCTION_CALL, HumanRequest
from ...store.requests import Decision
from .. import bot_token
from . import answers
from .answers import DECIDED_VIA, Responder, Target
from .blocks import ANSWER, APPROVE, MODAL_INPUT, MODAL_INPUT_BLOCK, OPTION_PREFIX, REJECT, modal_view
from .sender import SlackSender

log = logging.getLogger(__name__)

# Which button each kind of request has besides its options.
BUTTONS_OF = {FUNCTION_CALL: (APPROVE, REJECT)}
QUESTION_BUTTONS = (ANSWER,)
FIRST_CAME = "Another answer came first; yours was not recorded."


def on_block_actions(session: Session, payload: dict[str, Any]) -> None:
    """A click on one of our buttons; whatever it leads to is done (and committed) on return."""
    container = as_object(payload.get("container"))
    target = answers.target_at(session, container.get("channel_id"), container.get("message_ts"))
    responder = answers.responder_of(payload.get("user"))
    actions = payload.get("actions")
    action_id = as_object(actions[0]).get("action_id") if isinstance(actions, list) and actions else None
    if target is None or responder is None or not isinstance(action_id, str):
        return
    refused = answers.refusal(target.request, responder)
    if refused is not None:
        answers.tell(session, target, responder.user_id, refused)
        return
    if action_id in (REJECT, ANSWER) and action_id in _buttons_of(target.request):
        _open_modal(session, target, action_id, payload.get("trigger_id"))
        return
    decision = _click_decision(target.request, action_id, responder)
    if decision is None:
        log.info("slack: button %r is not one request %s has", action_id, target.request.id)
        return
    if not answers.record(session, target.request, decision):
        session.refresh(target.request)
        answers.tell(
            session, target, responder.user_id, answers.refusal(target.request, responder) or FIRST_CAME
        )


def on_view_submission(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """The modal's text submitted: decide with it, or say in the form why not."""
    view = as_object(payload.get("view"))
    responder = answers.responder_of(payload.get("user"))
    target = _target_of_view(session, view)
    action = view.get("callback_id")
    if target is None or responder is None or action not in _buttons_of(target.request):
        return _form_error("This request is no longer available here.")
    refused = answers.refusal(target.request, responder)
    if refused is not None:
        return _form_error(refused)
    text = _typed_text(view)
    if not text:
        what = "why you reject it" if action == REJECT else "your answer"
        return _form_error(f"Please write {what} before sending.")
    if not answers.record(session, target.request, answers.text_decision(target.request, text, responder)):
        session.refresh(target.request)
        return _form_error(answers.refusal(target.request, responder) or FIRST_CAME)
    return {"response_action": "clear"}


def _buttons_of(request: HumanRequest) -> tuple[str, ...]:
    return BUTTONS_OF.get(request.kind, QUESTION_BUTTONS)


def _click_decision(request: HumanRequest, action_id: str, responder: Responder) -> Decision | None:
    if action_id == APPROVE and request.kind == FUNCTION_CALL:
        return Decision(responder.decided_by, DECIDED_VIA, approved=True)
    if not action_id.startswith(OPTION_PREFIX):
        return None
    index = action_id.removeprefix(OPTION_PREFIX)
    if not (index.isascii() and index.isdigit()) or int(index) >= len(request.options):
        return None
    return answers.option_decision(request, request.options[int(index)], responder)


def _open_modal(session: Session, target: Target, action: str, trigger_id: Any) -> None:
    if not isinstance(trigger_id, str):
        return
    settings = runtime().settings
    where = json.dumps({"channel_id": target.post.channel_id, "message_ts": target.post.message_ref})
    try:
        token = bot_token(session, settings, target.request, chat.SLACK)
        SlackSender(settings).open_modal(token, trigger_id, modal_view(action, target.request, where))
    except SendError as exc:
        log.warning("slack: could not open the %s form for request %s: %s", action, target.request.id, exc)


def _target_of_view(session: Session, view: dict[str, Any]) -> Target | None:
    try:
        where = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return None
    if not isinstance(where, dict):
        return None
    return answers.target_at(session, where.get("channel_id"), where.get("message_ts"))


def _typed_text(view: dict[str, Any]) -> str:
    values = as_object(as_object(as_object(view.get("state")).get("values")).get(MODAL_INPUT_BLOCK))
    typed = as_object(values.get(MODAL_INPUT)).get("value")
    return typed.strip() if isinstance(typed, str) else ""


def as_object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: a missing part reads as absent."""
    return value if isinstance(value, dict) else {}


def _form_error(text: str) -> dict[str, Any]:
    return {"response_action": "errors", "errors": {MODAL_INPUT_BLOCK: text}}
