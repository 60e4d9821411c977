"""MCP tools in sessions through the openai SDK over a real socket, against real MCP servers
(docs/protocol.md §9): listing, calls that really run, approvals both ways, and every kind of bad server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from openai import OpenAI

from mockrt.thread import ServerThread
from tests.mcp_support import McpServers
from tests.protocol_types import validate_server_event

Event = dict[str, Any]


pytestmark = pytest.mark.usefixtures("reset_mcp")


class Conn:
    """A GA connection through the SDK; every event is validated against the SDK's types."""

    def __init__(self, conn: Any, dialect: str = "ga") -> None:
        self.conn, self.dialect = conn, dialect
        self.seen: list[Event] = []

    def recv(self) -> Event:
        event: Event = self.conn.recv().to_dict()
        validate_server_event(event, self.dialect)
        self.seen.append(event)
        return event

    def until(self, done: Callable[[Event], bool]) -> list[Event]:
        got = []
        while True:
            event = self.recv()
            got.append(event)
            if done(event):
                return got

    def until_type(self, etype: str) -> list[Event]:
        return self.until(lambda e: e["type"] == etype)

    def update(self, **session: Any) -> list[Event]:
        self.conn.session.update(session={"type": "realtime", "output_modalities": ["text"], **session})
        return self.until_type("session.updated")


