"""Azure Voice Live: the beta wire shape plus Azure's extensions, as the ``azure-ai-voicelive`` client sends and
parses them (the azure-ai-voicelive 1.3.1 client; ``/voice-live/realtime``; docs/protocol.md §12).

The shapes are those of the ``azure-ai-voicelive`` 1.3.1 models (RequestSession, ResponseCreateParams, the
TurnDetection / AzureVoice / EouDetection / InterimResponseConfig unions, AvatarConfig, Animation). Every field
is validated (enums, ranges, the required fields of each voice kind) and given its effect (§12): input at the
declared sampling rate, output at 8/16/24 kHz, word timestamps and animation derived from the output audio
(:mod:`mockrt.core.audio_sync`), the ``response.create`` directives (``cancel_previous``, ``commit``,
``input_items``, ``append_input_items``, ``pre_generated_assistant_message``), ``input_image`` parts. Settings whose
effect is outside what a mock can produce (reasoning effort, interim responses, an avatar's video) are accepted and
echoed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects import common as c
from mockrt.core.dialects import mcp as mcp_wire
from mockrt.core.dialects.base import SessionAudio
from mockrt.core.dialects.beta import RESPONSE, SESSION_FIELDS, Beta
from mockrt.core.dialects.beta import _part as beta_part
from mockrt.core.dialects.ga import turn_detection_from
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.mcp import APPROVAL_RESPONSE_SCHEMA, MCP_TOOL_SCHEMA, ApprovalResponse
from mockrt.core.model import ContentPart, Item, Response, ResponseDirectives, ResponseParams, SessionConfig
from mockrt.core.schema import (
    MAX_TOKENS,
    METADATA,
    AnyValue,
    Arr,
    Bool,
    Const,
    Enum,
    Int,
    Nullable,
    Num,
    Obj,
    OneOf,
    Str,
    Union,
    json_kind,
)

VOICE_LIVE_TOOLS = Arr(Union({"function": c.FUNCTION_TOOL, "mcp": MCP_TOOL_SCHEMA}, default="function"))
"""Function tools and the client's ``MCPServer`` tool (docs/protocol.md §12, MCP as in §9)."""
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
OUTPUT_FORMAT = Enum("pcm16", "pcm16_8000hz", "pcm16_16000hz", "g711_ulaw", "g711_alaw")
_OUTPUT_FORMATS = {"pcm16": AudioFormat.PCM16, "pcm16_8000hz": AudioFormat.PCM16_8K,
                   "pcm16_16000hz": AudioFormat.PCM16_16K, "g711_ulaw": AudioFormat.G711_ULAW,
                   "g711_alaw": AudioFormat.G711_ALAW}
_OUTPUT_NAMES = {v: k for k, v in _OUTPUT_FORMATS.items()}
_PCM_AT = {24000: AudioFormat.PCM16, 16000: AudioFormat.PCM16_16K, 8000: AudioFormat.PCM16_8K}
_INPUT_NAMES = {AudioFormat.PCM16: "pcm16", AudioFormat.PCM16_16K: "pcm16", AudioFormat.PCM16_8K: "pcm16",
                AudioFormat.G711_ULAW: "g711_ulaw", AudioFormat.G711_ALAW: "g711_alaw"}
