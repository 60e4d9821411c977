"""MCP tools and scripted web/file search calls in Azure Voice Live sessions through the ``azure-ai-voicelive``
async client (docs/protocol.md §9, §12): the client's ``MCPServer`` tool is listed against real MCP servers, calls
really run, approvals come back as the ``mcp_approval_response`` event or item, a bad server fails the listing; a
scenario's ``web_search`` / ``file_search`` / ``annotations`` become the search call events and transcript
annotations (§12.6). Every event is checked strictly against the client's models (``check_event``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

pytest.importorskip("azure.ai.voicelive")

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import (
    InputTextContentPart,
    MCPApprovalResponseRequestItem,
    MCPServer,
    Modality,
    ResponseMCPApprovalRequestItem,
    ResponseMCPCallItem,
    ResponseMCPListToolItem,
    UserMessageItem,
)
from azure.core.credentials import AzureKeyCredential

from mockrt.thread import ServerThread
from tests.clients_support import WAIT_S
from tests.mcp_support import McpServers
from tests.test_clients_voicelive import check_event, recv, until, voice_live_session

pytestmark = pytest.mark.usefixtures("reset_mcp")


_BOOK = {"rules": [{"match": {"text": "book"}, "reply": {
    "mcp_call": {"server_label": "weather", "name": "book",
                 "arguments": {"city": "Paris", "nights": 2, "guests": ["Ada", "Alan"]}},
    "text": "Your room is booked."}}]}


def _connect(server: ServerThread) -> Any:
    return connect(credential=AzureKeyCredential("azure-key"), endpoint=server.http_url, model="gpt-realtime")


async def _listed(conn: VoiceLiveConnection, *tools: MCPServer) -> list[Any]:
    """session.created, a session.update with the tools, then the events up to the listing's end."""
    assert (await recv(conn)).type == "session.created"
    await conn.session.update(session=voice_live_session(modalities=[Modality.TEXT], tools=list(tools)))
    assert (await recv(conn)).type == "session.updated"
    return await until(conn, "mcp_list_tools.completed")


async def _ask(conn: VoiceLiveConnection, text: str) -> list[Any]:
    await conn.conversation.item.create(item=UserMessageItem(content=[InputTextContentPart(text=text)]))
    await conn.response.create()
    return await until(conn, "response.done")


def test_listing_and_a_scenario_call_that_really_runs(mock: ServerThread, mcp: McpServers) -> None:
    mock.control.load_scenario(_BOOK)

    async def main() -> tuple[list[Any], list[Any]]:
        async with _connect(mock) as conn:
            listing = await _listed(conn, MCPServer(server_label="weather", server_url=mcp.http_url,
                                                    allowed_tools=["forecast", "book"], require_approval="never"))
            return listing, await _ask(conn, "book a room")

    listing, events = asyncio.run(main())
    assert [e.type for e in listing] == ["conversation.item.created", "mcp_list_tools.in_progress",
                                         "mcp_list_tools.completed"]
    assert isinstance(listing[0].item, ResponseMCPListToolItem) and listing[0].item.server_label == "weather"
    assert listing[1].item_id == listing[2].item_id == listing[0].item.id
    call_types = [e.type for e in events if "mcp" in e.type]
    assert call_types[0] == "response.mcp_call_arguments.delta"
    assert call_types[-3:] == ["response.mcp_call_arguments.done", "response.mcp_call.in_progress",
                               "response.mcp_call.completed"]
    assert mcp.recorder.calls == [("book", {"city": "Paris", "nights": 2, "guests": ["Ada", "Alan"]})]
    call, reply = events[-1].response.output
    assert isinstance(call, ResponseMCPCallItem) and call.error is None
    assert json.loads(call.output) == {"confirmation": "BK-PAR-2", "guests": 2}
    assert reply.content[0].text == "Your room is booked."


