"""What buttons, forms and thread replies share: whose request it is, who may answer, recording it.

The request is always found from the message Slack says was clicked or replied to (its
channel and ts, in the signed payload), never from a value carried in our buttons.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ... import decisions
from ...context import runtime
from ...mail_out.senders import SendError
from ...store import chat
from ...store.models import FUNCTION_CALL, ChatPost, HumanRequest
from ...store.requests import Decision
from .. import answer_decision, bot_token, option_words, route_of
from .blocks import decided_by
from .sender import SlackSender

log = logging.getLogger(__name__)

DECIDED_VIA = "slack"
NOT_ALLOWED = "You are not among the people who may answer this request, so nothing was recorded."


@dataclass(frozen=True)
class Responder:
    """The Slack user who clicked or replied."""

    user_id: str
    name: str | None = None

    @property
    def decided_by(self) -> str:
        return f"slack:{self.user_id} ({self.name})" if self.name else f"slack:{self.user_id}"


@dataclass(frozen=True)
class Target:
    """The message an interaction came from, and the request it asks."""

    post: ChatPost
    request: HumanRequest


def responder_of(user: Any) -> Responder | None:
    """The `user` object of an interaction payload, if it names one."""
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return None
    name = user.get("username") or user.get("name")
    return Responder(user["id"], name if isinstance(name, str) and name else None)


def target_at(session: Session, channel_id: Any, message_ts: Any) -> Target | None:
    if not isinstance(channel_id, str) or not isinstance(message_ts, str):
        return None
    post = chat.post_at(session, chat.SLACK, channel_id, message_ts)
    if post is None:
        log.info(
            "slack: an interaction on message %s in %s, which is not one of ours", message_ts, channel_id
        )
        return None
    request = session.get(HumanRequest, post.request_id)
    return None if request is None else Target(post, request)


def refusal(request: HumanRequest, responder: Responder) -> str | None:
    """Why `responder` cannot answer `request` now (mrkdwn, for them alone), or None if they can."""
    if request.is_decided and request.timed_out:
        return "No one answered this request in time, so it is closed; nothing changed."
    if request.is_decided:
        return f"This request was already {_closed_as(request)} by {decided_by(request)}; nothing changed."
    allowed = route_of(request, chat.SLACK).get("allowed_responder_ids")
    # An empty list lets no one answer through Slack: doubt about who may decide refuses.
    if allowed is not None and responder.user_id not in allowed:
        return NOT_ALLOWED
    return None


def record(session: Session, request: HumanRequest, decision: Decision) -> bool:
    """Decide, commit, and wake whoever waits; False when another answer came first."""
    recorded = decisions.decide(session, request, decision)
    session.commit()
    if recorded:
        runtime().request_decided(request.id)
    return recorded


def tell(session: Session, target: Target, user_id: str, text: str, thread_ts: str | None = None) -> None:
    """A note to one person beside the request's message; a failure to send it is only logged."""
    settings = runtime().settings
    thread_ts = thread_ts or route_of(target.request, chat.SLACK).get("thread_ts")
    try:
        token = bot_token(session, settings, target.request, chat.SLACK)
        SlackSender(settings).tell(token, target.post.channel_id, user_id, text, thread_ts)
    except SendError as exc:
        log.warning("slack: could not tell %s about request %s: %s", user_id, target.request.id, exc)


def option_decision(request: HumanRequest, option: dict[str, Any], responder: Responder) -> Decision:
    return answer_decision(request, responder.decided_by, DECIDED_VIA, option_words(option), option)


def text_decision(request: HumanRequest, text: str, responder: Responder) -> Decision:
    """A typed rejection comment for a function call, or the answer to a question."""
    return answer_decision(request, responder.decided_by, DECIDED_VIA, text)


def _closed_as(request: HumanRequest) -> str:
    if request.withdrawn:
        return "withdrawn"
    if request.kind != FUNCTION_CALL:
        return "answered"
    return "approved" if request.approved else "rejected"
