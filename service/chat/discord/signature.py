"""Is this interaction from Discord? Its Ed25519 signature, its age, and whether we saw it before.

Discord signs the timestamp header followed by the raw body with the application's key;
the application's public key (hex, from the developer portal) is `discord_public_key`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ...errors import Unauthorized

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
# Older than this, a payload is refused; signatures are remembered as long, so a replay
# within the window is refused as seen.
MAX_AGE = timedelta(minutes=5)
# Clocks differ; a payload from further ahead than this is refused too.
MAX_AHEAD = timedelta(minutes=1)

NOT_SET_UP = (
    "Discord is not set up on this service: set discord_public_key to the application's public key "
    "(Discord developer portal, General Information)"
)


def verified_signature(public_key_hex: str, headers: Mapping[str, str], body: bytes) -> str:
    """The payload's signature (lowercase hex) once it is Discord's and fresh; else Unauthorized."""
    if not public_key_hex:
        raise Unauthorized(NOT_SET_UP)
    signature = headers.get(SIGNATURE_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        raise Unauthorized(f"unsigned: Discord sends {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}")
    _verify(_public_key(public_key_hex), timestamp, body, signature)
    _check_fresh(timestamp)
    return signature.lower()


def _public_key(public_key_hex: str) -> VerifyKey:
    try:
        return VerifyKey(bytes.fromhex(public_key_hex))
    except ValueError as exc:
        raise Unauthorized(
            f"discord_public_key is not an Ed25519 public key (32 bytes in hex): {exc}"
        ) from exc


def _verify(key: VerifyKey, timestamp: str, body: bytes, signature: str) -> None:
    try:
        key.verify(timestamp.encode() + body, bytes.fromhex(signature))
    except (ValueError, BadSignatureError) as exc:
        raise Unauthorized("the signature does not match: this payload was not signed by Discord") from exc


def _check_fresh(timestamp: str) -> None:
    try:
        signed_at = int(timestamp)
    except ValueError as exc:
        raise Unauthorized(f"{TIMESTAMP_HEADER} is not a Unix time") from exc
    age = time.time() - signed_at
    if age > MAX_AGE.total_seconds() or -age > MAX_AHEAD.total_seconds():
        raise Unauthorized(
            f"stale: signed {age:.0f} s ago, outside the {MAX_AGE.seconds // 60} minutes accepted"
        )
