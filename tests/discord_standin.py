"""A stand-in for Discord's REST API on loopback: the few routes signoff calls, answered as documented.

It keeps the messages it was sent, records every call, checks the bot token on each one,
and can be told to fail the way Discord does (unknown channel, rate limit).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_ROOT = "/api/v10"
BOT_ID = "900000000000000001"
_POST_MESSAGE = re.compile(rf"^{API_ROOT}/channels/(\d+)/messages$")
_EDIT_MESSAGE = re.compile(rf"^{API_ROOT}/channels/(\d+)/messages/(\d+)$")
_OPEN_DM = f"{API_ROOT}/users/@me/channels"


@dataclass
class Call:
    method: str
    path: str
    authorization: str
    body: dict[str, Any]


@dataclass
class DiscordStandIn:
    """Discord as one bot sees it: `token` is its bot token, `channels` where it may post, `users`
    the people it can DM."""

    token: str
    port: int = 0
    channels: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    # (channel id, message id) -> the message as Discord would return it
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    dm_channels: dict[str, str] = field(default_factory=dict)
    # channel id -> the retry_after its next message post is refused with (a 429)
    rate_limited_once: dict[str, float] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_100_000_000_000_000_000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_ROOT}"

    def snowflake(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def new_channel(self) -> str:
        channel_id = self.snowflake()
        self.channels.add(channel_id)
        return channel_id

    def new_user(self) -> str:
        user_id = self.snowflake()
        self.users.add(user_id)
        return user_id

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's messages as they are now (copies: a later edit leaves them as they were)."""
        with self._lock:
            found = [message for (channel, _), message in self.messages.items() if channel == channel_id]
            return copy.deepcopy(found)

    def calls_to(self, method: str, path_part: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method and path_part in call.path]

    def answer(self, method: str, path: str, authorization: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.calls.append(Call(method, path, authorization, body))
        if authorization != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}
        if method == "POST" and (found := _POST_MESSAGE.match(path)):
            return self._create_message(found.group(1), body)
        if method == "PATCH" and (found := _EDIT_MESSAGE.match(path)):
            return self._edit_message(found.group(1), found.group(2), body)
        if method == "POST" and path == _OPEN_DM:
            return self._open_dm(str(body.get("recipient_id", "")))
        return 404, {"message": "404: Not Found", "code": 0}

    def _create_message(self, channel_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        if channel_id not in self.channels and channel_id not in self.dm_channels.values():
            return 404, {"message": "Unknown Channel", "code": 10003}
        with self._lock:
            if channel_id in self.rate_limited_once:
                retry_after = self.rate_limited_once.pop(channel_id)
                return 429, {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                }
        message = {
            "id": self.snowflake(),
            "channel_id": channel_id,
            "type": 0,
            "author": {"id": BOT_ID, "username": "signoff", "bot": True},
            "content": body.get("content", ""),
            "embeds": body.get("embeds", []),
            "components": body.get("components", []),
            "allowed_mentions": body.get("allowed_mentions"),
            "timestamp": "2026-01-01T00:00:00.000000+00:00",
            "edited_timestamp": None,
        }
        with self._lock:
            self.messages[(channel_id, message["id"])] = message
        return 200, message

    def _edit_message(self, channel_id: str, message_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            message = self.messages.get((channel_id, message_id))
            if message is None:
                return 404, {"message": "Unknown Message", "code": 10008}
            message.update(body)
            message["edited_timestamp"] = "2026-01-01T00:00:01.000000+00:00"
            return 200, dict(message)

    def _open_dm(self, recipient_id: str) -> tuple[int, Any]:
        if recipient_id not in self.users:
            return 404, {"message": "Unknown User", "code": 10013}
        with self._lock:
            channel_id = self.dm_channels.setdefault(recipient_id, str(next(self._ids)))
        return 200, {"id": channel_id, "type": 1, "recipients": [{"id": recipient_id, "username": "dm-user"}]}


def serve_discord(standin: DiscordStandIn) -> ThreadingHTTPServer:
    """Serve `standin` on a free loopback port (set as its `port`); shut the server down when done."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            status, answer = standin.answer(
                self.command, self.path, self.headers.get("Authorization", ""), body
            )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _handle
        do_PATCH = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serving_discord(token: str) -> Iterator[DiscordStandIn]:
    """A DiscordStandIn for the bot `token`, served on loopback until the generator is closed."""
    standin = DiscordStandIn(token=token)
    server = serve_discord(standin)
    yield standin
    server.shutdown()
