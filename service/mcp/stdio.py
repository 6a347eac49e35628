"""`signoff mcp`: the MCP server on stdin/stdout, beside `signoff serve` on the same store.

It writes requests to the store; serve's outbox worker emails them and serve takes the
clicks and replies. Decisions made there reach this process through `DecisionBroadcast`.
"""

from __future__ import annotations

import anyio

from ..config import Settings
from ..context import Runtime
from ..store.keys import get_or_create_project
from .server import build_server
from .tools import Tools, ToolSettings


def run_stdio(settings: Settings, project: str, email: str | None, timeout: int | None) -> None:
    """Serve MCP on stdio for `project` until the client closes stdin."""
    runtime = Runtime.open(settings)
    try:
        with runtime.session() as session:
            project_id = get_or_create_project(session, project).id
        runtime.broadcast.start()
        tools = Tools(runtime, ToolSettings.from_runtime(runtime, email=email, timeout=timeout))
        server = build_server(tools, lambda _ctx: project_id)
        anyio.run(server.run_stdio_async)
    finally:
        runtime.close()