REASONING_EFFORT = Enum("none", "minimal", "low", "medium", "high", "xhigh")
_INTERIM_BASE: dict[str, Any] = {"triggers": Arr(Enum("latency", "tool")), "latency_threshold_ms": Int(0)}
INTERIM_RESPONSE = Nullable(Union({
    "static_interim_response": Obj({"type": Const("static_interim_response"), **_INTERIM_BASE,
                                    "texts": Arr(Str())}),
    "llm_interim_response": Obj({"type": Const("llm_interim_response"), **_INTERIM_BASE, "model": Str(),
                                 "instructions": Str(), "max_completion_tokens": Int(1)}),
}))
ANIMATION = Obj({"model_name": Str(), "outputs": Arr(Enum("blendshapes", "viseme_id"))})
_VIDEO = Obj({
    "bitrate": Int(1), "codec": Const("h264"), "gop_size": Int(1),
    "crop": Obj({"top_left": Arr(Int(0), max_len=2, min_len=2), "bottom_right": Arr(Int(0), max_len=2, min_len=2)},
                required=("top_left", "bottom_right")),
    "resolution": Obj({"width": Int(1), "height": Int(1)}, required=("width", "height")),
    "background": Obj({"color": Str(), "image_url": Str()}),
})
AVATAR = Nullable(Obj({
    "type": Enum("video-avatar", "photo-avatar"),
    "ice_servers": Arr(Obj({"urls": Arr(Str()), "username": Str(), "credential": Str()}, required=("urls",))),
    "character": Str(), "style": Str(), "model": Enum("vasa-1"), "customized": Bool(), "video": _VIDEO,
    "scene": Obj({k: Num() for k in ("zoom", "position_x", "position_y", "rotation_x", "rotation_y",
                                     "rotation_z", "amplitude")}),
    "output_protocol": Enum("webrtc", "websocket"), "output_audit_audio": Bool(),
}, required=("character", "customized")))
_ANY = AnyValue()  # items: validated by the item parser, with their index in the path
VOICE_LIVE_SESSION_FIELDS: dict[str, Any] = {
    **SESSION_FIELDS,
    "output_audio_format": OUTPUT_FORMAT,
    "input_audio_sampling_rate": Int(),  # 8000/16000/24000 for pcm16, 8000 for G.711: checked in _apply
    "output_audio_timestamp_types": Arr(Enum("word")),
    "animation": Nullable(ANIMATION),
    "avatar": AVATAR,
    "interim_response": INTERIM_RESPONSE,
    "reasoning_effort": REASONING_EFFORT,
    "metadata": Nullable(METADATA),
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
    "tools": VOICE_LIVE_TOOLS,
}
VOICE_LIVE_SESSION = Obj(VOICE_LIVE_SESSION_FIELDS)
VOICE_LIVE_ECHOED = ("input_audio_echo_cancellation", "parallel_tool_calls", "output_audio_timestamp_types",
                     "animation", "avatar", "interim_response", "reasoning_effort", "metadata")
"""Voice Live session settings the core has no field for; kept on :class:`VoiceLiveSessionConfig` and echoed."""
_IMAGE_PART = Obj({"type": Const("input_image"), "image_url": Str(), "detail": Enum("auto", "low", "high")})
_ASSISTANT_MESSAGE = Obj({"type": Const("message"), "role": Const("assistant"), "id": Str(max_len=64),
                          "status": Enum("completed", "incomplete"),
                          "content": Arr(Obj({"type": Const("text"), "text": Str()}, required=("type", "text")),
                                         min_len=1)},
                         required=("type", "role", "content"))
