"""MCP tools in sessions: listing, calls that really run, approvals, beta refusal (docs/protocol.md §9).

The cases hand the target a real MCP server on loopback (``conformance/mcp_server.py``), so they apply to targets
on this machine (``mock``, ``url``).
"""

from __future__ import annotations

import json
from typing import Any

from conformance import Ctx, case
from conformance.checks import expect, expect_equal
from conformance.client import Session, Turn
from conformance.mcp_server import SERVER_LABEL, closed_url, mcp_server

Json = dict[str, Any]
LOCAL = ("mock", "url")


def _tool(url: str, **extra: Any) -> Json:
    return {"type": "mcp", "server_label": SERVER_LABEL, "server_url": url, **extra}


def _configure(ctx: Ctx, url: str, *, tool_choice: Any = None, **extra: Any) -> tuple[Session, list[Json]]:
    """A text session with one MCP tool; returns the listing events after ``session.updated``."""
    mcp_server()  # started before the session (the first start imports the mcp package)
    s = ctx.connect()
    session: Json = {"type": "realtime", "output_modalities": ["text"], "tools": [_tool(url, **extra)]}
    if tool_choice is not None:
        session["tool_choice"] = tool_choice
    s.send({"type": "session.update", "session": session})
    s.expect("session.updated")
    events = s.until("conversation.item.done", where=lambda e: e["item"].get("type") == "mcp_list_tools",
                     timeout=30.0)  # the target's first MCP use may load its MCP client
    return s, events


def _forced(name: str) -> Json:
    return {"type": "mcp", "server_label": SERVER_LABEL, "name": name}


def _types(events: list[Json]) -> list[str]:
    return [str(e["type"]) for e in events]


def _call_events(turn: Turn) -> list[str]:
    return [t for t in _types(turn.events) if "mcp_call" in t]


@case(id="mcp/list/completed", section="§9.2", dialects=("ga",), targets=LOCAL, timeout=40.0,
      description="an MCP tool in session.update is listed: in_progress, completed, the allowed tools as the server "
                  "gives them",
      requirement="mcp_list_tools.in_progress → .completed (item_id only) around the mcp_list_tools item; "
                  "allowed_tools filters the server's tools [D]; the item joins the conversation [U].")
def test_list_completed(ctx: Ctx) -> None:
    _, events = _configure(ctx, mcp_server().url, allowed_tools=["forecast", "explode"])
    expect_equal(_types(events), ["conversation.item.added", "mcp_list_tools.in_progress",
                                  "mcp_list_tools.completed", "conversation.item.done"], "listing events")
    item = events[-1]["item"]
    expect_equal([t["name"] for t in item["tools"]], ["forecast", "explode"], "listed tools (allowed_tools)")
    expect_equal(item["tools"][0]["input_schema"].get("required"), ["city"], "the server's own input schema")
    expect(events[1]["item_id"] == events[2]["item_id"] == item["id"], "the events name the listed item")


@case(id="mcp/list/failed", section="§9.2", level="should", dialects=("ga",), targets=LOCAL, timeout=40.0,
      description="an unreachable MCP server fails the listing with the service's error; the session goes on",
      requirement="mcp_list_tools.failed, the item done with no tools, then an error "
                  "(external_connector_error / mcp_list_tools_failed) naming the label [U].")
def test_list_failed(ctx: Ctx) -> None:
    s, events = _configure(ctx, closed_url())
    expect_equal(_types(events)[1:3], ["mcp_list_tools.in_progress", "mcp_list_tools.failed"], "listing events")
    expect_equal(events[-1]["item"]["tools"], [], "no tools after a failed listing")
    error = s.expect_error(type="external_connector_error", code="mcp_list_tools_failed", param="tools",
                           event_id=None)
    expect(f"'{SERVER_LABEL}'" in error["message"], f"the message names the server: {error['message']!r}")
    s.expect_quiet("after the listing error")


@case(id="mcp/call/forced", section="§9.3", dialects=("ga",), targets=LOCAL, timeout=40.0,
      description="a forced MCP tool choice calls the tool for real, streams the call and answers with its output",
      requirement="output_item.added mcp_call, mcp_call_arguments.delta/.done, mcp_call.in_progress, "
                  ".completed with the tool's output, then the reply in the same response [D].")
def test_call_forced(ctx: Ctx) -> None:
    server = mcp_server()
    s, _ = _configure(ctx, server.url, require_approval="never", tool_choice=_forced("forecast"))
    mark = server.mark()
    turn = s.respond(timeout=15.0)
    calls = _call_events(turn)
    expect(calls and calls[0] == "response.mcp_call_arguments.delta", f"argument deltas first: {calls}")
    expect_equal(calls[-3:], ["response.mcp_call_arguments.done", "response.mcp_call.in_progress",
                              "response.mcp_call.completed"], "call events")
    output = turn.response["output"]
    expect_equal([i["type"] for i in output], ["mcp_call", "message"], "response.done output")
    call = output[0]
    sent = json.loads(call["arguments"])
    expect_equal(server.since(mark), [("forecast", {"days": 1, **sent})], "what the MCP server ran")
    expect_equal(call["output"], f"1-day forecast for {sent['city']}: sunny, 21 C", "the tool's real output")
    expect_equal(turn.status, "completed", "response status")


@case(id="mcp/call/tool-error", section="§9.3", level="should", dialects=("ga",), targets=LOCAL, timeout=40.0,
      description="a tool that fails gives mcp_call.failed with a tool_execution_error; the response goes on",
      requirement="response.mcp_call.failed; the item's error is tool_execution_error with the tool's message "
                  "[D shape, U text].")
def test_call_tool_error(ctx: Ctx) -> None:
    s, _ = _configure(ctx, mcp_server().url, require_approval="never", tool_choice=_forced("explode"))
    turn = s.respond(timeout=15.0)
    expect("response.mcp_call.failed" in _call_events(turn), f"mcp_call.failed: {_call_events(turn)}")
    call = turn.response["output"][0]
    expect_equal(call["output"], None, "no output")
    expect_equal((call["error"] or {}).get("type"), "tool_execution_error", "error type")
    expect("the tool failed" in call["error"]["message"], f"the tool's message: {call['error']!r}")
    expect_equal(turn.status, "completed", "response status")


def _approval_request(ctx: Ctx) -> tuple[Session, Json, int]:
    server = mcp_server()
    s, _ = _configure(ctx, server.url, tool_choice=_forced("forecast"))  # require_approval: "always" by default
    mark = server.mark()
    turn = s.respond(timeout=15.0)
    output = turn.response["output"]
    expect_equal([i["type"] for i in output], ["mcp_approval_request"], "response.done output")
    expect_equal(server.since(mark), [], "nothing runs before the approval")
    return s, output[0], mark


