"""The tables. Store functions in the sibling modules read and write them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import TZDateTime, int_pk, short_text, timestamp, utcnow

FUNCTION_CALL = "function_call"
HUMAN_CONTACT = "human_contact"


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int_pk]
    name: Mapped[short_text] = mapped_column(unique=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # A ContactChannel's JSON: where requests that name no channel go.
    default_channel: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The project's own Slack and Discord bot tokens, used before the service-wide ones.
    slack_bot_token: Mapped[str | None] = mapped_column(Text, default=None)
    discord_bot_token: Mapped[str | None] = mapped_column(Text, default=None)


class ApiKey(Base):
    """An API key, kept only as a hash; `prefix` lets a person tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[int_pk]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    # False for an agent's key: it may ask and read, never decide (the API's respond routes).
    can_decide: Mapped[bool] = mapped_column(default=True, server_default=true())


class HumanRequest(Base):
    """A function call awaiting approval, or a question awaiting an answer."""

    __tablename__ = "human_requests"
    __table_args__ = (UniqueConstraint("project_id", "kind", "call_id"),)

    id: Mapped[int_pk]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[short_text]
    run_id: Mapped[short_text]
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Normalized addresses the request was sent to: the only ones whose replies count.
    recipients: Mapped[list[str]] = mapped_column(JSON)
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[timestamp] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    approved: Mapped[bool | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    response: Mapped[str | None] = mapped_column(Text, default=None)
    option_name: Mapped[str | None] = mapped_column(String(255), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(320), default=None)
    decided_via: Mapped[str | None] = mapped_column(String(32), default=None)
    # Set when the server decided it because nobody answered by `timeout_at`.
    timed_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    timeout_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    # Set when an operator (or the agent's client) withdrew it: closed, and nobody approved.
    withdrawn: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When the worker next has something to do for it (a reminder, an escalation, the
    # timeout) and how many steps of its schedule are done; NULL once nothing is left.
    next_step_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None, index=True)
    steps_done: Mapped[int] = mapped_column(default=0, server_default="0")
    # A SlackContactChannel's own bot_token: kept here, out of the spec, so that no view of the
    # request (the API, the dashboard, webhooks) ever shows it.
    slack_bot_token: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def is_decided(self) -> bool:
        return self.responded_at is not None

    @property
    def options(self) -> list[dict[str, Any]]:
        """The ready-made answers: reject options of a function call, response options of a question."""
        key = "reject_options" if self.kind == FUNCTION_CALL else "response_options"
        return self.spec.get(key) or []


class Vote(Base):
    """One person's decision on a request; with several approvers the rule counts these."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("request_id", "voter"),)

    id: Mapped[int_pk]
    request_id: Mapped[int] = mapped_column(ForeignKey("human_requests.id"), index=True)
    voter: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32))
    approved: Mapped[bool | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    response: Mapped[str | None] = mapped_column(Text, default=None)
    option_name: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)


class RequestEvent(Base):
    """The audit trail: everything that happened to a request, when, by whom, through what."""

    __tablename__ = "request_events"

    id: Mapped[int_pk]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("human_requests.id"), index=True)
    at: Mapped[timestamp] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Webhook(Base):
    """A URL of a project's that gets every decision, timeout and escalation, signed."""

    __tablename__ = "webhooks"

    id: Mapped[int_pk]
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)


class OutboxMessage(Base):
    """Something to deliver: an email, or a webhook POST, written in its request's transaction.

    A worker claims due rows for `claimed_until` (a lease), sends outside any transaction,
    then records the outcome; a lease that runs out (the worker died) makes the row due again.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int_pk]
    kind: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("human_requests.id"), default=None)
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id"), default=None, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    message_id: Mapped[str] = mapped_column(String(255), index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    # None until the worker composes it from the request (see mail_out.compose).
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Set on the confirmation of a reply: the worker composes it from that stored reply.
    confirms_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[timestamp] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)


class ChatPost(Base):
    """A Slack or Discord message posted for a request: interactions on it find the request here."""

    __tablename__ = "chat_posts"
    __table_args__ = (UniqueConstraint("kind", "channel_id", "message_ref"),)

    id: Mapped[int_pk]
    request_id: Mapped[int] = mapped_column(ForeignKey("human_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Where the message is (a DM to a person is posted in its own channel) and which it is:
    # Slack's ts, Discord's message id.
    channel_id: Mapped[str] = mapped_column(String(64))
    message_ref: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[timestamp] = mapped_column(default=utcnow)


class ChatSignature(Base):
    """The signature of an interaction Slack or Discord sent us, kept while it could be replayed."""

    __tablename__ = "chat_signatures"

    signature: Mapped[str] = mapped_column(String(160), primary_key=True)
    seen_at: Mapped[timestamp] = mapped_column(default=utcnow, index=True)


class DevMail(Base):
    """A message delivered to the built-in dev mailbox instead of a relay."""

    __tablename__ = "dev_mail"

    id: Mapped[int_pk]
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    delivered_at: Mapped[timestamp] = mapped_column(default=utcnow)


class InboundMessage(Base):
    """An email received on the reply domain, stored raw before we answer 250."""

    __tablename__ = "inbound_messages"

    id: Mapped[int_pk]
    received_at: Mapped[timestamp] = mapped_column(default=utcnow)
    peer: Mapped[str] = mapped_column(String(255))
    envelope_from: Mapped[str] = mapped_column(String(320))
    envelope_to: Mapped[list[str]] = mapped_column(JSON)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("human_requests.id"), default=None)
    processed_at: Mapped[datetime | None] = mapped_column(TZDateTime, default=None)
    # Files that came with the message: listed here, kept in `raw`, never read as an answer.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class InstanceSetting(Base):
    """Values the service generates once and every process shares (the signing key)."""

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
