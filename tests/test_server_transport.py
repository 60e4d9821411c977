"""The session transport (issue 14): batched frames on mockrt's uvicorn protocol, plain ASGI elsewhere, the same
events either way; reads paused under a backlog; what orjson refuses still goes out as JSON."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from mockrt.config import ServerConfig
from mockrt.core.responses import Pacing
from mockrt.server.connection import encode_event
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
        self.closed = False
        self.written: list[bytes] = []

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_reads_pause_only_under_a_backlog_and_resume_when_it_drains() -> None:
    async def scenario() -> None:
        config = uvicorn.Config(app=_noop_app, ws=SessionProtocol, lifespan="off", log_config=None)
        config.load()
        protocol = SessionProtocol(config, ServerState(), {}, asyncio.get_running_loop())
        transport = _Transport()
        protocol.transport = transport  # type: ignore[assignment]
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
        config = uvicorn.Config(app=_noop_app, ws=SessionProtocol, lifespan="off", log_config=None)
        config.load()
        protocol = SessionProtocol(config, ServerState(), {}, asyncio.get_running_loop())
        transport = _Transport()
        protocol.transport = transport  # type: ignore[assignment]
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
        config = uvicorn.Config(app=_noop_app, ws=SessionProtocol, lifespan="off", log_config=None)
        config.load()
        protocol = SessionProtocol(config, ServerState(), {}, asyncio.get_running_loop())
        protocol.transport = _Transport()  # type: ignore[assignment]
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


def _open_protocol(fast: bool) -> tuple[SessionProtocol, _Transport, list[dict[str, Any]]]:
    """A :class:`SessionProtocol` past a real handshake (websockets' parser now reads frames); with ``fast``
    False, every read goes through websockets' parser and uvicorn's dispatch, as on uvicorn's own protocol."""
    config = uvicorn.Config(app=_noop_app, ws=SessionProtocol, lifespan="off", log_config=None, ws_max_size=4096)
    config.load()
    protocol = SessionProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    transport = _Transport()
    protocol.transport = transport  # type: ignore[assignment]
    protocol.conn.receive_data(b"GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    (request,) = protocol.conn.events_received()
    protocol.conn.send_response(protocol.conn.accept(request))  # type: ignore[arg-type]
    protocol.conn.data_to_send()
    protocol.handshake_complete = True
    taken: list[dict[str, Any]] = []
    protocol.on_message = lambda message: taken.append(message) is None
    if not fast:
        protocol._at_frame_boundary = lambda: False  # type: ignore[method-assign]
    return protocol, transport, taken


def _frame(opcode: Opcode, data: bytes, fin: bool = True, mask: bool = True) -> bytes:
    return Frame(opcode, data, fin).serialize(mask=mask)


@pytest.mark.parametrize("tail", ["ping", "fragments", "binary", "bad-utf8", "unmasked", "too-big", "close"])
def test_text_frames_parsed_here_match_websockets_and_uvicorn(tail: str) -> None:
    """Whole text frames are parsed by the protocol itself; whatever else follows (at any cut of the reads) gets
    exactly what websockets' parser and uvicorn give it: the same messages, in order, the same bytes written
    (PONG, close codes), the same end state. Only when the tail is a protocol error (an unmasked or oversized
    frame) sharing a read with text frames may mockrt deliver more: uvicorn drops the messages that share a read
    with a protocol error (which depends on how TCP cut the stream), mockrt what it parsed before the bad
    frame."""
    texts = [b'{"type":"a"}', "é".encode() * 70, b"x" * 300, b""]
    head = b"".join(_frame(Opcode.TEXT, t) for t in texts)
    stream = head + {
        "ping": _frame(Opcode.PING, b"p") + _frame(Opcode.TEXT, b"after ping"),
        "fragments": _frame(Opcode.TEXT, b"frag", fin=False) + _frame(Opcode.CONT, b"ment") + _frame(Opcode.TEXT, b"z"),
        "binary": _frame(Opcode.BINARY, b"\x00\x01") + _frame(Opcode.TEXT, b"after binary"),
        "bad-utf8": _frame(Opcode.TEXT, b"\xff\xfe") + _frame(Opcode.TEXT, b"never"),
        "unmasked": _frame(Opcode.TEXT, b"plain", mask=False) + _frame(Opcode.TEXT, b"never"),
        "too-big": _frame(Opcode.TEXT, b"y" * 5000) + _frame(Opcode.TEXT, b"never"),
        "close": _frame(Opcode.CLOSE, b"\x03\xe8bye") + _frame(Opcode.TEXT, b"never"),
    }[tail]
    rng = random.Random(tail)

    async def run(fast: bool, cuts: list[int]) -> tuple[Any, ...]:
        protocol, transport, taken = _open_protocol(fast)
        for a, b in itertools.pairwise([0, *cuts, len(stream)]):
            if not protocol.close_sent and not transport.closed:
                protocol.data_received(stream[a:b])
        queued = [protocol.queue.get_nowait() for _ in range(protocol.queue.qsize())]
        return taken, queued, transport.written, transport.closed, protocol.conn.state, protocol.close_sent

    async def scenario() -> None:
        for cuts in [[], [1], [7], [len(stream) - 3], *(sorted(rng.sample(range(1, len(stream)), 4))
                                                        for _ in range(30))]:
            apart = sorted({*cuts, len(head)})  # the tail in a read of its own
            assert await run(True, apart) == await run(False, apart), cuts
            fast, slow = await run(True, cuts), await run(False, cuts)
            assert fast[2:] == slow[2:], cuts
            if tail in ("unmasked", "too-big"):
                got_fast = [m["text"].encode() for m in fast[0] + fast[1] if "text" in m]
                got_slow = [m["text"].encode() for m in slow[0] + slow[1] if "text" in m]
                assert got_fast == texts[:len(got_fast)] and got_slow == texts[:len(got_slow)], cuts
                assert len(got_fast) >= len(got_slow), cuts
                assert fast[1][-1] == slow[1][-1], cuts
                assert fast[1][-1]["code"] == (1002 if tail == "unmasked" else 1009), cuts
            else:
                assert fast == slow, cuts

    asyncio.run(scenario())
