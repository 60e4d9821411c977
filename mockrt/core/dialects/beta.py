"""The beta dialect: ``OpenAI-Beta: realtime=v1`` and the Azure preview path (protocol.md §0.2, §3.1, §4.2,
§4.6, §4.7 beta, §4.10 beta, §A.4), and Azure Voice Live's extensions of it (peers-and-clients.md §C.3)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects import common as c
from mockrt.core.dialects.base import Dialect
from mockrt.core.dialects.ga import turn_detection_from
from mockrt.core.model import ContentPart, Item, Response, ResponseParams, SessionConfig, TurnDetection, Usage
from mockrt.core.schema import (
    MAX_TOKENS,
    METADATA,
    Arr,
    Bool,
    Const,
    Custom,
    Enum,
    Int,
    Nullable,
    Num,
    Obj,
    OneOf,
    Str,
    Union,
)

FORMAT = Enum("pcm16", "g711_ulaw", "g711_alaw")
_FORMAT_BY_NAME = {"pcm16": AudioFormat.PCM16, "g711_ulaw": AudioFormat.G711_ULAW,
                   "g711_alaw": AudioFormat.G711_ALAW}
_NAME_BY_FORMAT = {v: k for k, v in _FORMAT_BY_NAME.items()}


def _modalities(value: list[str], path: str) -> list[str]:
    if sorted(value) not in (["text"], ["audio", "text"]):
        raise errors.invalid_modalities(value, path)
    return value


MODALITIES = Custom(Arr(Enum("text", "audio")), _modalities)
TOOL_CHOICE = OneOf(
    c.TOOL_CHOICE_MODES,
    Obj({"type": Const("function"), "name": Str(), "function": Obj({"name": Str()})}, required=("type",)),
    expected="a string or an object",
)
TOOLS = Arr(Union({"function": c.FUNCTION_TOOL}, default="function"))
BETA_TRANSCRIPTION = Obj({"model": Str(), "language": Str(), "prompt": Str()})

SESSION_FIELDS: dict[str, Any] = {
    "model": Str(),
    "modalities": MODALITIES,
    "instructions": Str(),
    "voice": Str(choices=c.VOICES),
    "input_audio_format": FORMAT,
    "output_audio_format": FORMAT,
    "input_audio_transcription": Nullable(BETA_TRANSCRIPTION),
    "input_audio_noise_reduction": Nullable(c.NOISE_REDUCTION),
    "turn_detection": c.TURN_DETECTION,
    "tools": TOOLS,
    "tool_choice": TOOL_CHOICE,
    "temperature": Num(0.6, 1.2),
    "max_response_output_tokens": MAX_TOKENS,
    "speed": Num(0.25, 1.5),
    "tracing": c.TRACING,
    "include": c.INCLUDE,
}
SESSION = Obj(SESSION_FIELDS)
TRANSCRIPTION_SESSION = Obj(
    {
        "input_audio_format": FORMAT,
        "input_audio_transcription": Nullable(BETA_TRANSCRIPTION),
        "input_audio_noise_reduction": Nullable(c.NOISE_REDUCTION),
        "turn_detection": c.TURN_DETECTION,
        "include": c.INCLUDE,
        "modalities": MODALITIES,
    }
)
REST_SESSION = Obj(
    {**SESSION_FIELDS,
     "client_secret": Obj({"expires_after": Obj({"anchor": Const("created_at"), "seconds": Num(10, 7200)})})}
)

_PART = Union(
    {
        "input_text": Obj({"type": Const("input_text"), "text": Str(), "id": Str()}),
        "input_audio": Obj({"type": Const("input_audio"), "audio": Nullable(Str()), "transcript": Nullable(Str()),
                            "id": Str()}),
        "text": Obj({"type": Const("text"), "text": Str(), "id": Str()}),
        "audio": Obj({"type": Const("audio"), "audio": Nullable(Str()), "transcript": Nullable(Str()),
                      "id": Str()}),
        "item_reference": Obj({"type": Const("item_reference"), "id": Str()}),
    }
)
_ITEM_FIELDS: dict[str, Any] = {
    "id": Str(max_len=64),
    "object": Const("realtime.item"),
    "type": Enum("message", "function_call", "function_call_output"),
    "status": c.ITEM_STATUS,
    "role": Enum("user", "assistant", "system"),
    "content": Arr(_PART),
    "call_id": Str(),
    "name": Str(),
    "arguments": Str(),
    "output": Str(),
}
ITEM = Obj(_ITEM_FIELDS, required=("type",))
INPUT_ITEM = Obj({**_ITEM_FIELDS, "type": Enum("message", "function_call", "function_call_output",
                                                "item_reference")})

RESPONSE = Obj(
    {
        "modalities": MODALITIES,
        "instructions": Str(),
        "voice": Str(choices=c.VOICES),
        "output_audio_format": FORMAT,
        "tools": TOOLS,
        "tool_choice": TOOL_CHOICE,
        "temperature": Num(0.6, 1.2),
        "max_response_output_tokens": MAX_TOKENS,
        "conversation": Str(),
        "metadata": Nullable(METADATA),
        "input": Arr(INPUT_ITEM),
    }
)

# -- Azure Voice Live (peers-and-clients.md §C.3) ------------------------------------------------------------
# The shapes are those of the ``azure-ai-voicelive`` 1.3.1 models (RequestSession, ResponseCreateParams, the
# TurnDetection / AzureVoice / EouDetection unions). Only what changes nothing the mock simulates, or maps onto
# what it does simulate, is accepted; avatar, animation, audio timestamps, other sampling rates and output
# formats are not (they stay ``unknown_parameter`` / ``invalid_value``).

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


_ALLOWED_PARTS = {
    "user": ("input_text", "input_audio"),
    "system": ("input_text",),
    "assistant": ("text",),
}


class Beta(Dialect):
    """The legacy beta protocol (also Azure's preview protocol).

    ``voice_live=True`` is Azure Voice Live (``/voice-live/realtime``; peers-and-clients.md §C.3): the beta
    wire shape plus Azure's extensions, as the ``azure-ai-voicelive`` client sends and parses them. It accepts
    voice objects (``azure-standard`` / ``azure-custom`` / ``azure-personal`` / ``azure-realtime-native`` /
    ``openai``), the ``azure_semantic_vad[_en|_multilingual]`` turn detection types (simulated as
    ``server_vad`` with the given threshold, padding and silence; the type and Azure-only knobs are echoed),
    ``end_of_utterance_detection`` / ``auto_truncate`` on ``server_vad``, ``azure_deep_noise_suppression``,
    server echo cancellation, Azure Speech transcription options, ``parallel_tool_calls``, and
    ``response.max_output_tokens``. On the way out, ``response.function_call_arguments.done`` keeps ``name`` and
    usage has the GA token details (``image_tokens``, ``cached_tokens_details``), as the client's models require.
    Without the flag nothing of this changes.
    """

    name = "beta"
    client_event_types: ClassVar[tuple[str, ...]] = (
        "session.update",
        "transcription_session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.truncate",
        "conversation.item.delete",
        "conversation.item.retrieve",
        "response.create",
        "response.cancel",
    )
    event_names: ClassVar[dict[str, str]] = {
        "conversation.item.added": "conversation.item.created",
        "response.output_text.delta": "response.text.delta",
        "response.output_text.done": "response.text.done",
        "response.output_audio.delta": "response.audio.delta",
        "response.output_audio.done": "response.audio.done",
        "response.output_audio_transcript.delta": "response.audio_transcript.delta",
        "response.output_audio_transcript.done": "response.audio_transcript.done",
    }
    dropped_events = frozenset({"conversation.item.done", "input_audio_buffer.timeout_triggered"})
    dropped_fields: ClassVar[dict[str, frozenset[str]]] = {
        "response.function_call_arguments.done": frozenset({"name"}),  # GA added ``name`` (§3.7)
    }
    rate_limits_after_created = True
    max_session_minutes = 30

    def __init__(self, *, bare_silence_ms: int = 200, azure: bool = False, voice_live: bool = False) -> None:
        self.bare_silence_ms = bare_silence_ms
        self.azure = azure
        self.voice_live = voice_live
        if voice_live:
            # Voice Live's response.create carries ``additional_instructions`` beside ``response`` (§C.3).
            self.envelope_extras = {"response.create": {"additional_instructions": Str()}}
        self._session_schema = VOICE_LIVE_SESSION if voice_live else SESSION
        self._response_schema = VOICE_LIVE_RESPONSE if voice_live else RESPONSE

    # -- parsing -------------------------------------------------------------------------------------

    def parse_session_update(self, payload: Any, current: SessionConfig) -> SessionConfig:
        schema = self._session_schema if current.kind == "realtime" else TRANSCRIPTION_SESSION
        return self._apply(schema.check(payload, "session"), current)

    def parse_transcription_update(self, payload: Any, current: SessionConfig) -> SessionConfig:
        return self._apply(TRANSCRIPTION_SESSION.check(payload, "session"), current)

    def parse_session_request(self, payload: Any, base: SessionConfig) -> SessionConfig:
        raw = REST_SESSION.check(payload, "session")
        raw.pop("client_secret", None)
        return self._apply(raw, base)

    def _apply(self, raw: dict[str, Any], current: SessionConfig) -> SessionConfig:
        cfg = copy.deepcopy(current)
        mapping = {"model": "model", "instructions": "instructions", "voice": "voice", "tools": "tools",
                   "tool_choice": "tool_choice", "temperature": "temperature",
                   "max_response_output_tokens": "max_output_tokens", "speed": "speed", "tracing": "tracing",
                   "include": "include", "input_audio_noise_reduction": "noise_reduction"}
        for wire, attr in mapping.items():
            if wire in raw:
                setattr(cfg, attr, raw[wire])
        if "modalities" in raw:
            cfg.modality = "audio" if "audio" in raw["modalities"] else "text"
        if "input_audio_format" in raw:
            cfg.input_format = _FORMAT_BY_NAME[raw["input_audio_format"]]
        if "output_audio_format" in raw:
            cfg.output_format = _FORMAT_BY_NAME[raw["output_audio_format"]]
        if "input_audio_transcription" in raw:
            t = raw["input_audio_transcription"]
            cfg.transcription = None if t is None else {
                "model": t.get("model", "whisper-1"), "language": t.get("language"), "prompt": t.get("prompt")}
        if self.voice_live and cfg.kind == "realtime":
            return self._apply_voice_live(raw, cfg)
        if "turn_detection" in raw:
            cfg.turn_detection = turn_detection_from(raw["turn_detection"], self.bare_silence_ms)
            if cfg.kind == "transcription" and cfg.turn_detection is not None:
                cfg.turn_detection.create_response = False
                cfg.turn_detection.interrupt_response = False
        return cfg

    def _apply_voice_live(self, raw: dict[str, Any], current: SessionConfig) -> SessionConfig:
        """The Voice Live settings on top of the beta ones (peers-and-clients.md §C.3)."""
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

    def parse_item(self, payload: Any, path: str, cfg: SessionConfig) -> Item:
        raw = ITEM.check(payload, path)
        return self._item(raw, path, cfg)

    def parse_input_item(self, payload: dict[str, Any], path: str, cfg: SessionConfig) -> Item:
        if payload.get("type") == "item_reference":
            if "id" not in payload:
                raise errors.missing_required_parameter(f"{path}.id")
            return Item(id=payload["id"], type="item_reference")
        return self._item(payload, path, cfg)

    def _item(self, raw: dict[str, Any], path: str, cfg: SessionConfig) -> Item:
        item = Item(id=raw.get("id", ""), type=raw["type"], status="completed")
        if raw["type"] == "message":
            if "role" not in raw:
                raise errors.missing_required_parameter(f"{path}.role")
            if "content" not in raw:
                raise errors.missing_required_parameter(f"{path}.content")
            item.role = raw["role"]
            allowed = _ALLOWED_PARTS[raw["role"]]
            for i, part in enumerate(raw["content"]):
                ppath = f"{path}.content[{i}]"
                t = part["type"]
                if t == "audio" and raw["role"] == "assistant":
                    raise errors.assistant_audio_create()
                if t not in allowed:
                    raise errors.invalid_value(t, allowed, f"{ppath}.type")
                if t == "input_audio":
                    item.content.append(c.parse_content_audio(part, cfg.input_format, ppath))
                else:
                    item.content.append(ContentPart(type=t, text=part.get("text", "")))
        elif raw["type"] == "function_call":
            for key in ("name", "arguments"):
                if key not in raw:
                    raise errors.missing_required_parameter(f"{path}.{key}")
            item.name, item.call_id, item.arguments = raw["name"], raw.get("call_id"), raw["arguments"]
        else:
            for key in ("call_id", "output"):
                if key not in raw:
                    raise errors.missing_required_parameter(f"{path}.{key}")
            item.call_id, item.output = raw["call_id"], raw["output"]
        return item

    def parse_response_params(
        self, payload: Any, cfg: SessionConfig
    ) -> tuple[ResponseParams, list[Any] | None]:
        raw = self._response_schema.check(payload if payload is not None else {}, "response")
        conversation = raw.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            raise errors.invalid_value(conversation, ["auto", "none"], "response.conversation")
        modality = cfg.modality
        max_tokens = cfg.max_output_tokens
        if "modalities" in raw:
            modality = "audio" if "audio" in raw["modalities"] else "text"
        params = ResponseParams(
            modality=modality,
            instructions=raw.get("instructions", cfg.instructions),
            voice=raw.get("voice", cfg.voice),
            output_format=_FORMAT_BY_NAME[raw["output_audio_format"]] if "output_audio_format" in raw
            else cfg.output_format,
            tools=raw.get("tools", cfg.tools),
            tool_choice=raw.get("tool_choice", cfg.tool_choice),
            temperature=raw.get("temperature", cfg.temperature),
            max_output_tokens=raw.get("max_response_output_tokens", raw.get("max_output_tokens", max_tokens)),
            conversation=conversation,
            metadata=raw.get("metadata"),
        )
        return params, raw.get("input")

    # -- rendering -----------------------------------------------------------------------------------

    def session_created_type(self, cfg: SessionConfig) -> str:
        return "transcription_session.created" if cfg.kind == "transcription" else "session.created"

    def session_updated_type(self, cfg: SessionConfig) -> str:
        return "transcription_session.updated" if cfg.kind == "transcription" else "session.updated"

    def render_session(self, cfg: SessionConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        td = _turn_detection(cfg.turn_detection, transcription=cfg.kind == "transcription")
        if cfg.kind == "transcription":
            return {
                "id": session_id,
                "object": "realtime.transcription_session",
                "expires_at": expires_at,
                "input_audio_format": _NAME_BY_FORMAT[cfg.input_format],
                "input_audio_transcription": cfg.transcription,
                "input_audio_noise_reduction": cfg.noise_reduction,
                "turn_detection": td,
                "include": cfg.include,
                "modalities": ["text"],
                "client_secret": None,
            }
        out: dict[str, Any] = {
            "id": session_id,
            "object": "realtime.session",
            "model": cfg.model,
            "expires_at": expires_at,
            "modalities": ["audio", "text"] if cfg.modality == "audio" else ["text"],
            "instructions": cfg.instructions,
            "voice": cfg.voice,
            "turn_detection": td,
            "input_audio_format": _NAME_BY_FORMAT[cfg.input_format],
            "output_audio_format": _NAME_BY_FORMAT[cfg.output_format],
            "input_audio_transcription": cfg.transcription,
            "input_audio_noise_reduction": cfg.noise_reduction,
            "include": cfg.include,
            "client_secret": None,
            "tool_choice": cfg.tool_choice,
            "temperature": cfg.temperature,
            "max_response_output_tokens": cfg.max_output_tokens,
            "speed": cfg.speed,
            "tracing": cfg.tracing,
            "tools": cfg.tools,
        }
        if isinstance(cfg, VoiceLiveSessionConfig):
            extra = dict(cfg.voice_live)
            if out["turn_detection"] is not None and "turn_detection" in extra:
                out["turn_detection"] = {**out["turn_detection"], **extra["turn_detection"]}
            extra.pop("turn_detection", None)
            out.update(extra)
        return out

    def encode(self, event: dict[str, Any], event_id: str) -> dict[str, Any] | None:
        wire = super().encode(event, event_id)
        if self.voice_live and wire is not None and event["type"] == "response.function_call_arguments.done":
            wire["name"] = event["name"]  # Voice Live keeps it (the client's model requires it)
        return wire

    def render_item(self, item: Item, *, with_audio: bool = False) -> dict[str, Any]:
        return c.render_item(item, _part, with_audio=with_audio, object_key="first")

    def render_response(self, response: Response) -> dict[str, Any]:
        p = response.params
        return {
            **c.response_head(response, self.render_item),
            "modalities": ["audio", "text"] if p.modality == "audio" else ["text"],
            "voice": p.voice,
            "output_audio_format": _NAME_BY_FORMAT[p.output_format],
            "temperature": p.temperature,
            "max_output_tokens": p.max_output_tokens,
            "usage": self.render_usage(response.usage) if response.usage is not None else None,
            "metadata": p.metadata,
        }

    def render_usage(self, usage: Usage) -> dict[str, Any]:
        return c.usage_fields(usage, image_keys=self.voice_live)  # Voice Live has the GA details

    def rate_limits(self, used_tokens: int, limit: int) -> list[dict[str, Any]]:
        if self.azure:
            return []
        return [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": limit, "remaining": max(0, limit - used_tokens),
             "reset_seconds": round(used_tokens * 60.0 / limit, 3)},
        ]


def _turn_detection(td: TurnDetection | None, *, transcription: bool) -> dict[str, Any] | None:
    if td is None:
        return None
    if td.type == "semantic_vad":
        out: dict[str, Any] = {"type": "semantic_vad", "eagerness": td.eagerness}
    else:
        out = {"type": "server_vad", "threshold": td.threshold, "prefix_padding_ms": td.prefix_padding_ms,
               "silence_duration_ms": td.silence_duration_ms}
        if td.idle_timeout_ms is not None:
            out["idle_timeout_ms"] = td.idle_timeout_ms
    if not transcription:
        out["create_response"] = td.create_response
        out["interrupt_response"] = td.interrupt_response
    return out


def _part(p: ContentPart, with_audio: bool) -> dict[str, Any]:
    if p.type in ("input_text", "text"):
        return {"type": p.type, "text": p.text}
    out: dict[str, Any] = {"type": p.type, "transcript": p.transcript}
    if with_audio:
        out["audio"] = c.b64(p.audio)
    return out
