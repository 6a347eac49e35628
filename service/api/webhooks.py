"""A project's webhooks through the API: register, list, remove, and see each delivery."""

from __future__ import annotations

from flask import Response, g, jsonify

from signoff.models import WebhookSpec

from ..context import db, runtime
from ..errors import InvalidRequest, NotFound
from ..store import webhooks
from ..store.models import Webhook
from ..webhooks import PrivateTarget, refuse_private_target
from .blueprint import bp, parse_body
from .wire import NewWebhook, WebhookDelivery, WebhookInfo, as_json

# Ids are 32-bit in the store; a larger one in a path is a routing 404, never a query.
MAX_WEBHOOK_ID = 2**31 - 1
WEBHOOK_ID = f"<int(max={MAX_WEBHOOK_ID}):webhook_id>"


@bp.post("/webhooks")
def add_webhook() -> tuple[Response, int]:
    spec = parse_body(WebhookSpec)
    try:
        refuse_private_target(spec.url, runtime().settings.webhook_private_addresses)
    except PrivateTarget as exc:
        raise InvalidRequest(f"url: {exc}") from exc
    session = db()
    webhook = webhooks.add_webhook(session, g.project_id, spec.url)
    session.commit()
    # The secret is shown once, here; the list never shows it.
    return jsonify(as_json(NewWebhook.model_validate(webhook))), 201


@bp.get("/webhooks")
def list_webhooks() -> Response:
    found = webhooks.active_webhooks(db(), g.project_id)
    return jsonify(as_json([WebhookInfo.model_validate(hook) for hook in found]))


@bp.delete(f"/webhooks/{WEBHOOK_ID}")
def delete_webhook(webhook_id: int) -> Response:
    session = db()
    webhook = _find_or_404(webhook_id)
    webhooks.delete_webhook(webhook)
    session.commit()
    return jsonify(as_json(WebhookInfo.model_validate(webhook)))


@bp.get(f"/webhooks/{WEBHOOK_ID}/deliveries")
def webhook_deliveries(webhook_id: int) -> Response:
    webhook = _find_or_404(webhook_id)
    rows = webhooks.deliveries(db(), webhook.id)
    return jsonify(as_json([WebhookDelivery.model_validate(row) for row in rows]))


def _find_or_404(webhook_id: int) -> Webhook:
    webhook = webhooks.find_webhook(db(), g.project_id, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook {webhook_id} in this project")
    return webhook
