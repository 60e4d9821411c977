"""The executor seam: what the transport calls to run an MCP directive (docs/protocol.md §9)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from mockrt.core.mcp import CallDone, CallFailed, CallTool, ListTools, McpDirective, McpResult, ToolsFailed, ToolsListed


class McpExecutor(ABC):
    """Runs :class:`~mockrt.core.mcp.ListTools` / :class:`~mockrt.core.mcp.CallTool` directives.

    Never raises for a failure of the server: every failure is a :class:`ToolsFailed` / :class:`CallFailed`
    result with the service's error shape, so the session stays alive whatever the server does.
    """

    async def run(self, directive: McpDirective) -> McpResult:
        if isinstance(directive, ListTools):
            return await self.list_tools(directive)
        return await self.call_tool(directive)

    async def aclose(self) -> None:
        """Release connections (the transport calls it when the session ends); nothing to release by default."""
        return None

    @abstractmethod
    async def list_tools(self, directive: ListTools) -> ToolsListed | ToolsFailed:
        """The server's tools, filtered by the config's ``allowed_tools``."""

    @abstractmethod
    async def call_tool(self, directive: CallTool) -> CallDone | CallFailed:
        """Call the tool; its text output, or its error."""
