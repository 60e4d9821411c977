"""Shared pieces of the journal analysis: event-type sets, session objects, audio formats and encodings."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SEMANTIC_MAX_WAIT_MS, TurnSettings
from mockrt.inspector.buffers import RATE, upsample3

if TYPE_CHECKING:
    pass


APPEND_TYPES = frozenset({"input_audio_buffer.append", "session.input_audio_buffer.append"})
AUDIO_DELTA_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta"})
TEXT_DELTA_TYPES = frozenset({"response.output_text.delta", "response.text.delta"})
TRANSCRIPT_DELTA_TYPES = frozenset({"response.output_audio_transcript.delta", "response.audio_transcript.delta"})
SESSION_TYPES = frozenset({"session.created", "session.updated", "transcription_session.created",
                           "transcription_session.updated"})
ITEM_ADDED_TYPES = frozenset({"conversation.item.added", "conversation.item.created"})
SPAN_GAP_S = 1.0
"""Appends further apart than this start a new span."""
MAX_BATCH_S = 5
"""Seconds of input audio the VAD replay feeds at once at most."""
NOT_A_REJECTION = frozenset({"conversation_already_has_active_response"})

_GA_FORMATS = {"audio/pcm": AudioFormat.PCM16, "audio/pcmu": AudioFormat.G711_ULAW,
               "audio/pcma": AudioFormat.G711_ALAW}
_BETA_FORMATS = {"pcm16": AudioFormat.PCM16, "g711_ulaw": AudioFormat.G711_ULAW, "g711_alaw": AudioFormat.G711_ALAW}
_MISSING: Any = object()


@dataclass(frozen=True)
class VadParams:
    """What the server's VAD is built from besides the session: ``ServerConfig.vad`` and
    ``vad_end_includes_silence`` (and ``VadOptions.min_speech_ms``)."""

    detector: str = "webrtc"
    end_includes_silence: bool = True
    min_speech_ms: int = 64


# -- session objects ---------------------------------------------------------------------------------------------


def _format(raw: Any) -> AudioFormat | None:
    if isinstance(raw, dict):
        return _GA_FORMATS.get(str(raw.get("type")))
    if isinstance(raw, str):
        return _BETA_FORMATS.get(raw) or _GA_FORMATS.get(raw)
    return None


def session_audio(session: dict[str, Any]) -> tuple[AudioFormat | None, AudioFormat | None, Any]:
    """``(input format, output format, turn_detection)`` of a rendered GA or beta session object; a value that
    is absent is ``None`` (formats) or ``_MISSING`` (turn detection)."""
    audio = session.get("audio")
    if isinstance(audio, dict):
        inp = _obj(audio.get("input"))
        out = _obj(audio.get("output"))
        return _format(inp.get("format")), _format(out.get("format")), inp.get("turn_detection", _MISSING)
    return (_format(session.get("input_audio_format")), _format(session.get("output_audio_format")),
            session.get("turn_detection", _MISSING))


def turn_settings(td: Any, vad: VadParams) -> TurnSettings | None:
    """The :class:`TurnSettings` the core derives from a session's ``turn_detection`` (turn_taking.configure)."""
    if not isinstance(td, dict):
        return None
    semantic = "semantic" in str(td.get("type", ""))
    eagerness = str(td.get("eagerness", "auto"))
    try:
        return TurnSettings(
            type="semantic_vad" if semantic else "server_vad",
            threshold=0.5 if semantic else float(td.get("threshold", 0.5)),
            prefix_padding_ms=300 if semantic else int(td.get("prefix_padding_ms", 300)),
            silence_duration_ms=int(td.get("silence_duration_ms", 200)),
            eagerness=eagerness if eagerness in SEMANTIC_MAX_WAIT_MS else "auto",
            end_includes_silence=vad.end_includes_silence,
            min_speech_ms=vad.min_speech_ms,
        )
    except (TypeError, ValueError):
        return None


def b64_len(text: str) -> int:
    """Decoded length of a base64 string without decoding it."""
    n = len(text)
    return max(0, n * 3 // 4 - text[-2:].count("=")) if n else 0


def _decode(text: Any, fmt: AudioFormat) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) % fmt.sample_width:
        return None
    return data


def _to24k(pcm: npt.NDArray[np.int16], fmt: AudioFormat, prev: int) -> npt.NDArray[np.int16]:
    return pcm if fmt.rate == RATE else upsample3(pcm, prev)


def b64(arr: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"

def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def _nearest(records: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, int | float) or not records:
        return None
    best = min(records, key=lambda r: abs(float(r[key]) - float(value)))
    return best if abs(float(best[key]) - float(value)) <= 64 else None