@pytest.fixture
def conn(mock: ServerThread) -> Iterator[Conn]:
    client = OpenAI(base_url=mock.http_url + "/v1", api_key="sk-anything")
    with client.realtime.connect(model="gpt-realtime") as raw:
        c = Conn(raw)
        assert c.recv()["type"] == "session.created"
        yield c


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def tool(url: str, label: str = "weather", **extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": label, "server_url": url, **extra}


def listed(conn: Conn) -> list[Event]:
    """The listing events after a session.update, up to the listed item's ``conversation.item.done``."""
    return conn.until(lambda e: e["type"] == "conversation.item.done" and e["item"]["type"] == "mcp_list_tools")


def response(conn: Conn, **params: Any) -> list[Event]:
    conn.conn.response.create(response=params or None) if params else conn.conn.response.create()
    return conn.until_type("response.done")


def test_listing_over_streamable_http_honours_allowed_tools(conn: Conn, mcp: McpServers) -> None:
    conn.update(tools=[tool(mcp.http_url, allowed_tools=["forecast", "book"])])
    events = listed(conn)
    assert types(events) == ["conversation.item.added", "mcp_list_tools.in_progress", "mcp_list_tools.completed",
                             "conversation.item.done"]
    added, done = events[0]["item"], events[-1]["item"]
    assert added["tools"] == [] and added["server_label"] == "weather"
    assert [t["name"] for t in done["tools"]] == ["forecast", "book"]
    assert done["tools"][0]["input_schema"]["required"] == ["city"]  # the server's own schema
    assert events[1]["item_id"] == events[2]["item_id"] == done["id"]


def test_listing_over_sse(conn: Conn, mcp: McpServers) -> None:
    conn.update(tools=[tool(mcp.sse_url, allowed_tools={"read_only": True})])
    done = listed(conn)[-1]["item"]
    assert [t["name"] for t in done["tools"]] == ["forecast"]


def test_forced_call_really_runs_with_minimal_arguments(conn: Conn, mcp: McpServers) -> None:
    conn.update(tools=[tool(mcp.http_url, require_approval="never")],
                tool_choice={"type": "mcp", "server_label": "weather", "name": "forecast"})
    listed(conn)
    events = response(conn)
    call_types = [t for t in types(events) if "mcp" in t]
    assert call_types[0] == "response.mcp_call_arguments.delta"
    assert call_types[-3:] == ["response.mcp_call_arguments.done", "response.mcp_call.in_progress",
                               "response.mcp_call.completed"]
    args = next(e for e in events if e["type"] == "response.mcp_call_arguments.done")["arguments"]
    assert json.loads(args) == {"city": ""}  # minimal instance: required properties only
    assert mcp.recorder.calls == [("forecast", {"city": "", "days": 1})]
    done = events[-1]["response"]
    call, reply = done["output"]
    assert call["type"] == "mcp_call" and call["output"] == "1-day forecast for : sunny, 21 C" and call["error"] is None
    assert reply["type"] == "message" and "1-day forecast for : sunny, 21 C" in reply["content"][0]["text"]
    assert done["status"] == "completed"


def test_scenario_rule_calls_with_its_arguments_and_replies(conn: Conn, mock: ServerThread,
                                                             mcp: McpServers) -> None:
    mock.control.load_scenario({"rules": [{"match": {"text": "book"}, "reply": {
        "mcp_call": {"server_label": "weather", "name": "book",
                     "arguments": {"city": "Paris", "nights": 2, "guests": ["Ada", "Alan"]}},
        "text": "Your room is booked."}}]})
    conn.update(tools=[tool(mcp.http_url, require_approval={"never": {"tool_names": ["book"]}})])
    listed(conn)
    conn.conn.conversation.item.create(item={"type": "message", "role": "user",
                                             "content": [{"type": "input_text", "text": "book a room"}]})
    events = response(conn)
    assert mcp.recorder.calls == [("book", {"city": "Paris", "nights": 2, "guests": ["Ada", "Alan"]})]
    call, reply = events[-1]["response"]["output"]
    assert json.loads(call["output"]) == {"confirmation": "BK-PAR-2", "guests": 2}
    assert reply["content"][0]["text"] == "Your room is booked."


def _approval(conn: Conn, mcp: McpServers) -> Event:
    conn.update(tools=[tool(mcp.http_url)],  # require_approval defaults to "always"
                tool_choice={"type": "mcp", "server_label": "weather", "name": "forecast"})
    listed(conn)
    events = response(conn)
    request = events[-1]["response"]["output"]
    assert [i["type"] for i in request] == ["mcp_approval_request"] and events[-1]["response"]["status"] == "completed"
    assert mcp.recorder.calls == []  # nothing runs before the client answers
    return dict(request[0])


@pytest.mark.parametrize("approve", [True, False])
def test_approval_both_ways(conn: Conn, mcp: McpServers, approve: bool) -> None:
    request = _approval(conn, mcp)
    conn.conn.conversation.item.create(item={"type": "mcp_approval_response", "approval_request_id": request["id"],
                                             "approve": approve})
    added = conn.until_type("conversation.item.done")
    assert added[-1]["item"]["type"] == "mcp_approval_response" and added[-1]["item"]["approve"] is approve
    events = response(conn, tool_choice="auto")
    output = events[-1]["response"]["output"]
    if approve:
        assert [i["type"] for i in output] == ["mcp_call", "message"]
        assert output[0]["approval_request_id"] == request["id"]
        assert mcp.recorder.calls == [("forecast", {"city": "", "days": 1})]
    else:
        assert [i["type"] for i in output] == ["message"] and "not approved" in output[0]["content"][0]["text"]
        assert mcp.recorder.calls == []


def test_approval_response_for_an_unknown_request(conn: Conn, mcp: McpServers) -> None:
    request = _approval(conn, mcp)
    conn.conn.conversation.item.create(item={"type": "mcp_approval_response", "approval_request_id": "mcpr_nope",
                                             "approve": True}, event_id="evt_1")
    error = conn.until_type("error")[-1]
    assert error["type"] == "error" and error["error"]["param"] == "item.approval_request_id"
    assert error["error"]["event_id"] == "evt_1"
    # Nothing lost: the real request can still be answered, twice is an error.
    answer = {"type": "mcp_approval_response", "approval_request_id": request["id"], "approve": True}
    conn.conn.conversation.item.create(item=answer)
    assert conn.until_type("conversation.item.done")[-1]["item"]["approval_request_id"] == request["id"]
    conn.conn.conversation.item.create(item=answer)
    assert conn.until_type("error")[-1]["error"]["code"] == "invalid_value"
    assert [i["type"] for i in response(conn, tool_choice="auto")[-1]["response"]["output"]] == ["mcp_call",
                                                                                                 "message"]


@pytest.mark.parametrize(("which", "status", "words"), [
    ("closed_url", 424, "Could not connect"),
    ("deny_url", 401, "401 (Unauthorized)"),
    ("hang_url", 424, "did not answer within 3s"),
])
def test_a_bad_server_fails_the_listing_and_the_call(conn: Conn, mcp: McpServers, which: str, status: int,
                                                     words: str) -> None:
    conn.update(tools=[tool(getattr(mcp, which), require_approval="never")],
                tool_choice={"type": "mcp", "server_label": "weather", "name": "forecast"})
    events = conn.until_type("error")
    assert types(events) == ["conversation.item.added", "mcp_list_tools.in_progress", "mcp_list_tools.failed",
                             "conversation.item.done", "error"]
    error = events[-1]["error"]
    assert error["code"] == "mcp_list_tools_failed" and words in error["message"] and "'weather'" in error["message"]
    call = response(conn)[-1]["response"]["output"][0]
    assert call["type"] == "mcp_call" and call["error"]["type"] == "http_error"
    assert call["error"]["code"] == status and words in call["error"]["message"]


@pytest.mark.parametrize(("name", "error"), [
    ("explode", {"type": "tool_execution_error", "message": "Error executing tool explode: the tool failed: "}),
    ("reject", {"type": "protocol_error", "code": -32602, "message": "value 0 is not acceptable"}),
])
def test_tool_errors_fail_the_call_and_the_session_goes_on(conn: Conn, mcp: McpServers, name: str,
                                                           error: dict[str, Any]) -> None:
    conn.update(tools=[tool(mcp.http_url, require_approval="never")],
                tool_choice={"type": "mcp", "server_label": "weather", "name": name})
    listed(conn)
    events = response(conn)
    assert "response.mcp_call.failed" in types(events) and "response.mcp_call.completed" not in types(events)
    call, reply = events[-1]["response"]["output"]
    assert call["error"] == error and call["output"] is None  # the server's own words
    assert error["message"] in reply["content"][0]["text"]
    assert mcp.recorder.calls == [(name, {"reason": ""} if name == "explode" else {"value": 0})]
    # The session is alive and still calls the server.
    output = response(conn, tool_choice={"type": "mcp", "server_label": "weather", "name": "forecast"})
    assert output[-1]["response"]["output"][0]["output"] == "1-day forecast for : sunny, 21 C"


def test_response_level_mcp_tools_are_listed_inside_the_response(conn: Conn, mcp: McpServers) -> None:
    events = response(conn, tools=[tool(mcp.http_url, label="adhoc", require_approval="never")],
                      tool_choice={"type": "mcp", "server_label": "adhoc", "name": "forecast"})
    kinds = types(events)
    assert kinds.index("response.created") < kinds.index("mcp_list_tools.in_progress") \
        < kinds.index("mcp_list_tools.completed") < kinds.index("response.mcp_call.in_progress")
    assert mcp.recorder.calls == [("forecast", {"city": "", "days": 1})]


def test_unknown_server_label_in_tool_choice(conn: Conn) -> None:
    conn.conn.session.update(session={"type": "realtime", "tool_choice": {"type": "mcp", "server_label": "nope"}})
    error = conn.recv()
    assert error["type"] == "error" and error["error"]["param"] == "session.tool_choice.server_label"


def test_scenario_stand_in_server(conn: Conn, mock: ServerThread) -> None:
    mock.control.load_scenario({"mcp_servers": [{"server_label": "shop", "tools": [{
        "name": "find_product", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}},
                                                 "required": ["query"]},
        "results": [{"arguments": {"query": ""}, "result": {"sku": "L-1"}}]}]}]})
    conn.update(tools=[tool("https://shop.example/mcp", label="shop", require_approval="never")],
                tool_choice={"type": "mcp", "server_label": "shop"})
    assert [t["name"] for t in listed(conn)[-1]["item"]["tools"]] == ["find_product"]
    call = response(conn)[-1]["response"]["output"][0]
    assert call["name"] == "find_product" and json.loads(call["output"]) == {"sku": "L-1"}


