"""Input audio with the replayed VAD view, and each response's output audio (time axes: analysis.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mockrt.audio.detectors import DetectorUnavailable, make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SpeechStarted, SpeechStopped, TurnDetector, TurnSettings
from mockrt.core.turn_taking import VadOptions
from mockrt.inspector.buffers import BUCKET_MS, BUCKET_SAMPLES, RATE, Growable, envelope
from mockrt.inspector.journal import MAX_BATCH_S, _to24k, b64

# -- input audio and the VAD replay --------------------------------------------------------------------------------


class InputTrack:
    """The session-wide input timeline at 24 kHz and its wall-clock mapping (module docstring)."""

    def __init__(self) -> None:
        self.pcm = Growable(np.int16, 1 << 16)
        self.arrive = Growable(np.float64, 1024)  # wall s at the end of each complete 10 ms bucket
        self.start_wall: float | None = None
        self._last_end = 0.0
        self._prev = 0
        self.appends = 0
        self._env_lo = Growable(np.int8, 1024)
        self._env_hi = Growable(np.int8, 1024)

    @property
    def ms(self) -> float:
        return len(self.pcm) * 1000.0 / RATE

    def add(self, pcm: npt.NDArray[np.int16], fmt: AudioFormat, t: float) -> tuple[float, float]:
        """Append decoded samples at ``fmt.rate`` received at wall ``t``; returns their ``(a0, a1)`` in ms."""
        a0 = self.ms
        self.pcm.extend(_to24k(pcm, fmt, self._prev))
        if pcm.shape[0]:
            self._prev = int(pcm[-1])
        a1 = self.ms
        self.appends += 1
        dur = (a1 - a0) / 1000.0
        end = max(t, self._last_end)
        start = max(self._last_end, t - dur)
        if self.start_wall is None:
            self.start_wall = start
        self._last_end = end
        first, last = len(self.arrive), int(a1 // BUCKET_MS)
        if last > first and a1 > a0:
            scale = (end - start) / (a1 - a0)
            for b in range(first, last):
                self.arrive.append(start + ((b + 1) * BUCKET_MS - a0) * scale)
        return a0, a1

    def wall_of(self, ms: float) -> float:
        """Wall time (s) at which input audio ``ms`` had arrived (the mapping in the module docstring)."""
        arrive = self.arrive.view()
        start = self.start_wall or 0.0
        if arrive.shape[0] == 0:
            return start
        x = ms / BUCKET_MS - 1.0
        if x <= -1.0:
            return start
        if x < 0:
            return start + (x + 1.0) * (float(arrive[0]) - start)
        i = int(x)
        if i >= arrive.shape[0] - 1:
            return float(arrive[-1])
        frac = x - i
        return float(arrive[i]) + frac * (float(arrive[i + 1]) - float(arrive[i]))

    def envelope(self, start: int) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
        """Min/max per complete bucket from bucket ``start`` (computed once per bucket)."""
        done = len(self._env_lo)
        complete = len(self.pcm) // BUCKET_SAMPLES
        if complete > done:
            lo, hi = envelope(self.pcm.view(done * BUCKET_SAMPLES, complete * BUCKET_SAMPLES))
            self._env_lo.extend(lo)
            self._env_hi.extend(hi)
        return self._env_lo.view(start), self._env_hi.view(start)


class VadReplay:
    """The server's turn detector, replayed on the journal (module docstring)."""

    def __init__(self, params: VadOptions) -> None:
        self.params = params
        self.fmt = AudioFormat.PCM16  # the buffer's format
        self._det_fmt: AudioFormat | None = None  # the format the detector was configured with
        self.settings: TurnSettings | None = None
        self.detector: TurnDetector | None = None
        self.offset_ms = 0.0
        self.pos_ms = 0.0
        self.buffer_start_ms = 0.0
        self.scores = Growable(np.uint8, 4096)
        self.score_segments: list[dict[str, Any]] = []
        self.config_history: list[dict[str, Any]] = []
        self.recomputed: list[dict[str, Any]] = []
        self.error: str | None = None
        self.on_off: tuple[float, float] | None = None
        self._queued: list[npt.NDArray[np.int16]] = []
        self._queued_n = 0

    def _on_frame(self, ms: int, score: float) -> None:
        self.scores.append(min(255, max(0, int(score * 255.0 + 0.5))))

    def configure(self, settings: TurnSettings | None, fmt: AudioFormat, t: float) -> None:
        self.flush()
        self.fmt = fmt
        if settings is None:
            if self.detector is not None or not self.config_history:
                self.config_history.append({"from_ms": round(self.pos_ms, 3), "t": round(t, 4), "vad": None})
            self.detector, self.settings = None, None
            return
        changed = False
        if self.detector is None or fmt is not self._det_fmt:
            try:
                det = make_detector(self.params.detector, fmt.rate)
            except (DetectorUnavailable, ValueError) as exc:
                self.error = f"detector {self.params.detector!r} unavailable: {exc}"
                self.detector = None
                return
            self.offset_ms = self.pos_ms
            self.detector = TurnDetector(det, fmt.rate, settings, on_frame=self._on_frame)
            self.detector.reset(round(self.buffer_start_ms - self.offset_ms))
            self.score_segments.append({"index": len(self.scores), "start_ms": round(self.offset_ms, 3),
                                        "frame_ms": det.frame_samples * 1000 / det.rate})
            changed = True
        elif settings != self.settings:
            self.detector.update_settings(settings)
            changed = True
        self.settings, self._det_fmt = settings, fmt
        if changed:
            on, off = self.detector.detector.on_off(settings.threshold)
            self.on_off = (on, off)
            self.config_history.append({
                "from_ms": round(self.pos_ms, 3), "t": round(t, 4), "vad": settings.type,
                "detector": self.params.detector, "threshold": settings.threshold, "on": on, "off": off,
                "prefix_padding_ms": settings.prefix_padding_ms, "silence_duration_ms": settings.silence_duration_ms,
                "eagerness": settings.eagerness, "min_speech_ms": settings.min_speech_ms,
                "end_includes_silence": settings.end_includes_silence,
                "frame_ms": self.detector.frame_ms, "format": fmt.value})

    def feed(self, pcm: npt.NDArray[np.int16]) -> None:
        """Queue accepted audio; it reaches the detector at the next :meth:`flush` (the detector is
        chunk-invariant, so feeding many appends at once gives the same frames, scores and events, for a
        fraction of the per-call cost)."""
        self.pos_ms += pcm.shape[0] * 1000.0 / self.fmt.rate
        if self.detector is None:
            return
        self._queued.append(pcm)
        self._queued_n += pcm.shape[0]
        if self._queued_n >= MAX_BATCH_S * self.fmt.rate:
            self.flush()

    def flush(self) -> None:
        """Feed the queued audio: before anything that changes the detector, and at the end of every update."""
        if not self._queued:
            return
        pcm = self._queued[0] if len(self._queued) == 1 else np.concatenate(self._queued)
        self._queued, self._queued_n = [], 0
        if self.detector is None:
            return
        for event in self.detector.feed(pcm):
            if isinstance(event, SpeechStarted):
                self.recomputed.append({"type": "speech_started", "audio_start_ms": round(
                    event.audio_start_ms + self.offset_ms), "onset_ms": round(event.onset_ms + self.offset_ms)})
            elif isinstance(event, SpeechStopped):
                end = event.audio_end_ms + self.offset_ms
                self.recomputed.append({"type": "speech_stopped", "audio_end_ms": round(end),
                                        "last_voiced_ms": round(event.last_voiced_ms + self.offset_ms)})
                self.buffer_start_ms = end

    def buffer_moved(self, start_ms: float) -> None:
        self.flush()
        self.buffer_start_ms = start_ms
        if self.detector is not None:
            self.detector.reset(round(start_ms - self.offset_ms))