@pytest.mark.parametrize("as_event", [True, False], ids=["event", "item"])
def test_approval_as_the_event_or_the_item(mock: ServerThread, mcp: McpServers, as_event: bool) -> None:
    mock.control.load_scenario(_BOOK)

    async def main() -> tuple[Any, list[Any]]:
        async with _connect(mock) as conn:  # require_approval defaults to "always"
            await _listed(conn, MCPServer(server_label="weather", server_url=mcp.http_url))
            request = (await _ask(conn, "book a room"))[-1].response.output
            assert isinstance(request[0], ResponseMCPApprovalRequestItem), [i.type for i in request]
            assert mcp.recorder.calls == []  # nothing runs before the client answers
            if as_event:
                await conn.send({"type": "mcp_approval_response", "approval_request_id": request[0].id,
                                 "approve": True})
            else:
                await conn.conversation.item.create(
                    item=MCPApprovalResponseRequestItem(approval_request_id=request[0].id, approve=True))
            added = await until(conn, "conversation.item.created")
            await conn.response.create()
            return added[-1].item, await until(conn, "response.done")

    answer, events = asyncio.run(main())
    assert answer.type == "mcp_approval_response" and answer.approve is True
    call, reply = events[-1].response.output
    assert call.type == "mcp_call" and call.approval_request_id == answer.approval_request_id
    assert mcp.recorder.calls == [("book", {"city": "Paris", "nights": 2, "guests": ["Ada", "Alan"]})]
    assert "BK-PAR-2" in reply.content[0].text  # the reply reports the tool's real output


@pytest.mark.parametrize(("require_approval", "asks"), [
    ({"always": ["book"], "never": ["forecast"]}, True),
    ({"never": ["book"]}, False),
    ({"always": ["forecast"]}, True),  # a tool in neither list: the default, always [U]
    ({"never": ["forecast", "book"], "always": ["book"]}, True),  # always wins
])
def test_require_approval_per_tool(mock: ServerThread, mcp: McpServers, require_approval: dict[str, list[str]],
                                   asks: bool) -> None:
    """The client's dictionary form of ``require_approval`` (``dict[str, list[str]]``, docs/protocol.md §12.1):
    each tool asks for approval or runs as its list says."""
    mock.control.load_scenario(_BOOK)

    async def main() -> list[Any]:
        async with _connect(mock) as conn:
            listing = await _listed(conn, MCPServer(server_label="weather", server_url=mcp.http_url,
                                                    require_approval=require_approval))
            assert listing[-1].type == "mcp_list_tools.completed"
            return (await _ask(conn, "book a room"))[-1].response.output

    output = asyncio.run(main())
    if asks:
        assert isinstance(output[0], ResponseMCPApprovalRequestItem) and output[0].name == "book"
        assert mcp.recorder.calls == []
    else:
        assert [o.type for o in output] == ["mcp_call", "message"] and output[0].error is None
        assert [name for name, _ in mcp.recorder.calls] == ["book"]


def test_an_approval_for_an_unknown_request_is_the_services_error(mock: ServerThread, mcp: McpServers) -> None:
    async def main() -> Any:
        async with _connect(mock) as conn:
            await _listed(conn, MCPServer(server_label="weather", server_url=mcp.http_url))
            await conn.send({"type": "mcp_approval_response", "approval_request_id": "mcpr_nope", "approve": True})
            return check_event(await asyncio.wait_for(conn.recv(), WAIT_S))

    error = asyncio.run(main())
    assert error.type == "error" and error.error.param == "item.approval_request_id"


def test_a_refusing_server_fails_the_listing(mock: ServerThread, mcp: McpServers) -> None:
    async def main() -> list[Any]:
        async with _connect(mock) as conn:
            assert (await recv(conn)).type == "session.created"
            await conn.session.update(session=voice_live_session(
                tools=[MCPServer(server_label="weather", server_url=mcp.deny_url)]))
            return await until(conn, "mcp_list_tools.failed")

    events = asyncio.run(main())
    assert [e.type for e in events][-2:] == ["mcp_list_tools.in_progress", "mcp_list_tools.failed"]
    assert mcp.recorder.calls == []


