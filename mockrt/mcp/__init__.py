"""MCP tools, the I/O half: executors that run the core's ``ListTools`` / ``CallTool`` directives.

:class:`McpClient` is a real MCP client (the ``mcp`` package: Streamable HTTP, or SSE for URLs whose path ends
in ``/sse``); a scenario's ``mcp_servers:`` stand-in (:class:`mockrt.scenarios.mcp_servers.StandInExecutor`) has
the same :class:`McpExecutor` interface. See docs/protocol.md §9. The client (and the ``mcp`` package behind it) is
imported on first use, so loading scenarios does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockrt.mcp.executor import McpExecutor

if TYPE_CHECKING:
    from mockrt.mcp.client import McpClient, uses_sse

__all__ = ["McpClient", "McpExecutor", "uses_sse"]


def __getattr__(name: str) -> Any:
    if name in ("McpClient", "uses_sse"):
        from mockrt.mcp import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
