"""Playing Discord's part in the tests: interactions signed as Discord signs them (Ed25519
over the timestamp and the raw body), and reading the messages the service posted.
"""

from __future__ import annotations

import json
import time

import nacl.signing
import requests
from discord_standin import DiscordStandIn

from signoff_service.store.models import ChatPost

from signoff_testing import WAIT_SECONDS, RunningService, wait_until

BOT_TOKEN = "test-discord-bot-token"
SIGNING_KEY = nacl.signing.SigningKey(bytes(range(32)))
APPLICATION_ID = "900000000000000001"
INTERACTIONS = "/discord/interactions"
ALICE = {"id": "800000000000000042", "username": "alice", "global_name": "Alice"}


# --- what Discord sends us ---------------------------------------------------------------


def signed_headers(
    body: bytes, timestamp: str | None = None, key: nacl.signing.SigningKey = SIGNING_KEY
) -> dict:
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": timestamp,
    }


def send_interaction(service: RunningService, body: bytes, headers: dict) -> requests.Response:
    return requests.post(service.base_url + INTERACTIONS, data=body, headers=headers, timeout=WAIT_SECONDS)


def interact(service: RunningService, payload: dict) -> requests.Response:
    body = json.dumps(payload).encode()
    return send_interaction(service, body, signed_headers(body))


def _interaction(kind: int, message: dict, data: dict, user: dict = ALICE) -> dict:
    return {
        "id": str(time.monotonic_ns()),
        "application_id": APPLICATION_ID,
        "type": kind,
        "token": f"interaction-token-{time.monotonic_ns()}",
        "version": 1,
        "guild_id": "700000000000000001",
        "channel_id": message["channel_id"],
        "channel": {"id": message["channel_id"], "type": 0},
        "member": {"user": user, "roles": [], "permissions": "0"},
        "data": data,
        "message": message,
        "locale": "en-US",
    }


def click(message: dict, label: str, user: dict = ALICE) -> dict:
    """The interaction Discord sends when `user` presses the button labelled `label`."""
    custom_id = button(message, label)["custom_id"]
    return _interaction(3, message, {"custom_id": custom_id, "component_type": 2}, user)


def submit(message: dict, modal: dict, text: str, user: dict = ALICE) -> dict:
    """The interaction Discord sends when `user` fills the modal's text field with `text` and submits."""
    [field] = text_inputs(modal)
    answered = {"type": 4, "id": 2, "custom_id": field["custom_id"], "value": text}
    data = {"custom_id": modal["custom_id"], "components": [{"type": 18, "id": 1, "component": answered}]}
    return _interaction(5, message, data, user)


def ping() -> dict:
    return {
        "id": str(time.monotonic_ns()),
        "application_id": APPLICATION_ID,
        "type": 1,
        "token": "t",
        "version": 1,
    }


# --- what people see -----------------------------------------------------------------------


def buttons(message: dict) -> list[dict]:
    return [part for row in message.get("components", []) for part in row.get("components", [])]


def button(message: dict, label: str) -> dict:
    found = [part for part in buttons(message) if part.get("label") == label]
    assert found, f"no {label!r} button among {[part.get('label') for part in buttons(message)]}"
    return found[0]


def text_inputs(modal: dict) -> list[dict]:
    inputs = []
    for part in modal["components"]:
        inner = [part["component"]] if "component" in part else part.get("components", [])
        inputs.extend(item for item in inner if item["type"] == 4)
    return inputs


def shown_text(message: dict) -> str:
    """Everything a person reads in the message: its content and its embeds."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item["name"], item["value"]]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


def posted_to(service: RunningService, discord: DiscordStandIn, channel_id: str) -> dict:
    """The message posted in the channel, once the service has recorded it (a person could click it)."""
    found = wait_until(lambda: discord.messages_in(channel_id), what=f"a message in channel {channel_id}")
    message = found[0]  # type: ignore[index]
    wait_until(
        lambda: [post for post in service.rows(ChatPost) if post.message_ref == message["id"]],
        what="the service to record its post",
    )
    return message


def service_env(discord: DiscordStandIn) -> dict[str, str]:
    """What a service needs to post to `discord` and to check interactions signed by SIGNING_KEY."""
    return {
        "SIGNOFF_DISCORD_API_URL": discord.api_url,
        "SIGNOFF_DISCORD_PUBLIC_KEY": SIGNING_KEY.verify_key.encode().hex(),
        "SIGNOFF_DISCORD_BOT_TOKEN": BOT_TOKEN,
    }