def _answer(s: Session, request: Json, approve: bool) -> None:
    item = {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": approve}
    added = s.create_item(item)
    expect_equal(added["item"].get("approve"), approve, "the approval response item")


@case(id="mcp/approval/approve", section="§9.4", level="should", dialects=("ga",), targets=LOCAL, timeout=40.0,
      description="require_approval: the response asks; after an approving response the next one runs the call",
      requirement="mcp_approval_request item, then mcp_call with approval_request_id after the approval [D]; "
                  "the default always, the next response.create runs it [U].")
def test_approval_approve(ctx: Ctx) -> None:
    s, request, mark = _approval_request(ctx)
    _answer(s, request, True)
    turn = s.respond({"tool_choice": "auto"}, timeout=15.0)
    call = turn.response["output"][0]
    expect_equal((call["type"], call.get("approval_request_id")), ("mcp_call", request["id"]), "the approved call")
    expect_equal([name for name, _ in mcp_server().since(mark)], ["forecast"], "the call ran once")


@case(id="mcp/approval/deny", section="§9.4", level="should", dialects=("ga",), targets=LOCAL, timeout=40.0,
      description="a denying mcp_approval_response: no call, the reply goes on without it",
      requirement="approve: false → the tool is not called [D].")
def test_approval_deny(ctx: Ctx) -> None:
    s, request, mark = _approval_request(ctx)
    _answer(s, request, False)
    turn = s.respond({"tool_choice": "auto"}, timeout=15.0)
    expect_equal([i["type"] for i in turn.response["output"]], ["message"], "no mcp_call after a denial")
    expect_equal(mcp_server().since(mark), [], "the server ran nothing")


@case(id="mcp/approval/unknown-request", section="§9.4", level="should", dialects=("ga",), targets=LOCAL,
      timeout=40.0,
      description="an mcp_approval_response naming no open request is an error and is not added",
      requirement="invalid_value on item.approval_request_id, echoing the event_id; nothing is added [U].")
def test_approval_unknown(ctx: Ctx) -> None:
    s, request, _ = _approval_request(ctx)
    s.send({"type": "conversation.item.create", "event_id": "mcp_unknown_1",
            "item": {"type": "mcp_approval_response", "approval_request_id": "mcpr_conformance_none", "approve": True}})
    s.expect_error(code="invalid_value", param="item.approval_request_id", event_id="mcp_unknown_1")
    s.expect_quiet("after the rejected approval response")
    _answer(s, request, True)  # the open request can still be answered


_CLIENT_CALL: Json = {"type": "mcp_call", "id": "mcp_conformance_call_1", "server_label": SERVER_LABEL,
                      "name": "forecast", "arguments": '{"city": "Bern"}',
                      "output": "1-day forecast for Bern: sunny, 21 C, a light breeze from the west"}
_CLIENT_REQUEST: Json = {"type": "mcp_approval_request", "id": "mcpr_conformance_1", "server_label": SERVER_LABEL,
                         "name": "forecast", "arguments": '{"city": "Bern"}'}
_CLIENT_LISTING: Json = {"type": "mcp_list_tools", "server_label": SERVER_LABEL,
                         "tools": [{"name": "forecast", "description": "the weather of a city",
                                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]}


def _context_tokens(s: Session, item_id: str | None) -> int:
    """Text input tokens of an out-of-band response whose whole context is that item (or nothing)."""
    refs = [{"type": "item_reference", "id": item_id}] if item_id else []
    turn = s.respond({"conversation": "none", "output_modalities": ["text"], "input": refs})
    return int(((turn.response.get("usage") or {}).get("input_token_details") or {}).get("text_tokens", 0))


@case(id="mcp/item/client-created", section="§2.5, §9.7", level="should", dialects=("ga",),
      description="client mcp_call / mcp_list_tools / mcp_approval_request items join the conversation and are "
                  "context",
      requirement="ConversationItemParam holds RealtimeMcpToolCallParam (id, server_label, name, arguments required), "
                  "RealtimeMcpListToolsParam (id optional) and RealtimeMcpApprovalRequestParam [D]; a call without id "
                  "is refused [D]; items are context (§4.11) [U].")
def test_item_client_created(ctx: Ctx) -> None:
    s = ctx.connect()
    without = _context_tokens(s, None)
    for raw in (_CLIENT_CALL, _CLIENT_LISTING, _CLIENT_REQUEST):
        item = s.create_item(raw)["item"]
        expect_equal({k: item.get(k) for k in raw if k != "id"}, {k: v for k, v in raw.items() if k != "id"},
                     f"the {raw['type']} item as given")
        if "id" in raw:
            expect_equal(item["id"], raw["id"], "the client's id")
        s.send({"type": "conversation.item.retrieve", "item_id": item["id"]})
        expect_equal(s.expect("conversation.item.retrieved")["item"], item, "the retrieved item")
        tokens = _context_tokens(s, item["id"])
        expect(tokens > without, f"the {raw['type']} item is context: {tokens} text tokens, {without} without it")
        s.send({"type": "conversation.item.delete", "item_id": item["id"]})
        expect_equal(s.expect("conversation.item.deleted")["item_id"], item["id"], "the deleted item")
    s.send({"type": "conversation.item.create", "event_id": "mcp_item_1",
            "item": {k: v for k, v in _CLIENT_CALL.items() if k != "id"}})
    s.expect_error(code="missing_required_parameter", param="item.id", event_id="mcp_item_1")
    s.expect_quiet("after the refused mcp_call")


@case(id="mcp/beta/refused", section="§9.1", level="should", dialects=("beta",), targets=LOCAL,
      description="beta has no MCP: an mcp tool in session.update is refused",
      requirement="The beta schema's tools are function tools only [D]: invalid_value on session.tools[0].type.")
def test_beta_refused(ctx: Ctx) -> None:
    s = ctx.connect()
    s.send({"type": "session.update", "event_id": "mcp_beta_1", "session": {"tools": [_tool(closed_url())]}})
    s.expect_error(param="session.tools[0].type", event_id="mcp_beta_1")
    s.expect_quiet("after the refused update")
