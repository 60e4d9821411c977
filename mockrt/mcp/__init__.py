"""MCP tools, the I/O half: executors that run the core's ``ListTools`` / ``CallTool`` directives.

:class:`McpClient` is a real MCP client (the ``mcp`` package: Streamable HTTP, or SSE for URLs whose path ends
in ``/sse``); a scenario's ``mcp_servers:`` stand-in (:class:`mockrt.scenarios.mcp_servers.StandInExecutor`) has
the same :class:`McpExecutor` interface. See docs/mcp.md.
"""

from mockrt.mcp.client import McpClient, uses_sse
from mockrt.mcp.executor import McpExecutor

__all__ = ["McpClient", "McpExecutor", "uses_sse"]
