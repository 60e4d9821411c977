"""MCP tools in the sans-I/O core on a virtual clock (docs/protocol.md §9): what waits for what, and results
that arrive too late. Directives run with a scenario stand-in (``tests/harness.py`` ``run_mcp``)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

from mockrt.core.mcp import CallTool, ListTools
from mockrt.scenarios.mcp_servers import StandInExecutor, StandInServer
from tests.harness import FAST, SLOW, Harness, types

SHOP = {"server_label": "shop", "tools": [
    {"name": "find", "input_schema": {"type": "object", "properties": {"q": {"type": "string", "minLength": 2}},
                                      "required": ["q"]}, "result": "a lamp"},
    {"name": "buy", "result": "bought"}]}


def executor() -> StandInExecutor:
    return StandInExecutor([StandInServer.from_dict(SHOP)])


def tool(**extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "shop", "server_url": "https://shop.example/mcp",
            "require_approval": "never", **extra}


def configure(h: Harness, **session: Any) -> list[dict[str, Any]]:
    return h.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
                                                         **session}})


def test_a_response_waits_for_the_listing_it_needs() -> None:
    h = Harness(pacing=FAST)
    configure(h, tools=[tool()], tool_choice={"type": "mcp", "server_label": "shop", "name": "find"})
    assert [type(d) for d in h.directives] == [ListTools]
    got = h.send({"type": "response.create"})
    assert types(got) == ["response.created"]  # the call waits: the listing is still in flight
    assert h.session.next_deadline() == h.session.started + h.session.max_duration_s  # no busy polling
    h.now += 1.5
    got = h.run_mcp(executor())
    assert types(got)[:2] == ["mcp_list_tools.completed", "conversation.item.done"]
    assert "response.mcp_call.completed" in types(got) and types(got)[-2:] == ["response.done",
                                                                             "rate_limits.updated"]
    done = got[-2]["response"]
    assert done["output"][0]["arguments"] == '{"q":"aa"}'  # minimal instance: minLength 2


def test_the_same_tool_again_is_not_listed_again_and_a_removed_one_is_forgotten() -> None:
    h = Harness(pacing=FAST)
    configure(h, tools=[tool()])
    h.run_mcp(executor())
    assert types(configure(h, tools=[tool(require_approval="always")])) == ["session.updated"]
    assert types(configure(h, tools=[tool(allowed_tools=["buy"])]))[1:] == ["conversation.item.added",
                                                                           "mcp_list_tools.in_progress"]
    h.run_mcp(executor())
    assert h.session.mcp.servers["shop"].tools[0].name == "buy"
    configure(h, tools=[])
    assert h.session.mcp.servers == {}


def test_a_cancelled_response_ignores_the_late_result() -> None:
    h = Harness(pacing=SLOW)
    configure(h, tools=[tool()], tool_choice={"type": "mcp", "server_label": "shop", "name": "find"})
    h.run_mcp(executor())
    h.send({"type": "response.create"})
    h.run_until_call()
    (call,) = h.directives
    assert isinstance(call, CallTool) and call.arguments == {"q": "aa"}
    cancelled = h.send({"type": "response.cancel"})
    done = next(e for e in cancelled if e["type"] == "response.done")["response"]
    assert done["status"] == "cancelled"
    item = done["output"][0]
    assert item["type"] == "mcp_call" and item["output"] is None and item["error"] is None
    result = asyncio.run(executor().run(call))
    assert types(h._collect(h.session.mcp_result(result, h.now))) == []  # dropped, nothing sent


def test_an_unknown_tool_fails_the_call_without_calling() -> None:
    h = Harness(pacing=FAST)
    configure(h, tools=[tool(allowed_tools=["buy"])],
              tool_choice={"type": "mcp", "server_label": "shop", "name": "find"})
    h.run_mcp(executor())
    got = h.send({"type": "response.create"})
    assert h.directives == []
    call = got[-2]["response"]["output"][0]
    assert call["error"] == {"type": "protocol_error", "code": -32602,
                             "message": "Tool 'find' is not available on MCP server 'shop'."}


def test_mcp_tools_of_an_ephemeral_session_are_listed_at_the_start() -> None:
    from mockrt.core.model import SessionConfig

    h = Harness(pacing=FAST, initial_config=SessionConfig(model="gpt-realtime", tools=[tool()]))
    assert types(h.created) == ["session.created", "conversation.item.added", "mcp_list_tools.in_progress"]
    assert types(h.run_mcp(executor()))[0] == "mcp_list_tools.completed"


def test_required_with_only_mcp_tools_calls_the_first_servers_first_tool() -> None:
    """``tool_choice: "required"`` forces a tool call; with MCP tools and no function tool it is an MCP call (the
    only way to force one in Voice Live, docs/protocol.md §12.1); with a function tool the function is called."""
    h = Harness(pacing=FAST)
    configure(h, tools=[tool(allowed_tools=["buy", "find"])], tool_choice="required")
    h.run_mcp(executor())
    h.send({"type": "response.create"})
    got = h.run_mcp(executor())
    done = next(e for e in got if e["type"] == "response.done")["response"]
    assert (done["output"][0]["type"], done["output"][0].get("name")) == ("mcp_call", "find")  # server order
    function = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
    configure(h, tools=[tool(), function], tool_choice="required")
    got = h.send({"type": "response.create"})
    done = next(e for e in got if e["type"] == "response.done")["response"]
    assert [o["type"] for o in done["output"]] == ["function_call"]


def test_beta_refuses_client_mcp_items() -> None:
    """The beta protocol has no MCP items (docs/protocol.md §9.1, §9.7): invalid_value on item.type."""
    h = Harness("beta")
    events = h.send({"type": "conversation.item.create", "event_id": "evt_mcp",
                     "item": {"type": "mcp_call", "id": "mcp_1", "server_label": "s", "name": "n", "arguments": "{}"}})
    assert [(e["type"], e["error"]["code"], e["error"]["param"]) for e in events] == [
        ("error", "invalid_value", "item.type")]


def test_listed_tools_are_context_once_the_listing_completes() -> None:
    """The listing's tools count as input tokens (docs/protocol.md §4.11, §9.7), counted again when they arrive."""
    from mockrt.core.usage import item_tokens, total

    h = Harness(pacing=FAST)
    configure(h, tools=[tool()])
    conversation = h.session.conversation
    empty = conversation.tally.tokens()
    h.run_mcp(executor())
    (listing,) = conversation.items
    assert conversation.tally.tokens() == total(map(item_tokens, conversation.items))
    assert conversation.tally.tokens()[0] > empty[0] and [t.name for t in listing.mcp] == ["find", "buy"]


def test_a_session_that_used_mcp_is_freed_without_the_garbage_collector() -> None:
    """The MCP part's callbacks hold the session weakly (``weakly`` in mockrt/core/mcp_session.py): no reference
    cycle keeps a finished session, and its conversation, until the collector's next full collection (which a
    ``mockrt serve`` process makes rare)."""
    h = Harness(pacing=FAST)
    configure(h, tools=[tool()], tool_choice={"type": "mcp", "server_label": "shop", "name": "find"})
    h.send({"type": "response.create"})
    h.now += 1.5
    assert "response.mcp_call.completed" in types(h.run_mcp(executor()))
    session = weakref.ref(h.session)
    gc.disable()
    try:
        del h
        assert session() is None
    finally:
        gc.enable()
