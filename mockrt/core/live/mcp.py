"""MCP tools in a GPT-Live session (docs/protocol.md §13.5, §9): what a scenario's ``mcp_call`` does there.

The servers are the ``mcp`` tools of the Responses backend (``delegation.responses.tools``); a label none of
them has is still tried, as a server with no URL, so that a scenario's stand-in server of that label
(``mcp_servers:``, :mod:`mockrt.scenarios.mcp_servers`) answers it, and anything else fails as unreachable. The
pure parts are the Realtime session's (:mod:`mockrt.core.mcp`: configs, directives, results, the call's item
state; :func:`~mockrt.core.mcp_session.tool_arguments`: a tool's minimal arguments) and the transport runs the
directives as it does for Realtime sessions (:mod:`mockrt.server.mcp_runner`). A call lists its server's tools once
(``ListTools``), resolves the tool (the first listed when the scenario names none) and runs it (``CallTool``).
A Live session has no approval flow: ``require_approval`` is not applied [U]. The finished call goes back to the
session, which speaks its result (:meth:`~mockrt.core.live.session.LiveSession.mcp_result`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from mockrt.core import errors
from mockrt.core.brain import McpCallOut
from mockrt.core.mcp import (
    CallDone,
    CallFailed,
    CallTool,
    ListTools,
    McpCall,
    McpDirective,
    McpError,
    McpResult,
    McpServerConfig,
    McpTool,
    ToolsFailed,
    ToolsListed,
    parse_servers,
)
from mockrt.core.mcp_session import arguments_object, tool_arguments


@dataclass
class LiveMcpCall:
    """One scenario ``mcp_call`` of a Live session, from the plan to its result."""

    out: McpCallOut
    at_ms: float
    """Where on the output timeline the model reached the call."""
    rest: list[Any]
    """The plan's outputs after the call: what the model says with the result."""
    context: Any = None
    """The session's own: a Responses delegation's (delegation, response id) when the backend makes the call."""
    call: McpCall = field(default_factory=lambda: McpCall("", "", "", "{}"))
    """The call's item state (``output`` or ``error`` once finished)."""


class LiveMcp:
    """A Live session's MCP servers, their listings and the calls in flight."""

    def __init__(self) -> None:
        self.servers: dict[str, McpServerConfig] = {}
        self.tools: dict[str, tuple[McpTool, ...] | McpError] = {}  # label -> listed tools, or why listing failed
        self._listing: dict[str, list[LiveMcpCall]] = {}  # label -> the calls waiting for its listing
        self._pending: dict[str, LiveMcpCall | str] = {}  # request id -> the call, or the label being listed
        self._ids = itertools.count(1)

    def configure(self, delegation: Any) -> None:
        """The backend's ``mcp`` tools after ``session.start`` / ``session.update``. The delegation config is kept
        as given (§13.2), so tools this cannot read are skipped here; a changed server is listed again."""
        responses = delegation.get("responses") if isinstance(delegation, dict) else None
        tools = responses.get("tools") if isinstance(responses, dict) else None
        servers: dict[str, McpServerConfig] = {}
        for k, tool in enumerate(tools if isinstance(tools, list) else []):
            try:
                servers.update({c.server_label: c for c in parse_servers([tool], f"tools[{k}]")})
            except errors.ProtocolError:
                continue
        for label in [label for label in self.tools if self.servers.get(label) != servers.get(label)]:
            del self.tools[label]
        self.servers = servers

    def start(self, call: LiveMcpCall, item_id: str) -> tuple[list[McpDirective], list[LiveMcpCall]]:
        """Begin ``call``: the directives to run, and the call itself when it is already finished."""
        label = call.out.server_label
        call.call = McpCall(item_id, label, call.out.name or "", call.out.arguments or "{}")
        listed = self.tools.get(label)
        if listed is not None:
            return self._run(call, listed)
        waiting = self._listing.setdefault(label, [])
        waiting.append(call)
        if len(waiting) > 1:  # its listing is on its way
            return [], []
        request_id = f"list_{next(self._ids)}"
        self._pending[request_id] = label
        return [ListTools(request_id, self._server(label))], []

    def result(self, result: McpResult) -> tuple[list[McpDirective], list[LiveMcpCall]]:
        """A directive's outcome: the directives it leads to and the calls it finished."""
        waiter = self._pending.pop(result.request_id, None)
        if isinstance(waiter, str):
            if isinstance(result, ToolsListed):
                self.tools[waiter] = result.tools
            elif isinstance(result, ToolsFailed):
                self.tools[waiter] = result.error
            else:
                return [], []
            directives: list[McpDirective] = []
            finished: list[LiveMcpCall] = []
            for call in self._listing.pop(waiter, []):
                more, done = self._run(call, self.tools[waiter])
                directives += more
                finished += done
            return directives, finished
        if isinstance(waiter, LiveMcpCall):
            if isinstance(result, CallDone):
                waiter.call.output = result.output
            elif isinstance(result, CallFailed):
                waiter.call.error = result.error
            else:
                return [], []
            return [], [waiter]
        return [], []

    def _server(self, label: str) -> McpServerConfig:
        return self.servers.get(label) or McpServerConfig(label)

    def _run(self, call: LiveMcpCall, listed: tuple[McpTool, ...] | McpError
             ) -> tuple[list[McpDirective], list[LiveMcpCall]]:
        item = call.call
        if isinstance(listed, McpError):
            item.error = listed
            return [], [call]
        server = self._server(item.server_label)
        tool = next((t for t in server.filter_tools(listed) if call.out.name is None or t.name == call.out.name),
                    None)
        if tool is None:
            item.error = McpError("protocol_error", errors.mcp_tool_unavailable(item.name, item.server_label),
                                  errors.MCP_TOOL_UNAVAILABLE_CODE)
            return [], [call]
        item.name = tool.name
        item.arguments = call.out.arguments if call.out.arguments is not None else tool_arguments(tool)
        request_id = f"call_{next(self._ids)}"
        self._pending[request_id] = call
        return [CallTool(request_id, server, tool.name, arguments_object(item.arguments))], []
