"""uvicorn's sans-I/O WebSocket protocol with a faster path for a session's frames (issue 14).

uvicorn's protocol pauses reading on every message it queues and resumes when the application takes it (two
event-loop registrations per client event), and writes each ASGI ``websocket.send`` with its own
``transport.write`` (one system call per server event). :class:`SessionProtocol` keeps uvicorn's behaviour for
everything else (handshake, denial responses, close, PINGs, ``max_size``) and changes only that:

* reading is paused only while :data:`READ_BACKLOG` client messages wait for the session (flow control is kept:
  a client that floods still stops being read);
* :meth:`SessionProtocol.send_frames` writes a batch of text frames with one ``transport.write``;
* a session may take each client message as it is parsed (:attr:`SessionProtocol.on_message`), without the
  queue and the task switch in between; a message it does not take (a stalled session) is queued as usual;
* the socket is read into one buffer per thread (:class:`asyncio.BufferedProtocol`) instead of asyncio's
  ``recv(256 KiB)``, which allocates (and the allocator often returns to the system) 256 KiB per read: at
  real-time pacing each 20 ms append is a read of its own.

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

READ_BACKLOG = 16
"""Client messages that may wait for the session before reading from the socket pauses."""


READ_BUFFER = 256 * 1024
"""Bytes read from the socket at once (asyncio's own ``max_size`` for a plain protocol)."""

_read_buffers = threading.local()


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

    def get_buffer(self, sizehint: int) -> memoryview:
        return _read_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(_read_buffer()[:nbytes]))

    def send_receive_event_to_app(self) -> None:
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return  # past our close: discard, keep reading until the peer's close reply (as uvicorn does)
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
        try:
            for frame in frames:
                conn.send_text(frame)
        except InvalidState:
            raise ClientDisconnected() from None
        self.transport.write(b"".join(conn.data_to_send()))
