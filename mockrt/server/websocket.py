"""uvicorn's sans-I/O WebSocket protocol with a faster path for a session's frames (issue 14).

uvicorn's protocol pauses reading on every message it queues and resumes when the application takes it (two
event-loop registrations per client event), and writes each ASGI ``websocket.send`` with its own
``transport.write`` (one system call per server event). :class:`SessionProtocol` keeps uvicorn's behaviour for
everything else (handshake, denial responses, close, PINGs, ``max_size``) and changes only that:

* reading is paused only while :data:`READ_BACKLOG` client messages wait for the session (flow control is kept:
  a client that floods still stops being read);
* :meth:`SessionProtocol.send_frames` writes a batch of text frames with one ``transport.write``, their headers
  made here (an open connection's unmasked text frame is two to ten bytes before the payload) instead of by
  websockets' ``Frame.serialize`` per frame;
* a session may take each client message as it is parsed (:attr:`SessionProtocol.on_message`), without the
  queue and the task switch in between; a message it does not take (a stalled session) is queued as usual;
* the socket is read into one buffer per thread (:class:`asyncio.BufferedProtocol`) instead of asyncio's
  ``recv(256 KiB)``, which allocates (and the allocator often returns to the system) 256 KiB per read: at
  real-time pacing each 20 ms append is a read of its own;
* once the connection is open, the bytes read are cut into whole frames here (:meth:`SessionProtocol.split`):
  an unfragmented, masked text or binary frame, the only kind a session's client sends, is unmasked (websockets'
  own C ``apply_mask``) and handed over at once; every other frame (control frames, fragments, bad UTF-8, reserved
  bits, an unmasked frame, anything once the connection is closing) goes to websockets whole, so websockets'
  parser is always at a frame boundary and decides those exactly as before. A frame too large to accept goes to
  websockets at once (it refuses it, 1009) and the cutting stops. Without a session behind it, the server's CPU
  per 20 ms append fell from 55-62 to 37-44 us (the socket read alone: 25-31 us; bench/README.md, "Fifth pass").

:class:`mockrt.server.connection.Connection` uses :meth:`~SessionProtocol.send_frames` and
:meth:`~SessionProtocol.receive` directly once a session is accepted (the handshake itself goes through the ASGI
application and its middleware); on any other ASGI server it falls back to plain ASGI messages.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any

from uvicorn._types import ASGIReceiveEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.protocol import State
from websockets.streams import StreamReader

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets without its C extension (websockets.frames does the same)
    from websockets.utils import apply_mask

READ_BACKLOG = 16
"""Client messages that may wait for the session before reading from the socket pauses."""


READ_BUFFER = 256 * 1024
"""Bytes read from the socket at once (asyncio's own ``max_size`` for a plain protocol)."""

_read_buffers = threading.local()


_AT_EOF = StreamReader.at_eof.__code__
"""What websockets' parser waits in between two frames (and only there)."""

_TEXT, _BINARY = 0x81, 0x82
"""The first byte of an unfragmented text / binary frame with no reserved bits set."""


def _read_buffer() -> memoryview:
    """This thread's read buffer: a transport fills it (``recv_into``) and :meth:`SessionProtocol.buffer_updated`
    copies the bytes out at once, before anything else runs on the thread's event loop, so one is enough."""
    buffer: memoryview | None = getattr(_read_buffers, "buffer", None)
    if buffer is None:
        buffer = _read_buffers.buffer = memoryview(bytearray(READ_BUFFER))
    return buffer


class SessionProtocol(WebSocketsSansIOProtocol, asyncio.BufferedProtocol):
    """uvicorn's ``websockets-sansio`` protocol; reads paused only under backlog, batched frame writes, reads
    into a buffer per thread."""

    on_message: Callable[[dict[str, Any]], bool] | None = None
    """Takes a ``websocket.receive`` message at once (returns ``True``) or leaves it to the queue (``False``);
    used only while nothing is queued, so messages keep their order."""

    splitting = False
    """Are the bytes read cut into frames here (:meth:`split`)? Set at the first read that finds websockets'
    parser waiting between two frames of an open connection (normally the first read after the handshake);
    cleared when a frame too large to accept is handed on (websockets then fails the connection)."""

    _partial: bytearray | None = None
    """The start of a frame not yet whole (while :attr:`splitting`), grown in place read by read."""

    _partial_need = 0
    """The bytes that frame needs in all (0 while its header is incomplete)."""

    _buffer: memoryview | None = None
    """This thread's read buffer (:func:`_read_buffer`), kept at the first read: a connection stays on its loop's
    thread."""

    def get_buffer(self, sizehint: int) -> memoryview:
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = _read_buffer()
        return buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = bytes(self._buffer[:nbytes])  # type: ignore[index]  # get_buffer came first
        if self.splitting or (self.handshake_complete and self._between_frames()):
            self.splitting = True
            self.split(data)
        else:
            self.data_received(data)

    def _between_frames(self) -> bool:
        """Is the connection open, with websockets' parser waiting for the first byte of a frame (nothing
        buffered, no fragmented message under way, no extension that would transform frames)?"""
        conn = self.conn
        if (conn.state is not State.OPEN or self.close_sent or self.initial_response is not None
                or conn.cur_size is not None or conn.extensions or conn.reader.buffer):
            return False
        waiting: Any = conn.parser
        while waiting.gi_yieldfrom is not None:
            waiting = waiting.gi_yieldfrom
        return waiting.gi_code is _AT_EOF

    def split(self, data: bytes) -> None:
        """Cut ``data`` (after what a previous read left) into whole frames: the simple data frames are taken
        here, every other frame is handed to websockets whole (see the module docstring)."""
        partial = self._partial
        if partial is not None:
            partial += data
            if len(partial) < self._partial_need:
                return  # a large frame arriving read by read: no copy of what came before
            data, self._partial = bytes(partial), None
        conn = self.conn
        end = len(data)
        pos = need = 0
        while end - pos >= 2:
            first, second = data[pos], data[pos + 1]
            length = second & 0x7F
            start = pos + 2
            if length == 126:
                if end - start < 2:
                    break
                length = int.from_bytes(data[start:start + 2])
                start += 2
            elif length == 127:
                if end - start < 8:
                    break
                length = int.from_bytes(data[start:start + 8])
                start += 8
            masked = second & 0x80
            limit = conn.max_size
            if limit is not None and length > limit - (conn.cur_size or 0):
                self.splitting = False  # websockets refuses it (1009) from its header; nothing to keep
                self.data_received(data[pos:])
                return
            stop = start + (4 if masked else 0) + length
            if stop > end:
                need = stop - pos
                break
            if masked and first in (_TEXT, _BINARY) and conn.cur_size is None \
                    and conn.state is State.OPEN:
                payload = apply_mask(data[start + 4:stop], data[start:start + 4])
                if first == _BINARY:
                    self.deliver({"type": "websocket.receive", "bytes": payload})
                    pos = stop
                    continue
                try:
                    text = payload.decode()
                except UnicodeDecodeError:
                    pass  # websockets closes with 1007
                else:
                    self.deliver({"type": "websocket.receive", "text": text})
                    pos = stop
                    continue
            self.data_received(data[pos:stop])
            pos = stop
        if pos < end:
            self._partial, self._partial_need = bytearray(memoryview(data)[pos:]), need

    def send_receive_event_to_app(self) -> None:
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        message: dict[str, Any]
        if self.curr_msg_data_type == "text":
            try:
                message = {"type": "websocket.receive", "text": data.decode()}
            except UnicodeDecodeError:  # pragma: no cover - websockets already rejects invalid UTF-8 (1007)
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            message = {"type": "websocket.receive", "bytes": data}
        self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        """A client message for the session: to :attr:`on_message` when it takes it, else to the queue."""
        if self.close_sent:
            return  # past our close: discard, keep reading until the peer's close reply (as uvicorn does)
        handler = self.on_message
        if handler is not None and self.queue.empty() and handler(message):
            return
        self.queue.put_nowait(message)  # type: ignore[arg-type]
        if not self.read_paused and self.queue.qsize() >= READ_BACKLOG:
            self.read_paused = True
            self.transport.pause_reading()

    async def receive(self) -> ASGIReceiveEvent:
        message = await self.queue.get()
        if self.read_paused and self.queue.qsize() < READ_BACKLOG // 2:
            self.read_paused = False
            self.transport.resume_reading()
        return message

    def can_send_frames(self) -> bool:
        """Is the session accepted and not closing (the state in which ``websocket.send`` is allowed)?"""
        return self.handshake_complete and not self.close_sent and self.initial_response is None

    def send_frames(self, frames: Iterable[bytes]) -> None:
        """Write text frames (UTF-8 JSON) with one ``transport.write``; the caller awaits ``writable`` first,
        as uvicorn's ``send`` does. Raises :class:`ClientDisconnected` once the peer is gone."""
        if self.disconnected:
            raise ClientDisconnected()
        if not self.can_send_frames():
            raise RuntimeError("Unexpected websocket.send: the session is not open.")
        conn = self.conn
        if conn.state is not State.OPEN or conn.extensions or conn.expect_continuation_frame:
            try:
                for frame in frames:
                    conn.send_text(frame)
            except InvalidState:
                raise ClientDisconnected() from None
            self.transport.write(b"".join(conn.data_to_send()))
            return
        # An unmasked, unfragmented text frame of an open connection without extensions, exactly as websockets'
        # Frame.serialize writes it (RFC 6455 §5.2), after anything websockets still holds (a pong).
        out = conn.data_to_send()
        for frame in frames:
            n = len(frame)
            out.append(bytes((0x81, n)) if n < 126 else
                       (b"\x81\x7e" + n.to_bytes(2) if n < 65536 else b"\x81\x7f" + n.to_bytes(8)))
            out.append(frame)
        self.transport.write(b"".join(out))
