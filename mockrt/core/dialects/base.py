"""The dialect seam: everything GA, beta and Voice Live do differently on the wire, in both directions
(docs/protocol.md §0.2, §2, §3.1, §4.4).

The core speaks one internal event vocabulary (:class:`~mockrt.core.events.ClientEvent`,
:class:`~mockrt.core.events.ServerEvent`) with model objects as values. A dialect

- names events: ``client_events`` (wire ``type`` → internal, in the order the service lists them) and
  ``server_events`` (internal → wire; an internal event absent there is not sent in this dialect);
- parses client payloads into the model and renders model objects into its shapes;
- reads its own wire back (:meth:`Dialect.server_event`, :meth:`Dialect.audio_format`,
  :meth:`Dialect.session_audio`, …), so that journals, recordings and logs are normalised through it once and
  then handled in the internal vocabulary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core.dialects.common import read_part_type, read_usage, render_event_part
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.model import (
    ContentPart,
    ContentType,
    Item,
    Response,
    ResponseDirectives,
    ResponseParams,
    SessionConfig,
    TurnDetection,
    Usage,
)


@dataclass(frozen=True)
class SessionAudio:
    """The audio settings read back from a session object (rendered, or a client's update): ``None`` for an
    absent format; ``has_turn_detection`` tells an absent ``turn_detection`` from ``null``; ``turn_detection_wire``
    is the object as sent (for display)."""

    input_format: AudioFormat | None
    output_format: AudioFormat | None
    has_turn_detection: bool
    turn_detection: TurnDetection | None
    turn_detection_wire: Any = None


class Dialect(ABC):
    """One wire dialect. Stateless; one shared instance per dialect and flavour."""

    name: ClassVar[str]
    client_events: ClassVar[Mapping[str, ClientEvent]]
    """Accepted client ``type`` values → internal events, in the order the service lists them (§2)."""
    server_events: ClassVar[Mapping[ServerEvent, str]]
    """Internal event → wire ``type``; internal events absent here are not sent in this dialect."""
    call_client_events: ClassVar[Mapping[str, ClientEvent]] = {}
    """Client ``type`` values accepted only in a call's session (WebRTC/SIP data channel or sideband, §11); over a
    plain WebSocket they are unknown types and the error's list leaves them out (§2.12)."""
    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {}
    """Fields an internal event has that this dialect's wire event lacks."""
    obfuscated: ClassVar[frozenset[ServerEvent]] = frozenset()
    """Text-like deltas that carry ``obfuscation`` (GA, §3.1)."""
    rate_limits_after_created: ClassVar[bool] = False
    continuous_output: ClassVar[bool] = False
    """A reader's: output audio is one continuous stream without responses (GPT-Live, docs/protocol.md §13.4)."""
    """Beta sends ``rate_limits.updated`` after ``response.created``; GA after ``response.done`` (§3.9)."""
    max_session_minutes: ClassVar[int] = 60
    envelope_extras: Mapping[ClientEvent, Mapping[str, Any]] = {}
    """Extra top-level keys a client event may carry in this dialect (internal event → key → schema)."""

    # -- client side ---------------------------------------------------------------------------------

    def client_event(self, wire_type: Any) -> ClientEvent | None:
        """The internal event a client ``type`` names, or ``None`` if this dialect does not accept it."""
        return self.client_events.get(wire_type) if isinstance(wire_type, str) else None

    def accepts(self, wire_type: Any) -> bool:
        """Whether this dialect accepts a client event of this ``type`` (§2)."""
        return self.client_event(wire_type) is not None

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

    def response_directives(self, payload: Any, cfg: SessionConfig) -> ResponseDirectives:
        """What ``response.create``'s ``response`` (already validated by :meth:`parse_response_params`) asks of
        the session besides the response: nothing, except in Azure Voice Live (docs/protocol.md §12)."""
        return ResponseDirectives()

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

    def render_event_part(self, part: ContentPart) -> dict[str, Any]:
        """The ``part`` of ``response.content_part.added`` / ``.done`` (§3.7): ``text`` or ``audio`` (with its
        transcript) in every dialect, GA too (its SDK types say so)."""
        return render_event_part(part)

    @abstractmethod
    def rate_limits(self, used_tokens: int, limit: int) -> list[dict[str, Any]]:
        """The ``rate_limits`` array (§3.9)."""

    def wire_type(self, event: ServerEvent) -> str | None:
        """The wire ``type`` of an internal server event, ``None`` if this dialect does not send it."""
        return self.server_events.get(event)

    def encode(self, event: dict[str, Any], event_id: str) -> dict[str, Any] | None:
        """Internal event → wire dict (``type`` first, then ``event_id``), or ``None`` if not sent."""
        internal = event["type"]
        wire_type = self.server_events.get(internal)
        if wire_type is None:
            return None
        out: dict[str, Any] = {"type": wire_type, "event_id": event_id}
        skip = self.dropped_fields.get(internal, _KEEP_ALL)
        if "event_id" in skip:
            del out["event_id"]
        for key, value in event.items():
            if key == "type" or key in skip:
                continue
            kind = type(value)  # most values are plain JSON: one type test each instead of three isinstance
            if kind is Item:
                value = self.render_item(value)
            elif kind is Response:
                value = self.render_response(value)
            elif kind is ContentPart:
                value = self.render_event_part(value)
            out[key] = value
        return out

    # -- reading the wire back (journals, recordings, logs) -------------------------------------------

    def server_event(self, wire_type: Any) -> ServerEvent | None:
        """The internal event a server ``type`` of this dialect names (the first one, where two share a name:
        GA's transcription sessions also send ``session.created``)."""
        return _inverse(self.server_events).get(wire_type) if isinstance(wire_type, str) else None

    def part_type(self, part: Any) -> ContentType | None:
        """The model's content type of a wire content part (GA ``output_text`` and beta ``text`` are both
        ``text``, §4.7), ``None`` if ``part`` is not one."""
        return read_part_type(part)

    def read_usage(self, usage: Any) -> dict[str, int] | None:
        """A rendered ``usage`` object (§4.11) as :class:`~mockrt.core.model.Usage` field values, ``None`` if
        it gives none."""
        return read_usage(usage)

    @abstractmethod
    def audio_format(self, wire: Any) -> AudioFormat | None:
        """A wire audio format (GA ``{"type": "audio/pcm", …}``, beta ``"pcm16"``) as the model's, or ``None``."""

    @abstractmethod
    def session_audio(self, session: Mapping[str, Any]) -> SessionAudio:
        """Input/output formats and turn detection of a rendered session object (§4.2–§4.8)."""

    @abstractmethod
    def response_format(self, response: Mapping[str, Any]) -> AudioFormat | None:
        """The output audio format of a rendered response object (§4.10), ``None`` if absent."""


_KEEP_ALL: frozenset[str] = frozenset()

_INVERSES: dict[int, tuple[Mapping[ServerEvent, str], dict[str, ServerEvent]]] = {}


def _inverse(names: Mapping[ServerEvent, str]) -> dict[str, ServerEvent]:
    """Wire → internal for one ``server_events`` table, computed once per table (the table is kept alive with
    its inverse, so its id cannot be reused)."""
    cached = _INVERSES.get(id(names))
    if cached is None or cached[0] is not names:
        inverse: dict[str, ServerEvent] = {}
        for internal, wire in names.items():
            inverse.setdefault(wire, internal)
        cached = _INVERSES[id(names)] = (names, inverse)
    return cached[1]
