"""The MCP server at /mcp on the web port (Streamable HTTP), behind the project's API key.

This layer checks `Authorization: Bearer <key>` before the SDK sees the request: a missing
or refused key gets the API's 401 JSON. The key's project travels to the tools in a header
of our own, which a client cannot set (any it sends is dropped). The SDK's session manager
needs a task group for its whole life: it runs in the ASGI lifespan.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings
from sqlalchemy.exc import SQLAlchemyError

from ..context import Runtime
from ..store.keys import KeyRefused, check_api_key
from .server import build_server
from .tools import Tools, ToolSettings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MCP_PATH = "/mcp"
PROJECT_HEADER = "x-signoff-mcp-project"
_PROJECT = PROJECT_HEADER.encode()


class McpMount:
    """Serves /mcp itself and hands every other request (and nothing of the lifespan) to `app`."""

    def __init__(self, runtime: Runtime, app: ASGIApp) -> None:
        self._runtime = runtime
        self._app = app
        server = build_server(Tools(runtime, ToolSettings.from_runtime(runtime)), _project_from_header)
        # The Bearer key is the defence: a page a browser was tricked into cannot send one.
        self._mcp = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._mcp(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"].rstrip("/") != MCP_PATH:
            await self._app(scope, receive, send)
            return
        refused, project_id = await self._project_of_key(scope)
        if refused:
            await _unauthorized(send, refused)
            return
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != _PROJECT]
        await self._mcp(dict(scope, headers=[*headers, (_PROJECT, str(project_id).encode())]), receive, send)

    async def _project_of_key(self, scope: Scope) -> tuple[str, int]:
        """('', project id), or (why the key is refused, 0)."""
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return "send your API key as 'Authorization: Bearer <key>'", 0
        try:
            return "", await anyio.to_thread.run_sync(self._check, key.strip())
        except KeyRefused as exc:
            return str(exc), 0
        except SQLAlchemyError:
            log.exception("mcp: could not check an API key")
            return "the key could not be checked just now; try again", 0

    def _check(self, key: str) -> int:
        with self._runtime.database.sessions() as session:
            project, _ = check_api_key(session, key)
            return project.id


def _project_from_header(ctx: Context) -> int:
    headers = ctx.headers or {}
    return int(headers[PROJECT_HEADER])


async def _unauthorized(send: Send, detail: str) -> None:
    body = json.dumps({"error": "unauthorized", "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="signoff"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