# -- responses and output audio ------------------------------------------------------------------------------------


@dataclass
class OutputPart:
    response_id: str
    item_id: str
    content_index: int
    fmt: AudioFormat
    t0: float
    pcm: Growable = field(default_factory=lambda: Growable(np.int16, 1 << 14))
    prev: int = 0
    t_last: float = 0.0
    deltas: int = 0
    transcript: str = ""
    done: bool = False
    truncated_ms: float | None = None
    truncated_t: float | None = None
    first_seq: int = 0

    @property
    def ms(self) -> float:
        return len(self.pcm) * 1000.0 / RATE

    def to_dict(self) -> dict[str, Any]:
        lo, hi = envelope(self.pcm.view())
        return {"item_id": self.item_id, "content_index": self.content_index, "format": self.fmt.value,
                "first_seq": self.first_seq,
                "t0": round(self.t0, 4), "t_last": round(self.t_last, 4), "ms": round(self.ms, 1),
                "deltas": self.deltas, "transcript": self.transcript, "done": self.done,
                "truncated_ms": self.truncated_ms,
                "truncated_t": None if self.truncated_t is None else round(self.truncated_t, 4),
                "env_lo": b64(lo), "env_hi": b64(hi)}


@dataclass
class ResponseInfo:
    id: str
    t_created: float
    seq: int
    fmt: AudioFormat
    conversation_id: str | None = None
    status: str = "in_progress"
    reason: str | None = None
    t_done: float | None = None
    cancel_t: float | None = None
    usage: dict[str, Any] | None = None
    error: Any = None
    text: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    parts: list[OutputPart] = field(default_factory=list)
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "t_created": round(self.t_created, 4), "seq": self.seq, "status": self.status,
                "reason": self.reason, "t_done": None if self.t_done is None else round(self.t_done, 4),
                "cancel_t": None if self.cancel_t is None else round(self.cancel_t, 4),
                "conversation_id": self.conversation_id, "usage": self.usage, "error": self.error,
                "format": self.fmt.value, "text": self.text, "items": self.items,
                "audio": [p.to_dict() for p in self.parts], "version": self.version}
