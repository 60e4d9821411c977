"""The core's event vocabulary and the envelope check of client events (docs/protocol.md §1.8, §2, §3).

Inside the core an event is named by a :class:`ClientEvent` or :class:`ServerEvent` member, never by a wire
``type`` string: the dialects (:mod:`mockrt.core.dialects`) are the only code that knows the wire names, in both
directions (``Dialect.client_events`` maps wire → internal, ``Dialect.server_events`` internal → wire). The
members' values are deliberately *not* wire names, so a wire string can never pass for an internal name.

What the core does with each client event (its fields, the sessions it is valid in, its handler) is one row of
``RealtimeSession.CLIENT_EVENTS`` (:mod:`mockrt.core.session`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum, auto
from typing import Any

from mockrt.core import errors
from mockrt.core.schema import json_kind


class ClientEvent(StrEnum):
    """What a client can ask for (§2). A dialect may give one internal event several wire names."""

    SESSION_UPDATE = auto()
    TRANSCRIPTION_SESSION_UPDATE = auto()
    SESSION_CLOSE = auto()
    INPUT_AUDIO_APPEND = auto()
    INPUT_AUDIO_COMMIT = auto()
    INPUT_AUDIO_CLEAR = auto()
    ITEM_CREATE = auto()
    ITEM_TRUNCATE = auto()
    ITEM_DELETE = auto()
    ITEM_RETRIEVE = auto()
    RESPONSE_CREATE = auto()
    RESPONSE_CANCEL = auto()
    # Azure Voice Live only (docs/protocol.md §12)
    INPUT_AUDIO_TURN_START = auto()
    INPUT_AUDIO_TURN_APPEND = auto()
    INPUT_AUDIO_TURN_END = auto()
    INPUT_AUDIO_TURN_CANCEL = auto()
    INPUT_TEXT_DELTA = auto()
    INPUT_TEXT_DONE = auto()
    OUTPUT_AUDIO_BUFFER_CLEAR = auto()
    AVATAR_CONNECT = auto()
    MCP_APPROVAL_RESPONSE = auto()


class ServerEvent(StrEnum):
    """What the core tells a client (§3); a dialect renames each one or drops it."""

    ERROR = auto()
    SESSION_CREATED = auto()
    SESSION_UPDATED = auto()
    TRANSCRIPTION_SESSION_CREATED = auto()
    TRANSCRIPTION_SESSION_UPDATED = auto()
    CONVERSATION_CREATED = auto()
    INPUT_AUDIO_COMMITTED = auto()
    INPUT_AUDIO_CLEARED = auto()
    SPEECH_STARTED = auto()
    SPEECH_STOPPED = auto()
    TIMEOUT_TRIGGERED = auto()
    ITEM_ADDED = auto()
    ITEM_DONE = auto()
    ITEM_TRUNCATED = auto()
    ITEM_DELETED = auto()
    ITEM_RETRIEVED = auto()
    TRANSCRIPTION_DELTA = auto()
    TRANSCRIPTION_COMPLETED = auto()
    TRANSCRIPTION_FAILED = auto()
    TRANSCRIPTION_SEGMENT = auto()
    RESPONSE_CREATED = auto()
    RESPONSE_DONE = auto()
    OUTPUT_ITEM_ADDED = auto()
    OUTPUT_ITEM_DONE = auto()
    CONTENT_PART_ADDED = auto()
    CONTENT_PART_DONE = auto()
    OUTPUT_TEXT_DELTA = auto()
    OUTPUT_TEXT_DONE = auto()
    OUTPUT_AUDIO_DELTA = auto()
    OUTPUT_AUDIO_DONE = auto()
    OUTPUT_AUDIO_TRANSCRIPT_DELTA = auto()
    OUTPUT_AUDIO_TRANSCRIPT_DONE = auto()
    FUNCTION_CALL_ARGUMENTS_DELTA = auto()
    FUNCTION_CALL_ARGUMENTS_DONE = auto()
    RATE_LIMITS_UPDATED = auto()
    # Azure Voice Live only (docs/protocol.md §12)
    AUDIO_TIMESTAMP_DELTA = auto()
    AUDIO_TIMESTAMP_DONE = auto()
    ANIMATION_BLENDSHAPES_DELTA = auto()
    ANIMATION_BLENDSHAPES_DONE = auto()
    ANIMATION_VISEME_DELTA = auto()
    ANIMATION_VISEME_DONE = auto()
    OUTPUT_AUDIO_BUFFER_CLEARED = auto()
    AVATAR_CONNECTING = auto()
    AVATAR_SPEAKING = auto()
    AVATAR_IDLE = auto()
    # translation sessions (§10)
    SESSION_CLOSED = auto()
    TRANSLATION_INPUT_TRANSCRIPT_DELTA = auto()
    TRANSLATION_OUTPUT_TRANSCRIPT_DELTA = auto()
    TRANSLATION_OUTPUT_AUDIO_DELTA = auto()
    # MCP tools (docs/protocol.md §9)
    MCP_LIST_TOOLS_IN_PROGRESS = auto()
    MCP_LIST_TOOLS_COMPLETED = auto()
    MCP_LIST_TOOLS_FAILED = auto()
    MCP_CALL_ARGUMENTS_DELTA = auto()
    MCP_CALL_ARGUMENTS_DONE = auto()
    MCP_CALL_IN_PROGRESS = auto()
    MCP_CALL_COMPLETED = auto()
    MCP_CALL_FAILED = auto()
    OUTPUT_AUDIO_BUFFER_STARTED = auto()  # calls only (WebRTC/SIP, docs/protocol.md §11); CLEARED is above
    OUTPUT_AUDIO_BUFFER_STOPPED = auto()
    DTMF_RECEIVED = auto()  # SIP only
    # scripted web/file search calls and transcript annotations (Azure Voice Live, docs/protocol.md §12.6)
    WEB_SEARCH_CALL_IN_PROGRESS = auto()
    WEB_SEARCH_CALL_SEARCHING = auto()
    WEB_SEARCH_CALL_COMPLETED = auto()
    FILE_SEARCH_CALL_IN_PROGRESS = auto()
    FILE_SEARCH_CALL_SEARCHING = auto()
    FILE_SEARCH_CALL_COMPLETED = auto()
    AUDIO_TRANSCRIPT_ANNOTATION_ADDED = auto()
    # scripted warnings and hosted-agent invocation deltas (Azure Voice Live, docs/protocol.md §12.7)
    WARNING = auto()
    INVOCATION_DELTA = auto()


def client_event_id(event: Any) -> str | None:
    """The client's ``event_id`` if it is a string (echoed in errors, §1.8)."""
    if isinstance(event, dict):
        value = event.get("event_id")
        if isinstance(value, str):
            return value
    return None


def check_envelope(event: Any, accepted: Mapping[str, ClientEvent]) -> tuple[ClientEvent, dict[str, Any]]:
    """Validate the envelope (an object with a known string ``type`` and a valid ``event_id``, §1.8, §2);
    return the internal event and the event's own keys (without ``type`` / ``event_id``), not yet validated.

    ``accepted`` is the dialect's wire type → internal event table, in the order the service lists them.
    """
    if not isinstance(event, dict):
        raise errors.not_an_object()
    if "type" not in event:
        raise errors.missing_type()
    etype = event["type"]
    if not isinstance(etype, str):
        raise errors.invalid_type("type", "a string", json_kind(etype))
    internal = accepted.get(etype)
    if internal is None:
        raise errors.unknown_event_type(etype, tuple(accepted))
    event_id = event.get("event_id")
    if event_id is not None:
        if not isinstance(event_id, str):
            raise errors.invalid_type("event_id", "a string", json_kind(event_id))
        if len(event_id) > 512:
            raise errors.string_too_long("event_id", 512, len(event_id))
    raw = dict(event)  # the event's own keys, in order (a copy without a comprehension: on every client event)
    del raw["type"]
    raw.pop("event_id", None)
    return internal, raw
