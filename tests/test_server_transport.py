"""The session transport (issue 14): batched frames on mockrt's uvicorn protocol, plain ASGI elsewhere, the same
events either way; reads paused under a backlog; what orjson refuses still goes out as JSON."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from mockrt.config import ServerConfig
from mockrt.core.outputs import encode_event
from mockrt.core.responses import Pacing
from mockrt.server.websocket import READ_BACKLOG, READ_BUFFER, SessionProtocol
from mockrt.thread import ServerThread
from tests.protocol_types import validate_server_event


def _server(ws_protocol: str | None) -> ServerThread:
    server = ServerThread(ServerConfig(port=0, pacing=Pacing(audio_speed=0), log_level="warning"))
    if ws_protocol is not None:
        server._server.config.ws = ws_protocol  # uvicorn's own protocol: the plain ASGI path
    return server


@pytest.fixture(params=["session-protocol", "plain-asgi"], scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    with _server(None if request.param == "session-protocol" else "websockets-sansio") as s:
        yield s


def _open(server: ServerThread) -> ClientConnection:
    ws = connect(server.ws_url + "/v1/realtime?model=gpt-realtime", max_size=None)
    assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
    return ws


def _turn(ws: ClientConnection, text: str) -> list[dict[str, Any]]:
    ws.send(json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}))
    ws.send(json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}}))
    events = []
    while True:
        event: dict[str, Any] = json.loads(ws.recv(timeout=10))
        validate_server_event(event, "ga")
        events.append(event)
        if event["type"] == "rate_limits.updated":
            return events


def test_a_text_turn_is_the_same_on_both_paths(server: ServerThread) -> None:
    with _open(server) as ws:
        events = _turn(ws, "hello")
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["conversation.item.added", "conversation.item.done", "response.created"]
    assert kinds[-2:] == ["response.done", "rate_limits.updated"]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert deltas == done["text"] and '"hello"' in deltas


def test_session_protocol_is_in_use() -> None:
    with _server(None) as server, _open(server) as ws:
        _turn(ws, "hi")
        (record,) = server.app.state.mock.registry.live.values()
        assert isinstance(record.connection._fast, SessionProtocol)
        assert record.connection._transport.get_protocol() is record.connection._fast  # the buffered reads


def test_frames_split_and_joined_across_reads_arrive_whole(server: ServerThread) -> None:
    """The socket is read into one buffer per thread: a message larger than that buffer, frames that share a read
    and frames cut at odd places between writes all arrive whole and in order."""
    big = "x" * (READ_BUFFER + READ_BUFFER // 3)
    texts = ["first", big, "third", "fourth"]
    wire = b"".join(Frame(Opcode.TEXT, json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": t}]}}).encode()).serialize(
        mask=True) for t in texts)
    with _open(server) as ws:
        for start in range(0, len(wire), 100_003):  # cuts inside headers and payloads alike
            ws.socket.sendall(wire[start:start + 100_003])
        seen = []
        while len(seen) < len(texts):
            event = json.loads(ws.recv(timeout=10))
            assert event["type"] != "error", event
            if event["type"] == "conversation.item.added":
                seen.append(event["item"]["content"][0]["text"])
        assert seen == texts
        assert _turn(ws, "still there")[-1]["type"] == "rate_limits.updated"


def test_a_lone_surrogate_is_sent_as_an_ascii_escape(server: ServerThread) -> None:
    """orjson refuses a lone surrogate (from the client's own JSON escape); the event is still sent, escaped."""
    with _open(server) as ws:
        ws.send('{"type":"conversation.item.create","item":{"type":"message","role":"user",'
                '"content":[{"type":"input_text","text":"a\\ud800b"}]}}')
        added = json.loads(ws.recv(timeout=10))
        assert added["type"] == "conversation.item.added"
        assert added["item"]["content"][0]["text"] == "a\ud800b"
        assert _turn(ws, "still there")[-1]["type"] == "rate_limits.updated"


def test_encode_event_matches_the_json_module() -> None:
    event = {"type": "x", "text": "héllo \u2019 \n \"q\"", "n": 1, "f": 0.8, "none": None, "list": [1, "a"]}
    assert encode_event(event) == json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    big = {"n": 2**70}
    assert json.loads(encode_event(big)) == big


class _Transport:
    def __init__(self) -> None:
        self.paused = False
        self.written: list[bytes] = []

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written.append(data)


def _protocol() -> tuple[SessionProtocol, _Transport]:
    """A SessionProtocol on a recording transport (call inside a running loop)."""
    config = uvicorn.Config(app=_noop_app, ws=SessionProtocol, lifespan="off", log_config=None)
    config.load()
    protocol = SessionProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    transport = _Transport()
    protocol.transport = transport  # type: ignore[assignment]
    return protocol, transport


def test_reads_pause_only_under_a_backlog_and_resume_when_it_drains() -> None:
    async def scenario() -> None:
        protocol, transport = _protocol()
        for n in range(READ_BACKLOG):
            assert not transport.paused, n  # uvicorn's own protocol pauses after the first message
            protocol.frames, protocol.curr_msg_data_type = [b'{"type":"x"}'], "text"
            protocol.send_receive_event_to_app()
        assert transport.paused
        for _ in range(READ_BACKLOG // 2):
            assert (await protocol.receive())["type"] == "websocket.receive"
            assert transport.paused
        await protocol.receive()  # fewer than half the backlog wait now
        assert not transport.paused

    asyncio.run(scenario())


async def _noop_app(scope: Any, receive: Any, send: Any) -> None:
    return None


def test_send_frames_writes_a_batch_at_once() -> None:
    async def scenario() -> None:
        protocol, transport = _protocol()
        with pytest.raises(RuntimeError):
            protocol.send_frames([b"{}"])  # before the handshake
        protocol.handshake_complete = True
        protocol.conn.state = State.OPEN
        protocol.send_frames([b'{"a":1}', b'{"b":2}', b'{"c":3}'])
        assert len(transport.written) == 1
        assert transport.written[0] == b'\x81\x07{"a":1}\x81\x07{"b":2}\x81\x07{"c":3}'

    asyncio.run(scenario())


def test_on_message_takes_messages_in_order_and_leaves_the_rest_to_the_queue() -> None:
    async def scenario() -> None:
        protocol, _transport = _protocol()
        taken: list[str] = []
        accept = True

        def on_message(message: dict[str, Any]) -> bool:
            if accept:
                taken.append(message["text"])
            return accept

        protocol.on_message = on_message

        def deliver(text: str) -> None:
            protocol.frames, protocol.curr_msg_data_type = [text.encode()], "text"
            protocol.send_receive_event_to_app()

        deliver("1")
        accept = False  # e.g. a stalled session
        deliver("2")
        accept = True
        deliver("3")  # "2" still waits in the queue: "3" must queue behind it
        assert taken == ["1"]
        assert [(await protocol.receive())["text"] for _ in range(2)] == ["2", "3"]  # type: ignore[typeddict-item]
        deliver("4")
        assert taken == ["1", "4"]

    asyncio.run(scenario())


def _item(text: str) -> bytes:
    return json.dumps({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}).encode()


def _added_or_error(ws: ClientConnection) -> str:
    while True:
        event = json.loads(ws.recv(timeout=10))
        validate_server_event(event, "ga")
        if event["type"] == "conversation.item.added":
            return str(event["item"]["content"][0]["text"])
        if event["type"] == "error":
            return f"error:{event['error']['code']}"


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 9, 14, 100, 70_001])
def test_frames_cut_here_and_frames_left_to_websockets_keep_their_order(cut: int) -> None:
    """The protocol cuts the bytes it reads into frames itself (module docstring of mockrt/server/websocket.py):
    simple data frames are taken at once, a ping, a fragmented message and the 16- and 64-bit lengths go through
    as well, in order, wherever the reads end (headers and masks cut included)."""
    big = "b" * 70_000  # a 64-bit length
    fragmented = _item("fragmented")
    wire = b"".join(frame.serialize(mask=True) for frame in [
        Frame(Opcode.TEXT, _item("first")),
        Frame(Opcode.PING, b"p"),
        Frame(Opcode.TEXT, fragmented[:20], fin=False),
        Frame(Opcode.CONT, fragmented[20:40], fin=False),
        Frame(Opcode.PING, b"q"),  # a control frame inside a fragmented message
        Frame(Opcode.CONT, fragmented[40:]),
        Frame(Opcode.BINARY, b"\x00\x01"),
        Frame(Opcode.TEXT, _item("m" * 200)),  # a 16-bit length
        Frame(Opcode.TEXT, _item(big)),
        Frame(Opcode.TEXT, _item("last")),
    ])
    with _server(None) as server, _open(server) as ws:
        ws.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(wire), cut):
            ws.socket.sendall(wire[start:start + cut])
        assert [_added_or_error(ws) for _ in range(6)] == [
            "first", "fragmented", "error:invalid_event", "m" * 200, big, "last"]
        (record,) = server.app.state.mock.registry.live.values()
        assert record.connection._fast.splitting
        assert ws.ping().wait(timeout=10)  # a ping from the client's own protocol gets its pong
        assert _turn(ws, "still there")[-1]["type"] == "rate_limits.updated"


