"""A project's webhooks through the API: register, list, remove, and see each delivery."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from signoff.models import WebhookSpec

from ..context import db, runtime
from ..errors import InvalidRequest, NotFound
from ..store import webhooks
from ..store.models import OutboxMessage, Webhook
from ..webhooks import PrivateTarget, refuse_private_target
from .blueprint import bp, parse_body


@bp.post("/webhooks")
def add_webhook() -> tuple[Response, int]:
    spec = parse_body(WebhookSpec)
    if not runtime().settings.webhook_private_addresses:
        try:
            refuse_private_target(spec.url)
        except PrivateTarget as exc:
            raise InvalidRequest(f"url: {exc}") from exc
    session = db()
    webhook = webhooks.add_webhook(session, g.project_id, spec.url)
    session.commit()
    # The secret is shown once, here; the list never shows it.
    return jsonify(describe_webhook(webhook) | {"secret": webhook.secret}), 201


@bp.get("/webhooks")
def list_webhooks() -> Response:
    return jsonify([describe_webhook(hook) for hook in webhooks.active_webhooks(db(), g.project_id)])


@bp.delete("/webhooks/<int:webhook_id>")
def delete_webhook(webhook_id: int) -> Response:
    session = db()
    webhook = _find_or_404(webhook_id)
    webhooks.delete_webhook(webhook)
    session.commit()
    return jsonify(describe_webhook(webhook))


@bp.get("/webhooks/<int:webhook_id>/deliveries")
def webhook_deliveries(webhook_id: int) -> Response:
    webhook = _find_or_404(webhook_id)
    return jsonify([_describe_delivery(row) for row in webhooks.deliveries(db(), webhook.id)])


def describe_webhook(webhook: Webhook) -> dict[str, Any]:
    return {"id": webhook.id, "url": webhook.url, "created_at": webhook.created_at.isoformat()}


def _find_or_404(webhook_id: int) -> Webhook:
    webhook = webhooks.find_webhook(db(), g.project_id, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook {webhook_id} in this project")
    return webhook


def _describe_delivery(row: OutboxMessage) -> dict[str, Any]:
    return {
        "event": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "next_attempt_at": row.next_attempt_at.isoformat(),
    }
