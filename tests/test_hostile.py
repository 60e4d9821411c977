"""Hostile input, misbehaving clients, limits and secrets (issue: load, faults and hostile input)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event

KEY = "sk-hostile-secret-key-0123456789"


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerThread]:
    config = ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning", max_send_buffer=256 * 1024,
                          send_timeout_s=1.0,
                          max_frame_bytes=16 * 1024 * 1024 + 4096)
    with ServerThread(config) as server:
        yield server


def _open(server: ServerThread, **kw: Any) -> ClientConnection:
    ws = connect(server.ws_url + "/v1/realtime?model=gpt-realtime", max_size=None, **kw)
    json.loads(ws.recv(timeout=5))
    return ws


def _recv(ws: ClientConnection) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(ws.recv(timeout=10))
    validate_server_event(event, "ga")
    return event


def _text_turn_works(ws: ClientConnection) -> None:
    ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"],
                                                                "conversation": "none"}}))
    while (event := _recv(ws))["type"] != "response.done":
        pass
    assert event["response"]["status"] == "completed"


def _loop_tasks(server: ServerThread) -> int:
    async def count() -> int:
        return len(asyncio.all_tasks())
    return asyncio.run_coroutine_threadsafe(count(), server.control.loop).result(5)


def test_deeply_nested_and_huge_json(srv: ServerThread) -> None:
    with _open(srv) as ws:
        ws.send("[" * 200_000 + "]" * 200_000)
        assert _recv(ws)["error"]["code"] == "invalid_json"
        ws.send(json.dumps({"type": "session.update", "event_id": "n", "session": {"type": "realtime",
                            "instructions": {"a": [[[[[[{"b": 1}]]]]]]}}}))
        assert _recv(ws)["error"]["param"] == "session.instructions"
        big = {"type": "realtime", "instructions": "x" * 5_000_000}
        ws.send(json.dumps({"type": "session.update", "session": big}))
        assert _recv(ws)["type"] == "session.updated"  # instructions have no documented length limit
        _text_turn_works(ws)


def test_oversize_frame_closes_1009_and_server_lives_on(srv: ServerThread) -> None:
    ws = _open(srv)
    codes: list[int | None] = []
    try:  # the server fails the connection with 1009 as soon as it reads the frame header: the client may
        ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * (17 * 1024 * 1024)}))
        ws.recv(timeout=10)  # still be sending when the socket closes, or read the close frame
    except ConnectionClosed as exc:
        codes.append(exc.rcvd.code if exc.rcvd is not None else None)
    except OSError:
        codes.append(None)
    finally:
        ws.close()
    assert codes in ([1009], [None])
    with _open(srv) as ws:
        _text_turn_works(ws)


def test_client_that_stops_reading_is_closed_1008(srv: ServerThread) -> None:
    """A raw client (sans-I/O handshake) that never reads after the upgrade: the server must not buffer without
    bound. (A websockets client would keep reading in its background thread.)"""
    before = {r.id for r in srv.control.state.registry.all()}  # before connecting: ours must not be in it
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    protocol = ClientProtocol(parse_uri(srv.ws_url + "/v1/realtime?model=gpt-realtime"), max_size=None)
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    while protocol.handshake_exc is None and not any(isinstance(e, Response) for e in protocol.events_received()):
        protocol.receive_data(sock.recv(65536))
    try:
        for i in range(80):  # parallel out-of-band audio responses: megabytes nobody reads
            protocol.send_text(json.dumps({"type": "response.create", "event_id": f"r{i}",
                                           "response": {"conversation": "none"}}).encode())
            sock.sendall(b"".join(protocol.data_to_send()))
        registry = srv.control.state.registry
        closed = registry.wait(lambda: [r for r in registry.recent if r.id not in before], 20)
        assert closed and closed[0].close_code == 1008
    finally:
        sock.close()
    with _open(srv) as ws:
        _text_turn_works(ws)


def test_abrupt_disconnects_leak_nothing(srv: ServerThread) -> None:
    baseline = _loop_tasks(srv)
    for i in range(150):
        ws = connect(srv.ws_url + "/v1/realtime?model=gpt-realtime", max_size=None)
        ws.recv(timeout=5)
        if i % 3 == 0:  # mid-response
            ws.send(json.dumps({"type": "response.create"}))
        elif i % 3 == 1:  # mid-append
            ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\0" * 9600).decode()}))
        ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame
        ws.socket.close()
        ws.close()
        raw = socket.create_connection(("127.0.0.1", srv.port))  # mid-handshake
        raw.sendall(b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        raw.close()
    srv.control.state.registry.wait(lambda: not srv.control.state.registry.live, 10)
    assert srv.control.state.active_sessions == 0
    assert _loop_tasks(srv) <= baseline + 2
    with _open(srv) as ws:
        _text_turn_works(ws)


near_valid = st.fixed_dictionaries(
    {"type": st.sampled_from(["session.update", "input_audio_buffer.append", "conversation.item.create",
                              "conversation.item.truncate", "response.create", "response.cancel",
                              "conversation.item.delete", "input_audio_buffer.commit"]),
     "event_id": st.text(min_size=1, max_size=12)},
    optional={
        "session": st.fixed_dictionaries({"type": st.just("realtime")}, optional={
            "instructions": st.one_of(st.text(max_size=30), st.integers()),
            "output_modalities": st.lists(st.sampled_from(["audio", "text", "video"]), max_size=3),
            "audio": st.fixed_dictionaries({}, optional={"input": st.fixed_dictionaries({}, optional={
                "format": st.fixed_dictionaries({"type": st.sampled_from(["audio/pcm", "audio/pcmu", "x"])},
                                                optional={"rate": st.integers(0, 48000)}),
                "turn_detection": st.none() | st.fixed_dictionaries(
                    {"type": st.sampled_from(["server_vad", "semantic_vad", "bogus"])},
                    optional={"threshold": st.floats(-1, 2), "silence_duration_ms": st.integers(-5, 20000)})})}),
        }),
        "audio": st.one_of(st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()), st.text(max_size=20)),
        "item": st.fixed_dictionaries({"type": st.sampled_from(["message", "function_call_output", "nope"])},
                                      optional={"role": st.sampled_from(["user", "assistant", "system", "x"]),
                                                "content": st.lists(st.fixed_dictionaries(
                                                    {"type": st.sampled_from(["input_text", "output_text", "x"])},
                                                    optional={"text": st.text(max_size=10)}), max_size=2),
                                                "call_id": st.text(max_size=5), "output": st.text(max_size=5)}),
        "item_id": st.text(max_size=8),
        "content_index": st.integers(-2, 3),
        "audio_end_ms": st.integers(-10, 10_000),
        "response": st.fixed_dictionaries({}, optional={
            "output_modalities": st.lists(st.sampled_from(["audio", "text"]), max_size=2),
            "conversation": st.sampled_from(["auto", "none", "other"]),
            "metadata": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)}),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(near_valid, min_size=1, max_size=6))
def test_near_valid_events_over_the_socket(srv: ServerThread, events: list[dict[str, Any]]) -> None:
    with _open(srv) as ws:
        for event in events:
            ws.send(json.dumps(event))
        ws.send(json.dumps({"type": "input_audio_buffer.clear", "event_id": "sync"}))
        while (got := _recv(ws))["type"] != "input_audio_buffer.cleared":
            if got["type"] == "error":
                err = got["error"]
                assert set(err) == {"type", "code", "message", "param", "event_id"}
                assert err["event_id"] in {e["event_id"] for e in events} | {None}
        _text_turn_works(ws)


def test_keys_never_reach_logs_or_journals(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = ServerConfig(port=0, api_keys=(KEY,), pacing=Pacing(audio_speed=0), log_level="debug")
    with ServerThread(config) as server:
        ways: list[dict[str, Any]] = [{"additional_headers": {"Authorization": f"Bearer {KEY}"}},
                                      {"subprotocols": ["realtime", f"openai-insecure-api-key.{KEY}"]}]
        for kwargs in ways:
            with connect(server.ws_url + "/v1/realtime?model=gpt-realtime", **kwargs) as ws:
                ws.recv(timeout=5)
                _text_turn_works(ws)
        with connect(server.ws_url + f"/openai/realtime?api-version=2024-10-01-preview&deployment=d&api-key={KEY}"):
            pass
        dumped = json.dumps(server.control.journal()) + json.dumps(server.control.sessions())
    assert KEY not in dumped
    # The server's logs (the test's own websockets client logs its request headers at DEBUG: not ours).
    server_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("mockrt", "uvicorn")))
    assert KEY not in server_logs
    assert "session started" in server_logs  # the logs were captured at all
