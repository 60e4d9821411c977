"""The translation-session dialect: ``/v1/realtime/translations`` (docs/protocol.md §10).

Translation sessions are a separate surface of the GA Realtime API with their own, small event set
(openai 3.63 ``RealtimeTranslationClientEvent`` / ``RealtimeTranslationServerEvent``): the client sends
``session.update``, ``session.input_audio_buffer.append`` and ``session.close``; the server sends
``session.created`` / ``.updated`` / ``.closed``, source and translated transcript deltas, translated audio
deltas and ``error``. No conversation, no responses. The error object and event ids are GA's, so the dialect
is GA's with its own event tables, session object and session-update schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects.base import SessionAudio
from mockrt.core.dialects.ga import GA
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.model import TranslationConfig
from mockrt.core.schema import Enum, Num, Obj, Str

TRANSLATION_MODELS: tuple[str, ...] = ("gpt-realtime-translate",)
"""The translation models the service lists (§10 [D])."""

_NOISE = Obj({"type": Enum("near_field", "far_field"), "strength": Num(0, 1)}, required=("type",)).nullable()
_TRANSCRIPTION = Obj({"model": Str()}, required=("model",)).nullable()
_AUDIO = Obj({
    "input": Obj({"noise_reduction": _NOISE, "transcription": _TRANSCRIPTION}),
    "output": Obj({"language": Str()}),
})
_UPDATE = Obj({"audio": _AUDIO, "type": Enum("translation"), "model": Str()})
_REQUEST = Obj({"audio": _AUDIO, "type": Enum("translation"), "model": Str()}, required=("model",))


class Translation(GA):
    """The translation surface's wire: event names, the ``translation`` session object and its updates."""

    name = "translation"
    client_events: ClassVar[Mapping[str, ClientEvent]] = {
        "session.update": ClientEvent.SESSION_UPDATE,
        "session.input_audio_buffer.append": ClientEvent.INPUT_AUDIO_APPEND,
        "session.close": ClientEvent.SESSION_CLOSE,
    }
    server_events: ClassVar[Mapping[ServerEvent, str]] = {
        ServerEvent.ERROR: "error",
        ServerEvent.SESSION_CREATED: "session.created",
        ServerEvent.SESSION_UPDATED: "session.updated",
        ServerEvent.SESSION_CLOSED: "session.closed",
        ServerEvent.TRANSLATION_INPUT_TRANSCRIPT_DELTA: "session.input_transcript.delta",
        ServerEvent.TRANSLATION_OUTPUT_TRANSCRIPT_DELTA: "session.output_transcript.delta",
        ServerEvent.TRANSLATION_OUTPUT_AUDIO_DELTA: "session.output_audio.delta",
    }
    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {}
    obfuscated: ClassVar[frozenset[ServerEvent]] = frozenset()
    models: ClassVar[tuple[str, ...]] = TRANSLATION_MODELS

    # -- client side ---------------------------------------------------------------------------------

    def parse_translation_update(self, payload: Any, current: TranslationConfig) -> TranslationConfig:
        """``session.update``'s ``session``: only ``audio.output.language``, ``audio.input.transcription`` and
        ``audio.input.noise_reduction`` change; ``type`` may repeat ``translation``; ``model`` cannot change."""
        fields = _UPDATE.check(payload, "session")
        if "model" in fields and fields["model"] != current.model:
            raise errors.translation_cannot_update("model")
        return _apply_audio(fields.get("audio", {}), current)

    def parse_translation_request(self, payload: Any) -> TranslationConfig:
        """The ``session`` of ``POST /v1/realtime/translations/client_secrets``: ``model`` required (§10)."""
        fields = _REQUEST.check(payload, "session")
        if fields["model"] not in self.models:
            raise errors.translation_invalid_model(fields["model"], "session.model", self.models)
        return _apply_audio(fields.get("audio", {}), TranslationConfig(model=fields["model"]))

    # -- server side ---------------------------------------------------------------------------------

    def render_translation_session(self, cfg: TranslationConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        """The ``translation`` session object, every key present (``RealtimeTranslationSession``)."""
        return {
            "id": session_id,
            "type": "translation",
            "model": cfg.model,
            "expires_at": expires_at,
            "audio": {
                "input": {"noise_reduction": cfg.noise_reduction, "transcription": cfg.transcription},
                "output": {"language": cfg.language},
            },
        }

    # -- reading the wire back -------------------------------------------------------------------------

    def session_audio(self, session: Mapping[str, Any]) -> SessionAudio:
        """Input and output are always 24 kHz pcm16; translation has no turn detection setting."""
        return SessionAudio(AudioFormat.PCM16, AudioFormat.PCM16, False, None)


def _apply_audio(audio: Mapping[str, Any], current: TranslationConfig) -> TranslationConfig:
    from dataclasses import replace

    new = replace(current)
    inp = audio.get("input", {})
    if "transcription" in inp:
        new.transcription = dict(inp["transcription"]) if inp["transcription"] is not None else None
    if "noise_reduction" in inp:
        value = inp["noise_reduction"]
        if value is None:
            new.noise_reduction = None
        else:
            strength = value.get("strength", (current.noise_reduction or {}).get("strength", 1.0))
            new.noise_reduction = {"type": value["type"], "strength": strength}
    language = audio.get("output", {}).get("language")
    if language is not None:
        new.language = language
    return new
