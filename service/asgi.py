"""Serve the Flask app on an event loop, with long-polls that wait without a thread.

Flask runs in a thread pool as usual. When a GET with `?wait=N` finds its request still
pending, the view answers at once with a wait ticket in a private header; this layer then
waits for the ticket on the event loop (a future per waiting agent, not a thread), and
asks the app again for the final answer. To the client it is one ordinary response.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from a2wsgi import WSGIMiddleware
from flask import Flask

from .api import ASYNC_WAIT_HEADER, WAIT_SECONDS_HEADER, WAIT_TICKET_HEADER
from .waiting import DecisionHub

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Threads for the Flask views; waiting long-polls do not occupy them.
WSGI_THREADS = 16

_ASYNC_WAIT = ASYNC_WAIT_HEADER.lower().encode()
_TICKET = WAIT_TICKET_HEADER.lower().encode()
_SECONDS = WAIT_SECONDS_HEADER.lower().encode()


class LongPollASGI:
    def __init__(self, app: Flask, hub: DecisionHub, async_wait_secret: str) -> None:
        self._wsgi = WSGIMiddleware(app, workers=WSGI_THREADS)  # type: ignore[arg-type]
        self._hub = hub
        self._secret = async_wait_secret.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or b"wait=" not in scope.get("query_string", b"")
        ):
            await self._wsgi(scope, receive, send)
            return
        first_try = dict(scope, headers=[*_without_private_headers(scope), (_ASYNC_WAIT, self._secret)])
        held = _HeldResponse(send)
        await self._wsgi(first_try, receive, held.send)
        if held.ticket_id is None:
            return
        ticket = self._hub.ticket(held.ticket_id)
        if ticket is not None:
            try:
                await ticket.wait_async(held.wait_seconds)
            finally:
                self._hub.release(ticket)
        final_try = dict(scope, headers=_without_private_headers(scope), query_string=_without_wait(scope))
        await self._wsgi(final_try, _empty_body, send)


def _without_private_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    # A client must not be able to pose as our own layer.
    return [(name, value) for name, value in scope["headers"] if name.lower() != _ASYNC_WAIT]


def _without_wait(scope: Scope) -> bytes:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return urlencode([(key, value) for key, value in pairs if key != "wait"]).encode("latin-1")


async def _empty_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class _HeldResponse:
    """Passes a response through, unless it carries a wait ticket: then it holds it back."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.ticket_id: int | None = None
        self.wait_seconds = 0.0

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if _TICKET in headers:
                self.ticket_id = int(headers[_TICKET])
                self.wait_seconds = float(headers.get(_SECONDS, b"0"))
        if self.ticket_id is None:
            await self._send(message)


class WithoutMcp:
    """The web app when the `mcp` extra is not installed: /mcp says how to turn it on."""

    def __init__(self, app: LongPollASGI) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _plain_lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"].rstrip("/") == "/mcp":
            await _json_answer(send, 404, MCP_NOT_INSTALLED)
        else:
            await self._app(scope, receive, send)


MCP_NOT_INSTALLED = {
    "error": "not_found",
    "detail": "this service runs without the MCP server: install it with pip install 'signoff[mcp]'",
}


async def _plain_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _json_answer(send: Send, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
