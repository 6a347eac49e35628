"""signoff as an MCP server: `request_approval` and `ask_human`, over stdio and at /mcp."""
