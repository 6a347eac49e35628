"""What a webhook carries, and how it is signed and posted.

Every decision, timeout and escalation of a request is queued, in the transaction that
made it, for each of its project's webhooks; the outbox worker posts it with retries.
The signature is HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret, sent
as `X-Signoff-Signature: v1=<hex>` beside `X-Signoff-Timestamp` (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from .mail_out.senders import SendError
from .store import webhooks
from .store.models import FUNCTION_CALL, HumanRequest, OutboxMessage, Webhook
from .store.types import utcnow

SIGNATURE_HEADER = "X-Signoff-Signature"
TIMESTAMP_HEADER = "X-Signoff-Timestamp"
EVENT_HEADER = "X-Signoff-Event"


def queue_event(session: Session, request: HumanRequest, event: str, *, actor: str, channel: str) -> None:
    """Queue `event` for every webhook of the request's project (the request as now stored)."""
    # The caller's pending rows (the event being recorded) cannot change which hooks are
    # active; they are written with its transaction, in one flush instead of two.
    with session.no_autoflush:
        hooks = webhooks.active_webhooks(session, request.project_id)
    if not hooks:
        return
    # Imported here: the api package imports the views, and they record events through audit.
    from .api.wire import wire_status

    session.flush()
    session.refresh(request)
    payload = {
        "event": event,
        "at": utcnow().isoformat(),
        "kind": "function_call" if request.kind == FUNCTION_CALL else "human_contact",
        "call_id": request.call_id,
        "run_id": request.run_id,
        "actor": actor,
        "channel": channel,
        "status": wire_status(request),
    }
    for hook in hooks:
        webhooks.enqueue_post(session, hook, request.id, event, payload)


class PrivateTarget(ValueError):
    """The URL leads into a non-public network; the message says which address and how to allow it."""


def refuse_private_target(url: str, private_addresses: bool) -> None:
    """Raise PrivateTarget when `url`'s host is, or resolves to, a non-public address, unless
    the operator allows those (`webhook_private_addresses`).

    A name that does not resolve passes here: the check runs again before each delivery.
    """
    if private_addresses:
        return
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not address.is_global:
            raise PrivateTarget(
                f"{host} is the private address {address}; webhooks may only reach public addresses "
                "unless the operator sets webhook_private_addresses = true"
            )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class WebhookPoster:
    """Posts one queued webhook row; a 2xx is delivered, anything else is tried again."""

    def __init__(self, timeout_seconds: float, private_addresses: bool) -> None:
        self._timeout = timeout_seconds
        self._private_addresses = private_addresses
        self._http = requests.Session()

    def post(self, row: OutboxMessage, webhook: Webhook) -> None:
        try:
            refuse_private_target(webhook.url, self._private_addresses)
        except PrivateTarget as exc:
            raise SendError(f"webhook not posted: {exc}", permanent=True) from exc
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "signoff-webhooks",
            EVENT_HEADER: row.subject,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(webhook.secret, timestamp, row.body),
        }
        try:
            response = self._http.post(webhook.url, data=row.body, headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise SendError(f"webhook {webhook.url} unreachable: {exc}", permanent=False) from exc
        if not 200 <= response.status_code < 300:
            raise SendError(f"webhook {webhook.url} answered {response.status_code}", permanent=False)
