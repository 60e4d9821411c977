"""Reading journal entries: each event's internal name, through the session's dialect (the only code that
knows wire names, :mod:`mockrt.core.dialects`), and the audio helpers the analysis shares."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
import numpy.typing as npt

from mockrt.audio.formats import AudioFormat
from mockrt.core.dialects import Dialect
from mockrt.core.dialects.common import as_object
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.inspector.buffers import RATE, upsample3

Internal = ClientEvent | ServerEvent | None
"""What a journal entry is in the internal vocabulary (``None``: not an event the dialect has)."""

SPAN_GAP_S = 1.0
"""Appends further apart than this start a new span."""
MAX_BATCH_S = 5
"""Seconds of input audio the VAD replay feeds at once at most."""
NOT_A_REJECTION = frozenset({"conversation_already_has_active_response"})


def internal_event(dialect: Dialect, direction: str, wire_type: Any) -> Internal:
    """The internal event a journal entry's ``type`` names in its session's dialect."""
    return dialect.server_event(wire_type) if direction == "server" else dialect.client_event(wire_type)


def is_delta(ev: Internal) -> bool:
    """A streamed delta (text, audio, transcript, arguments, input transcription)."""
    return isinstance(ev, ServerEvent) and ev.name.endswith("_DELTA")


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
    if fmt.rate == RATE:
        return pcm
    if fmt.rate == RATE // 3:
        return upsample3(pcm, prev)
    # Voice Live's 16 kHz pcm16 (docs/protocol.md §12): linear interpolation from the previous sample
    src = np.concatenate([[float(prev)], pcm.astype(np.float64)])
    n = pcm.shape[0] * RATE // fmt.rate
    at = (np.arange(n) + 1) * (fmt.rate / RATE)  # like upsample3: each output ends on an input sample's time
    out: npt.NDArray[np.int16] = np.rint(np.interp(at, np.arange(src.shape[0]), src)).astype(np.int16)
    return out


def b64(arr: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


_obj = as_object


def _num(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def _nearest(records: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, int | float) or not records:
        return None
    best = min(records, key=lambda r: abs(float(r[key]) - float(value)))
    return best if abs(float(best[key]) - float(value)) <= 64 else None
