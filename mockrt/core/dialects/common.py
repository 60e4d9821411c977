"""Schema pieces and renderers shared by both dialects (docs/protocol.md §4.7–§4.11)."""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

from mockrt.audio import b64
from mockrt.audio.formats import AudioFormat
from mockrt.core import errors
from mockrt.core.model import ContentPart, ContentType, Item, Response, TurnDetection, Usage
from mockrt.core.models import TRANSCRIPTION_MODELS
from mockrt.core.schema import (
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
)

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
"""Built-in voices (§4.2, §4.3)."""

JSON_OBJECT = Obj({}, extra=AnyValue())

FUNCTION_TOOL = Obj(
    {"type": Const("function"), "name": Str(max_len=64), "description": Str(), "parameters": JSON_OBJECT},
    required=("name",),
)

TOOL_CHOICE_MODES = Enum("auto", "none", "required")

TRACING = Nullable(
    OneOf(Const("auto"), Obj({"workflow_name": Str(), "group_id": Str(), "metadata": JSON_OBJECT}))
)

TRANSCRIPTION = Obj(
    {
        "model": Str(choices=TRANSCRIPTION_MODELS),
        "language": Str(),
        "prompt": Str(),
        "languages": Arr(Str()),
        "keywords": Arr(Str()),
        "delay": Enum("minimal", "low", "medium", "high", "xhigh"),
    }
)

NOISE_REDUCTION = Obj({"type": Enum("near_field", "far_field"), "strength": Num(0.0, 1.0)})

INCLUDE = Nullable(Arr(Enum("item.input_audio_transcription.logprobs")))

SERVER_VAD_FIELDS: dict[str, Any] = {
    "type": Const("server_vad"),
    "threshold": Num(0.0, 1.0),
    "prefix_padding_ms": Int(0, 10_000),
    "silence_duration_ms": Int(0, 10_000),
    "create_response": Bool(),
    "interrupt_response": Bool(),
    "idle_timeout_ms": Nullable(Int(5_000, 30_000)),
}
SEMANTIC_VAD_FIELDS: dict[str, Any] = {
    "type": Const("semantic_vad"),
    "eagerness": Enum("low", "medium", "high", "auto"),
    "create_response": Bool(),
    "interrupt_response": Bool(),
}
TURN_DETECTION = Nullable(
    Union({"server_vad": Obj(SERVER_VAD_FIELDS), "semantic_vad": Obj(SEMANTIC_VAD_FIELDS)})
)

ITEM_STATUS = Enum("completed", "incomplete", "in_progress")


def decode_audio(b64_text: str, fmt: AudioFormat, path: str = "audio") -> bytes:
    """Strict base64 decode of client audio (§2.2, §7); pcm16 must hold whole samples."""
    label = _FORMAT_LABELS[fmt]
    try:
        data = b64.decode_strict(b64_text)
    except (binascii.Error, ValueError):
        raise errors.invalid_audio(label) from None
    if len(data) % _WIDTHS[fmt]:
        raise errors.invalid_audio(label)
    return data


_WIDTHS = {fmt: fmt.sample_width for fmt in AudioFormat}
_FORMAT_LABELS = {
    AudioFormat.PCM16: "mono PCM16 at 24kHz",
    AudioFormat.G711_ULAW: "mono G.711 u-law at 8kHz",
    AudioFormat.G711_ALAW: "mono G.711 A-law at 8kHz",
    AudioFormat.PCM16_16K: "mono PCM16 at 16kHz",
    AudioFormat.PCM16_8K: "mono PCM16 at 8kHz",
}


def parse_content_audio(part: dict[str, Any], fmt: AudioFormat, path: str) -> ContentPart:
    """A client ``input_audio`` part: bytes in the session input format, with their duration."""
    audio = part.get("audio")
    data = decode_audio(audio, fmt, path + ".audio") if audio else None
    return ContentPart(
        type="input_audio",
        audio=data,
        audio_format=fmt,
        audio_ms=fmt.bytes_to_ms(len(data)) if data else 0.0,
        transcript=part.get("transcript"),
    )


def usage_fields(usage: Usage, *, image_keys: bool) -> dict[str, Any]:
    """Render usage (§4.11); the beta shape has no ``image_tokens`` and no ``cached_tokens_details``."""
    input_details: dict[str, Any] = {"text_tokens": usage.input_text, "audio_tokens": usage.input_audio}
    if image_keys:
        input_details["image_tokens"] = usage.input_image
    input_details["cached_tokens"] = usage.cached_text + usage.cached_audio
    if image_keys:
        input_details["cached_tokens_details"] = {"text_tokens": usage.cached_text,
                                                  "audio_tokens": usage.cached_audio, "image_tokens": 0}
    return {
        "total_tokens": usage.total_tokens,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "input_token_details": input_details,
        "output_token_details": {"text_tokens": usage.output_text, "audio_tokens": usage.output_audio},
    }


