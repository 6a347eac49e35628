"""Slack's request signatures: only what Slack signed, recently, and once, is read at all.

Slack signs `v0:<timestamp>:<raw body>` with the app's signing secret (HMAC-SHA256) and sends
the timestamp and signature in headers; slack_sdk's SignatureVerifier checks both. A request
older (or newer) than five minutes is refused, and so is a second copy of one already seen,
on any node: the signature is recorded in the store before the request is acted on.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Request
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.orm import Session

from ...errors import Unauthorized
from ...store import chat

REPLAY_WINDOW = timedelta(minutes=5)
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def verified_body(request: Request, signing_secret: str, session: Session) -> bytes:
    """The raw body of a request Slack signed; Unauthorized for anything else, before it is read."""
    if not signing_secret:
        raise Unauthorized(
            "Slack is not set up on this service: set slack_signing_secret (SIGNOFF_SLACK_SIGNING_SECRET) "
            "to the signing secret of your Slack app"
        )
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        raise Unauthorized(
            f"the request is not signed: Slack sends {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
        )
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise Unauthorized(f"{TIMESTAMP_HEADER} is not a Unix time")
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW.total_seconds():
        raise Unauthorized(
            "the request's timestamp is more than five minutes away from now: refused as stale"
        )
    body = request.get_data(cache=True)
    if not _signed(body, timestamp, signature, signing_secret):
        raise Unauthorized("the request's signature does not match its body and this app's signing secret")
    if not chat.first_sight(session, chat.SLACK, signature, REPLAY_WINDOW):
        raise Unauthorized("this signed request was received before: refused as a replay")
    session.commit()
    return body


def _signed(body: bytes, timestamp: str, signature: str, signing_secret: str) -> bool:
    try:
        body.decode("utf-8")  # the verifier decodes it; anything else was never signed by Slack
    except UnicodeDecodeError:
        return False
    return SignatureVerifier(signing_secret).is_valid(body, timestamp, signature)
