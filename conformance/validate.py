"""Shape validation of every server event with the official ``openai`` SDK's pydantic models.

GA events are checked against ``openai.types.realtime``, beta events against ``openai.types.beta.realtime``,
translation sessions against its ``RealtimeTranslation*`` unions.
Beyond pydantic's own validation, keys the SDK model does not know are rejected (the SDK models allow extras, so
a misspelt field would otherwise pass). The few keys the live service is *recorded* to send but the SDK does not
model are tolerated by name, each with its docs/protocol.md citation.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any, Final

import pydantic

from conformance.voicelive import validate_voice_live_event
from conformance.wire import OBFUSCATED, VOICE_LIVE

Model = type[pydantic.BaseModel]

_TOLERATED_EXTRAS: Final[dict[str, frozenset[str]]] = {
    # §4.3/§4.5 [V]: session.created/updated carry id, object and expires_at; the SDK types the GA session with
    # the *request* models, which lack them.
    "ga:RealtimeSessionCreateRequest": frozenset({"id", "object", "expires_at"}),
    "ga:RealtimeTranscriptionSessionCreateRequest": frozenset({"id", "object", "expires_at"}),
    # §4.10 [V] (beta 2025 shape): conversation_id/modalities/voice/... are present on the wire.
    "beta:RealtimeResponse": frozenset({"conversation_id", "modalities", "voice", "output_audio_format",
                                       "temperature", "max_output_tokens", "metadata"}),
    # §4.2: 2025 beta sessions carry speed/tracing/include/client_secret in socket frames.
    "beta:Session": frozenset({"speed", "tracing", "include", "client_secret", "input_audio_noise_reduction", "id",
                               "object", "expires_at"}),
    # §4.6: the beta transcription session object.
    "beta:TranscriptionSession": frozenset({"id", "object", "expires_at", "input_audio_noise_reduction", "include"}),
}

_ALIASES: Final[dict[tuple[str, str], str]] = {
    ("beta", "transcription_session.created"): "transcription_session.updated",
}
"""Events the service sends whose SDK model is missing, validated with the model of their twin (§3.1 [R])."""


class ShapeError(AssertionError):
    """A server event does not match the SDK's model for it."""


def union_members(union: Any) -> dict[str, Model]:
    """``type`` → model of each member of an SDK event union (``Annotated[Union[...], discriminator]``)."""
    args = typing.get_args(union)
    if args and typing.get_origin(args[0]) is typing.Union:
        args = typing.get_args(args[0])
    out: dict[str, Model] = {}
    for model in args:
        field = model.model_fields["type"]
        for literal in typing.get_args(field.annotation):
            out[str(literal)] = model
    return out


@cache
def server_models(dialect: str) -> dict[str, Model]:
    """``type`` → SDK model of the dialect's server event union."""
    if dialect == "translation":
        from openai.types.realtime import RealtimeTranslationServerEvent

        return union_members(RealtimeTranslationServerEvent)
    if dialect == "ga":
        from openai.types.realtime import RealtimeServerEvent as GAServer

        return union_members(GAServer)
    if dialect == "live":  # GPT-Live (docs/protocol.md §13): the primary WebSocket's union
        from openai.types.live import ConnectServerEvent as LiveServer

        return union_members(LiveServer)
    from openai.types.beta.realtime import RealtimeServerEvent as BetaServer

    return union_members(BetaServer)


@cache
def client_models(dialect: str) -> dict[str, Model]:
    """``type`` → SDK model of the dialect's client event union."""
    if dialect == "translation":
        from openai.types.realtime import RealtimeTranslationClientEvent

        return union_members(RealtimeTranslationClientEvent)
    if dialect == "ga":
        from openai.types.realtime import RealtimeClientEvent as GAClient

        return union_members(GAClient)
    if dialect == "live":
        from openai.types.live import ClientEvent as LiveClient

        return union_members(LiveClient)
    from openai.types.beta.realtime import RealtimeClientEvent as BetaClient

    return union_members(BetaClient)


def _check_extras(obj: Any, dialect: str, path: str) -> None:
    if isinstance(obj, pydantic.BaseModel):
        extra = set((obj.model_extra or {}).keys())
        extra -= _TOLERATED_EXTRAS.get(f"{dialect}:{type(obj).__name__}", frozenset())
        if dialect == "ga" and getattr(obj, "type", None) in OBFUSCATED:
            extra.discard("obfuscation")  # §3.1 [V]: GA text-like deltas carry it; the SDK does not model it
        if extra:
            raise ShapeError(f"{path}: keys unknown to the SDK model {type(obj).__name__}: {sorted(extra)}")
        for field_name in type(obj).model_fields:
            _check_extras(getattr(obj, field_name), dialect, f"{path}.{field_name}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _check_extras(value, dialect, f"{path}[{i}]")


NO_EVENT_ID = frozenset({"input_audio_buffer.dtmf_event_received"})
"""Server events whose SDK model has no ``event_id`` (§11.3: SIP DTMF)."""


def validate_server_event(event: dict[str, Any], dialect: str) -> None:
    """Raise :class:`ShapeError` unless ``event`` is a valid server event of ``dialect`` per the SDK."""
    if dialect == VOICE_LIVE:  # the azure-ai-voicelive client's models (docs/protocol.md §12)
        validate_voice_live_event(event)
        return
    etype = event.get("type")
    if not isinstance(etype, str):
        raise ShapeError(f"server event without a string 'type': {event!r:.300}")
    event_id = event.get("event_id")
    models = server_models(dialect)
    # Live output audio deltas and reflected input have no event_id (their SDK models lack it, §13.3).
    needs_id = dialect != "live" or etype not in models or "event_id" in models[etype].model_fields
    if etype in NO_EVENT_ID or not needs_id:
        pass
    elif not (isinstance(event_id, str) and event_id.startswith("event_")):
        raise ShapeError(f"{etype}: 'event_id' must be a string starting with 'event_' (§1.8), got {event_id!r}")
    alias = _ALIASES.get((dialect, etype))
    if alias is not None:
        etype, event = alias, {**event, "type": alias}
    if dialect == "beta" and etype == "transcription_session.updated":
        session = event.get("session")
        if isinstance(session, dict) and session.get("client_secret") is None:
            # §4.6: socket frames carry ``client_secret: null``; the SDK types the REST shape (an object).
            event = {**event, "session": {**session, "client_secret": {"value": "", "expires_at": 0}}}
    models = server_models(dialect)
    if etype not in models:
        raise ShapeError(f"{etype!r} is not a server event type of the {dialect} SDK union")
    try:
        model = models[etype].model_validate(event)
    except pydantic.ValidationError as exc:
        raise ShapeError(f"{etype} does not match the SDK model {models[etype].__name__}: {exc}") from None
    _check_extras(model, dialect, etype)
