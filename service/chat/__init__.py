"""Slack and Discord: requests delivered as chat messages, decided by their buttons.

Each platform has a `ChatSender` (posting and editing messages through its API) and a
blueprint for the interactions its servers send us, signed. What they share lives here:
which bot token a delivery uses, and how the outbox worker hands a chat row to its sender.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import InvalidJSON, InvalidRequest
from ..mail_out.senders import SendError
from ..store import chat
from ..store.models import FUNCTION_CALL, ChatPost, HumanRequest, OutboxMessage
from ..store.requests import Decision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostedMessage:
    """Where the platform put a message: its channel (a DM gets one of its own) and its id."""

    channel_id: str
    message_ref: str


class ChatSender(Protocol):
    """One platform's API. Failures raise SendError, `permanent` when retrying cannot help."""

    kind: str

    def post(self, request: HumanRequest, destination: str, token: str) -> PostedMessage:
        """Ask the request's question in `destination`, showing its current state."""

    def update(self, request: HumanRequest, post: ChatPost, token: str) -> None:
        """Edit `post` to show how the request ended."""


def seconds_asked(value: object) -> float | None:
    """A rate limit's Retry-After (a header's text, or a JSON number) as seconds, if it is one."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def json_object(body: bytes) -> dict[str, Any]:
    """A platform's signed body as a JSON object: 400 if it is not JSON, 422 if not an object."""
    try:
        found = json.loads(body)
    except ValueError as exc:
        raise InvalidJSON(f"expected JSON: {exc}") from exc
    if not isinstance(found, dict):
        raise InvalidRequest("expected a JSON object")
    return found


def option_words(option: dict[str, Any]) -> str:
    """What picking an option says when the person typed nothing, as on the emailed pages."""
    return option.get("prompt_fill") or option.get("title") or option.get("name") or ""


def answer_decision(
    request: HumanRequest, decided_by: str, via: str, text: str, option: dict[str, Any] | None = None
) -> Decision:
    """A rejection with `text` as its comment (a function call) or `text` as the answer (a
    question), perhaps by picking `option`."""
    name = option.get("name") if option else None
    if request.kind == FUNCTION_CALL:
        return Decision(decided_by, via, approved=False, comment=text, option_name=name)
    return Decision(decided_by, via, response=text, option_name=name)


def route_of(request: HumanRequest, kind: str) -> dict[str, Any]:
    """The request's channel settings for `kind` (its SlackContactChannel's JSON, say)."""
    return (request.spec.get("channel") or {}).get(kind) or {}


def bot_token(session: Session, settings: Settings, request: HumanRequest, kind: str) -> str:
    """The channel's own token, else the project's, else the service's; SendError with none."""
    token = (
        (request.slack_bot_token if kind == chat.SLACK else None)
        or chat.project_bot_token(session, request.project_id, kind)
        or getattr(settings, f"{kind}_bot_token")
    )
    if not token:
        raise SendError(
            f"no {kind.title()} bot token: set {kind}_bot_token in the config, or the project's with "
            f"`signoff projects set-token --project NAME --{kind}-bot-token TOKEN`",
            permanent=True,
        )
    return token


class ChatDelivery:
    """Sends the outbox's chat rows through their platform's sender."""

    def __init__(
        self,
        settings: Settings,
        sessions: Callable[[], AbstractContextManager[Session]],
        senders: dict[str, ChatSender],
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._senders = senders

    def handles(self, row: OutboxMessage) -> bool:
        return row.kind in chat.CHAT_KINDS

    def deliver(self, row: OutboxMessage, request: HumanRequest | None) -> bytes:
        """Post or edit the row's message; returns what to keep as the row's body (where it went)."""
        if request is None:
            raise SendError("its request is gone", permanent=True)
        sender = self._senders.get(row.kind)
        if sender is None:
            raise SendError(f"this service has no {row.kind} sender", permanent=True)
        # Read what the call needs, then let the connection go before talking to the platform.
        with self._sessions() as session:
            token = bot_token(session, self._settings, request, row.kind)
            post = None if row.subject == chat.POST else _post_to_update(session, row)
        if post is None:
            posted = sender.post(request, row.recipients[0], token)
        else:
            sender.update(request, post, token)
            posted = PostedMessage(post.channel_id, post.message_ref)
        return json.dumps({"channel_id": posted.channel_id, "message_ref": posted.message_ref}).encode()


def posted_message(row: OutboxMessage) -> PostedMessage:
    """Where a delivered chat row's message went, from the body `ChatDelivery.deliver` gave it."""
    where = json.loads(row.body or b"{}")
    return PostedMessage(where["channel_id"], where["message_ref"])


def _post_to_update(session: Session, row: OutboxMessage) -> ChatPost:
    post_id = int(row.message_id.rsplit(":", 1)[1])
    post = session.get(ChatPost, post_id)
    if post is None:
        raise SendError("the message to edit is gone", permanent=True)
    return post
