"""Input audio transcription (docs/protocol.md §3.4, §4.12, §5.11).

A :class:`Transcriber` decides what the user said in a committed audio item. The default one does not
pretend: it returns a placeholder that says it is one. Scenarios (and tests) plug in transcribers that know the
real text — for example the label of a speech fixture — or that fail a turn with the service's error object.

What the events carry depends on the transcription model (:mod:`mockrt.core.models`): usage in tokens or in
seconds, ``logprobs`` when the session's ``include`` asks for them, and speaker ``segment`` events for the
diarizing model, timed on the session's input timeline (§5.11).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

from mockrt.audio.formats import AudioFormat
from mockrt.core.brain import tokenize
from mockrt.core.events import ServerEvent
from mockrt.core.models import DIARIZING, DURATION_BILLED, LOGPROB_MODELS

LOGPROBS_INCLUDE = "item.input_audio_transcription.logprobs"
"""The ``include`` entry that asks for transcription log probabilities (§4.3)."""

DEFAULT_FAILURE = {"type": "transcription_error", "code": "audio_unintelligible",
                   "message": "The audio could not be transcribed.", "param": None}
"""The error object of a failed transcription when a scenario gives none (§5.11)."""


@dataclass(frozen=True)
class Transcript:
    """What a transcriber returns: the text, or a failure (``ServerEvent.TRANSCRIPTION_FAILED``, §5.11)."""

    text: str | None
    error: dict[str, Any] | None = None  # {"type", "code", "message", "param"}
    speakers: tuple[tuple[str, str], ...] | None = None  # diarization: (speaker, text) in order; None: one speaker


@dataclass(frozen=True)
class TranscriptionRequest:
    item_id: str
    audio: bytes
    audio_ms: float
    model: str
    language: str | None
    turn: int  # 1-based count of committed user audio items in this session
    logprobs: bool = False  # the session's ``include`` asks for them
    audio_start_ms: float = 0.0  # where the item's audio begins on the session's input timeline (§5.5)
    audio_format: AudioFormat = AudioFormat.PCM16  # the format ``audio`` is in


class Transcriber(Protocol):
    def transcribe(self, request: TranscriptionRequest) -> Transcript: ...


class PlaceholderTranscriber:
    """The default: a deterministic text that says it is a placeholder, with the audio's duration."""

    def transcribe(self, request: TranscriptionRequest) -> Transcript:
        return Transcript(f"[mockrt placeholder transcript of {request.audio_ms / 1000.0:.1f} s of audio]")


def transcription_usage(model: str, audio_ms: float, text: str) -> dict[str, Any]:
    """Usage of one transcription (§4.12): seconds for duration-billed models, else tokens."""
    if model in DURATION_BILLED:
        return {"type": "duration", "seconds": math.ceil(audio_ms / 1000.0)}
    audio_tokens = math.ceil(audio_ms / 100.0)
    output = len(tokenize(text))
    return {"type": "tokens", "total_tokens": audio_tokens + output, "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens}, "output_tokens": output}


def token_logprob(token: str) -> dict[str, Any]:
    """A deterministic ``LogProbProperties`` for one token (a confident value near 0, never above it)."""
    data = token.encode("utf-8")
    return {"token": token, "bytes": list(data), "logprob": -round(0.0005 * (1 + zlib.crc32(data) % 40), 4)}


def speaker_segments(request: TranscriptionRequest, result: Transcript, text: str) -> list[dict[str, Any]]:
    """Diarization (§5.11): one ``segment`` per speaker turn, times in seconds on the input timeline.

    Each segment's share of the item's audio is proportional to its number of words."""
    turns = list(result.speakers) if result.speakers else [("A", text)]
    weights = [max(1, len(t.split())) for _, t in turns]
    total = sum(weights)
    start = request.audio_start_ms / 1000.0
    length = request.audio_ms / 1000.0
    out: list[dict[str, Any]] = []
    done = 0
    for index, ((speaker, seg_text), weight) in enumerate(zip(turns, weights, strict=True)):
        begin = start + length * done / total
        done += weight
        out.append({"type": ServerEvent.TRANSCRIPTION_SEGMENT, "item_id": request.item_id, "content_index": 0,
                    "id": f"seg_{index}", "speaker": speaker, "text": seg_text.strip(),
                    "start": round(begin, 3), "end": round(start + length * done / total, 3)})
    return out


def transcription_events(request: TranscriptionRequest, result: Transcript) -> list[dict[str, Any]]:
    """The internal events of one transcription: deltas (or segments) then ``completed``, or ``failed``."""
    ids = {"item_id": request.item_id, "content_index": 0}
    if result.text is None:
        return [{"type": ServerEvent.TRANSCRIPTION_FAILED, **ids, "error": result.error or DEFAULT_FAILURE}]
    text = result.text
    if result.speakers and not text:
        text = " ".join(t.strip() for _, t in result.speakers)
    logprobs = request.logprobs and request.model in LOGPROB_MODELS
    events: list[dict[str, Any]] = []
    if request.model in DIARIZING:
        events += speaker_segments(request, result, text)
    else:
        for piece in tokenize(text):
            delta: dict[str, Any] = {"type": ServerEvent.TRANSCRIPTION_DELTA, **ids, "delta": piece}
            if logprobs:
                delta["logprobs"] = [token_logprob(piece)]
            events.append(delta)
    completed: dict[str, Any] = {"type": ServerEvent.TRANSCRIPTION_COMPLETED, **ids, "transcript": text.strip(),
                                 "usage": transcription_usage(request.model, request.audio_ms, text)}
    if logprobs:
        completed["logprobs"] = [token_logprob(piece) for piece in tokenize(text)]
    events.append(completed)
    return events
