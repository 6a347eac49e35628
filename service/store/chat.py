"""Slack and Discord deliveries in the outbox, and the messages they posted.

A request to a chat channel gets one outbox row that posts its message; once it is
decided (or withdrawn), one row per posted message that edits it to show the outcome.
Both go through the same claims, retries and audit trail as email.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import ChatPost, ChatSignature, OutboxMessage, Project
from .types import utcnow

SLACK = "slack"
DISCORD = "discord"
CHAT_KINDS = (SLACK, DISCORD)

# What an outbox row of a chat kind does, kept in its subject.
POST = "post"
UPDATE = "update"


def names_a_chat_route(spec: dict[str, Any]) -> bool:
    """Whether a stored request's channel has a Slack or Discord route (so it may have posts).

    The stored spec always holds the channel the request went to (a project's default is
    copied in at create), so this needs no query.
    """
    channel = spec.get("channel") or {}
    return any(channel.get(kind) for kind in CHAT_KINDS)


def enqueue_post(session: Session, request_id: int, kind: str, destination: str) -> None:
    """Queue the message that asks the request's question in `destination` (a channel or user id)."""
    session.add(
        OutboxMessage(
            kind=kind,
            request_id=request_id,
            message_id=f"{kind}:{request_id}:{POST}",
            mail_from=kind,
            recipients=[destination],
            subject=POST,
            body=None,
        )
    )


def enqueue_updates(session: Session, request_id: int) -> None:
    """Queue an edit of every message posted for the request, to show how it ended."""
    enqueue_updates_of(session, request_id, posts_for_request(session, request_id))


def enqueue_updates_of(session: Session, request_id: int, posts: list[ChatPost]) -> None:
    for post in posts:
        session.add(
            OutboxMessage(
                kind=post.kind,
                request_id=request_id,
                message_id=f"{post.kind}:{request_id}:{UPDATE}:{post.id}",
                mail_from=post.kind,
                recipients=[post.channel_id],
                subject=UPDATE,
                body=None,
            )
        )


def record_post(session: Session, request_id: int, kind: str, channel_id: str, message_ref: str) -> ChatPost:
    post = ChatPost(
        request_id=request_id, kind=kind, channel_id=channel_id, message_ref=message_ref, posted_at=utcnow()
    )
    session.add(post)
    return post


_POSTS_FOR_REQUEST = (
    select(ChatPost).where(ChatPost.request_id == bindparam("request_id")).order_by(ChatPost.id)
)
_POST_AT = select(ChatPost).where(
    ChatPost.kind == bindparam("kind"),
    ChatPost.channel_id == bindparam("channel_id"),
    ChatPost.message_ref == bindparam("message_ref"),
)


def posts_for_request(session: Session, request_id: int) -> list[ChatPost]:
    return list(session.scalars(_POSTS_FOR_REQUEST, {"request_id": request_id}))


def post_at(session: Session, kind: str, channel_id: str, message_ref: str) -> ChatPost | None:
    """The post an interaction came from: its platform's channel and message, as the platform signed them."""
    params = {"kind": kind, "channel_id": channel_id, "message_ref": message_ref}
    return session.scalar(_POST_AT, params)


def project_bot_token(session: Session, project_id: int, kind: str) -> str | None:
    column = Project.slack_bot_token if kind == SLACK else Project.discord_bot_token
    return session.scalar(select(column).where(Project.id == project_id))


def set_project_bot_token(project: Project, kind: str, token: str | None) -> None:
    if kind == SLACK:
        project.slack_bot_token = token
    else:
        project.discord_bot_token = token


def first_sight(session: Session, kind: str, signature: str, keep_for: timedelta) -> bool:
    """Note an interaction's signature; False if it was seen already (the payload is a replay).

    Kept `keep_for` (as long as the platform's timestamps are accepted), so that every
    node refuses a repeat; older ones are dropped on the way.
    """
    now = utcnow()
    session.execute(delete(ChatSignature).where(ChatSignature.seen_at < now - keep_for))
    try:
        with session.begin_nested():
            session.add(ChatSignature(signature=f"{kind}:{signature}"[:160], seen_at=now))
    except IntegrityError:
        return False
    return True
