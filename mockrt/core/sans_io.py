"""The interface the transport loop drives: one sans-I/O session of any kind (docs/protocol.md §1.5, §10).

:class:`~mockrt.core.session.RealtimeSession` (realtime and transcription sessions) and
:class:`~mockrt.core.translation.TranslationSession` both satisfy it, so ``server/connection.py`` is one loop.
"""

from __future__ import annotations

from typing import Protocol

from mockrt.core.dialects.base import Dialect
from mockrt.core.outputs import Output


class SansIOSession(Protocol):
    """Frames and time in, transport directives out; :meth:`next_deadline` says when to :meth:`poll`."""

    session_id: str
    closed: bool

    @property
    def dialect(self) -> Dialect: ...

    def start(self) -> list[Output]: ...

    def receive_text(self, text: str, now: float) -> list[Output]: ...

    def receive_bytes(self, data: bytes, now: float) -> list[Output]: ...

    def poll(self, now: float) -> list[Output]: ...

    def next_deadline(self) -> float | None: ...
