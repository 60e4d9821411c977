"""The thin I/O loop around one :class:`~mockrt.core.session.RealtimeSession` (sans-I/O, as in websockets and h11).

One reader (frames → core), one timer (``loop.call_at`` the core's next deadline → ``poll``) and one
writer that drains an ordered queue of the core's outputs. Core calls are synchronous, so outputs are
queued in the order the core produced them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from mockrt.core.outputs import Abort, Close, Output, Send, Stall
from mockrt.core.sans_io import SessionCore
from mockrt.logs import SessionAdapter, elide

logger = logging.getLogger("mockrt.session")

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Connection:
    """Drive one session over one accepted WebSocket."""

    def __init__(self, ws: WebSocket, session: SessionCore, clock: Callable[[], float],
                 max_send_buffer: int = 32 * 1024 * 1024, send_timeout: float = 10.0) -> None:
        self.ws = ws
        self.session = session
        self.clock = clock
        self.queue: asyncio.Queue[Output | None] = asyncio.Queue()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._loop = asyncio.get_running_loop()
        self.closed = False
        self.close_code: int | None = None  # the close code we sent, if we closed
        self._flowing = asyncio.Event()  # cleared while a Stall fault holds the connection
        self._flowing.set()
        self.max_send_buffer = max_send_buffer
        self.send_timeout = send_timeout
        self._queued_bytes = 0  # approximate size of the Send outputs waiting for the writer
        self._overflow_task: asyncio.Task[None] | None = None
        self._protocol = getattr(ws.scope.get("mockrt.server_send"), "__self__", None)
        self._transport = self._find_transport()
        self.log = SessionAdapter(logger, {"session_id": session.session_id})
        self._trace = logger.isEnabledFor(logging.DEBUG)

    def _push(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._queued_bytes += _size(out)
                if self._queued_bytes > self.max_send_buffer and self._writer_blocked() and not self.closed:
                    self._overflow()
                    return
            if self._trace:
                self.log.debug("server %s", json.dumps(elide(out.event)) if isinstance(out, Send) else out)
            self.queue.put_nowait(out)
        self._schedule()

    def _schedule(self) -> None:
        deadline = self.session.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            # The core's clock is the loop's monotonic clock, so deadlines map 1:1 onto loop time.
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, None
        if not self.closed:
            self._push(self.session.poll(self.clock()))

    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        self.log.info("session started (%s)", self.session.dialect.name)
        try:
            self._push(self.session.start())
            await self._reader()
        finally:
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
            self.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
            self.log.info("session ended (close code %s)", self.close_code)

    async def _reader(self) -> None:
        receive = self.ws.receive
        session = self.session
        while not session.closed:
            if not self._flowing.is_set():
                await self._flowing.wait()
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            now = self.clock()
            text = message.get("text")
            if self._trace:
                self.log.debug("client %s", text[:2000] if text is not None and "input_audio_buffer.append"
                               not in text[:80] else f"<{len(text or message.get('bytes') or b'')} bytes>")
            if text is not None:
                self._push(session.receive_text(text, now))
            else:
                self._push(session.receive_bytes(message.get("bytes") or b"", now))

    async def _writer(self) -> None:
        ws = self.ws
        try:
            while True:
                out = await self.queue.get()
                if out is None:
                    return
                if isinstance(out, Send):
                    if self._writer_blocked() and (self._queued_bytes > self.max_send_buffer
                                                   or not await self._wait_writable()):
                        self._overflow()  # the client is not reading: a burst beyond the limit, or too long
                        return
                    self._queued_bytes -= _size(out)
                    await ws.send_text(_dumps(out.event))
                elif isinstance(out, Close):
                    self.close_code = out.code
                    await ws.close(out.code, out.reason)
                    self.closed = True
                    return
                elif isinstance(out, Abort):
                    self.close_code = 1006
                    if not self._abort():  # pragma: no cover - only on ASGI servers other than uvicorn
                        await ws.close(1011, "connection aborted")
                    self.closed = True
                    return
                elif isinstance(out, Stall):
                    await self._stall(out.seconds)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            self.log.debug("writer stopped: %r", exc)
            self.closed = True

    def _overflow(self) -> None:
        """The client stopped reading and ``max_send_buffer`` bytes wait for it: drop what is queued and end the
        session instead of growing memory. uvicorn already holds back writes to a peer that does not read, so a
        close frame cannot reach it: try 1008 (policy violation) briefly, then drop the connection."""
        self.log.warning("over %d bytes wait for a client that is not reading; closing", self.max_send_buffer)
        self.closed = self.session.closed = True
        self.close_code = 1008
        while not self.queue.empty():
            self.queue.get_nowait()
        self._queued_bytes = 0
        # Keep a reference: the loop holds tasks only weakly, and this one must run to the end.
        self._overflow_task = self._loop.create_task(self._close_or_drop())

    async def _close_or_drop(self, grace_s: float = 2.0) -> None:
        """Queue the 1008 close; a client that reads again within ``grace_s`` gets it, a dead one is dropped
        (which also releases the writer, blocked on a transport that will never drain)."""
        try:
            await asyncio.wait_for(self.ws.close(1008, "client is not reading: send buffer limit exceeded"), grace_s)
        except Exception as exc:  # whatever the close attempt met, the connection must end below
            self.log.debug("close after overflow failed: %r", exc)
        deadline = self._loop.time() + grace_s
        transport = self._transport
        while transport is not None and transport.get_write_buffer_size() and self._loop.time() < deadline:
            await asyncio.sleep(0.05)
        if transport is not None and transport.get_write_buffer_size():
            self._abort()

    async def _stall(self, seconds: float | None) -> None:
        """Stop reading and writing (a hung server); ``None`` holds until the client disconnects."""
        self._flowing.clear()
        try:
            if seconds is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(seconds)
        finally:
            self._flowing.set()

    def _abort(self) -> bool:
        """Drop the TCP connection without a close frame (the client sees 1006).

        ASGI has no abort; uvicorn's transport does it. Without it the caller falls back to an immediate 1011
        close.
        """
        if self._transport is None:
            return False
        self._transport.abort()
        return True

    def _find_transport(self) -> asyncio.WriteTransport | None:
        """uvicorn's transport for this connection (via the server's ``send`` that
        :class:`mockrt.server.app.KeepServerSend` keeps in the scope), or ``None`` on other ASGI servers."""
        transport = getattr(self._protocol, "transport", None)
        return transport if isinstance(transport, asyncio.WriteTransport) else None

    async def _wait_writable(self) -> bool:
        """Wait (at most ``send_timeout`` seconds) for uvicorn to accept writes again."""
        writable = getattr(self._protocol, "writable", None)
        if not isinstance(writable, asyncio.Event):
            return True
        try:
            await asyncio.wait_for(writable.wait(), self.send_timeout)
        except TimeoutError:
            return False
        return True

    def _writer_blocked(self) -> bool:
        """Is uvicorn holding back our writes because the peer does not read (its flow-control event)?
        A burst of unpaced output is fine while the peer keeps reading."""
        writable = getattr(self._protocol, "writable", None)
        return not writable.is_set() if isinstance(writable, asyncio.Event) else True

    def apply(self, action: Callable[[Any, float], list[Output]]) -> None:
        """Run a control action on the session from the loop (``loop.call_soon_threadsafe``) and send its outputs."""
        if not self.closed and not self.session.closed:
            self._push(action(self.session, self.clock()))


def _size(send: Send) -> int:
    """Approximate wire size of an event: its base64 payload dominates when there is one."""
    delta = send.event.get("delta") or send.event.get("audio")
    return 200 + (len(delta) if isinstance(delta, str) else 0)