def read_usage(usage: Any) -> dict[str, int] | None:
    """A rendered ``usage`` object (GA or beta shape, §4.11) as :class:`~mockrt.core.model.Usage` field values
    (what it gives), ``None`` if it gives none."""
    if not isinstance(usage, dict):
        return None
    inp = as_object(usage.get("input_token_details"))
    out = as_object(usage.get("output_token_details"))
    cached = as_object(inp.get("cached_tokens_details"))
    fields = {
        "input_text": inp.get("text_tokens"),
        "input_audio": inp.get("audio_tokens"),
        "input_image": inp.get("image_tokens"),
        "output_text": out.get("text_tokens"),
        "output_audio": out.get("audio_tokens"),
    }
    if cached:
        fields["cached_text"] = cached.get("text_tokens")
        fields["cached_audio"] = cached.get("audio_tokens")
    elif "cached_tokens" in inp:
        fields["cached_text"], fields["cached_audio"] = inp.get("cached_tokens"), 0
    return {k: int(v) for k, v in fields.items() if isinstance(v, int | float) and not isinstance(v, bool)} or None


PART_TYPES: dict[str, ContentType] = {
    "input_text": "input_text", "input_audio": "input_audio", "input_image": "input_image",
    "text": "text", "output_text": "text",  # beta / GA names of the assistant's text part
    "audio": "audio", "output_audio": "audio",  # ... and of its audio part
}
"""Wire content-part ``type`` (GA, beta, Voice Live: §4.7) → the model's :data:`~mockrt.core.model.ContentType`."""


def read_part_type(part: Any) -> ContentType | None:
    """The model's content type of a wire content part, ``None`` if it is not one."""
    kind = part.get("type") if isinstance(part, dict) else None
    return PART_TYPES.get(kind) if isinstance(kind, str) else None


def render_event_part(part: ContentPart) -> dict[str, Any]:
    """A streamed assistant part as ``response.content_part.*`` events carry it (§3.7)."""
    if part.type == "audio":
        return {"type": "audio", "transcript": part.transcript}
    return {"type": "text", "text": part.text}


def encode_b64(data: bytes | bytearray | None) -> str | None:
    return b64.encode(data) if data is not None else None


def render_item(item: Item, part: Callable[[ContentPart, bool], dict[str, Any]], *, with_audio: bool,
                object_key: str | None) -> dict[str, Any]:
    """An item in either dialect: ``part`` renders content parts; ``object_key`` places ``object:
    "realtime.item"`` ``"first"`` (beta frames), ``"last"`` (GA option) or nowhere (GA captures, §4.7)."""
    out: dict[str, Any] = {"id": item.id}
    if object_key == "first":
        out["object"] = "realtime.item"
    out["type"], out["status"] = item.type, item.status
    if object_key == "last":
        out["object"] = "realtime.item"
    if item.type == "message":
        out["role"] = item.role
        out["content"] = [part(p, with_audio) for p in item.content]
    else:
        out.update(function_call_item_fields(item))
    return out


def response_head(response: Response, render: Callable[[Item], dict[str, Any]]) -> dict[str, Any]:
    """The keys both dialects' response objects start with (§4.10)."""
    return {
        "object": "realtime.response",
        "id": response.id,
        "status": response.status,
        "status_details": response.status_details,
        "output": [render(i) for i in response.output],
        "conversation_id": response.conversation_id,
    }


def function_call_item_fields(item: Item) -> dict[str, Any]:
    if item.type == "function_call":
        return {"name": item.name, "call_id": item.call_id, "arguments": item.arguments}
    return {"call_id": item.call_id, "output": item.output}


def as_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (for readers of journals and recordings)."""
    return value if isinstance(value, dict) else {}


EAGERNESS = ("low", "medium", "high", "auto")


def read_turn_detection(raw: Any) -> TurnDetection | None:
    """A rendered ``turn_detection`` object as the model (§4.8), for readers of journals and recordings:
    tolerant, never raising; anything but ``semantic_vad`` is simulated as ``server_vad`` (so are Voice Live's
    ``azure_semantic_vad*``), and a value that does not fit switches detection off (``None``)."""
    if not isinstance(raw, dict):
        return None
    semantic = raw.get("type") == "semantic_vad"
    eagerness = raw.get("eagerness", "auto")
    try:
        td = TurnDetection(
            type="semantic_vad" if semantic else "server_vad",
            threshold=float(raw.get("threshold", 0.5)),
            prefix_padding_ms=int(raw.get("prefix_padding_ms", 300)),
            silence_duration_ms=int(raw.get("silence_duration_ms", 200)),
            eagerness=eagerness if eagerness in EAGERNESS else "auto",
        )
    except (TypeError, ValueError):
        return None
    idle = raw.get("idle_timeout_ms")
    td.idle_timeout_ms = idle if isinstance(idle, int) else None
    for key in ("create_response", "interrupt_response"):
        if isinstance(raw.get(key), bool):
            setattr(td, key, raw[key])
    return td
