"""Envelope validation of client events: ``type``, ``event_id`` and each event's top-level keys
(protocol.md §1.8, §2)."""

from __future__ import annotations

from typing import Any

from mockrt.core import errors
from mockrt.core.schema import AnyValue, Int, Obj, Str, json_kind

_ID = Str()
_ANY = AnyValue()

EVENT_FIELDS: dict[str, Obj] = {
    "session.update": Obj({"session": _ANY}, required=("session",)),
    "transcription_session.update": Obj({"session": _ANY}, required=("session",)),
    "session.close": Obj({}),
    "input_audio_buffer.append": Obj({"audio": Str()}, required=("audio",)),
    "session.input_audio_buffer.append": Obj({"audio": Str()}, required=("audio",)),
    "input_audio_buffer.commit": Obj({}),
    "input_audio_buffer.clear": Obj({}),
    "conversation.item.create": Obj({"item": _ANY, "previous_item_id": Str().nullable()}, required=("item",)),
    "conversation.item.truncate": Obj(
        {"item_id": _ID, "content_index": Int(0), "audio_end_ms": Int(0)},
        required=("item_id", "content_index", "audio_end_ms"),
    ),
    "conversation.item.delete": Obj({"item_id": _ID}, required=("item_id",)),
    "conversation.item.retrieve": Obj({"item_id": _ID}, required=("item_id",)),
    "response.create": Obj({"response": _ANY}),
    "response.cancel": Obj({"response_id": _ID}),
}


def client_event_id(event: Any) -> str | None:
    """The client's ``event_id`` if it is a string (echoed in errors, §1.8)."""
    if isinstance(event, dict):
        value = event.get("event_id")
        if isinstance(value, str):
            return value
    return None


def check_envelope(event: Any, accepted: tuple[str, ...],
                   extras: dict[str, dict[str, Any]] | None = None) -> tuple[str, dict[str, Any]]:
    """Validate the envelope and the event's own keys; return ``(type, fields)`` without type/event_id.

    ``extras`` adds dialect-specific top-level keys (see :attr:`mockrt.core.dialects.base.Dialect.envelope_extras`).
    """
    if not isinstance(event, dict):
        raise errors.not_an_object()
    if "type" not in event:
        raise errors.missing_type()
    etype = event["type"]
    if not isinstance(etype, str):
        raise errors.invalid_type("type", "a string", json_kind(etype))
    if etype not in accepted:
        raise errors.unknown_event_type(etype, accepted)
    event_id = event.get("event_id")
    if event_id is not None:
        if not isinstance(event_id, str):
            raise errors.invalid_type("event_id", "a string", json_kind(event_id))
        if len(event_id) > 512:
            raise errors.string_too_long("event_id", 512, len(event_id))
    fields = {k: v for k, v in event.items() if k not in ("type", "event_id")}
    schema = EVENT_FIELDS[etype]
    extra = (extras or {}).get(etype)
    if extra:
        schema = Obj({**schema.fields, **extra}, required=schema.required)
    return etype, schema.check(fields, "")