@pytest.mark.parametrize(("frame", "code"), [
    (b"\x81\x82" + b"\x00\x00\x00\x00" + b"\xc3\x28", 1007),  # invalid UTF-8 in a text frame
    (b"\x81\x02{}", 1002),  # a client frame without a mask
    (b"\xc1\x82" + b"\x00\x00\x00\x00" + b"{}", 1002),  # a reserved bit (no extension was negotiated)
    (b"\x80\x82" + b"\x00\x00\x00\x00" + b"{}", 1002),  # a continuation with no message under way
    (b"\x01\x82" + b"\x00\x00\x00\x00" + b"{}" + b"\x81\x82" + b"\x00\x00\x00\x00" + b"{}", 1002),  # a new
    # message while a fragmented one is under way
    (b"\x81\xff" + (17 * 1024 * 1024).to_bytes(8, "big") + b"\x00\x00\x00\x00", 1009),  # over max_frame_bytes
])
def test_a_frame_the_cut_does_not_take_gets_websockets_answer(frame: bytes, code: int) -> None:
    with _server(None) as server, _open(server) as ws:
        _turn(ws, "open")
        ws.socket.sendall(frame)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code
        with _open(server) as again:  # the server lives on
            assert _turn(again, "hi")[-1]["type"] == "rate_limits.updated"


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70_000])
def test_send_frames_writes_what_websockets_would(size: int) -> None:
    """The frame headers made in send_frames are byte for byte websockets' own (every length encoding)."""
    async def scenario() -> None:
        protocol, transport = _protocol()
        protocol.handshake_complete = True
        protocol.conn.state = State.OPEN
        payload = b"x" * size
        protocol.send_frames([payload, b"{}"])
        assert transport.written == [Frame(Opcode.TEXT, payload).serialize(mask=False)
                                     + Frame(Opcode.TEXT, b"{}").serialize(mask=False)]

    asyncio.run(scenario())


def test_a_closed_session_is_freed_without_the_garbage_collector(server: ServerThread) -> None:
    """Reference counting alone frees a closed session (its conversation's audio included): no reference cycle
    through its connection, its timer or its MCP part keeps it until a full collection, which a ``mockrt serve``
    process runs rarely (mockrt/server/runner.py ``settle_heap``)."""
    registry = server.app.state.mock.registry
    gc.disable()
    try:
        with _open(server) as ws:
            _turn(ws, "hello")
            record = next(r for r in registry.live.values() if r.connection is not None and not r.connection.closed)
            assert record.session is not None
            session = weakref.ref(record.session)
        assert registry.wait(lambda: record.ended_at is not None, 10)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), server.control.loop).result(10)  # the handler returned
        assert session() is None
    finally:
        gc.enable()
