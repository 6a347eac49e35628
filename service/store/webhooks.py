"""A project's webhooks, and the signed POSTs queued for them in the outbox."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .models import OutboxMessage, Webhook
from .types import utcnow

WEBHOOK = "webhook"


def add_webhook(session: Session, project_id: int, url: str) -> Webhook:
    webhook = Webhook(project_id=project_id, url=url, secret=secrets.token_urlsafe(32))
    session.add(webhook)
    session.flush()
    return webhook


# Built once: every decision asks, usually to find none.
_ACTIVE_WEBHOOKS = (
    select(Webhook)
    .where(Webhook.project_id == bindparam("project_id"), Webhook.deleted_at.is_(None))
    .order_by(Webhook.id)
)


def active_webhooks(session: Session, project_id: int) -> list[Webhook]:
    return list(session.scalars(_ACTIVE_WEBHOOKS, {"project_id": project_id}))


def find_webhook(session: Session, project_id: int, webhook_id: int) -> Webhook | None:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.project_id != project_id or webhook.deleted_at is not None:
        return None
    return webhook


def delete_webhook(webhook: Webhook) -> None:
    webhook.deleted_at = utcnow()


def enqueue_post(
    session: Session, webhook: Webhook, request_id: int, event: str, payload: dict[str, Any]
) -> None:
    """Queue one POST of `payload` to `webhook`, in the caller's transaction."""
    session.add(
        OutboxMessage(
            kind=WEBHOOK,
            webhook_id=webhook.id,
            request_id=request_id,
            message_id=str(uuid.uuid4()),
            mail_from="",
            recipients=[webhook.url],
            subject=event,
            body=json.dumps(payload, separators=(",", ":")).encode(),
        )
    )


def deliveries(session: Session, webhook_id: int) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.webhook_id == webhook_id).order_by(OutboxMessage.id)
        )
    )
