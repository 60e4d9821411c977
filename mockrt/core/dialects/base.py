"""The dialect seam: everything GA and beta do differently on the wire (protocol.md §0.2, §3.1, §4.4).

The core speaks one internal event vocabulary (the GA names) with model objects as values; a dialect
renames events, renders objects, drops events it does not have, and parses client payloads into the model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from mockrt.core.model import Item, Response, ResponseParams, SessionConfig, Usage


class Dialect(ABC):
    """One wire dialect. Stateless; one shared instance per dialect."""

    name: ClassVar[str]
    client_event_types: ClassVar[tuple[str, ...]]
    """Accepted client ``type`` values, in the order the service lists them (§2)."""
    event_names: ClassVar[dict[str, str]] = {}
    """Internal (GA) event name → wire name; names absent here are sent unchanged."""
    dropped_events: ClassVar[frozenset[str]] = frozenset()
    """Internal events this dialect does not send (e.g. beta has no ``conversation.item.done``)."""
    dropped_fields: ClassVar[dict[str, frozenset[str]]] = {}
    """Fields an internal event has that this dialect's wire event lacks."""
    obfuscation: ClassVar[bool] = False
    """GA text-like deltas carry ``obfuscation`` (§3.1)."""
    rate_limits_after_created: ClassVar[bool] = False
    """Beta sends ``rate_limits.updated`` after ``response.created``; GA after ``response.done`` (§3.9)."""
    max_session_minutes: ClassVar[int] = 60
    envelope_extras: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - read-only; instances may replace it
    """Extra top-level keys a client event may carry in this dialect (event type → key → schema)."""

    # -- client side ---------------------------------------------------------------------------------

    @abstractmethod
    def parse_session_update(self, payload: Any, current: SessionConfig) -> SessionConfig:
        """Validate a ``session.update`` ``session`` object and return the new effective config."""

    @abstractmethod
    def parse_item(self, payload: Any, path: str, cfg: SessionConfig) -> Item:
        """Validate a client item (``id`` may be empty: the caller mints one)."""

    @abstractmethod
    def parse_response_params(
        self, payload: Any, cfg: SessionConfig
    ) -> tuple[ResponseParams, list[Any] | None]:
        """Validate ``response.create``'s ``response``; returns params and the raw ``input`` list."""

    @abstractmethod
    def parse_input_item(self, payload: dict[str, Any], path: str, cfg: SessionConfig) -> Item:
        """A validated ``response.input`` entry: an item, or an ``item_reference`` (type ``item_reference``)."""

    @abstractmethod
    def parse_session_request(self, payload: Any, base: SessionConfig) -> SessionConfig:
        """Validate the session part of a REST session / client-secret request (§1.6)."""

    # -- server side ---------------------------------------------------------------------------------

    @abstractmethod
    def render_session(self, cfg: SessionConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        """The full session object (§4.2 / §4.3 / §4.5 / §4.6), every key present."""

    @abstractmethod
    def render_item(self, item: Item, *, with_audio: bool = False) -> dict[str, Any]:
        """An item; audio bytes only when ``with_audio`` (``conversation.item.retrieved``, §2.8)."""

    @abstractmethod
    def render_response(self, response: Response) -> dict[str, Any]:
        """The response object (§4.10)."""

    @abstractmethod
    def render_usage(self, usage: Usage) -> dict[str, Any]:
        """The usage object (§4.11)."""

    @abstractmethod
    def rate_limits(self, used_tokens: int, limit: int) -> list[dict[str, Any]]:
        """The ``rate_limits`` array (§3.9)."""

    def session_created_type(self, cfg: SessionConfig) -> str:
        return "session.created"

    def session_updated_type(self, cfg: SessionConfig) -> str:
        return "session.updated"

    def encode(self, event: dict[str, Any], event_id: str) -> dict[str, Any] | None:
        """Internal event → wire dict (``type`` first, then ``event_id``), or ``None`` if not sent."""
        internal = event["type"]
        if internal in self.dropped_events:
            return None
        out: dict[str, Any] = {"type": self.event_names.get(internal, internal), "event_id": event_id}
        skip = self.dropped_fields.get(internal, frozenset())
        for key, value in event.items():
            if key == "type" or key in skip:
                continue
            if isinstance(value, Item):
                value = self.render_item(value)
            elif isinstance(value, Response):
                value = self.render_response(value)
            out[key] = value
        return out
