"""The one interface the transport loop drives (docs/protocol.md §1, §13): every session kind, sans-I/O.

:class:`~mockrt.core.session.RealtimeSession` and :class:`~mockrt.core.live.session.LiveSession` both satisfy it;
:class:`mockrt.server.connection.Connection` needs nothing else.
"""

from __future__ import annotations

from typing import Protocol

from mockrt.core.outputs import Output


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class SessionCore(Protocol):
    """Client frames and time in, transport directives out; ``next_deadline`` says when to ``poll`` next."""

    session_id: str
    closed: bool

    @property
    def dialect(self) -> _Named: ...

    def start(self) -> list[Output]: ...

    def receive_text(self, text: str, now: float) -> list[Output]: ...

    def receive_bytes(self, data: bytes, now: float) -> list[Output]: ...

    def poll(self, now: float) -> list[Output]: ...

    def next_deadline(self) -> float | None: ...
