"""A scenario's stand-in MCP servers (``mcp_servers:``): the file format and the executor."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mockrt.core.dialects import mcp as wire
from mockrt.core.mcp import (
    CallDone,
    CallFailed,
    CallTool,
    ListTools,
    McpError,
    McpResult,
    McpServerConfig,
    ToolsFailed,
    ToolsListed,
)
from mockrt.mcp import McpClient
from mockrt.scenarios import load_scenario
from mockrt.scenarios.loader import ScenarioError
from mockrt.scenarios.mcp_servers import StandInExecutor
from tests.mcp_support import mcp_servers
from tests.protocol_types import validate_server_event

SCENARIO = """
name: mcp stand-in
mcp_servers:
  - server_label: shop
    tools:
      - name: find_product
        description: Find a product by name.
        input_schema:
          type: object
          properties: {query: {type: string}}
          required: [query]
        annotations: {readOnlyHint: true}
        result: "no match"
        results:
          - arguments: {query: lamp}
            result: {sku: L-1, price: 19.5}
          - arguments: {query: sofa}
            error: {type: tool_execution_error, message: "sofas are sold out"}
      - name: place_order
        input_schema: {type: object, properties: {sku: {type: string}}, required: [sku]}
        error: {type: protocol_error, code: -32001, message: "orders are closed"}
  - server_label: shop
    server_url: https://other.example.com/mcp
    tools: [{name: elsewhere}]
  - server_label: broken
    list_error: {type: http_error, code: 503}
"""


def executor(fallback: Any = None) -> StandInExecutor:
    return StandInExecutor(load_scenario(SCENARIO).mcp_servers, fallback)


def server(label: str = "shop", url: str = "https://shop.example.com/mcp", **extra: Any) -> McpServerConfig:
    return McpServerConfig.parse({"type": "mcp", "server_label": label, "server_url": url, **extra})


def run(ex: StandInExecutor, directive: ListTools | CallTool) -> McpResult:
    return asyncio.run(ex.run(directive))


def test_the_stand_in_lists_its_tools() -> None:
    result = run(executor(), ListTools("r1", server()))
    assert isinstance(result, ToolsListed)
    assert [t.name for t in result.tools] == ["find_product", "place_order"]
    assert result.tools[0].read_only and result.tools[0].input_schema["required"] == ["query"]
    event = {"type": "conversation.item.done", "event_id": "event_" + "a" * 21, "previous_item_id": None,
             "item": wire.render_list_tools("item_1", "shop", result.tools)}
    validate_server_event(event, "ga")


def test_allowed_tools_applies_to_the_stand_in() -> None:
    result = run(executor(), ListTools("r1", server(allowed_tools={"read_only": False})))
    assert isinstance(result, ToolsListed) and [t.name for t in result.tools] == ["place_order"]


def test_a_server_url_narrows_the_match() -> None:
    result = run(executor(), ListTools("r1", server(url="https://other.example.com/mcp")))
    assert isinstance(result, ToolsListed)
    assert [t.name for t in result.tools] == ["find_product", "place_order"], "the first match wins"
    only_url = StandInExecutor(load_scenario(SCENARIO).mcp_servers[1:])
    assert isinstance(run(only_url, ListTools("r", server(url="https://shop.example.com/mcp"))), ToolsFailed)
    listed = run(only_url, ListTools("r", server(url="https://other.example.com/mcp")))
    assert isinstance(listed, ToolsListed) and [t.name for t in listed.tools] == ["elsewhere"]


@pytest.mark.parametrize(("name", "arguments", "expected"), [
    ("find_product", {"query": "lamp", "limit": 1}, CallDone("r2", '{"sku":"L-1","price":19.5}')),
    ("find_product", {"query": "chair"}, CallDone("r2", "no match")),
    ("find_product", {"query": "sofa"}, CallFailed("r2", McpError("tool_execution_error", "sofas are sold out"))),
    ("place_order", {"sku": "L-1"}, CallFailed("r2", McpError("protocol_error", "orders are closed", -32001))),
    ("teleport", {}, CallFailed("r2", McpError("protocol_error", "Unknown tool: teleport", -32602))),
])
def test_canned_results_and_errors(name: str, arguments: dict[str, Any], expected: McpResult) -> None:
    ex = executor()
    assert run(ex, CallTool("r2", server(), name, arguments)) == expected
    assert ex.calls == ([] if name == "teleport" else [("shop", name, arguments)])


def test_a_list_error_fails_listing_and_calls() -> None:
    ex = executor()
    listed = run(ex, ListTools("r1", server("broken")))
    called = run(ex, CallTool("r2", server("broken"), "anything", {}))
    expected = McpError("http_error", "Http status code: 503 (Service Unavailable)", 503)
    assert listed == ToolsFailed("r1", expected) and called == CallFailed("r2", expected)


def test_an_unmatched_server_is_unreachable_without_a_fallback() -> None:
    result = run(executor(), ListTools("r1", server("nobody")))
    assert result == ToolsFailed("r1", McpError.unreachable())


def test_an_unmatched_server_goes_to_the_real_client() -> None:
    async def go(url: str) -> list[McpResult]:
        async with McpClient(10) as client:
            ex = executor(fallback=client)
            return [await ex.run(ListTools("r1", server("weather", url))),
                    await ex.run(CallTool("r2", server("weather", url), "forecast", {"city": "Kyiv"})),
                    await ex.run(CallTool("r3", server("shop", url), "find_product", {"query": "lamp"}))]

    with mcp_servers() as real:
        listed, called, stood_in = asyncio.run(go(real.http_url))
    assert isinstance(listed, ToolsListed) and "forecast" in [t.name for t in listed.tools]
    assert called == CallDone("r2", "1-day forecast for Kyiv: sunny, 21 C")
    assert real.recorder.calls == [("forecast", {"city": "Kyiv", "days": 1})]
    assert stood_in == CallDone("r3", '{"sku":"L-1","price":19.5}')


@pytest.mark.parametrize(("text", "problem"), [
    ("mcp_servers: [{tools: []}]", "mcp_servers[0]"),
    ("mcp_servers: [{server_label: s, tools: [{name: t, result: x, error: {type: tool_execution_error, "
     "message: m}}]}]", "mcp_servers[0].tools[0]"),
    ("mcp_servers: [{server_label: s, list_error: {type: protocol_error, message: m}}]",
     "mcp_servers[0].list_error: 'code' is a required property"),
    ("mcp_servers: [{server_label: s, list_error: {type: teapot_error, code: 418}}]", "mcp_servers[0].list_error.type"),
    ("mcp_servers: [{server_label: s, tools: [{name: t, results: [{result: x}]}]}]",
     "mcp_servers[0].tools[0].results[0]: 'arguments' is a required property"),
])
def test_bad_stand_ins_are_located(text: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(text)
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems
