"""The one interface the transport loop drives: a sans-I/O session of any kind (docs/protocol.md §1.5, §10, §13).

:class:`~mockrt.core.session.RealtimeSession` (realtime and transcription sessions),
:class:`~mockrt.core.translation.TranslationSession` and :class:`~mockrt.core.live.session.LiveSession` all satisfy
it, so ``server/connection.py`` is one loop.
"""

from __future__ import annotations

from typing import Protocol

from mockrt.core.outputs import Output


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class SansIOSession(Protocol):
    """Frames and time in, transport directives out; :meth:`next_deadline` says when to :meth:`poll`."""

    session_id: str
    closed: bool

    @property
    def dialect(self) -> _Named: ...

    def start(self) -> list[Output]: ...

    def receive_text(self, text: str, now: float) -> list[Output]: ...

    def receive_bytes(self, data: bytes, now: float) -> list[Output]: ...

    def poll(self, now: float) -> list[Output]: ...

    def next_deadline(self) -> float | None: ...
