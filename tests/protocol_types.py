"""Validate server events against the official ``openai`` SDK's pydantic models (the ground truth for shapes).

GA events are checked with ``openai.types.realtime``, beta events with ``openai.types.beta.realtime``. Beyond
pydantic's own validation we also reject keys the SDK model does not know (the SDK models allow extras, so a
misspelt field would otherwise pass silently).
"""

from __future__ import annotations

import typing
from typing import Any

import pydantic
from openai.types.beta.realtime import RealtimeServerEvent as BetaServerEvent
from openai.types.realtime import RealtimeServerEvent as GAServerEvent
from openai.types.realtime import RealtimeTranslationServerEvent

# Keys the SDK does not model but the live service sends (docs/protocol.md citations).
_TOLERATED_EXTRAS: dict[str, set[str]] = {
    # §4.3/§4.5 [V]: session.created/updated carry id, object and expires_at; the SDK types the GA session
    # payload with the *request* models, which lack them.
    "ga:RealtimeSessionCreateRequest": {"id", "object", "expires_at"},
    "ga:RealtimeTranscriptionSessionCreateRequest": {"id", "object", "expires_at"},
    # §4.10 (beta 2025 shape): conversation_id/modalities/voice/... are present on the wire.
    "beta:RealtimeResponse": {"conversation_id", "modalities", "voice", "output_audio_format", "temperature",
                              "max_output_tokens", "metadata"},
    # §4.2: 2025 beta sessions carry speed/tracing/include/client_secret in socket frames.
    # §4.6: the beta transcription session object has id/object/expires_at/noise reduction/include.
    "beta:TranscriptionSession": {"id", "object", "expires_at", "input_audio_noise_reduction", "include"},
    "beta:Session": {"speed", "tracing", "include", "client_secret", "input_audio_noise_reduction", "id", "object",
                     "expires_at"},
}


def _union_members(union: Any) -> dict[str, type[pydantic.BaseModel]]:
    args = typing.get_args(union)
    if args and typing.get_origin(args[0]) is typing.Union:
        args = typing.get_args(args[0])
    out: dict[str, type[pydantic.BaseModel]] = {}
    for model in args:
        field = model.model_fields["type"]
        for literal in typing.get_args(field.annotation):
            out[literal] = model
    return out


GA_MODELS = _union_members(GAServerEvent)
BETA_MODELS = _union_members(BetaServerEvent)
TRANSLATION_MODELS = _union_members(RealtimeTranslationServerEvent)  # docs/protocol.md §10


# Events the live service sends whose SDK model is missing, validated with the model of their twin:
# beta ``transcription_session.created`` [R: docs/protocol.md §3.1, VoxInput#22] has the ``…updated`` shape.
_ALIASES = {("beta", "transcription_session.created"): "transcription_session.updated"}


def _check_extras(obj: Any, dialect: str, path: str) -> None:
    if isinstance(obj, pydantic.BaseModel):
        extra = set((obj.model_extra or {}).keys())
        extra -= _TOLERATED_EXTRAS.get(f"{dialect}:{type(obj).__name__}", set())
        if dialect == "ga" and str(getattr(obj, "type", "")).endswith(".delta"):
            extra.discard("obfuscation")  # §3.1 [V]: GA text-like deltas carry it; the SDK does not model it
        assert not extra, f"{path}: keys unknown to the SDK model {type(obj).__name__}: {sorted(extra)}"
        for name in type(obj).model_fields:
            _check_extras(getattr(obj, name), dialect, f"{path}.{name}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _check_extras(value, dialect, f"{path}[{i}]")


NO_EVENT_ID = frozenset({"input_audio_buffer.dtmf_event_received"})
"""Server events whose SDK model has no ``event_id`` (docs/protocol.md §11: SIP DTMF)."""


def validate_server_event(event: dict[str, Any], dialect: str) -> pydantic.BaseModel:
    """Validate one server event; raises AssertionError / ValidationError with a readable message."""
    models = {"ga": GA_MODELS, "translation": TRANSLATION_MODELS}.get(dialect, BETA_MODELS)
    etype = event.get("type")
    assert isinstance(etype, str), f"event without a string type: {event!r:.200}"
    alias = _ALIASES.get((dialect, etype))
    if alias is not None:
        etype, event = alias, {**event, "type": alias}
    if dialect == "beta" and etype == "transcription_session.updated" and event["session"].get("client_secret") is None:
        # §4.6: socket frames carry ``client_secret: null``; the SDK types the REST shape, where it is an object.
        event = {**event, "session": {k: v for k, v in event["session"].items() if k != "client_secret"}}
        event["session"]["client_secret"] = {"value": "", "expires_at": 0}
    assert etype in models, f"{dialect}: {etype!r} is not a server event type of the SDK"
    if etype not in NO_EVENT_ID:
        assert isinstance(event.get("event_id"), str) and event["event_id"].startswith("event_"), event
    model = models[etype].model_validate(event)
    _check_extras(model, dialect, etype)
    return model


# -- GPT-Live (docs/protocol.md §13): every server event against the SDK's ConnectServerEvent ---------------

from openai.types.live import ConnectServerEvent as LiveServerEvent  # noqa: E402

LIVE_MODELS = _union_members(LiveServerEvent)


def validate_live_event(event: dict[str, Any]) -> pydantic.BaseModel:
    """Validate one Live server event strictly: its SDK model, and no keys the model does not know."""
    etype = event.get("type")
    assert isinstance(etype, str) and etype in LIVE_MODELS, f"live: {etype!r} is not a Live server event type"
    if "event_id" in LIVE_MODELS[etype].model_fields:
        assert isinstance(event.get("event_id"), str) and event["event_id"].startswith("event_"), event
    model = LIVE_MODELS[etype].model_validate(event)
    _check_extras(model, "live", etype)
    return model
