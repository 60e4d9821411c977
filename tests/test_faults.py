"""Faults and races, reproduced deterministically (issue: scenarios, faults, races, journal)."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from openai import OpenAI
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mockrt.core.faults import Faults
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.audio_fixtures import load_speech
from tests.harness import SLOW, Harness, only, types
from tests.protocol_types import validate_server_event

pytestmark = pytest.mark.usefixtures("reset_mock")


def _ws(server: ServerThread) -> ClientConnection:
    return connect(server.ws_url + "/v1/realtime?model=gpt-realtime", max_size=None)


def _recv(ws: ClientConnection) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return event


def _turn(ws: ClientConnection, text: str = "hi", modality: str = "text") -> list[dict[str, Any]]:
    ws.send(json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}))
    ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": [modality]}}))
    events = []
    while True:
        event = _recv(ws)
        events.append(event)
        if event["type"] == "rate_limits.updated":
            return events


def _close_of(ws: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=10)
    rcvd = info.value.rcvd
    return rcvd.code if rcvd is not None else 1006


# -- message faults ---------------------------------------------------------------------------------------


def test_drop_duplicate_and_reorder(mock: ServerThread) -> None:
    mock.control.set_faults({"drop": ["response.content_part.added"], "duplicate": ["response.output_text.done"],
                             "reorder": ["response.output_item.added"]})
    with _ws(mock) as ws:
        _recv(ws)
        names = [e["type"] for e in _turn(ws)]
    assert "response.content_part.added" not in names
    assert names.count("response.output_text.done") == 2
    assert names.index("conversation.item.added") < names.index("response.output_item.added")


def test_delay_lets_later_events_overtake(mock: ServerThread) -> None:
    mock.control.set_faults({"delay_ms": {"response.created": 200}})
    with _ws(mock) as ws:
        _recv(ws)
        names = [e["type"] for e in _turn(ws)]
        assert "response.created" not in names  # still held back
        assert _recv(ws)["type"] == "response.created"  # it arrives last


def test_split_audio_deltas(mock: ServerThread) -> None:
    with _ws(mock) as ws:
        _recv(ws)
        plain = [e for e in _turn(ws, modality="audio") if e["type"] == "response.output_audio.delta"]
    mock.control.set_faults({"split_audio_deltas": 4})
    with _ws(mock) as ws:
        _recv(ws)
        split = [e for e in _turn(ws, modality="audio") if e["type"] == "response.output_audio.delta"]
    assert len(split) >= 3 * len(plain)
    assert b"".join(base64.b64decode(e["delta"]) for e in split) == \
        b"".join(base64.b64decode(e["delta"]) for e in plain)
    assert len({e["event_id"] for e in split}) == len(split)
    for event in split:
        validate_server_event(event, "ga")


# -- connection faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1006, 1011, 1012, 1013])
def test_close_codes(mock: ServerThread, code: int) -> None:
    mock.control.set_faults({"close": {"code": code, "on_client_event": "response.create"}})
    with _ws(mock) as ws:
        _recv(ws)
        ws.send(json.dumps({"type": "response.create"}))
        assert _close_of(ws) == code
    mock.control.set_faults(None)
    with _ws(mock) as ws:  # the server still serves new sessions
        assert _recv(ws)["type"] == "session.created"


def test_stall_then_recover(mock: ServerThread) -> None:
    mock.control.set_faults({"stall": {"seconds": 0.3, "after_server_events": 1}})
    with _ws(mock) as ws:
        assert _recv(ws)["type"] == "session.created"
        ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.1)  # stalled
        assert _recv(ws)["type"] == "input_audio_buffer.cleared"


@pytest.mark.parametrize(("status", "retry_after"), [(401, None), (403, None), (429, 3)])
def test_refused_handshakes(mock: ServerThread, status: int, retry_after: int | None) -> None:
    refuse: dict[str, Any] = {"status": status, "times": 1}
    if retry_after is not None:
        refuse["retry_after"] = retry_after
    mock.control.set_faults({"refuse": refuse})
    with pytest.raises(InvalidStatus) as info:
        _ws(mock)
    response = info.value.response
    assert response.status_code == status
    if retry_after is not None:
        assert response.headers["Retry-After"] == str(retry_after)
    with _ws(mock) as ws:  # only once
        assert _recv(ws)["type"] == "session.created"


def test_sdk_reconnects_after_a_1012_close(mock: ServerThread) -> None:
    mock.control.set_faults({"close": {"code": 1012, "after_server_events": 1}})
    attempts: list[int] = []

    def on_reconnecting(event: Any) -> None:
        attempts.append(event.close_code)
        mock.control.set_faults(None)

    client = OpenAI(base_url=mock.http_url + "/v1", api_key="sk-test")
    with client.realtime.connect(model="gpt-realtime", on_reconnecting=on_reconnecting, initial_delay=0.01,
                                 max_delay=0.05) as conn:
        events = iter(conn)  # the SDK reconnects while iterating
        assert next(events).type == "session.created"
        assert next(events).type == "session.created"  # a new session after the reconnect
    assert attempts == [1012]


# -- service errors ------------------------------------------------------------------------------------------


def test_service_errors(mock: ServerThread) -> None:
    mock.control.set_faults({"service_error": {"kind": "server_error", "on_client_event": "input_audio_buffer.clear"}})
    with _ws(mock) as ws:
        _recv(ws)
        ws.send(json.dumps({"type": "input_audio_buffer.clear", "event_id": "c1"}))
        err = _recv(ws)["error"]
        assert err["type"] == "server_error" and err["code"] == "server_error" and err["event_id"] == "c1"
        ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
        assert _recv(ws)["type"] == "input_audio_buffer.cleared"  # one-shot; the session lives on
    mock.control.set_faults({"service_error": {"kind": "session_expired", "after_server_events": 1}})
    with _ws(mock) as ws:
        _recv(ws)
        ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
        assert _recv(ws)["error"]["code"] == "session_expired"
        assert _close_of(ws) == 1001


# -- races (the client error each one causes) ------------------------------------------------------------


def test_race_auto_response_after_tool_output(mock: ServerThread) -> None:
    mock.control.set_faults({"races": ["auto_response_after_tool_output"]})
    client = OpenAI(base_url=mock.http_url + "/v1", api_key="sk-test")
    tool = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
    with client.realtime.connect(model="gpt-realtime") as conn:
        conn.response.create(response={"output_modalities": ["text"], "tools": [tool], "tool_choice": "required"})
        call = next(e for e in conn if e.type == "response.done").response.output[0]  # type: ignore[union-attr]
        conn.conversation.item.create(item={"type": "function_call_output", "call_id": call.call_id, "output": "{}"})
        conn.response.create(event_id="mine")
        error = next(e for e in conn if e.type == "error")
        assert error.error.code == "conversation_already_has_active_response"  # type: ignore[union-attr]
        assert error.error.event_id == "mine"  # type: ignore[union-attr]


def test_race_auto_response_after_commit() -> None:
    h = Harness("ga", faults=Faults(races=["auto_response_after_commit"]))
    h.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}})
    h.append_ms(300)
    got = h.send({"type": "input_audio_buffer.commit"}) + h.send({"type": "response.create", "event_id": "r"})
    assert "response.created" in types(got)
    err = only(got, "error")["error"]
    assert err["code"] == "conversation_already_has_active_response" and err["event_id"] == "r"


def test_race_barge_in_before_the_first_audio_delta() -> None:
    h = Harness("ga", pacing=SLOW, faults=Faults(races=["barge_in_before_audio"]))
    h.user_text("hello")
    h.send({"type": "response.create"})
    h.advance(1.0)
    pcm = np.concatenate([load_speech("lights").pcm[: 24000 * 2]])
    got = h.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm.tobytes()).decode()})
    done = only(got, "response.done")["response"]
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert done["output"] == []
    assert not any(e["type"] == "response.output_audio.delta" for e in h.events)


def test_faults_are_deterministic() -> None:
    def run() -> list[str]:
        h = Harness("ga", pacing=Pacing(audio_speed=0, jitter_ms=5, seed=3),
                    faults=Faults(duplicate=["response.output_text.delta"], seed=1))
        h.user_text("same every time")
        h.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        h.run_until_idle()
        return [json.dumps(e, sort_keys=True) for e in h.events]

    assert run() == run()