def test_a_tool_error_fails_the_call(mock: ServerThread, mcp: McpServers) -> None:
    mock.control.load_scenario({"rules": [{"match": {"text": "explode"}, "reply": {
        "mcp_call": {"server_label": "weather", "name": "explode", "arguments": {"reason": "boom"}}}}]})

    async def main() -> list[Any]:
        async with _connect(mock) as conn:
            await _listed(conn, MCPServer(server_label="weather", server_url=mcp.http_url, require_approval="never"))
            return await _ask(conn, "explode please")

    events = asyncio.run(main())
    types = [e.type for e in events]
    assert "response.mcp_call.failed" in types and "response.mcp_call.completed" not in types
    call = events[-1].response.output[0]
    assert call.output is None and call.error["type"] == "tool_execution_error"  # the server's own words
    assert mcp.recorder.calls == [("explode", {"reason": "boom"})]


_SEARCH = {"rules": [{"match": {"text": "weather"}, "reply": {
    "web_search": {},
    "file_search": {"queries": ["paris weather"],
                    "results": [{"file_id": "file_1", "filename": "paris.md", "score": 0.9, "text": "Sunny."}]},
    "text": "It is sunny in Paris.",
    "annotations": [{"type": "file_citation", "file_id": "file_1", "filename": "paris.md", "index": 0}]}}]}


def test_scripted_web_and_file_search_with_transcript_annotations(mock: ServerThread) -> None:
    """``web_search`` / ``file_search`` / ``annotations`` of a scenario reply (docs/protocol.md §12.6)."""
    mock.control.load_scenario(_SEARCH)

    async def main() -> list[Any]:
        async with _connect(mock) as conn:
            assert (await recv(conn)).type == "session.created"
            await conn.session.update(session=voice_live_session())
            assert (await recv(conn)).type == "session.updated"
            events = await _ask(conn, "what is the weather")
            # The search items stay in the conversation: retrievable, and the next response sees them.
            await conn.conversation.item.retrieve(item_id=events[-1].response.output[1].id)
            retrieved = await until(conn, "conversation.item.retrieved")
            assert retrieved[-1].item.type == "file_search_call" and retrieved[-1].item.status == "completed"
            after = await _ask(conn, "thanks")
            assert after[-1].response.status == "completed"
            return events

    events = asyncio.run(main())
    types = [e.type for e in events]
    searches = [t for t in types if "search_call" in t]
    assert searches == ["response.web_search_call.in_progress", "response.web_search_call.searching",
                        "response.web_search_call.completed", "response.file_search_call.in_progress",
                        "response.file_search_call.searching", "response.file_search_call.completed"]
    web, files, reply = events[-1].response.output
    assert web.type == "web_search_call" and web.status == "completed"
    assert files.type == "file_search_call" and files.queries == ["paris weather"]
    assert files.results[0].file_id == "file_1" and files.results[0].score == 0.9
    added = [e for e in events if e.type == "response.audio_transcript.annotation.added"]
    assert [(e.annotation_index, e.annotation["file_id"], e.item_id) for e in added] == [(0, "file_1", reply.id)]
    assert types.index("response.audio_transcript.annotation.added") < types.index("response.audio_transcript.done")
    assert reply.content[0].transcript == "It is sunny in Paris."
    seq = [e.sequence_number for e in events if e.type.startswith("response.file_search_call")]
    assert seq == [0, 1, 2]


def test_search_calls_are_voice_live_only(mock: ServerThread) -> None:
    """The same scenario on the beta dialect: the reply without the search items (beta has none)."""
    from openai import OpenAI

    from tests.protocol_types import validate_server_event

    mock.control.load_scenario(_SEARCH)
    client = OpenAI(api_key="sk-anything", websocket_base_url=mock.ws_url + "/v1")
    with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "weather?"}]})
        conn.response.create()
        while True:
            event = conn.recv().to_dict()
            validate_server_event(event, "beta")
            if event["type"] == "response.done":
                break
    assert [i["type"] for i in event["response"]["output"]] == ["message"]
