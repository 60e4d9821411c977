"""The real MCP client against real MCP servers (the ``mcp`` package's MCPServer over Streamable HTTP and SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from mockrt.core import errors
from mockrt.core.dialects import mcp as wire
from mockrt.core.mcp import (
    CallDone,
    CallFailed,
    CallTool,
    ListTools,
    McpCall,
    McpResult,
    McpServerConfig,
    ToolsFailed,
    ToolsListed,
)
from mockrt.mcp import McpClient, uses_sse
from tests.mcp_support import McpServers, mcp_servers
from tests.protocol_types import validate_server_event


@pytest.fixture(scope="module")
def servers() -> Iterator[McpServers]:
    with mcp_servers() as s:
        yield s


def config(url: str, **extra: Any) -> McpServerConfig:
    return McpServerConfig.parse({"type": "mcp", "server_label": "weather", "server_url": url, **extra})


def run(timeout_s: float, *directives: ListTools | CallTool) -> list[McpResult]:
    """Run directives one after the other on one client (one connection per server)."""

    async def go() -> list[McpResult]:
        async with McpClient(timeout_s) as client:
            return [await client.run(d) for d in directives]

    return asyncio.run(go())


def listing(url: str, timeout_s: float = 10.0, **extra: Any) -> McpResult:
    return run(timeout_s, ListTools("req_1", config(url, **extra)))[0]


def call(url: str, name: str, arguments: dict[str, Any], timeout_s: float = 10.0, **extra: Any) -> McpResult:
    return run(timeout_s, CallTool("req_2", config(url, **extra), name, arguments))[0]


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_lists_the_servers_tools_with_their_schemas(servers: McpServers, transport: str) -> None:
    result = listing(servers.http_url if transport == "http" else servers.sse_url)
    assert isinstance(result, ToolsListed)
    assert result.request_id == "req_1"
    assert [t.name for t in result.tools] == ["forecast", "book", "explode", "reject"]
    forecast = result.tools[0]
    assert forecast.description == "Forecast the weather for a city."
    assert forecast.input_schema["required"] == ["city"]
    assert forecast.read_only and not result.tools[1].read_only


@pytest.mark.parametrize(("allowed", "expected"), [
    (["book", "forecast", "absent"], ["forecast", "book"]),
    ({"tool_names": ["explode", "reject"]}, ["explode", "reject"]),
    ({"read_only": True}, ["forecast"]),
    ({"read_only": False, "tool_names": ["forecast", "book"]}, ["book"]),
    ({}, ["forecast", "book", "explode", "reject"]),
    ([], []),
])
def test_allowed_tools_filters_the_listing(servers: McpServers, allowed: Any, expected: list[str]) -> None:
    result = listing(servers.http_url, allowed_tools=allowed)
    assert isinstance(result, ToolsListed)
    assert [t.name for t in result.tools] == expected


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_call_runs_the_tool_with_the_arguments_sent(servers: McpServers, transport: str) -> None:
    url = servers.http_url if transport == "http" else servers.sse_url
    before = len(servers.recorder.calls)
    result = call(url, "forecast", {"city": f"Paris-{transport}", "days": 3})
    assert result == CallDone("req_2", f"3-day forecast for Paris-{transport}: sunny, 21 C")
    assert servers.recorder.calls[before:] == [("forecast", {"city": f"Paris-{transport}", "days": 3})]


def test_a_structured_result_arrives_as_json_text(servers: McpServers) -> None:
    result = call(servers.http_url, "book", {"city": "Oslo", "nights": 2, "guests": ["ada", "bob"]})
    assert isinstance(result, CallDone)
    assert json.loads(result.output) == {"confirmation": "BK-OSL-2", "guests": 2}
    assert servers.recorder.calls[-1] == ("book", {"city": "Oslo", "nights": 2, "guests": ["ada", "bob"]})


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_headers_and_authorization_reach_the_server(servers: McpServers, transport: str) -> None:
    url = servers.http_url if transport == "http" else servers.sse_url
    before = len(servers.recorder.headers)
    result = listing(url, headers={"X-Tenant": f"acme-{transport}"}, authorization="oauth-token-1")
    assert isinstance(result, ToolsListed)
    seen = servers.recorder.headers[before:]
    assert seen, "the server saw no request"
    assert all(h.get("x-tenant") == f"acme-{transport}" for h in seen)
    assert all(h.get("authorization") == "Bearer oauth-token-1" for h in seen)


def test_a_tool_error_is_a_tool_execution_error(servers: McpServers) -> None:
    result = call(servers.http_url, "explode", {"reason": "no fuel"})
    assert isinstance(result, CallFailed)
    assert result.error.type == "tool_execution_error"
    assert "the tool failed: no fuel" in result.error.message
    assert result.error.code is None
    assert servers.recorder.calls[-1] == ("explode", {"reason": "no fuel"})


def test_a_json_rpc_error_is_a_protocol_error(servers: McpServers) -> None:
    result = call(servers.http_url, "reject", {"value": 7})
    assert isinstance(result, CallFailed)
    assert (result.error.type, result.error.code, result.error.message) == (
        "protocol_error", -32602, "value 7 is not acceptable")


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_an_http_error_status_is_an_http_error(servers: McpServers, transport: str) -> None:
    url = servers.deny_url if transport == "http" else servers.deny_url.replace("/mcp", "/sse")
    listed = listing(url)
    called = call(url, "forecast", {"city": "Rome"})
    assert isinstance(listed, ToolsFailed) and isinstance(called, CallFailed)
    for failure in (listed.error, called.error):
        assert (failure.type, failure.code) == ("http_error", 401)
        assert failure.message == "Http status code: 401 (Unauthorized)"


def test_an_unreachable_server_is_a_424(servers: McpServers) -> None:
    for url in (servers.closed_url, servers.closed_url.replace("/mcp", "/sse")):
        result = listing(url)
        assert isinstance(result, ToolsFailed)
        assert (result.error.type, result.error.code) == ("http_error", 424)
        assert result.error.message == errors.mcp_unreachable()


def test_a_connector_is_unreachable_from_the_mock() -> None:
    cfg = McpServerConfig.parse({"type": "mcp", "server_label": "cal", "connector_id": "connector_googlecalendar"})
    [result] = run(5, ListTools("r", cfg))
    assert isinstance(result, ToolsFailed) and result.error.code == 424


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_one_connection_serves_later_directives(servers: McpServers, transport: str) -> None:
    url = servers.http_url if transport == "http" else servers.sse_url
    cfg = config(url)

    async def go() -> list[int]:
        requests = []
        async with McpClient(10) as client:
            for city in ("A", "B", "C"):
                before = len(servers.recorder.headers)
                assert isinstance(await client.run(CallTool(city, cfg, "forecast", {"city": city})), CallDone)
                requests.append(len(servers.recorder.headers) - before)
        return requests

    first, second, third = asyncio.run(go())
    assert first > second, "the first call also connects"
    assert second == third == 1, "later calls are one request each"


def test_a_json_rpc_error_keeps_the_connection(servers: McpServers) -> None:
    cfg = config(servers.http_url)

    async def go() -> tuple[list[McpResult], int]:
        async with McpClient(10) as client:
            results = [await client.run(CallTool("a", cfg, "reject", {"value": 1})),
                       await client.run(ListTools("b", cfg))]
            before = len(servers.recorder.headers)
            results.append(await client.run(CallTool("c", cfg, "forecast", {"city": "Riga"})))
            return results, len(servers.recorder.headers) - before

    (rejected, listed, called), requests = asyncio.run(go())
    assert isinstance(rejected, CallFailed) and rejected.error.type == "protocol_error"
    assert isinstance(listed, ToolsListed)
    assert called == CallDone("c", "1-day forecast for Riga: sunny, 21 C")
    assert requests == 1, "no reconnection after the server's own error"


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_a_server_that_never_answers_times_out(servers: McpServers, transport: str) -> None:
    url = servers.hang_url if transport == "http" else servers.hang_url.replace("/mcp", "/sse")
    listed = listing(url, timeout_s=0.3)
    called = call(url, "forecast", {"city": "Rome"}, timeout_s=0.3)
    assert isinstance(listed, ToolsFailed) and isinstance(called, CallFailed)
    for failure in (listed.error, called.error):
        assert (failure.type, failure.code, failure.message) == ("http_error", 424, errors.mcp_timeout(0.3))


def test_concurrent_directives_keep_their_own_results(servers: McpServers) -> None:
    good, bad = config(servers.http_url), config(servers.deny_url)

    async def both() -> list[Any]:
        async with McpClient(10) as client:
            return list(await asyncio.gather(
                client.run(CallTool("a", good, "forecast", {"city": "Lima"})),
                client.run(CallTool("b", bad, "forecast", {"city": "Lima"})),
                client.run(ListTools("c", good)),
            ))

    a, b, c = asyncio.run(both())
    assert a == CallDone("a", "1-day forecast for Lima: sunny, 21 C")
    assert isinstance(b, CallFailed) and b.request_id == "b" and b.error.code == 401
    assert isinstance(c, ToolsListed) and c.request_id == "c"


@pytest.mark.parametrize(("url", "sse"), [
    ("https://mcp.example.com/sse", True),
    ("https://mcp.example.com/sse/", True),
    ("https://mcp.example.com/v1/sse?token=x", True),
    ("https://mcp.example.com/mcp", False),
    ("https://sse.example.com/", False),
    ("https://mcp.example.com/sse/mcp", False),
    ("https://mcp.example.com/ssex", False),
])
def test_the_transport_rule(url: str, sse: bool) -> None:
    assert uses_sse(url) is sse


# --- the items and events built from real results validate against the openai SDK, strictly ------------------


def test_items_and_events_from_a_real_listing_and_calls_validate(servers: McpServers) -> None:
    listed = listing(servers.http_url)
    assert isinstance(listed, ToolsListed)
    item = wire.render_list_tools("item_list1", "weather", listed.tools)
    events: list[dict[str, Any]] = [
        {**wire.list_tools_event("in_progress", "item_list1")},
        {**wire.list_tools_event("completed", "item_list1")},
        {"type": "conversation.item.done", "previous_item_id": None, "item": item},
    ]
    outcomes = [call(servers.http_url, "forecast", {"city": "Bern"}),
                call(servers.http_url, "explode", {"reason": "x"}),
                call(servers.http_url, "reject", {"value": 1}),
                call(servers.deny_url, "forecast", {"city": "Bern"})]
    for index, outcome in enumerate(outcomes):
        mcp_call = McpCall(f"item_call{index}", "weather", "forecast", '{"city":"Bern"}')
        if isinstance(outcome, CallDone):
            mcp_call.output = outcome.output
        else:
            mcp_call.error = outcome.error
        stage = "completed" if isinstance(outcome, CallDone) else "failed"
        events += [
            wire.arguments_delta("resp_1", mcp_call.item_id, index, '{"city":'),
            wire.arguments_done("resp_1", mcp_call.item_id, index, mcp_call.arguments),
            wire.call_event("in_progress", mcp_call.item_id, index),
            wire.call_event(stage, mcp_call.item_id, index),
            {"type": "response.output_item.done", "response_id": "resp_1", "output_index": index,
             "item": wire.render_call(mcp_call)},
        ]
    for n, event in enumerate(events):
        model = validate_server_event({"type": event["type"], "event_id": f"event_{n:021d}", **event}, "ga")
        assert model is not None
    done = [e for e in events if e["type"] == "response.output_item.done"]
    assert [d["item"]["error"]["type"] if d["item"]["error"] else None for d in done] == [
        None, "tool_execution_error", "protocol_error", "http_error"]
    assert done[0]["item"]["output"] == "1-day forecast for Bern: sunny, 21 C"


def test_waiters_on_a_dropped_connection_fail_instead_of_being_cancelled(servers: McpServers) -> None:
    """A directive still connecting when another one's failure drops the shared connection gets a failure result."""
    cfg = config(servers.hang_url)

    async def go() -> list[McpResult]:
        async with McpClient(0.3) as client:
            slow = asyncio.create_task(client.run(CallTool("slow", cfg, "forecast", {"city": "X"})))
            await asyncio.sleep(0)  # let it start connecting
            conn = client._connections[(servers.hang_url, ())]
            assert conn.task is not None
            conn.task.cancel()  # what a failed directive's _drop does to the shared connection
            return [await slow]

    [result] = asyncio.run(go())
    assert isinstance(result, CallFailed) and (result.error.type, result.error.code) == ("http_error", 424)
