"""Slack's Events API: a person's reply in the thread of a question is its answer.

Only `message` events count that a person wrote (no `bot_id`; no subtype but a thread
broadcast or a file shared with text), in the thread of a question we posted. A reply in
the thread of a function call's message is conversation, not a decision: it is left alone.
Slack sends an event again when our answer is slow (X-Slack-Retry-Num); the first answer
stands, and a retry is not told so.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from ...store.models import FUNCTION_CALL
from . import answers
from .answers import Responder

log = logging.getLogger(__name__)

# Subtypes of messages a person wrote; the rest are edits, joins, bots and the like.
PERSON_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


def on_event_callback(session: Session, envelope: dict[str, Any], is_retry: bool) -> None:
    event = envelope.get("event")
    if not isinstance(event, dict) or not _written_by_a_person(event):
        return
    thread_ts, text, user = event.get("thread_ts"), event.get("text"), event.get("user")
    if thread_ts is None or thread_ts == event.get("ts") or not isinstance(user, str) or not user:
        return
    target = answers.target_at(session, event.get("channel"), thread_ts)
    if target is None:
        return
    if target.request.kind == FUNCTION_CALL:
        log.info("slack: a thread reply on function call %s's message; buttons decide it", target.request.id)
        return
    responder = Responder(user)
    refused = answers.refusal(target.request, responder)
    if refused is not None:
        if not is_retry:
            answers.tell(session, target, user, refused, thread_ts=thread_ts)
        return
    answer = _plain(text if isinstance(text, str) else "").strip()
    if answer:
        answers.record(session, target.request, answers.text_decision(target.request, answer, responder))


def _written_by_a_person(event: dict[str, Any]) -> bool:
    return (
        event.get("type") == "message" and not event.get("bot_id") and event.get("subtype") in PERSON_SUBTYPES
    )


def _plain(text: str) -> str:
    # Slack escapes these three in message text; the agent reads what the person typed.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
