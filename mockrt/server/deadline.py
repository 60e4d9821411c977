"""One event-loop timer at a sans-I/O session's next deadline (docs/protocol.md §0: the core asks to be polled at
``next_deadline()``; the transports keep the timer), shared by the WebSocket connection and the calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def loop_clock(loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """The loop's clock for a transport to read on every message: ``time.monotonic`` itself when the loop's
    ``time()`` is asyncio's own (which returns it: one Python call less a read), else the loop's ``time``."""
    if type(loop).time is asyncio.BaseEventLoop.time:
        return time.monotonic
    return loop.time


class DeadlineTimer:
    """Calls ``on_due`` at the deadline last :meth:`set`; re-armed only when the deadline moves (the core's clock
    is the loop's monotonic clock, so deadlines map 1:1 onto loop time)."""

    def __init__(self, on_due: Callable[[], None]) -> None:
        self._on_due = on_due
        self._handle: asyncio.TimerHandle | None = None
        self._at: float | None = None
        self._closed = False

    def set(self, deadline: float | None) -> None:
        if deadline == self._at or self._closed:
            return
        self.cancel()
        self._at = deadline
        if deadline is not None:
            self._handle = asyncio.get_running_loop().call_at(deadline, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle, self._at = None, None

    def close(self) -> None:
        """Cancel for good (later deadlines are ignored) and forget ``on_due``: a bound method of the owner, which
        would keep the owner in a reference cycle (and what it holds, a session, alive until a full garbage
        collection)."""
        self.cancel()
        self._closed = True
        self._on_due = _nothing

    def _fire(self) -> None:
        self._handle, self._at = None, None
        self._on_due()


def _nothing() -> None:
    pass
