"""The thin I/O loop around one sans-I/O session (:class:`~mockrt.core.sans_io.SansIOSession`: realtime,
transcription or translation; as in websockets and h11).

One reader (frames → core), one timer (``loop.call_at`` the core's next deadline → ``poll``) and one
writer that drains an ordered queue of the core's outputs. Core calls are synchronous, so outputs are
queued in the order the core produced them.

On uvicorn with :class:`~mockrt.server.websocket.SessionProtocol` (what :mod:`mockrt.server.runner` runs), an
accepted session reads and writes through the protocol directly: consecutive events (each ``Send``'s frame, encoded
once by the core for its journal and the wire) are written as one batch of frames, without an ASGI message and
Starlette's wrappers per event (issue 14).
The handshake itself went through the ASGI application and its middleware. Elsewhere, plain ASGI messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.utils import ClientDisconnected

from mockrt.core.dialects import AUDIO_PAYLOADS
from mockrt.core.mcp import CallTool, ListTools
from mockrt.core.outputs import Abort, Close, Output, Send, Stall
from mockrt.core.sans_io import SansIOSession
from mockrt.logs import SessionAdapter, elide
from mockrt.server.deadline import DeadlineTimer
from mockrt.server.mcp_runner import ExecutorFactory, McpHost, McpRunner
from mockrt.server.websocket import SessionProtocol

logger = logging.getLogger("mockrt.session")

_BATCH = 64
"""At most this many queued events are written with one ``transport.write``."""


class Outbox:
    """The ordered queue between the core and the writer (``None`` ends the writer)."""

    __slots__ = ("_items", "_wake")

    def __init__(self) -> None:
        self._items: deque[Output | None] = deque()
        self._wake = asyncio.Event()

    def put_nowait(self, item: Output | None) -> None:
        self._items.append(item)
        self._wake.set()

    def extend(self, items: list[Output]) -> None:
        self._items.extend(items)
        self._wake.set()

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> Output | None:
        return self._items.popleft()

    async def get(self) -> Output | None:
        while not self._items:
            self._wake.clear()
            await self._wake.wait()
        return self._items.popleft()

    def next_is_send(self) -> bool:
        return bool(self._items) and isinstance(self._items[0], Send)


class Connection:
    """Drive one session over one accepted WebSocket."""

    def __init__(self, ws: WebSocket, session: SansIOSession, clock: Callable[[], float],
                 max_send_buffer: int = 32 * 1024 * 1024, send_timeout: float = 10.0,
                 mcp_executor: ExecutorFactory | None = None) -> None:
        self.ws = ws
        self.session = session
        self.clock = clock
        self.queue = Outbox()
        self._timer = DeadlineTimer(self._on_timer)
        self._loop = asyncio.get_running_loop()
        self.closed = False
        self.close_code: int | None = None  # the close code we sent, if we closed
        self._flowing = asyncio.Event()  # cleared while a Stall fault holds the connection
        self._flowing.set()
        self.max_send_buffer = max_send_buffer
        self.send_timeout = send_timeout
        self._queued_bytes = 0  # approximate size of the Send outputs waiting for the writer
        self._overflow_task: asyncio.Task[None] | None = None
        self._writer_idle = False  # the writer waits for the queue (so _push may write directly)
        self._protocol = getattr(ws.scope.get("mockrt.server_send"), "__self__", None)
        self._fast = self._protocol if isinstance(self._protocol, SessionProtocol) else None
        self._transport = self._find_transport()
        self.log = SessionAdapter(logger, {"session_id": session.session_id})
        self._trace = logger.isEnabledFor(logging.DEBUG)
        self.mcp = (McpRunner(session, clock, self._push, mcp_executor)
                    if mcp_executor is not None and isinstance(session, McpHost) else None)

    def _push(self, outputs: list[Output]) -> None:
        if outputs and any(isinstance(out, ListTools | CallTool) for out in outputs):  # MCP directives (§9)
            for out in outputs:
                if isinstance(out, ListTools | CallTool) and self.mcp is not None:
                    self.mcp.start(out)
            outputs = [out for out in outputs if not isinstance(out, ListTools | CallTool)]
        if outputs:
            if self._trace:
                for out in outputs:
                    self.log.debug("server %s", json.dumps(elide(out.event)) if isinstance(out, Send) else out)
            if self._writer_idle and self.queue.empty():
                outputs = self._write_now(outputs)
            if outputs:
                self._queued_bytes += sum(_size(out) for out in outputs if isinstance(out, Send))
                if self._queued_bytes > self.max_send_buffer and self._writer_blocked() and not self.closed:
                    self._overflow()  # drops everything queued, these outputs included
                    return
                self.queue.extend(outputs)
        self._timer.set(self.session.next_deadline())

    def _write_now(self, outputs: list[Output]) -> list[Output]:
        """The writer is idle with nothing queued: write the leading events at once, without waking it (one
        event-loop hop less per client event); returns what is left for the writer (closes, faults, or
        everything when the fast path cannot write now)."""
        fast = self._fast
        if (fast is None or self.closed or not self._flowing.is_set() or not fast.can_send_frames()
                or self._writer_blocked()):
            return outputs
        n = 0
        while n < len(outputs) and isinstance(outputs[n], Send):
            n += 1
        if n:
            try:
                fast.send_frames([out.frame for out in outputs[:n]])  # type: ignore[union-attr]
            except (ClientDisconnected, RuntimeError, OSError) as exc:
                self.log.debug("write stopped: %r", exc)
                self.closed = True
                return []
        return outputs[n:]

    def _on_timer(self) -> None:
        if not self.closed:
            self._push(self.session.poll(self.clock()))

    async def run(self) -> None:
        writer = asyncio.create_task(self._writer())
        self.log.info("session started (%s)", self.session.dialect.name)
        try:
            self._push(self.session.start())
            if self._fast is not None:
                self._fast.on_message = self._on_message
            await self._reader()
        finally:
            if self._fast is not None:
                self._fast.on_message = None
            self.closed = True
            self._timer.close()
            self.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
            if self.mcp is not None:
                await self.mcp.aclose()
                self.mcp = None  # it calls back into this connection: no cycle left behind
            self.log.info("session ended (close code %s)", self.close_code)

    async def _reader(self) -> None:
        receive = cast(Callable[[], Awaitable[dict[str, Any]]],
                       self._fast.receive if self._fast is not None else self.ws.receive)
        session = self.session
        while not session.closed:
            if not self._flowing.is_set():
                await self._flowing.wait()
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            self._handle(message)

    def _on_message(self, message: dict[str, Any]) -> bool:
        """:attr:`SessionProtocol.on_message`: handle a client message as soon as it is parsed, unless the
        session is stalled or over (then the reader gets it from the queue, in order)."""
        if self.session.closed or self.closed or not self._flowing.is_set():
            return False
        try:
            self._handle(message)
        except Exception:  # the core never raises; this guards uvicorn's data_received all the same
            self.log.exception("handling a client message failed")
        return True

    def _handle(self, message: dict[str, Any]) -> None:
        now = self.clock()
        text = message.get("text")
        if self._trace:
            shown = text[:2000] if text is not None and not any(t in text[:80] for t in AUDIO_PAYLOADS) else None
            self.log.debug("client %s", shown or f"<{len(text or message.get('bytes') or b'')} bytes>")
        if text is not None:
            self._push(self.session.receive_text(text, now))
        else:
            self._push(self.session.receive_bytes(message.get("bytes") or b"", now))

    async def _writer(self) -> None:
        queue = self.queue
        try:
            while True:
                if queue.empty():
                    self._writer_idle = True
                    try:
                        out = await queue.get()
                    finally:
                        self._writer_idle = False
                else:
                    out = queue.get_nowait()
                if out is None:
                    return
                if isinstance(out, Send):
                    if self._writer_blocked() and (self._queued_bytes > self.max_send_buffer
                                                   or not await self._wait_writable()):
                        self._overflow()  # the client is not reading: a burst beyond the limit, or too long
                        return
                    fast = self._fast
                    if fast is not None and fast.can_send_frames():
                        batch = [out]
                        while len(batch) < _BATCH and queue.next_is_send():
                            batch.append(queue.get_nowait())  # type: ignore[arg-type]
                        self._queued_bytes -= sum(_size(send) for send in batch)
                        fast.send_frames([send.frame for send in batch])
                    else:
                        self._queued_bytes -= _size(out)
                        await self.ws.send_text(out.frame.decode())
                elif isinstance(out, Close):
                    self.close_code = out.code
                    await self.ws.close(out.code, out.reason)
                    self.closed = True
                    return
                elif isinstance(out, Abort):
                    self.close_code = 1006
                    if not self._abort():  # pragma: no cover - only on ASGI servers other than uvicorn
                        await self.ws.close(1011, "connection aborted")
                    self.closed = True
                    return
                elif isinstance(out, Stall):
                    await self._stall(out.seconds)
        except (WebSocketDisconnect, ClientDisconnected, RuntimeError, OSError) as exc:
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

    def _find_transport(self) -> Any:
        """uvicorn's transport for this connection (via the server's ``send`` that
        :class:`mockrt.server.app.KeepServerSend` keeps in the scope), or ``None`` on other ASGI servers."""
        transport = getattr(self._protocol, "transport", None)
        # uvloop's transports are not asyncio.WriteTransport subclasses: look for what is used.
        ok = all(callable(getattr(transport, name, None)) for name in ("abort", "get_write_buffer_size"))
        return transport if ok else None

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
    """An event's size on the wire: its frame's."""
    return len(send.frame)