def test_beta_refuses_mcp_tools(mock: ServerThread, mcp: McpServers) -> None:
    client = OpenAI(api_key="sk-anything", websocket_base_url=mock.ws_url + "/v1")
    with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as raw:
        c = Conn(raw, "beta")
        c.recv()
        raw.session.update(session={"tools": [tool(mcp.http_url)]})  # type: ignore[list-item]
        error = c.recv()
        assert error["type"] == "error" and error["error"]["param"] == "session.tools[0].type"
        assert mcp.recorder.calls == []


def test_the_inspector_shows_mcp_items(conn: Conn, mock: ServerThread) -> None:
    shop = {"server_label": "shop", "tools": [{"name": "find", "result": "a lamp"}]}
    mock.control.load_scenario({"mcp_servers": [shop]})
    conn.update(tools=[tool("https://shop.example/mcp", label="shop", require_approval="never")],
                tool_choice={"type": "mcp", "server_label": "shop"})
    listed(conn)
    response(conn)
    session_id = conn.seen[0]["session"]["id"]
    registry = mock.app.state.mock.registry
    with httpx.Client(base_url=mock.http_url, timeout=10) as http:
        live = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
        conn.conn.close()
        assert registry.wait(lambda: registry.get(session_id).ended_at is not None, 10.0)
        journal = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    assert (live["source"], journal["source"]) == ("live", "journal")
    for conv in (live, journal):
        listing, call, reply = conv["items"]
        assert (listing["type"], listing["server_label"], listing["tools"]) == ("mcp_list_tools", "shop", ["find"])
        assert (call["type"], call["name"], call["arguments"], call["output"]) == ("mcp_call", "find", "{}", "a lamp")
        assert reply["role"] == "assistant"


