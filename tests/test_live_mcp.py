"""A scenario's ``mcp_call`` in a GPT-Live session (docs/protocol.md §13.5, §9): the tool really runs (a real MCP
server over Streamable HTTP on loopback, or a scenario stand-in) and the Live model speaks its result. Driven by
the openai SDK's ``client.live.connect()``; every server event validated against ``ConnectServerEvent``."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from openai import OpenAI

from mockrt.config import ServerConfig
from mockrt.thread import ServerThread
from tests.audio_fixtures import FIXTURE_DIR, load_speech
from tests.mcp_support import McpServers
from tests.protocol_types import validate_live_event

CHUNK = 2400
ASKED = "What is the weather in Paris?"


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerThread]:
    config = ServerConfig(port=0, time_scale=0.05, log_level="warning", mcp_timeout_s=3.0,
                          fixtures_dir=str(FIXTURE_DIR))
    with ServerThread(config) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(srv: ServerThread, mcp: McpServers) -> Iterator[None]:
    srv.control.reset()
    mcp.recorder.calls.clear()
    yield


def _turn(srv: ServerThread, session: dict[str, Any], last: str) -> list[dict[str, Any]]:
    """One caller turn (the speech fixture); every event until the model has said words ending with ``last``."""
    seen: list[dict[str, Any]] = []
    client = OpenAI(base_url=srv.http_url + "/v1", api_key="sk-test")
    with client.live.connect() as conn:
        conn.send({"type": "session.start", "session": {"model": "gpt-live-1", **session}})
        pcm = np.concatenate([load_speech("lights").pcm, np.zeros(24000 * 2, dtype=np.int16)])
        for k in range(0, len(pcm), CHUNK):
            conn.send({"type": "session.input_audio.append",
                       "audio": base64.b64encode(pcm[k:k + CHUNK].astype("<i2").tobytes()).decode("ascii")})
        said = ""
        for event in conn:
            data: dict[str, Any] = event.model_dump(exclude_unset=True)
            validate_live_event(data)
            seen.append(data)
            if data["type"] == "session.output_transcript.delta":
                said += data["delta"]
            if said.endswith(last):
                break
    return seen


def _said(seen: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in seen if e["type"] == "session.output_transcript.delta").strip()


def test_the_backend_runs_a_real_mcp_tool_and_the_model_speaks_its_result(srv: ServerThread,
                                                                         mcp: McpServers) -> None:
    srv.control.load_scenario({"transcripts": [ASKED], "replies": [
        {"mcp_call": {"server_label": "weather", "name": "forecast", "arguments": {"city": "Paris"}}}]})
    tools = [{"type": "mcp", "server_label": "weather", "server_url": mcp.http_url, "require_approval": "never"}]
    seen = _turn(srv, {"delegation": {"type": "responses", "responses": {"model": "gpt-5", "tools": tools}}},
                 "21 C.")
    assert mcp.recorder.calls == [("forecast", {"city": "Paris", "days": 1})]
    output = "1-day forecast for Paris: sunny, 21 C"
    assert _said(seen) == f"The forecast tool returned {output}."
    created = next(e for e in seen if e["type"] == "session.delegation.created")
    assert created["delegation"]["target"] == "responses"
    stream = [e["event"] for e in seen if e["type"] == "response.event"]
    assert all(e["delegation_id"] == created["delegation"]["id"] for e in seen if e["type"] == "response.event")
    assert {e["response"]["id"] for e in stream if e["type"] == "response.created"} == {
        created["delegation"]["response_id"]}
    call = next(e["item"] for e in stream if e["type"] == "response.output_item.done"
                and e["item"]["type"] == "mcp_call")
    assert (call["server_label"], call["name"], json.loads(call["arguments"]), call["output"], call["status"]) == (
        "weather", "forecast", {"city": "Paris"}, output, "completed")
    assert [e["type"] for e in stream if "mcp_call" in e["type"]] == [
        "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done", "response.mcp_call.in_progress",
        "response.mcp_call.completed"]
    text = next(e["text"] for e in stream if e["type"] == "response.output_text.done")
    assert text == _said(seen)  # the Live model speaks what the backend answered


def test_a_stand_in_tool_then_the_scenario_words(srv: ServerThread) -> None:
    """No backend: the Live model itself runs the call on the scenario's stand-in server (its first tool when the
    scenario names none) and speaks the result, or the reply's own words after the call; a call no server can
    take is spoken as the failure."""
    crm = [{"server_label": "crm", "tools": [{"name": "order_status", "result": "shipped"}]}]
    srv.control.load_scenario({"transcripts": [ASKED], "mcp_servers": crm,
                               "replies": [{"mcp_call": {"server_label": "crm"}}]})
    seen = _turn(srv, {}, "shipped.")
    assert _said(seen) == "The order_status tool returned shipped."
    assert not any(e["type"] in ("session.delegation.created", "response.event", "error") for e in seen)
    srv.control.load_scenario({"transcripts": [ASKED], "mcp_servers": crm,
                               "replies": [{"mcp_call": {"server_label": "crm"}, "text": "It is on its way."}]})
    assert _said(_turn(srv, {}, "way.")) == "It is on its way."
    srv.control.load_scenario({"transcripts": [ASKED],
                               "replies": [{"mcp_call": {"server_label": "billing", "name": "refund"}}]})
    said = _said(_turn(srv, {}, ")"))
    assert said == "The refund tool failed: Could not connect to the MCP server. Http status code: 424 (Failed " \
                   "Dependency)", said


def test_mcp_on_a_live_sip_call(srv: ServerThread) -> None:
    """A Live session answering a (simulated) SIP call runs its MCP calls too: the call's transport runs the
    directives, and the caller hears the result."""
    srv.control.load_scenario({"transcripts": [ASKED], "replies": [{"mcp_call": {"server_label": "crm"}}],
                               "mcp_servers": [{"server_label": "crm",
                                                "tools": [{"name": "order_status", "result": "shipped"}]}]})
    placed = httpx.post(srv.http_url + "/_mockrt/calls", json={"surface": "live", "audio_file": "speech_weather.wav"})
    session_id = placed.json()["live_session_id"]
    client = OpenAI(base_url=srv.http_url + "/v1", api_key="sk-test")
    client.live.sessions.accept(session_id, session={"type": "live", "model": "gpt-live-1"})
    srv.control.wait_for("session.output_transcript.delta", session_id=session_id, delta=".", timeout=30)
    client.live.sessions.hangup(session_id)
    said = "".join(e["delta"] for e in srv.control.events("session.output_transcript.delta", session_id=session_id))
    assert said.strip() == "The order_status tool returned shipped."


def test_mcp_on_a_realtime_sip_call(srv: ServerThread) -> None:
    """The same for a Realtime call's session (§9, §11): its MCP call completes and the response goes on."""
    srv.control.load_scenario({"replies": [{"mcp_call": {"server_label": "crm"}}],
                               "mcp_servers": [{"server_label": "crm",
                                                "tools": [{"name": "order_status", "result": "shipped"}]}]})
    call_id = httpx.post(srv.http_url + "/_mockrt/calls", json={"audio_file": "speech_weather.wav"}).json()["call_id"]
    client = OpenAI(base_url=srv.http_url + "/v1", api_key="sk-test")
    tools: Any = [{"type": "mcp", "server_label": "crm", "server_url": "https://crm.example/mcp",
                   "require_approval": "never"}]
    client.realtime.calls.accept(call_id, type="realtime", model="gpt-realtime", tools=tools)
    session_id = httpx.get(f"{srv.http_url}/_mockrt/calls/{call_id}").json()["session_id"]
    done = srv.control.wait_for("response.done", session_id=session_id, timeout=30)
    client.realtime.calls.hangup(call_id)
    call = next(o for o in done["response"]["output"] if o["type"] == "mcp_call")
    assert (call["name"], call["output"], call["error"]) == ("order_status", "shipped", None)
    assert done["response"]["status"] == "completed"
