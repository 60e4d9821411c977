"""The GA dialect (docs/protocol.md §0.2 "GA", §2, §3.1, §4.3, §4.5, §4.7 GA, §4.10 GA)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.dialects import common as c
from mockrt.core.dialects import mcp as mcp_wire
from mockrt.core.dialects.base import Dialect, SessionAudio
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.mcp import (
    APPROVAL_RESPONSE_SCHEMA,
    MCP_APPROVAL_REQUEST_ITEM_SCHEMA,
    MCP_CALL_ITEM_SCHEMA,
    MCP_LIST_TOOLS_ITEM_SCHEMA,
    MCP_TOOL_CHOICE_SCHEMA,
    MCP_TOOL_SCHEMA,
    ApprovalResponse,
)
from mockrt.core.model import ContentPart, Item, Response, ResponseParams, SessionConfig, TurnDetection, Usage
from mockrt.core.models import facts
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

FORMAT = Union(
    {
        "audio/pcm": Obj({"type": Const("audio/pcm"), "rate": Int(24000, 24000)}),
        "audio/pcmu": Obj({"type": Const("audio/pcmu")}),
        "audio/pcma": Obj({"type": Const("audio/pcma")}),
    }
)
_FORMAT_BY_TYPE = {"audio/pcm": AudioFormat.PCM16, "audio/pcmu": AudioFormat.G711_ULAW,
                   "audio/pcma": AudioFormat.G711_ALAW}
_TYPE_BY_FORMAT = {v: k for k, v in _FORMAT_BY_TYPE.items()}

VOICE = OneOf(Str(choices=c.VOICES), Obj({"id": Str()}, required=("id",)), expected="a string or an object")


def _one_modality(value: list[str], path: str) -> list[str]:
    if len(value) != 1:
        raise errors.invalid_output_modalities(path)
    return value


OUTPUT_MODALITIES = Custom(Arr(Enum("text", "audio")), _one_modality)

TOOLS = Arr(Union({"function": c.FUNCTION_TOOL, "mcp": MCP_TOOL_SCHEMA}))  # mcp: docs/protocol.md §9
TOOL_CHOICE = OneOf(
    c.TOOL_CHOICE_MODES,
    Union(
        {
            "function": Obj({"type": Const("function"), "name": Str()}, required=("name",)),
            "mcp": MCP_TOOL_CHOICE_SCHEMA,
        }
    ),
    expected="a string or an object",
)
TRUNCATION = OneOf(
    Enum("auto", "disabled"),
    Obj(
        {
            "type": Const("retention_ratio"),
            "retention_ratio": Num(0.0, 1.0),
            "token_limits": Obj({"post_instructions": Int(0)}),
        },
        required=("type", "retention_ratio"),
    ),
    expected="a string or an object",
)
PROMPT = Nullable(Obj({"id": Str(), "version": Nullable(Str()), "variables": Nullable(c.JSON_OBJECT)},
                      required=("id",)))
REASONING = Obj({"effort": Enum("minimal", "low", "medium", "high", "xhigh")})

REALTIME_SESSION = Obj(
    {
        "type": Enum("realtime", "transcription"),
        "model": Str(),
        "output_modalities": OUTPUT_MODALITIES,
        "instructions": Str(),
        "tools": TOOLS,
        "tool_choice": TOOL_CHOICE,
        "max_output_tokens": MAX_TOKENS,
        "tracing": c.TRACING,
        "truncation": TRUNCATION,
        "prompt": PROMPT,
        "audio": Obj(
            {
                "input": Obj(
                    {
                        "format": FORMAT,
                        "transcription": Nullable(c.TRANSCRIPTION),
                        "noise_reduction": Nullable(c.NOISE_REDUCTION),
                        "turn_detection": c.TURN_DETECTION,
                    }
                ),
                "output": Obj({"format": FORMAT, "voice": VOICE, "speed": Num(0.25, 1.5)}),
            }
        ),
        "include": c.INCLUDE,
        "parallel_tool_calls": Bool(),
        "reasoning": REASONING,
    },
    required=("type",),
)

TRANSCRIPTION_SESSION = Obj(
    {
        "type": Const("transcription"),
        "audio": Obj(
            {
                "input": Obj(
                    {
                        "format": FORMAT,
                        "transcription": Nullable(c.TRANSCRIPTION),
                        "noise_reduction": Nullable(c.NOISE_REDUCTION),
                        "turn_detection": c.TURN_DETECTION,
                    }
                )
            }
        ),
        "include": c.INCLUDE,
    },
    required=("type",),
)

_SYSTEM_PART = Union({"input_text": Obj({"type": Const("input_text"), "text": Str()})})
_USER_PART = Union(
    {
        "input_text": Obj({"type": Const("input_text"), "text": Str()}),
        "input_audio": Obj({"type": Const("input_audio"), "audio": Nullable(Str()), "transcript": Nullable(Str())}),
        "input_image": Obj(
            {"type": Const("input_image"), "image_url": Str(), "detail": Enum("auto", "low", "high")}
        ),
    }
)
_ASSISTANT_PART = Union(
    {
        "output_text": Obj({"type": Const("output_text"), "text": Str()}),
        "output_audio": Obj({"type": Const("output_audio"), "audio": Nullable(Str()), "transcript": Nullable(Str())}),
    }
)
_ITEM_COMMON: dict[str, Any] = {"id": Str(max_len=64), "object": Const("realtime.item"), "status": c.ITEM_STATUS}


def _message_schema(role: str, part: Union) -> Obj:
    return Obj(
        {**_ITEM_COMMON, "type": Const("message"), "role": Const(role), "content": Arr(part)},
        required=("content",),
    )


_MESSAGE = Union(
    {
        "system": _message_schema("system", _SYSTEM_PART),
        "user": _message_schema("user", _USER_PART),
        "assistant": _message_schema("assistant", _ASSISTANT_PART),
    },
    key="role",
)
ITEM = Union(
    {
        "message": _MESSAGE,
        "function_call": Obj(
            {**_ITEM_COMMON, "type": Const("function_call"), "name": Str(), "call_id": Str(), "arguments": Str()},
            required=("name", "arguments"),
        ),
        "function_call_output": Obj(
            {**_ITEM_COMMON, "type": Const("function_call_output"), "call_id": Str(), "output": Str()},
            required=("call_id", "output"),
        ),
        "mcp_approval_response": APPROVAL_RESPONSE_SCHEMA,  # §9.4
        "mcp_call": MCP_CALL_ITEM_SCHEMA,  # §9.3: history the client replays
        "mcp_list_tools": MCP_LIST_TOOLS_ITEM_SCHEMA,  # §9.2
        "mcp_approval_request": MCP_APPROVAL_REQUEST_ITEM_SCHEMA,  # §9.4
    }
)
INPUT_ITEM = Union({**ITEM.variants, "item_reference": Obj({"type": Const("item_reference"), "id": Str()},
                                                            required=("id",))})

RESPONSE = Obj(
    {
        "output_modalities": OUTPUT_MODALITIES,
        "instructions": Str(),
        "audio": Obj({"output": Obj({"format": FORMAT, "voice": VOICE})}),
        "tools": TOOLS,
        "tool_choice": TOOL_CHOICE,
        "max_output_tokens": MAX_TOKENS,
        "conversation": Str(),
        "metadata": Nullable(METADATA),
        "input": Arr(INPUT_ITEM),
        "prompt": PROMPT,
        "parallel_tool_calls": Bool(),
        "reasoning": REASONING,
    }
)


def turn_detection_from(raw: dict[str, Any] | None, bare_silence_ms: int) -> TurnDetection | None:
    """A client ``turn_detection`` object completed with the documented defaults (§4.8)."""
    if raw is None:
        return None
    td = TurnDetection(type=raw["type"], silence_duration_ms=bare_silence_ms)
    for key, value in raw.items():
        if key != "type":
            setattr(td, key, value)
    return td


class GA(Dialect):
    """The generally-available Realtime protocol."""

    name = "ga"
    client_events: ClassVar[Mapping[str, ClientEvent]] = {
        "session.update": ClientEvent.SESSION_UPDATE,
        "session.close": ClientEvent.SESSION_CLOSE,
        "input_audio_buffer.append": ClientEvent.INPUT_AUDIO_APPEND,
        "session.input_audio_buffer.append": ClientEvent.INPUT_AUDIO_APPEND,
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
        ServerEvent.ERROR: "error",
        ServerEvent.SESSION_CREATED: "session.created",
        ServerEvent.SESSION_UPDATED: "session.updated",
        ServerEvent.TRANSCRIPTION_SESSION_CREATED: "session.created",
        ServerEvent.TRANSCRIPTION_SESSION_UPDATED: "session.updated",
        ServerEvent.CONVERSATION_CREATED: "conversation.created",
        ServerEvent.INPUT_AUDIO_COMMITTED: "input_audio_buffer.committed",
        ServerEvent.INPUT_AUDIO_CLEARED: "input_audio_buffer.cleared",
        ServerEvent.SPEECH_STARTED: "input_audio_buffer.speech_started",
        ServerEvent.SPEECH_STOPPED: "input_audio_buffer.speech_stopped",
        ServerEvent.TIMEOUT_TRIGGERED: "input_audio_buffer.timeout_triggered",
        ServerEvent.ITEM_ADDED: "conversation.item.added",
        ServerEvent.ITEM_DONE: "conversation.item.done",
        ServerEvent.ITEM_TRUNCATED: "conversation.item.truncated",
        ServerEvent.ITEM_DELETED: "conversation.item.deleted",
        ServerEvent.ITEM_RETRIEVED: "conversation.item.retrieved",
        ServerEvent.TRANSCRIPTION_DELTA: "conversation.item.input_audio_transcription.delta",
        ServerEvent.TRANSCRIPTION_COMPLETED: "conversation.item.input_audio_transcription.completed",
        ServerEvent.TRANSCRIPTION_FAILED: "conversation.item.input_audio_transcription.failed",
        ServerEvent.TRANSCRIPTION_SEGMENT: "conversation.item.input_audio_transcription.segment",
        ServerEvent.RESPONSE_CREATED: "response.created",
        ServerEvent.RESPONSE_DONE: "response.done",
        ServerEvent.OUTPUT_ITEM_ADDED: "response.output_item.added",
        ServerEvent.OUTPUT_ITEM_DONE: "response.output_item.done",
        ServerEvent.CONTENT_PART_ADDED: "response.content_part.added",
        ServerEvent.CONTENT_PART_DONE: "response.content_part.done",
        ServerEvent.OUTPUT_TEXT_DELTA: "response.output_text.delta",
        ServerEvent.OUTPUT_TEXT_DONE: "response.output_text.done",
        ServerEvent.OUTPUT_AUDIO_DELTA: "response.output_audio.delta",
        ServerEvent.OUTPUT_AUDIO_DONE: "response.output_audio.done",
        ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA: "response.output_audio_transcript.delta",
        ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DONE: "response.output_audio_transcript.done",
        ServerEvent.FUNCTION_CALL_ARGUMENTS_DELTA: "response.function_call_arguments.delta",
        ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE: "response.function_call_arguments.done",
        ServerEvent.RATE_LIMITS_UPDATED: "rate_limits.updated",
        **mcp_wire.SERVER_EVENTS,
        ServerEvent.OUTPUT_AUDIO_BUFFER_STARTED: "output_audio_buffer.started",
        ServerEvent.OUTPUT_AUDIO_BUFFER_STOPPED: "output_audio_buffer.stopped",
        ServerEvent.OUTPUT_AUDIO_BUFFER_CLEARED: "output_audio_buffer.cleared",
        ServerEvent.DTMF_RECEIVED: "input_audio_buffer.dtmf_event_received",
    }
    dropped_fields: ClassVar[Mapping[ServerEvent, frozenset[str]]] = {
        ServerEvent.DTMF_RECEIVED: frozenset({"event_id"}),  # the SDK's model has none (§11)
    }
    obfuscated: ClassVar[frozenset[ServerEvent]] = frozenset({
        ServerEvent.OUTPUT_TEXT_DELTA,
        ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA,
        ServerEvent.TRANSCRIPTION_DELTA,
        ServerEvent.MCP_CALL_ARGUMENTS_DELTA,
    })
    max_session_minutes = 60

    def __init__(self, *, bare_silence_ms: int = 200, item_object: bool = False) -> None:
        self.bare_silence_ms = bare_silence_ms
        self.item_object = item_object

    # -- parsing -------------------------------------------------------------------------------------

    def parse_session_update(self, payload: Any, current: SessionConfig) -> SessionConfig:
        if isinstance(payload, dict) and "type" not in payload:
            raise errors.missing_required_parameter("session.type")
        if isinstance(payload, dict) and payload.get("type") not in ("realtime", "transcription", None):
            raise errors.invalid_session_type(payload.get("type"))
        if isinstance(payload, dict) and payload.get("type") != current.kind:
            if current.kind == "realtime":
                raise errors.session_type_mismatch()
            raise errors.realtime_update_to_transcription()
        schema = REALTIME_SESSION if current.kind == "realtime" else TRANSCRIPTION_SESSION
        raw = schema.check(payload, "session")
        return self._apply(raw, current)

    def parse_session_request(self, payload: Any, base: SessionConfig) -> SessionConfig:
        if isinstance(payload, dict) and payload.get("type") == "transcription":
            base = copy.deepcopy(base)
            base.kind = "transcription"
            base.turn_detection = TurnDetection(create_response=False, interrupt_response=False)
            return self._apply(TRANSCRIPTION_SESSION.check(payload, "session"), base)
        if isinstance(payload, dict) and "type" not in payload:
            raise errors.missing_required_parameter("session.type")
        return self._apply(REALTIME_SESSION.check(payload, "session"), base)

    def _apply(self, raw: dict[str, Any], current: SessionConfig) -> SessionConfig:
        cfg = copy.deepcopy(current)
        if "model" in raw:
            cfg.model = raw["model"]
        if "output_modalities" in raw:
            cfg.modality = raw["output_modalities"][0]
        for key in ("instructions", "tools", "tool_choice", "max_output_tokens", "tracing", "truncation",
                    "prompt", "include", "parallel_tool_calls", "reasoning"):
            if key in raw:
                setattr(cfg, key, raw[key])
        audio = raw.get("audio", {})
        inp = audio.get("input", {})
        if "format" in inp:
            cfg.input_format = _FORMAT_BY_TYPE[inp["format"]["type"]]
        if "transcription" in inp:
            cfg.transcription = _transcription(inp["transcription"])
        if "noise_reduction" in inp:
            cfg.noise_reduction = inp["noise_reduction"]
        if "turn_detection" in inp:
            cfg.turn_detection = turn_detection_from(inp["turn_detection"], self.bare_silence_ms)
        out = audio.get("output", {})
        if "format" in out:
            cfg.output_format = _FORMAT_BY_TYPE[out["format"]["type"]]
        if "voice" in out:
            cfg.voice = out["voice"]
        if "speed" in out:
            cfg.speed = out["speed"]
        return cfg

    def parse_item(self, payload: Any, path: str, cfg: SessionConfig) -> Item:
        raw = ITEM.check(payload, path)
        return _item_from_raw(raw, path, cfg)

    def parse_response_params(
        self, payload: Any, cfg: SessionConfig
    ) -> tuple[ResponseParams, list[Any] | None]:
        raw = RESPONSE.check(payload if payload is not None else {}, "response")
        conversation = raw.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            raise errors.invalid_value(conversation, ["auto", "none"], "response.conversation")
        out = raw.get("audio", {}).get("output", {})
        params = ResponseParams(
            modality=raw["output_modalities"][0] if "output_modalities" in raw else cfg.modality,
            instructions=raw.get("instructions", cfg.instructions),
            voice=out.get("voice", cfg.voice),
            output_format=_FORMAT_BY_TYPE[out["format"]["type"]] if "format" in out else cfg.output_format,
            tools=raw.get("tools", cfg.tools),
            tool_choice=raw.get("tool_choice", cfg.tool_choice),
            temperature=cfg.temperature,
            max_output_tokens=raw.get("max_output_tokens", cfg.max_output_tokens),
            conversation=conversation,
            metadata=raw.get("metadata"),
            prompt=raw.get("prompt", cfg.prompt),  # null (present): no prompt for this response (§2.9)
        )
        return params, raw.get("input")

    def parse_input_item(self, payload: dict[str, Any], path: str, cfg: SessionConfig) -> Item:
        """An already-validated ``response.input`` entry (item or ``item_reference``)."""
        if payload.get("type") == "item_reference":
            return Item(id=payload["id"], type="item_reference")
        return _item_from_raw(payload, path, cfg)

    # -- rendering -----------------------------------------------------------------------------------

    def render_session(self, cfg: SessionConfig, session_id: str, expires_at: int) -> dict[str, Any]:
        if cfg.kind == "transcription":
            td = None
            if cfg.turn_detection is not None:
                t = cfg.turn_detection
                td = (
                    {"type": "server_vad", "threshold": t.threshold, "prefix_padding_ms": t.prefix_padding_ms,
                     "silence_duration_ms": t.silence_duration_ms}
                    if t.type == "server_vad"
                    else {"type": "semantic_vad", "eagerness": t.eagerness}
                )
            return {
                "type": "transcription",
                "object": "realtime.transcription_session",
                "id": session_id,
                "expires_at": expires_at,
                "audio": {
                    "input": {
                        "format": _format(cfg.input_format),
                        "transcription": cfg.transcription,
                        "noise_reduction": cfg.noise_reduction,
                        "turn_detection": td,
                    }
                },
                "include": cfg.include,
            }
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": session_id,
            "model": cfg.model,
            "output_modalities": [cfg.modality],
            "instructions": cfg.instructions,
            "tools": cfg.tools,
            "tool_choice": cfg.tool_choice,
            "max_output_tokens": cfg.max_output_tokens,
            "tracing": cfg.tracing,
            "truncation": cfg.truncation,
            "prompt": cfg.prompt,
            "expires_at": expires_at,
            "audio": {
                "input": {
                    "format": _format(cfg.input_format),
                    "transcription": cfg.transcription,
                    "noise_reduction": cfg.noise_reduction,
                    "turn_detection": _turn_detection(cfg.turn_detection),
                },
                "output": {"format": _format(cfg.output_format), "voice": cfg.voice, "speed": cfg.speed},
            },
            "include": cfg.include,
            **_reasoning_fields(cfg),
        }

    def render_item(self, item: Item, *, with_audio: bool = False) -> dict[str, Any]:
        if item.mcp is not None:
            return mcp_wire.render_item(item)
        return c.render_item(item, _part, with_audio=with_audio, object_key="last" if self.item_object else None)

    def render_response(self, response: Response) -> dict[str, Any]:
        p = response.params
        return {
            **c.response_head(response, self.render_item),
            "output_modalities": [p.modality],
            "max_output_tokens": p.max_output_tokens,
            "audio": {"output": {"format": _format(p.output_format), "voice": p.voice}},
            "usage": self.render_usage(response.usage) if response.usage is not None else None,
            "metadata": p.metadata,
        }

    def render_usage(self, usage: Usage) -> dict[str, Any]:
        return c.usage_fields(usage, image_keys=True)

    def rate_limits(self, used_tokens: int, limit: int) -> list[dict[str, Any]]:
        return [{"name": "tokens", "limit": limit, "remaining": max(0, limit - used_tokens),
                 "reset_seconds": round(used_tokens * 60.0 / limit, 3)}]

    # -- reading -------------------------------------------------------------------------------------

    def audio_format(self, wire: Any) -> AudioFormat | None:
        return _FORMAT_BY_TYPE.get(str(wire.get("type"))) if isinstance(wire, dict) else None

    def session_audio(self, session: Mapping[str, Any]) -> SessionAudio:
        audio = c.as_object(session.get("audio"))
        inp, out = c.as_object(audio.get("input")), c.as_object(audio.get("output"))
        return SessionAudio(self.audio_format(inp.get("format")), self.audio_format(out.get("format")),
                            "turn_detection" in inp, c.read_turn_detection(inp.get("turn_detection")),
                            inp.get("turn_detection"))

    def response_format(self, response: Mapping[str, Any]) -> AudioFormat | None:
        audio = response.get("audio")
        out = audio.get("output") if isinstance(audio, dict) else None
        return self.audio_format(out.get("format")) if isinstance(out, dict) else None


def _transcription(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    out = {"model": raw.get("model", "whisper-1"), "language": raw.get("language"), "prompt": raw.get("prompt")}
    for key in ("languages", "keywords", "delay"):
        if key in raw:
            out[key] = raw[key]
    return out


def _reasoning_fields(cfg: SessionConfig) -> dict[str, Any]:
    """``reasoning`` and ``parallel_tool_calls`` (§4.3): the client's values, else the model's defaults (only
    reasoning models have them; other sessions show the keys once a client set them)."""
    model = facts(cfg.model)
    out: dict[str, Any] = {}
    reasoning = cfg.reasoning if cfg.reasoning is not None else (
        {"effort": model.default_effort} if model.reasoning else None)
    if reasoning is not None:
        out["reasoning"] = reasoning
    parallel = cfg.parallel_tool_calls if cfg.parallel_tool_calls is not None else (True if model.reasoning else None)
    if parallel is not None:
        out["parallel_tool_calls"] = parallel
    return out


def _format(fmt: AudioFormat) -> dict[str, Any]:
    if fmt is AudioFormat.PCM16:
        return {"type": "audio/pcm", "rate": 24000}
    return {"type": _TYPE_BY_FORMAT[fmt]}


def _turn_detection(td: TurnDetection | None) -> dict[str, Any] | None:
    if td is None:
        return None
    if td.type == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": td.eagerness, "create_response": td.create_response,
                "interrupt_response": td.interrupt_response}
    return {
        "type": "server_vad",
        "threshold": td.threshold,
        "prefix_padding_ms": td.prefix_padding_ms,
        "silence_duration_ms": td.silence_duration_ms,
        "idle_timeout_ms": td.idle_timeout_ms,
        "create_response": td.create_response,
        "interrupt_response": td.interrupt_response,
    }


_WIRE_PART_TYPE = {"text": "output_text", "audio": "output_audio"}


def _part(p: ContentPart, with_audio: bool) -> dict[str, Any]:
    t = _WIRE_PART_TYPE.get(p.type, p.type)
    if p.type == "input_text" or p.type == "text":
        return {"type": t, "text": p.text}
    if p.type == "input_image":
        return {"type": t, "image_url": p.image_url, "detail": p.detail or "auto"}
    out: dict[str, Any] = {"type": t, "transcript": p.transcript}
    if with_audio:
        out["audio"] = c.encode_b64(p.audio)
    return out


def _item_from_raw(raw: dict[str, Any], path: str, cfg: SessionConfig) -> Item:
    if raw["type"] in ("mcp_call", "mcp_list_tools", "mcp_approval_request"):
        return mcp_wire.parse_client_item(raw)
    item = Item(id=raw.get("id", ""), type=raw["type"], status="completed")
    if raw["type"] == "message":
        item.role = raw["role"]
        for i, part in enumerate(raw["content"]):
            ppath = f"{path}.content[{i}]"
            t = part["type"]
            if t == "input_text":
                item.content.append(ContentPart(type="input_text", text=part["text"]))
            elif t == "input_audio":
                item.content.append(c.parse_content_audio(part, cfg.input_format, ppath))
            elif t == "input_image":
                item.content.append(ContentPart(type="input_image", image_url=part["image_url"],
                                                detail=part.get("detail", "auto")))
            elif t == "output_text":
                item.content.append(ContentPart(type="text", text=part["text"]))
            else:
                raise errors.assistant_audio_create()
    elif raw["type"] == "function_call":
        item.name, item.call_id, item.arguments = raw["name"], raw.get("call_id"), raw["arguments"]
    elif raw["type"] == "mcp_approval_response":
        item.mcp = ApprovalResponse(item.id, raw["approval_request_id"], raw["approve"], raw.get("reason"))
    else:
        item.call_id, item.output = raw["call_id"], raw["output"]
    return item