VOICE_LIVE_RESPONSE = Obj(
    {**RESPONSE.fields, "voice": VOICE_LIVE_VOICE, "max_output_tokens": MAX_TOKENS,
     "output_audio_format": OUTPUT_FORMAT, "commit": Bool(), "cancel_previous": Bool(),
     "append_input_items": Arr(_ANY), "input_items": Arr(_ANY),
     "pre_generated_assistant_message": _ASSISTANT_MESSAGE, "reasoning_effort": REASONING_EFFORT,
     "interim_response": INTERIM_RESPONSE, "invoke_input": Obj({}, extra=_ANY), "tools": VOICE_LIVE_TOOLS}
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

    client_events: ClassVar[Mapping[str, ClientEvent]] = {  # the client's ClientEventType order
        "session.update": ClientEvent.SESSION_UPDATE,
        "input_audio_buffer.append": ClientEvent.INPUT_AUDIO_APPEND,
        "input_audio_buffer.commit": ClientEvent.INPUT_AUDIO_COMMIT,
        "input_audio_buffer.clear": ClientEvent.INPUT_AUDIO_CLEAR,
        "input_audio.turn.start": ClientEvent.INPUT_AUDIO_TURN_START,
        "input_audio.turn.append": ClientEvent.INPUT_AUDIO_TURN_APPEND,
        "input_audio.turn.end": ClientEvent.INPUT_AUDIO_TURN_END,
        "input_audio.turn.cancel": ClientEvent.INPUT_AUDIO_TURN_CANCEL,
        "input_audio.clear": ClientEvent.INPUT_AUDIO_CLEAR,
        "conversation.item.create": ClientEvent.ITEM_CREATE,
        "conversation.item.retrieve": ClientEvent.ITEM_RETRIEVE,
        "conversation.item.truncate": ClientEvent.ITEM_TRUNCATE,
        "conversation.item.delete": ClientEvent.ITEM_DELETE,
        "response.create": ClientEvent.RESPONSE_CREATE,
        "response.cancel": ClientEvent.RESPONSE_CANCEL,
        "session.avatar.connect": ClientEvent.AVATAR_CONNECT,
        "output_audio_buffer.clear": ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR,
        "input_text.delta": ClientEvent.INPUT_TEXT_DELTA,
        "input_text.done": ClientEvent.INPUT_TEXT_DONE,
        "mcp_approval_response": ClientEvent.MCP_APPROVAL_RESPONSE,
    }
    server_events: ClassVar[Mapping[ServerEvent, str]] = {
        **{event: wire for event, wire in Beta.server_events.items()  # calls' playout events: not Voice Live's
           if event not in (ServerEvent.OUTPUT_AUDIO_BUFFER_STARTED, ServerEvent.OUTPUT_AUDIO_BUFFER_STOPPED)},
        ServerEvent.AUDIO_TIMESTAMP_DELTA: "response.audio_timestamp.delta",
        ServerEvent.AUDIO_TIMESTAMP_DONE: "response.audio_timestamp.done",
        ServerEvent.ANIMATION_BLENDSHAPES_DELTA: "response.animation_blendshapes.delta",
        ServerEvent.ANIMATION_BLENDSHAPES_DONE: "response.animation_blendshapes.done",
        ServerEvent.ANIMATION_VISEME_DELTA: "response.animation_viseme.delta",
        ServerEvent.ANIMATION_VISEME_DONE: "response.animation_viseme.done",
        ServerEvent.OUTPUT_AUDIO_BUFFER_CLEARED: "output_audio_buffer.cleared",
        ServerEvent.AVATAR_CONNECTING: "session.avatar.connecting",
        ServerEvent.AVATAR_SPEAKING: "session.avatar.switch_to_speaking",
        ServerEvent.AVATAR_IDLE: "session.avatar.switch_to_idle",
        **mcp_wire.SERVER_EVENTS,  # MCP (§9, §12)
        ServerEvent.WEB_SEARCH_CALL_IN_PROGRESS: "response.web_search_call.in_progress",  # scripted (§12.6)
        ServerEvent.WEB_SEARCH_CALL_SEARCHING: "response.web_search_call.searching",
        ServerEvent.WEB_SEARCH_CALL_COMPLETED: "response.web_search_call.completed",
        ServerEvent.FILE_SEARCH_CALL_IN_PROGRESS: "response.file_search_call.in_progress",
        ServerEvent.FILE_SEARCH_CALL_SEARCHING: "response.file_search_call.searching",
        ServerEvent.FILE_SEARCH_CALL_COMPLETED: "response.file_search_call.completed",
        ServerEvent.AUDIO_TRANSCRIPT_ANNOTATION_ADDED: "response.audio_transcript.annotation.added",
        ServerEvent.WARNING: "warning",  # scripted (§12.7)
        ServerEvent.INVOCATION_DELTA: "response.invocation.delta",
    }
    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {}
    session_schema: ClassVar[Obj] = VOICE_LIVE_SESSION
    response_schema: ClassVar[Obj] = VOICE_LIVE_RESPONSE
    image_usage: ClassVar[bool] = True
    envelope_extras: Mapping[ClientEvent, Mapping[str, Any]] = {
        ClientEvent.RESPONSE_CREATE: {"additional_instructions": Str()},
    }

    def __init__(self, *, bare_silence_ms: int = 200) -> None:
        super().__init__(bare_silence_ms=bare_silence_ms, azure=True)

    def _apply(self, raw: dict[str, Any], current: SessionConfig) -> SessionConfig:
        """Formats first (Voice Live's output rates and ``input_audio_sampling_rate``), then the beta fields."""
        raw = dict(raw)
        output = raw.pop("output_audio_format", None)
        rate = raw.pop("input_audio_sampling_rate", None)
        cfg = super()._apply(raw, current)
        if output is not None:
            cfg.output_format = _OUTPUT_FORMATS[output]
        if rate is not None or "input_audio_format" in raw:
            declared = raw.get("input_audio_format", _INPUT_NAMES[current.input_format])
            if rate is None:  # a new format keeps a pcm16 rate the session already has
                rate = current.input_format.rate if declared == "pcm16" and current.input_format in _PCM_AT.values() \
                    else (24000 if declared == "pcm16" else 8000)
            if declared == "pcm16":
                if rate not in _PCM_AT:
                    raise errors.voice_live_sampling_rate(rate, declared)
                cfg.input_format = _PCM_AT[rate]
            elif rate != 8000:
                raise errors.voice_live_sampling_rate(rate, declared)
        return cfg

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
                if raw[key] is None:
                    cfg.voice_live.pop(key, None)
                else:
                    cfg.voice_live[key] = raw[key]
        if "parallel_tool_calls" in raw:
            cfg.parallel_tool_calls = raw["parallel_tool_calls"]
        if "avatar" in raw:
            cfg.avatar = raw["avatar"]
        sync: set[str] = set(cfg.voice_live.get("output_audio_timestamp_types", ()))
        animation = cfg.voice_live.get("animation")
        if animation is not None:  # [U] the reference gives no default for ``outputs``: blendshapes
            sync.update(animation.get("outputs", ["blendshapes"]))
        cfg.output_sync = frozenset(sync)
        return cfg

    # -- items: ``input_image`` parts (azure-ai-voicelive 1.3.1 RequestImageContentPart) ----------------

    def parse_item(self, payload: Any, path: str, cfg: SessionConfig) -> Item:
        if isinstance(payload, dict) and payload.get("type") == "mcp_approval_response":  # §9.4
            raw = APPROVAL_RESPONSE_SCHEMA.check(payload, path)
            approval = Item(id=raw.get("id", ""), type="mcp_approval_response", status="completed")
            approval.mcp = ApprovalResponse(approval.id, raw["approval_request_id"], raw["approve"], raw.get("reason"))
            return approval
        images: dict[int, dict[str, Any]] = {}
        if isinstance(payload, dict) and isinstance(payload.get("content"), list):
            content = []
            for i, part in enumerate(payload["content"]):
                if isinstance(part, dict) and part.get("type") == "input_image":
                    ppath = f"{path}.content[{i}]"
                    if payload.get("role") != "user":
                        raise errors.invalid_value("input_image", ("input_text",) if payload.get("role") == "system"
                                                   else ("text",), f"{ppath}.type")
                    images[i] = _IMAGE_PART.check(part, ppath)
                else:
                    content.append(part)
            payload = {**payload, "content": content}
        item = super().parse_item(payload, path, cfg)
        for i, part in sorted(images.items()):
            item.content.insert(i, ContentPart(type="input_image", image_url=part.get("image_url"),
                                               detail=part.get("detail")))
        return item

    def parse_input_item(self, payload: dict[str, Any], path: str, cfg: SessionConfig) -> Item:
        if payload.get("type") == "item_reference":
            return super().parse_input_item(payload, path, cfg)
        return self.parse_item(payload, path, cfg)

    def render_item(self, item: Item, *, with_audio: bool = False) -> dict[str, Any]:
        if item.mcp is not None:  # the GA shapes, which the client's ResponseMCP*Item models share (§9)
            return {"object": "realtime.item", **mcp_wire.render_item(item)}
        if item.search is not None:  # the client's ResponseWebSearchCallItem / ResponseFileSearchCallItem (§12.6)
            out: dict[str, Any] = {"id": item.id, "object": "realtime.item", "type": item.type,
                                   "status": item.status}
            if item.type == "file_search_call":
                out["queries"] = item.search.queries or []
                if item.status == "completed" and item.search.results is not None:
                    out["results"] = item.search.results
            return out
        return c.render_item(item, _part, with_audio=with_audio, object_key="first")

    # -- response.create (azure-ai-voicelive 1.3.1 ResponseCreateParams) --------------------------------

    def parse_response_params(
        self, payload: Any, cfg: SessionConfig
    ) -> tuple[ResponseParams, list[Any] | None]:
        raw = self.response_schema.check(payload if payload is not None else {}, "response")
        output = raw.pop("output_audio_format", None)
        own = {k: raw.pop(k) for k in _RESPONSE_OWN if k in raw}
        params, raw_input = super().parse_response_params(raw, cfg)
        if output is not None:
            params.output_format = _OUTPUT_FORMATS[output]
        if own.get("commit") is False:  # not committed to the conversation: an out-of-band response
            params.conversation = "none"
        if "input_items" in own:  # the context of this response; an empty array clears it
            raw_input = [_as_dict(v, f"response.input_items[{i}]") for i, v in enumerate(own["input_items"])]
            for i, v in enumerate(raw_input):  # errors name ``input_items`` (the session resolves them again)
                self.parse_input_item(v, f"response.input_items[{i}]", cfg)
        return params, raw_input

    def response_directives(self, payload: Any, cfg: SessionConfig) -> ResponseDirectives:
        raw = payload if isinstance(payload, dict) else {}
        appended = [self.parse_item(v, f"response.append_input_items[{i}]", cfg)
                    for i, v in enumerate(raw.get("append_input_items", []))]
        message = raw.get("pre_generated_assistant_message")
        text = None if message is None else "".join(part["text"] for part in message["content"])
        # cancel_previous "defaults to true" (the Voice Live reference, ResponseCreateParams) [D]
        return ResponseDirectives(cancel_previous=raw.get("cancel_previous", True) is True, append_items=appended,
                                  pre_generated_text=text)

    # -- rendering and reading back: Voice Live's formats -----------------------------------------------

    def render_response(self, response: Response) -> dict[str, Any]:
        fmt = response.params.output_format
        shim = dataclasses.replace(response, params=dataclasses.replace(response.params,
                                                                      output_format=AudioFormat.PCM16))
        return {**super().render_response(shim), "output_audio_format": _OUTPUT_NAMES[fmt]}

    def audio_format(self, wire: Any) -> AudioFormat | None:
        return _OUTPUT_FORMATS.get(wire) if isinstance(wire, str) else None

    def session_audio(self, session: Mapping[str, Any]) -> SessionAudio:
        audio = super().session_audio(session)
        rate = session.get("input_audio_sampling_rate")
        if audio.input_format is AudioFormat.PCM16 and rate in _PCM_AT:
            audio = dataclasses.replace(audio, input_format=_PCM_AT[rate])
        return audio

    def render_session(self, cfg: SessionConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        shim = dataclasses.replace(cfg, input_format=AudioFormat.PCM16, output_format=AudioFormat.PCM16)
        out = super().render_session(shim, session_id, expires_at)
        out["input_audio_format"] = _INPUT_NAMES[cfg.input_format]
        out["output_audio_format"] = _OUTPUT_NAMES[cfg.output_format]
        if cfg.input_format in (AudioFormat.PCM16_16K, AudioFormat.PCM16_8K):
            out["input_audio_sampling_rate"] = cfg.input_format.rate
        if isinstance(cfg, VoiceLiveSessionConfig):
            extra = dict(cfg.voice_live)
            if out["turn_detection"] is not None and "turn_detection" in extra:
                out["turn_detection"] = {**out["turn_detection"], **extra["turn_detection"]}
            extra.pop("turn_detection", None)
            out.update(extra)
        return out


_RESPONSE_OWN = ("commit", "cancel_previous", "append_input_items", "input_items", "pre_generated_assistant_message",
                 "reasoning_effort", "interim_response", "invoke_input")
"""``response.create`` fields beyond beta's: directives (:meth:`VoiceLive.response_directives`) or accepted
settings without an effect the mock can show (docs/protocol.md §12)."""


def _as_dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.invalid_type(path, "an object", json_kind(value))
    return value


def _part(p: ContentPart, with_audio: bool) -> dict[str, Any]:
    if p.type == "input_image":
        out: dict[str, Any] = {"type": "input_image", "image_url": p.image_url}
        if p.detail is not None:
            out["detail"] = p.detail
        return out
    return beta_part(p, with_audio)
