"""Playing Slack's part in the tests: sending interactions and events signed as Slack signs
them, and reading the messages the service posted through the stand-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from slack_standin import SlackCall, SlackStandIn

from signoff_service.store.models import ChatPost

from signoff_testing import WAIT_SECONDS, RunningService, wait_until

SIGNING_SECRET = "test-slack-signing-secret-not-for-production"
SERVICE_TOKEN = "xoxb-test-service-token"


# --- playing Slack's part ------------------------------------------------------------------------


def unique_channel() -> str:
    return f"C{time.monotonic_ns():X}"


def signed_headers(body: bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack sends with `body`: its timestamp and the v0 signature over both."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def send_interaction(
    service: RunningService, body: bytes, headers: dict[str, str] | None = None
) -> requests.Response:
    """POST an interaction as Slack does: a form with one `payload` field, signed unless told otherwise."""
    return requests.post(
        f"{service.base_url}/slack/interactions",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **(signed_headers(body) if headers is None else headers),
        },
        timeout=WAIT_SECONDS,
    )


def send_event(
    service: RunningService,
    envelope: dict[str, Any],
    extra_headers: dict[str, str] | None = None,
    timestamp: int | None = None,
) -> requests.Response:
    body = json.dumps(envelope).encode()
    return requests.post(
        f"{service.base_url}/slack/events",
        data=body,
        headers={
            "Content-Type": "application/json",
            **signed_headers(body, timestamp),
            **(extra_headers or {}),
        },
        timeout=WAIT_SECONDS,
    )


def click(posted: SlackCall, action_id: str, user: str = "UALICE", username: str = "alice") -> dict[str, Any]:
    """The block_actions payload Slack sends when `user` clicks the button `action_id` on `posted`."""
    channel, ts = posted.answer["channel"], posted.answer["ts"]
    [button] = [button for button in buttons(posted.args["blocks"]) if button["action_id"] == action_id]
    return {
        "type": "block_actions",
        "team": {"id": "T0TEST", "domain": "test"},
        "user": {"id": user, "username": username, "name": username, "team_id": "T0TEST"},
        "api_app_id": "A0TEST",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{time.monotonic_ns()}.trigger",
        "channel": {"id": channel, "name": "approvals"},
        "message": posted.answer["message"],
        "response_url": "http://127.0.0.1:9/response-url-unused",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "decide",
                "text": button["text"],
                "value": button.get("value", ""),
                "action_ts": str(time.time()),
            }
        ],
    }


def submit_modal(
    opened: SlackCall, text: str, user: str = "UALICE", username: str = "alice"
) -> dict[str, Any]:
    """The view_submission payload Slack sends when `user` submits the modal `opened` with `text` typed."""
    view = opened.args["view"]
    [input_block] = [block for block in view["blocks"] if block["type"] == "input"]
    return {
        "type": "view_submission",
        "team": {"id": "T0TEST", "domain": "test"},
        "user": {"id": user, "username": username, "name": username, "team_id": "T0TEST"},
        "api_app_id": "A0TEST",
        "trigger_id": f"{time.monotonic_ns()}.trigger",
        "view": {
            **view,
            "id": opened.answer["view"]["id"],
            "state": {
                "values": {
                    input_block["block_id"]: {
                        input_block["element"]["action_id"]: {"type": "plain_text_input", "value": text}
                    }
                }
            },
        },
    }


def thread_reply(posted: SlackCall, text: str, user: str = "UALICE", **extra: Any) -> dict[str, Any]:
    """The event_callback Slack sends when `user` replies in the thread of `posted`."""
    channel, ts = posted.answer["channel"], posted.answer["ts"]
    return {
        "type": "event_callback",
        "token": "unused-verification-token",
        "team_id": "T0TEST",
        "api_app_id": "A0TEST",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": channel,
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "thread_ts": ts,
            **extra,
        },
    }


# --- reading what Slack was sent -----------------------------------------------------------------


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def button_labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [button["text"]["text"] for button in buttons(blocks)]


def shown_text(blocks: list[dict[str, Any]]) -> str:
    """Every text a person sees in `blocks`, in order."""
    texts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                texts.append(value["text"])
            for item in value.values():
                if isinstance(item, dict | list):
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(blocks)
    return "\n".join(texts)


def posted_to(service: RunningService, slack: SlackStandIn, channel: str) -> SlackCall:
    """The message posted to `channel`, once the service has recorded where it went.

    Slack shows a message before its API call returns; a person is never as quick to click as
    a test, which waits for the service to have noted the message's ts.
    """
    posted = slack.wait_for("chat.postMessage", lambda call: call.args["channel"] == channel)
    wait_until(
        lambda: any(row.message_ref == posted.answer["ts"] for row in service.rows(ChatPost)),
        what=f"the service to record its message in {channel}",
    )
    return posted


def update_of(slack: SlackStandIn, posted: SlackCall) -> SlackCall:
    return slack.wait_for(
        "chat.update",
        lambda call: (
            call.args["channel"] == posted.answer["channel"] and call.args["ts"] == posted.answer["ts"]
        ),
    )


def ephemeral_to(slack: SlackStandIn, posted: SlackCall, user: str, count: int = 1) -> SlackCall:
    """The `count`th message only `user` sees, beside the message `posted`."""
    channel = posted.answer["channel"]
    return slack.wait_for(
        "chat.postEphemeral",
        lambda call: call.args["channel"] == channel and call.args["user"] == user,
        count,
    )


def service_env(slack: SlackStandIn) -> dict[str, str]:
    """What a service needs to post to `slack` and to check requests signed with SIGNING_SECRET."""
    return {
        "SIGNOFF_SLACK_API_URL": slack.url,
        "SIGNOFF_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SIGNOFF_SLACK_BOT_TOKEN": SERVICE_TOKEN,
    }
