"""The beta dialect: ``OpenAI-Beta: realtime=v1`` and the Azure preview path (docs/protocol.md §0.2, §3.1, §4.2,
§4.6, §4.7 beta, §4.10 beta, §A.4). Azure Voice Live extends it: :mod:`mockrt.core.dialects.voice_live`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects import common as c
from mockrt.core.dialects.base import Dialect, SessionAudio
from mockrt.core.dialects.ga import GA, turn_detection_from
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.model import ContentPart, Item, Response, ResponseParams, SessionConfig, TurnDetection, Usage
from mockrt.core.models import TRANSCRIPTION_MODELS
from mockrt.core.schema import (
    MAX_TOKENS,
    METADATA,
    Arr,
    Const,
    Custom,
    Enum,
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
BETA_TRANSCRIPTION = Obj({"model": Str(choices=TRANSCRIPTION_MODELS), "language": Str(), "prompt": Str()})

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

_ALLOWED_PARTS = {
    "user": ("input_text", "input_audio"),
    "system": ("input_text",),
    "assistant": ("text",),
}


class Beta(Dialect):
    """The legacy beta protocol (also Azure's preview protocol: ``azure=True``, an empty ``rate_limits``)."""

    name = "beta"
    client_events: ClassVar[Mapping[str, ClientEvent]] = {
        "session.update": ClientEvent.SESSION_UPDATE,
        "transcription_session.update": ClientEvent.TRANSCRIPTION_SESSION_UPDATE,
        "input_audio_buffer.append": ClientEvent.INPUT_AUDIO_APPEND,
        "input_audio_buffer.commit": ClientEvent.INPUT_AUDIO_COMMIT,
        "input_audio_buffer.clear": ClientEvent.INPUT_AUDIO_CLEAR,
        "conversation.item.create": ClientEvent.ITEM_CREATE,
        "conversation.item.truncate": ClientEvent.ITEM_TRUNCATE,
        "conversation.item.delete": ClientEvent.ITEM_DELETE,
        "conversation.item.retrieve": ClientEvent.ITEM_RETRIEVE,
        "response.create": ClientEvent.RESPONSE_CREATE,
        "response.cancel": ClientEvent.RESPONSE_CANCEL,
    }
    call_client_events: ClassVar[Mapping[str, ClientEvent]] = {
        "output_audio_buffer.clear": ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR,
    }
    server_events: ClassVar[Mapping[ServerEvent, str]] = {
        **{event: wire for event, wire in GA.server_events.items()
           if event not in (ServerEvent.ITEM_DONE, ServerEvent.TIMEOUT_TRIGGERED,
                            ServerEvent.TRANSCRIPTION_SEGMENT, ServerEvent.DTMF_RECEIVED)  # GA-only events
           and not event.name.startswith("MCP_")},  # MCP tools are GA only (docs/protocol.md §9)
        ServerEvent.TRANSCRIPTION_SESSION_CREATED: "transcription_session.created",
        ServerEvent.TRANSCRIPTION_SESSION_UPDATED: "transcription_session.updated",
        ServerEvent.ITEM_ADDED: "conversation.item.created",
        ServerEvent.OUTPUT_TEXT_DELTA: "response.text.delta",
        ServerEvent.OUTPUT_TEXT_DONE: "response.text.done",
        ServerEvent.OUTPUT_AUDIO_DELTA: "response.audio.delta",
        ServerEvent.OUTPUT_AUDIO_DONE: "response.audio.done",
        ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA: "response.audio_transcript.delta",
        ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DONE: "response.audio_transcript.done",
    }
    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {
        ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE: frozenset({"name"}),  # GA added ``name`` (§3.7)
    }
    rate_limits_after_created = True
    max_session_minutes = 30
    session_schema: ClassVar[Obj] = SESSION
    response_schema: ClassVar[Obj] = RESPONSE
    image_usage: ClassVar[bool] = False
    """Whether usage has the GA token details (``image_tokens``, ``cached_tokens_details``)."""

    def __init__(self, *, bare_silence_ms: int = 200, azure: bool = False) -> None:
        self.bare_silence_ms = bare_silence_ms
        self.azure = azure

    # -- parsing -------------------------------------------------------------------------------------

    def parse_session_update(self, payload: Any, current: SessionConfig) -> SessionConfig:
        """``session.update`` and, in a transcription session, ``transcription_session.update`` (§2.1)."""
        schema = self.session_schema if current.kind == "realtime" else TRANSCRIPTION_SESSION
        return self._apply(schema.check(payload, "session"), current)

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
        return self._apply_extended(raw, cfg)

    def _apply_extended(self, raw: dict[str, Any], cfg: SessionConfig) -> SessionConfig:
        """The settings a subclass interprets its own way (Voice Live: turn detection and its extensions)."""
        if "turn_detection" in raw:
            cfg.turn_detection = turn_detection_from(raw["turn_detection"], self.bare_silence_ms)
            if cfg.kind == "transcription" and cfg.turn_detection is not None:
                cfg.turn_detection.create_response = False
                cfg.turn_detection.interrupt_response = False
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
        raw = self.response_schema.check(payload if payload is not None else {}, "response")
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
        return out

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
        return c.usage_fields(usage, image_keys=self.image_usage)

    def rate_limits(self, used_tokens: int, limit: int) -> list[dict[str, Any]]:
        if self.azure:
            return []
        return [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": limit, "remaining": max(0, limit - used_tokens),
             "reset_seconds": round(used_tokens * 60.0 / limit, 3)},
        ]

    # -- reading -------------------------------------------------------------------------------------

    def audio_format(self, wire: Any) -> AudioFormat | None:
        return _FORMAT_BY_NAME.get(wire) if isinstance(wire, str) else None

    def session_audio(self, session: Mapping[str, Any]) -> SessionAudio:
        return SessionAudio(self.audio_format(session.get("input_audio_format")),
                            self.audio_format(session.get("output_audio_format")),
                            "turn_detection" in session, c.read_turn_detection(session.get("turn_detection")),
                            session.get("turn_detection"))

    def response_format(self, response: Mapping[str, Any]) -> AudioFormat | None:
        return self.audio_format(response.get("output_audio_format"))


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
        out["audio"] = c.encode_b64(p.audio)
    return out
