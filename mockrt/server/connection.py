"""The thin I/O loop around one :class:`~mockrt.core.session.RealtimeSession` (ecosystem.md §3.6 rule 1).

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

from starlette.websockets import WebSocket, WebSocketDisconnect

from mockrt.core.outputs import Abort, Close, Output, Send, Stall
from mockrt.core.session import RealtimeSession
from mockrt.logs import SessionAdapter, elide

logger = logging.getLogger("mockrt.session")

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Connection:
    """Drive one session over one accepted WebSocket."""

    def __init__(self, ws: WebSocket, session: RealtimeSession, clock: Callable[[], float]) -> None:
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
        self.log = SessionAdapter(logger, {"session_id": session.session_id})
        self._trace = logger.isEnabledFor(logging.DEBUG)

    def _push(self, outputs: list[Output]) -> None:
        for out in outputs:
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

        ASGI has no abort; uvicorn's protocol object (the owner of the server's ``send``, which
        :class:`mockrt.server.app.KeepServerSend` keeps in the scope) holds the transport. Without it the caller
        falls back to an immediate 1011 close.
        """
        protocol = getattr(self.ws.scope.get("mockrt.server_send"), "__self__", None)
        transport = getattr(protocol, "transport", None)
        if transport is None:
            return False
        transport.abort()
        return True

    def apply(self, action: Callable[[RealtimeSession, float], list[Output]]) -> None:
        """Run a control action on the session from the loop (``loop.call_soon_threadsafe``) and send its outputs."""
        if not self.closed and not self.session.closed:
            self._push(action(self.session, self.clock()))
