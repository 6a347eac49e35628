"""Record what happened to a request, and tell whoever needs to hear of it.

Every part of the service that changes or acts on a request records it here: the event
goes into the audit trail in the caller's transaction, so it is durable exactly when the
change it describes is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from . import webhooks
from .store import chat, events
from .store.models import HumanRequest, RequestEvent

# What a project's webhooks are told of.
WEBHOOK_EVENTS = frozenset({events.DECIDED, events.TIMED_OUT, events.WITHDRAWN, events.ESCALATED})
# After these, the request's Slack and Discord messages are edited to show the outcome.
CLOSING_EVENTS = frozenset({events.DECIDED, events.TIMED_OUT, events.WITHDRAWN})


def record(
    session: Session, request: HumanRequest, kind: str, *, actor: str, channel: str, **detail: Any
) -> RequestEvent:
    """Add `kind` (one of `store.events`' kinds) to the request's trail."""
    event = events.record_event(session, request, kind, actor=actor, channel=channel, **detail)
    if kind in WEBHOOK_EVENTS:
        webhooks.queue_event(session, request, kind, actor=actor, channel=channel)
    # Only a request with a chat route has posts to edit: the others skip the query on every decision.
    if kind in CLOSING_EVENTS and chat.names_a_chat_route(request.spec):
        with session.no_autoflush:
            chat.enqueue_updates(session, request.id)
    return event
