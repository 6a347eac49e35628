"""The MCP server object: the two tools, on the official SDK's MCPServer.

Which project a call belongs to depends on the transport: `signoff mcp` is given one, and
over HTTP the key decides (our ASGI layer checks it and passes the project on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ..errors import InvalidRequest
from .tools import Progress, Tools

ProjectOf = Callable[[Context], int]

INSTRUCTIONS = (
    "signoff asks a person, by email, and waits for the answer. Call request_approval before a "
    "risky tool call (it answers with the permission-prompt JSON), or ask_human for a question."
)


def build_server(tools: Tools, project_of: ProjectOf) -> MCPServer:
    server = MCPServer("signoff", instructions=INSTRUCTIONS)

    @server.tool(structured_output=False)
    async def request_approval(
        tool_name: str, input: dict[str, Any], ctx: Context, tool_use_id: str | None = None
    ) -> str:
        """Ask a person whether a tool call may run, and wait for their decision.

        Returns JSON: {"behavior": "allow", "updatedInput": {...}} or
        {"behavior": "deny", "message": "..."}. Calls with the same tool_use_id are asked once.
        """
        try:
            return await tools.request_approval(
                project_of(ctx), tool_name, input, tool_use_id, _progress_of(ctx, f"asked about {tool_name}")
            )
        except InvalidRequest as exc:
            raise ToolError(exc.detail) from exc

    @server.tool(structured_output=False)
    async def ask_human(question: str, ctx: Context, subject: str | None = None) -> str:
        """Email a question to a person and return their answer."""
        try:
            return await tools.ask_human(
                project_of(ctx), question, subject, _progress_of(ctx, "waiting for an answer")
            )
        except InvalidRequest as exc:
            raise ToolError(exc.detail) from exc

    return server


def _progress_of(ctx: Context, doing: str) -> Progress:
    async def report(waited: float) -> None:
        # Sent only when the client asked for progress (a no-op otherwise).
        await ctx.report_progress(waited, message=f"{doing}: waiting {waited:g} s for a person")

    return report