# -- client-created MCP items (docs/protocol.md §9.2, §9.3): conversation history, no server contacted ---------------

CLIENT_CALL = {"type": "mcp_call", "id": "mcp_client_call_1", "server_label": "weather", "name": "forecast",
               "arguments": '{"city": "Bern"}', "output": "sunny, 21 C and a light breeze from the west"}
CLIENT_REQUEST = {"type": "mcp_approval_request", "id": "mcpr_client_1", "server_label": "weather", "name": "forecast",
                  "arguments": '{"city": "Bern", "days": 2}'}
CLIENT_LISTING = {"type": "mcp_list_tools", "server_label": "weather",
                  "tools": [{"name": "forecast", "description": "the weather for a city",
                             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]}


def _input_text_tokens(conn: Conn, item_id: str | None) -> int:
    """Text input tokens of an out-of-band response whose context is that one item (or nothing)."""
    refs = [{"type": "item_reference", "id": item_id}] if item_id else []
    conn.conn.response.create(response={"conversation": "none", "input": refs})  # type: ignore[typeddict-item]
    done = conn.until_type("response.done")[-1]
    return int(done["response"]["usage"]["input_token_details"]["text_tokens"])


@pytest.mark.parametrize("raw", [CLIENT_CALL, CLIENT_LISTING, CLIENT_REQUEST],
                         ids=["mcp_call", "mcp_list_tools", "mcp_approval_request"])
def test_client_created_mcp_items_join_the_conversation(conn: Conn, mock: ServerThread, mcp: McpServers,
                                                         raw: dict[str, Any]) -> None:
    conn.update()
    conn.conn.conversation.item.create(item=raw)  # type: ignore[arg-type]
    added, done = conn.recv(), conn.recv()
    assert (added["type"], done["type"]) == ("conversation.item.added", "conversation.item.done")
    item = done["item"]
    expected = {**raw, "id": item["id"]}
    if raw["type"] == "mcp_call":
        expected |= {"approval_request_id": None, "error": None}
    if raw["type"] != "mcp_list_tools":
        assert item["id"] == raw["id"]
    else:
        expected["tools"] = [{**raw["tools"][0], "description": "the weather for a city"}]
        assert item["id"].startswith("item_")
    assert item == expected and added["item"] == item
    conn.conn.conversation.item.retrieve(item_id=item["id"])
    assert conn.recv()["item"] == item
    assert _input_text_tokens(conn, item["id"]) > _input_text_tokens(conn, None)  # it is context (§4.11)
    session_id = conn.seen[0]["session"]["id"]
    with httpx.Client(base_url=mock.http_url, timeout=10) as http:
        live = http.get(f"/_mockrt/api/sessions/{session_id}/conversation").json()
    (shown,) = live["items"]
    assert (shown["type"], shown["server_label"]) == (raw["type"], "weather")
    conn.conn.conversation.item.delete(item_id=item["id"])
    assert conn.until_type("conversation.item.deleted")[-1]["item_id"] == item["id"]
    assert mcp.recorder.calls == []  # history only: no server is contacted


def test_client_mcp_call_with_an_error_and_refusals(conn: Conn) -> None:
    conn.update()
    failed = {**CLIENT_CALL, "output": None, "error": {"type": "http_error", "code": 503, "message": "down"}}
    conn.conn.conversation.item.create(item=failed)  # type: ignore[arg-type]
    assert conn.until_type("conversation.item.done")[-1]["item"]["error"] == failed["error"]
    bad = [({k: v for k, v in CLIENT_CALL.items() if k != "id"}, "missing_required_parameter", "item.id"),
           ({**CLIENT_CALL, "id": "mcp_client_call_2", "arguments": {"city": "Bern"}}, "invalid_type",
            "item.arguments"),
           ({**CLIENT_CALL, "id": "mcp_client_call_3", "error": {"type": "boom", "message": "x"}}, "invalid_value",
            "item.error.type"),
           ({**CLIENT_LISTING, "tools": [{"name": "forecast"}]}, "missing_required_parameter",
            "item.tools[0].input_schema"),
           ({**CLIENT_LISTING, "status": "completed"}, "unknown_parameter", "item.status")]
    for item, code, param in bad:
        conn.conn.conversation.item.create(item=item, event_id="bad_mcp_item")  # type: ignore[arg-type]
        error = conn.recv()
        assert error["type"] == "error", error
        assert (error["error"]["code"], error["error"]["param"], error["error"]["event_id"]) == (
            code, param, "bad_mcp_item")
    conn.conn.conversation.item.retrieve(item_id="mcp_client_call_2")
    assert conn.recv()["error"]["code"] == "item_retrieve_invalid_item_id"  # nothing was added


@pytest.mark.parametrize("replayed_call", [False, True], ids=["answered", "answered-and-called"])
def test_a_client_approval_request_can_be_answered(conn: Conn, mcp: McpServers, replayed_call: bool) -> None:
    """History a client replays (§9.7): its approval request takes an answer; the next response makes the approved
    call, unless the history already has the call that names the request."""
    conn.update(tools=[tool(mcp.http_url)])
    listed(conn)
    answer = {"type": "mcp_approval_response", "approval_request_id": CLIENT_REQUEST["id"], "approve": True}
    history = [CLIENT_REQUEST, answer]
    if replayed_call:
        history.append({**CLIENT_CALL, "approval_request_id": CLIENT_REQUEST["id"]})
    for item in history:
        conn.conn.conversation.item.create(item=item)  # type: ignore[arg-type]
        assert conn.until_type("conversation.item.done")[-1]["item"]["type"] == item["type"]
    output = response(conn, tool_choice="auto")[-1]["response"]["output"]
    if replayed_call:
        assert [i["type"] for i in output] == ["message"] and mcp.recorder.calls == []
    else:
        assert [i["type"] for i in output] == ["mcp_call", "message"]
        assert output[0]["approval_request_id"] == CLIENT_REQUEST["id"]
        assert mcp.recorder.calls == [("forecast", {"city": "Bern", "days": 2})]
