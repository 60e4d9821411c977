"""GA wire shapes of the MCP items and events (docs/protocol.md §3.1, §3.7, §4.7).

MCP exists only in the GA protocol (the beta SDK types have no MCP item or event), so there is one rendering.
Items carry their ``null`` optional keys, like the other GA items; events are built without ``event_id`` (the
session's :meth:`~mockrt.core.dialects.base.Dialect.encode` adds it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from mockrt.core.events import ServerEvent
from mockrt.core.mcp import ApprovalRequest, ApprovalResponse, McpCall, McpError, McpTool
from mockrt.core.model import Item

SERVER_EVENTS: dict[ServerEvent, str] = {
    ServerEvent.MCP_LIST_TOOLS_IN_PROGRESS: "mcp_list_tools.in_progress",
    ServerEvent.MCP_LIST_TOOLS_COMPLETED: "mcp_list_tools.completed",
    ServerEvent.MCP_LIST_TOOLS_FAILED: "mcp_list_tools.failed",
    ServerEvent.MCP_CALL_ARGUMENTS_DELTA: "response.mcp_call_arguments.delta",
    ServerEvent.MCP_CALL_ARGUMENTS_DONE: "response.mcp_call_arguments.done",
    ServerEvent.MCP_CALL_IN_PROGRESS: "response.mcp_call.in_progress",
    ServerEvent.MCP_CALL_COMPLETED: "response.mcp_call.completed",
    ServerEvent.MCP_CALL_FAILED: "response.mcp_call.failed",
}
"""The MCP server events' wire names, shared by every dialect that serves MCP (GA, Voice Live: §9, §12)."""


def render_tool(tool: McpTool) -> dict[str, Any]:
    """One entry of ``mcp_list_tools.tools``."""
    out: dict[str, Any] = {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
    if tool.annotations is not None:
        out["annotations"] = tool.annotations
    return out


def render_list_tools(item_id: str, server_label: str, tools: Iterable[McpTool]) -> dict[str, Any]:
    """The ``mcp_list_tools`` item (``tools`` empty while listing is in progress or after it failed)."""
    return {"id": item_id, "type": "mcp_list_tools", "server_label": server_label,
            "tools": [render_tool(t) for t in tools]}


def render_error(error: McpError) -> dict[str, Any]:
    """The ``mcp_call.error`` union: ``protocol_error`` / ``http_error`` carry ``code``, a tool error does not."""
    if error.type == "tool_execution_error":
        return {"type": error.type, "message": error.message}
    return {"type": error.type, "code": error.code if error.code is not None else 0, "message": error.message}


def render_call(call: McpCall) -> dict[str, Any]:
    """The ``mcp_call`` item: ``arguments`` as a JSON string, then ``output`` or ``error`` once known."""
    return {
        "id": call.item_id,
        "type": "mcp_call",
        "server_label": call.server_label,
        "name": call.name,
        "arguments": call.arguments,
        "approval_request_id": call.approval_request_id,
        "output": call.output,
        "error": render_error(call.error) if call.error is not None else None,
    }


def render_approval_request(request: ApprovalRequest) -> dict[str, Any]:
    return {"id": request.id, "type": "mcp_approval_request", "server_label": request.server_label,
            "name": request.name, "arguments": request.arguments}


def render_approval_response(response: ApprovalResponse) -> dict[str, Any]:
    return {"id": response.id, "type": "mcp_approval_response", "approval_request_id": response.approval_request_id,
            "approve": response.approve, "reason": response.reason}


def list_tools_event(stage: str, item_id: str) -> dict[str, Any]:
    """``mcp_list_tools.in_progress`` / ``.completed`` / ``.failed`` (only ``item_id``, §3.7)."""
    return {"type": f"mcp_list_tools.{stage}", "item_id": item_id}


def call_event(stage: str, item_id: str, output_index: int) -> dict[str, Any]:
    """``response.mcp_call.in_progress`` / ``.completed`` / ``.failed`` (no ``response_id``, §3.7)."""
    return {"type": f"response.mcp_call.{stage}", "item_id": item_id, "output_index": output_index}


def arguments_delta(response_id: str, item_id: str, output_index: int, delta: str) -> dict[str, Any]:
    """``response.mcp_call_arguments.delta`` (GA deltas also carry ``obfuscation``, added by the session)."""
    return {"type": "response.mcp_call_arguments.delta", "response_id": response_id, "item_id": item_id,
            "output_index": output_index, "delta": delta}


def arguments_done(response_id: str, item_id: str, output_index: int, arguments: str) -> dict[str, Any]:
    return {"type": "response.mcp_call_arguments.done", "response_id": response_id, "item_id": item_id,
            "output_index": output_index, "arguments": arguments}


def parse_error(raw: dict[str, Any] | None) -> McpError | None:
    """A client-created ``mcp_call``'s ``error`` (validated by ``MCP_CALL_ERROR_SCHEMA``) as the internal one."""
    if raw is None:
        return None
    return McpError(raw["type"], raw["message"], raw.get("code"))


def parse_client_item(raw: dict[str, Any]) -> Item:
    """A client-created ``mcp_call``, ``mcp_list_tools`` or ``mcp_approval_request`` item, already validated
    (``MCP_CALL_ITEM_SCHEMA``, …): conversation history, like a past call, listing or request (docs/protocol.md
    §9.7). Its ``id`` may be empty (a listing's is optional): the session mints one."""
    if raw["type"] == "mcp_approval_request":
        request = ApprovalRequest(raw["id"], raw["server_label"], raw["name"], raw["arguments"])
        return Item(id=request.id, type="mcp_approval_request", status="completed", mcp=request)
    if raw["type"] == "mcp_call":
        call = McpCall(raw["id"], raw["server_label"], raw["name"], raw["arguments"], raw.get("approval_request_id"),
                       raw.get("output"), parse_error(raw.get("error")))
        return Item(id=call.item_id, type="mcp_call", status="completed", name=call.name, mcp=call)
    tools = tuple(McpTool(t["name"], t["input_schema"], t.get("description"), t.get("annotations"))
                  for t in raw["tools"])
    return Item(id=raw.get("id", ""), type="mcp_list_tools", status="completed", name=raw["server_label"], mcp=tools)


def render_item(item: Item) -> dict[str, Any]:
    """An MCP item of the conversation (``item.mcp`` holds its state; docs/protocol.md §9)."""
    state = item.mcp
    if isinstance(state, McpCall):
        return render_call(state)
    if isinstance(state, ApprovalRequest):
        return render_approval_request(state)
    if isinstance(state, ApprovalResponse):
        return render_approval_response(dataclasses.replace(state, id=item.id))
    return render_list_tools(item.id, item.name or "", state)
