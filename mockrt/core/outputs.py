"""Transport directives returned by the core (sans-I/O, as in websockets and h11).

The core never touches a socket: it returns ``Send`` (one server event, as a JSON-ready dict in the
session's dialect, and the text frame that carries it) and ``Close`` (close the WebSocket with a code and reason).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from mockrt.core.mcp import CallTool, ListTools

_ascii_dumps = json.JSONEncoder(separators=(",", ":")).encode


def encode_event(event: dict[str, Any]) -> bytes:
    """A server event as compact UTF-8 JSON (orjson). What orjson refuses (a lone surrogate from a client's
    ``\\ud800``, an integer beyond 64 bits) is encoded by :mod:`json` with ASCII escapes instead."""
    try:
        return orjson.dumps(event)
    except (TypeError, orjson.JSONEncodeError):
        return _ascii_dumps(event).encode("ascii")


def text_size(text: str) -> int:
    """The bytes of a text frame as received (UTF-8): its length when it is ASCII, which Python knows without a
    scan, as almost every client event is (audio is base64)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class JournalHook(Protocol):
    """A session's ``on_event`` (every session kind's options): a client or server event at ``now``, with the size
    of its frame when the session knows it (the text received, :attr:`Send.frame`), else ``None`` and the journal
    measures the event itself (``approx_size`` in mockrt/server/registry.py)."""

    def __call__(self, direction: str, event: dict[str, Any], now: float, size: int | None = None, /) -> None: ...


class Send:
    """Send one server event (a dict with ``type`` first, then ``event_id``).

    :attr:`frame` is the event as the wire carries it, encoded once, at its first use, and kept: the session's
    journal counts its size and the transport writes it, one encoding for both (issue 14). Whoever sends an event
    is done changing it."""

    __slots__ = ("_frame", "event")

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        """The event's text frame: compact UTF-8 JSON (:func:`encode_event`)."""
        frame = self._frame
        if frame is None:
            frame = self._frame = encode_event(self.event)
        return frame

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Send) and other.event == self.event

    __hash__ = None  # type: ignore[assignment]  # an event is a dict

    def __repr__(self) -> str:
        return f"Send(event={self.event!r})"


@dataclass(frozen=True, slots=True)
class Close:
    """Close the WebSocket with ``code`` and ``reason`` after everything before it was sent."""

    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Abort:
    """Drop the connection abruptly, without a close frame (the client sees 1006)."""


@dataclass(frozen=True, slots=True)
class Stall:
    """Stop reading and writing for ``seconds`` (``None``: until the client gives up)."""

    seconds: float | None = None


Output = Send | Close | Abort | Stall | ListTools | CallTool
"""``ListTools`` / ``CallTool``: run an MCP directive and feed its result back (docs/protocol.md §9)."""
