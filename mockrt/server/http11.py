"""uvicorn's h11 protocol with a header-read timeout (slowloris, SECURITY.md).

uvicorn arms its keep-alive timer only after a response and cancels it on the first byte of the next request,
so a client that sends a request head one byte at a time (or never finishes it) holds a connection forever.
:class:`HeaderTimeoutProtocol` closes a connection whose request head is not complete within
``header_timeout_s`` of its first byte (or of the connection, for the first request). Bodies, responses and
upgraded WebSocket connections are not affected.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


class Config(uvicorn.Config):
    """``uvicorn.Config`` that carries the header-read timeout to :class:`HeaderTimeoutProtocol` (picklable, so
    ``--workers`` children get it too)."""

    def __init__(self, app: Any, *, header_timeout_s: float = 10.0, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout_s = header_timeout_s


PROTOCOL = "mockrt.server.http11:HeaderTimeoutProtocol"
"""What to pass as ``uvicorn.Config(http=...)``."""


class HeaderTimeoutProtocol(H11Protocol):
    _header_timer: asyncio.TimerHandle | None = None

    @property
    def _timeout(self) -> float:
        return float(getattr(self.config, "header_timeout_s", 10.0))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.get_protocol() is not self:  # upgraded to a WebSocket
            self._disarm()
        elif self.conn.their_state is h11.IDLE:  # a request head is still incomplete
            if self._header_timer is None:
                self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:  # the next request's head
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self._timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        if self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()
