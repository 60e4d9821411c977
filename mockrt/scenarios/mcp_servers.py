"""A scenario's stand-in MCP servers (``mcp_servers:``): canned tools, results and errors, no server needed.

A stand-in matches a session's ``mcp`` tool by ``server_label`` (and by ``server_url`` when it gives one).
:class:`StandInExecutor` has the interface of the real client (:class:`~mockrt.mcp.McpExecutor`), so the
transport runs directives with either; servers no stand-in matches go to the fallback (the real client), or
fail as unreachable. See docs/protocol.md §9.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mockrt.core import errors
from mockrt.core.mcp import (
    CallDone,
    CallFailed,
    CallTool,
    ListTools,
    McpError,
    McpServerConfig,
    McpTool,
    ToolsFailed,
    ToolsListed,
)
from mockrt.mcp.executor import McpExecutor

UNKNOWN_TOOL_CODE = -32602
"""JSON-RPC "invalid params": what MCP servers answer for a tool they do not have (MCP spec, tools/call)."""


@dataclass(frozen=True)
class Outcome:
    """A canned answer: ``result`` (a string, or any JSON value sent as its JSON text) or ``error``."""

    result: Any = ""
    error: McpError | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Outcome:
        if "error" in raw:
            return cls(error=error_from_dict(raw["error"]))
        return cls(result=raw.get("result", ""))

    def output(self) -> str:
        return self.result if isinstance(self.result, str) else json.dumps(self.result, separators=(",", ":"))


@dataclass(frozen=True)
class ArgumentsCase:
    """An outcome for calls whose arguments include every key/value of ``arguments``."""

    arguments: dict[str, Any]
    outcome: Outcome

    def matches(self, arguments: dict[str, Any]) -> bool:
        return all(k in arguments and arguments[k] == v for k, v in self.arguments.items())


@dataclass(frozen=True)
class StandInTool:
    tool: McpTool
    default: Outcome = Outcome()
    cases: tuple[ArgumentsCase, ...] = ()

    def outcome(self, arguments: dict[str, Any]) -> Outcome:
        return next((case.outcome for case in self.cases if case.matches(arguments)), self.default)


@dataclass(frozen=True)
class StandInServer:
    server_label: str | None = None
    server_url: str | None = None
    tools: tuple[StandInTool, ...] = ()
    list_error: McpError | None = None

    def matches(self, server: McpServerConfig) -> bool:
        return ((self.server_label is None or self.server_label == server.server_label)
                and (self.server_url is None or self.server_url == server.server_url))

    def find(self, name: str) -> StandInTool | None:
        return next((t for t in self.tools if t.tool.name == name), None)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StandInServer:
        return cls(
            server_label=raw.get("server_label"),
            server_url=raw.get("server_url"),
            tools=tuple(_tool(t) for t in raw.get("tools", [])),
            list_error=error_from_dict(raw["list_error"]) if "list_error" in raw else None,
        )


def error_from_dict(raw: dict[str, Any]) -> McpError:
    """``{type, code?, message?}``; an ``http_error`` without a message gets the service's status sentence."""
    kind = raw.get("type", "tool_execution_error")
    code = raw.get("code")
    message = raw.get("message")
    if message is None:
        message = errors.mcp_http_status(int(code)) if kind == "http_error" and code is not None else "error"
    return McpError(kind, message, code)


def _tool(raw: dict[str, Any]) -> StandInTool:
    tool = McpTool(
        name=raw["name"],
        input_schema=raw.get("input_schema", {"type": "object", "properties": {}}),
        description=raw.get("description"),
        annotations=raw.get("annotations"),
    )
    cases = tuple(ArgumentsCase(c.get("arguments", {}), Outcome.from_dict(c)) for c in raw.get("results", []))
    return StandInTool(tool, Outcome.from_dict(raw), cases)


@dataclass
class StandInExecutor(McpExecutor):
    """Answers from the stand-ins; anything else goes to ``fallback`` (else fails as unreachable).

    ``calls`` records every call a stand-in answered: ``(server_label, tool name, arguments)``.
    """

    servers: Sequence[StandInServer]
    fallback: McpExecutor | None = None
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def aclose(self) -> None:
        if self.fallback is not None:
            await self.fallback.aclose()

    def _find(self, server: McpServerConfig) -> StandInServer | None:
        return next((s for s in self.servers if s.matches(server)), None)

    async def list_tools(self, directive: ListTools) -> ToolsListed | ToolsFailed:
        stand_in = self._find(directive.server)
        if stand_in is None:
            if self.fallback is not None:
                return await self.fallback.list_tools(directive)
            return ToolsFailed(directive.request_id, McpError.unreachable())
        if stand_in.list_error is not None:
            return ToolsFailed(directive.request_id, stand_in.list_error)
        tools = directive.server.filter_tools(t.tool for t in stand_in.tools)
        return ToolsListed(directive.request_id, tuple(tools))

    async def call_tool(self, directive: CallTool) -> CallDone | CallFailed:
        stand_in = self._find(directive.server)
        if stand_in is None:
            if self.fallback is not None:
                return await self.fallback.call_tool(directive)
            return CallFailed(directive.request_id, McpError.unreachable())
        if stand_in.list_error is not None:  # a server that cannot list cannot be called either
            return CallFailed(directive.request_id, stand_in.list_error)
        tool = stand_in.find(directive.name)
        if tool is None:
            return CallFailed(directive.request_id,
                              McpError("protocol_error", f"Unknown tool: {directive.name}", UNKNOWN_TOOL_CODE))
        self.calls.append((directive.server.server_label, directive.name, dict(directive.arguments)))
        outcome = tool.outcome(directive.arguments)
        if outcome.error is not None:
            return CallFailed(directive.request_id, outcome.error)
        return CallDone(directive.request_id, outcome.output())
