"""Azure Voice Live: the beta wire shape plus Azure's extensions, as the ``azure-ai-voicelive`` client sends and
parses them (the azure-ai-voicelive 1.3.1 client; ``/voice-live/realtime``).

The shapes are those of the ``azure-ai-voicelive`` 1.3.1 models (RequestSession, ResponseCreateParams, the
TurnDetection / AzureVoice / EouDetection unions). Only what changes nothing the mock simulates, or maps onto
what it does simulate, is accepted; avatar, animation, audio timestamps, other sampling rates and output
formats are not (they stay ``unknown_parameter`` / ``invalid_value``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from mockrt.core.dialects import common as c
from mockrt.core.dialects.beta import RESPONSE, SESSION_FIELDS, Beta
from mockrt.core.dialects.ga import turn_detection_from
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.model import SessionConfig
from mockrt.core.schema import MAX_TOKENS, Arr, Bool, Const, Enum, Int, Nullable, Num, Obj, OneOf, Str, Union

_AZURE_VOICE_FIELDS: dict[str, Any] = {
    "name": Str(),
    "temperature": Num(0.0, 1.0),
    "custom_lexicon_url": Str(),
    "custom_text_normalization_url": Str(),
    "prefer_locales": Arr(Str()),
    "locale": Str(),
    "style": Str(),
    "pitch": Str(),
    "rate": Str(),
    "volume": Str(),
}
VOICE_LIVE_VOICE = OneOf(
    Str(choices=c.VOICES),
    Union(
        {
            "openai": Obj({"type": Const("openai"), "name": Str(choices=c.VOICES)}, required=("name",)),
            "azure-standard": Obj({"type": Const("azure-standard"), **_AZURE_VOICE_FIELDS}, required=("name",)),
            "azure-custom": Obj({"type": Const("azure-custom"), "endpoint_id": Str(), **_AZURE_VOICE_FIELDS},
                                required=("name", "endpoint_id")),
            "azure-personal": Obj({"type": Const("azure-personal"), "model": Str(), **_AZURE_VOICE_FIELDS},
                                  required=("name", "model")),
            "azure-realtime-native": Obj({"type": Const("azure-realtime-native"), "name": Str()},
                                         required=("name",)),
        }
    ),
    expected="a string or an object",
)
_EOU_MODELS = ("semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual")
_END_OF_UTTERANCE = Nullable(
    Union(
        {m: Obj({"model": Const(m), "threshold_level": Enum("low", "medium", "high", "default"),
                 "timeout_ms": Int(0, 10_000)}) for m in _EOU_MODELS},
        key="model",
    )
)
_AZURE_VAD_FIELDS: dict[str, Any] = {
    "threshold": Num(0.0, 1.0),
    "prefix_padding_ms": Int(0, 10_000),
    "silence_duration_ms": Int(0, 10_000),
    "end_of_utterance_detection": _END_OF_UTTERANCE,
    "speech_duration_ms": Int(0, 10_000),
    "remove_filler_words": Bool(),
    "languages": Arr(Str()),
    "auto_truncate": Bool(),
    "create_response": Bool(),
    "interrupt_response": Bool(),
}
AZURE_SEMANTIC_VADS = ("azure_semantic_vad", "azure_semantic_vad_en", "azure_semantic_vad_multilingual")
VOICE_LIVE_TURN_DETECTION = Nullable(
    Union(
        {
            "server_vad": Obj({**c.SERVER_VAD_FIELDS, "end_of_utterance_detection": _END_OF_UTTERANCE,
                               "auto_truncate": Bool()}),
            "semantic_vad": Obj(c.SEMANTIC_VAD_FIELDS),
            "azure_semantic_vad": Obj({"type": Const("azure_semantic_vad"), **_AZURE_VAD_FIELDS}),
            "azure_semantic_vad_en": Obj({"type": Const("azure_semantic_vad_en"),
                                          **{k: v for k, v in _AZURE_VAD_FIELDS.items() if k != "languages"}}),
            "azure_semantic_vad_multilingual": Obj({"type": Const("azure_semantic_vad_multilingual"),
                                                    **_AZURE_VAD_FIELDS}),
        }
    )
)
_TURN_DETECTION_CORE_KEYS = frozenset({"type", "threshold", "prefix_padding_ms", "silence_duration_ms",
                                       "idle_timeout_ms", "create_response", "interrupt_response", "eagerness"})
VOICE_LIVE_TRANSCRIPTION = Obj(
    {"model": Str(), "language": Str(), "custom_speech": Obj({}, extra=Str()), "phrase_list": Arr(Str())}
)
VOICE_LIVE_SESSION_FIELDS: dict[str, Any] = {
    **SESSION_FIELDS,
    "voice": VOICE_LIVE_VOICE,
    "turn_detection": VOICE_LIVE_TURN_DETECTION,
    "input_audio_transcription": Nullable(VOICE_LIVE_TRANSCRIPTION),
    "input_audio_noise_reduction": Nullable(
        Obj({"type": Enum("near_field", "far_field", "azure_deep_noise_suppression"), "strength": Num(0.0, 1.0)})
    ),
    "input_audio_echo_cancellation": Nullable(
        Obj({"type": Const("server_echo_cancellation"), "reference_source": Enum("server", "client"),
             "channels": Int(1, 8)})
    ),
    "parallel_tool_calls": Bool(),
}
VOICE_LIVE_SESSION = Obj(VOICE_LIVE_SESSION_FIELDS)
VOICE_LIVE_ECHOED = ("input_audio_echo_cancellation", "parallel_tool_calls")
"""Voice Live session settings the core has no field for; kept on :class:`VoiceLiveSessionConfig` and echoed."""
VOICE_LIVE_RESPONSE = Obj(
    {**RESPONSE.fields, "voice": VOICE_LIVE_VOICE, "max_output_tokens": MAX_TOKENS}
)


@dataclass
class VoiceLiveSessionConfig(SessionConfig):
    """A session config that also carries the Voice Live settings the core does not model, so that
    ``session.updated`` echoes them (the Azure turn-detection type and its extra knobs, echo cancellation,
    ``parallel_tool_calls``). The core only ever sees the :class:`SessionConfig` part."""

    voice_live: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: SessionConfig) -> VoiceLiveSessionConfig:
        if isinstance(cfg, VoiceLiveSessionConfig):
            return cfg
        return cls(**{f.name: getattr(cfg, f.name) for f in fields(SessionConfig)})


class VoiceLive(Beta):
    """Azure Voice Live (``/voice-live/realtime``; as the azure-ai-voicelive 1.3.1 client sends them).

    It accepts voice objects (``azure-standard`` / ``azure-custom`` / ``azure-personal`` /
    ``azure-realtime-native`` / ``openai``), the ``azure_semantic_vad[_en|_multilingual]`` turn detection types
    (simulated as ``server_vad`` with the given threshold, padding and silence; the type and Azure-only knobs are
    echoed), ``end_of_utterance_detection`` / ``auto_truncate`` on ``server_vad``, ``azure_deep_noise_suppression``,
    server echo cancellation, Azure Speech transcription options, ``parallel_tool_calls``,
    ``response.max_output_tokens`` and ``additional_instructions`` beside ``response.create``'s ``response``. On
    the way out, ``response.function_call_arguments.done`` keeps ``name`` and usage has the GA token details
    (``image_tokens``, ``cached_tokens_details``), as the client's models require. Its rate limits are Azure's
    (an empty array).
    """

    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {}
    session_schema: ClassVar[Obj] = VOICE_LIVE_SESSION
    response_schema: ClassVar[Obj] = VOICE_LIVE_RESPONSE
    image_usage: ClassVar[bool] = True
    envelope_extras: Mapping[ClientEvent, Mapping[str, Any]] = {
        ClientEvent.RESPONSE_CREATE: {"additional_instructions": Str()},
    }

    def __init__(self, *, bare_silence_ms: int = 200) -> None:
        super().__init__(bare_silence_ms=bare_silence_ms, azure=True)

    def _apply_extended(self, raw: dict[str, Any], current: SessionConfig) -> SessionConfig:
        """The Voice Live settings on top of the beta ones (azure-ai-voicelive 1.3.1)."""
        if current.kind != "realtime":
            return super()._apply_extended(raw, current)
        cfg = VoiceLiveSessionConfig.from_config(current)
        if raw.get("input_audio_transcription") is not None:  # echoed as given: Voice Live has no ``prompt``
            cfg.transcription = {"model": "whisper-1", **raw["input_audio_transcription"]}
        if "turn_detection" in raw:
            wire = raw["turn_detection"]
            cfg.voice_live.pop("turn_detection", None)
            if wire is None:
                cfg.turn_detection = None
            else:
                core = {k: v for k, v in wire.items() if k in _TURN_DETECTION_CORE_KEYS}
                if wire["type"] in AZURE_SEMANTIC_VADS:
                    core["type"] = "server_vad"  # simulated with the acoustic VAD
                cfg.turn_detection = turn_detection_from(core, self.bare_silence_ms)
                echoed = {k: v for k, v in wire.items() if k not in _TURN_DETECTION_CORE_KEYS or k == "type"}
                if len(echoed) > 1 or wire["type"] in AZURE_SEMANTIC_VADS:
                    cfg.voice_live["turn_detection"] = echoed
        for key in VOICE_LIVE_ECHOED:
            if key in raw:
                cfg.voice_live[key] = raw[key]
        if "parallel_tool_calls" in raw:
            cfg.parallel_tool_calls = raw["parallel_tool_calls"]
        return cfg

    def render_session(self, cfg: SessionConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        out = super().render_session(cfg, session_id, expires_at)
        if isinstance(cfg, VoiceLiveSessionConfig):
            extra = dict(cfg.voice_live)
            if out["turn_detection"] is not None and "turn_detection" in extra:
                out["turn_detection"] = {**out["turn_detection"], **extra["turn_detection"]}
            extra.pop("turn_detection", None)
            out.update(extra)
        return out
