"""Input audio transcription (docs/protocol.md §3.4, §4.12, §5.11).

A :class:`Transcriber` decides what the user said in a committed audio item. The default one does not
pretend: it returns a placeholder that says it is one. Scenarios (and tests) plug in transcribers that know the
real text — for example the label of a speech fixture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from mockrt.core.brain import tokenize
from mockrt.core.events import ServerEvent


@dataclass(frozen=True)
class Transcript:
    """What a transcriber returns: the text, or a failure (``ServerEvent.TRANSCRIPTION_FAILED``, §5.11)."""

    text: str | None
    error: dict[str, Any] | None = None  # {"type", "code", "message", "param"}


@dataclass(frozen=True)
class TranscriptionRequest:
    item_id: str
    audio: bytes
    audio_ms: float
    model: str
    language: str | None
    turn: int  # 1-based count of committed user audio items in this session


class Transcriber(Protocol):
    def transcribe(self, request: TranscriptionRequest) -> Transcript: ...


class PlaceholderTranscriber:
    """The default: a deterministic text that says it is a placeholder, with the audio's duration."""

    def transcribe(self, request: TranscriptionRequest) -> Transcript:
        return Transcript(f"[mockrt placeholder transcript of {request.audio_ms / 1000.0:.1f} s of audio]")


DURATION_BILLED = ("whisper-1", "gpt-live-transcribe")


def transcription_usage(model: str, audio_ms: float, text: str) -> dict[str, Any]:
    """Usage of one transcription (§4.12): seconds rounded up for duration-billed models, else tokens."""
    if model in DURATION_BILLED:
        return {"type": "duration", "seconds": math.ceil(audio_ms / 1000.0)}
    audio_tokens = math.ceil(audio_ms / 100.0)
    output = len(tokenize(text))
    return {"type": "tokens", "total_tokens": audio_tokens + output, "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens}, "output_tokens": output}


def transcription_events(request: TranscriptionRequest, result: Transcript) -> list[dict[str, Any]]:
    """The internal events of one transcription: deltas then ``completed``, or ``failed``."""
    ids = {"item_id": request.item_id, "content_index": 0}
    if result.text is None:
        error = result.error or {"type": "transcription_error", "code": "audio_unintelligible",
                                 "message": "The audio could not be transcribed.", "param": None}
        return [{"type": ServerEvent.TRANSCRIPTION_FAILED, **ids, "error": error}]
    events: list[dict[str, Any]] = [
        {"type": ServerEvent.TRANSCRIPTION_DELTA, **ids, "delta": piece}
        for piece in tokenize(result.text)
    ]
    events.append({"type": ServerEvent.TRANSCRIPTION_COMPLETED, **ids,
                   "transcript": result.text.strip(),
                   "usage": transcription_usage(request.model, request.audio_ms, result.text)})
    return events
