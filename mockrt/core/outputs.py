"""Transport directives returned by the core (sans-I/O, as in websockets and h11).

The core never touches a socket: it returns ``Send`` (one server event, as a JSON-ready dict in the
session's dialect) and ``Close`` (close the WebSocket with a code and reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockrt.core.mcp import CallTool, ListTools


@dataclass(frozen=True, slots=True)
class Send:
    """Send one server event (a dict with ``type`` first, then ``event_id``)."""

    event: dict[str, Any]


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
