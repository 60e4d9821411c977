"""The inspector's view of one session, built incrementally from its journal.

:class:`SessionAnalysis` consumes :class:`~mockrt.server.registry.JournalEntry` objects in order (only the new ones
on every request, so a live session costs O(new events) per poll) and keeps:

* the **timeline**: one row per event, with ``input_audio_buffer.append`` runs and every ``*.delta`` stream
  (audio, text, transcripts, arguments) collapsed into spans (:class:`Timeline`);
* the **input audio** as the server received it (24 kHz; G.711 decoded and upsampled), and the **VAD's view**
  of it, recomputed by replaying the audio through :class:`~mockrt.audio.turns.TurnDetector` with the session's
  settings (:class:`InputTrack`, :class:`VadReplay`);
* each **response**: status, cancellation, its output audio (24 kHz) with transcript and truncation;
* the **conversation** as it stands (:class:`ConversationBuilder`).

Time axes
---------
Events carry ``t``, seconds since the session started (wall clock, the journal's time). Input audio carries
*audio time*: milliseconds on the session-wide input timeline (all accepted appends, in order; what
``audio_start_ms`` / ``audio_end_ms`` refer to). The two are tied by when each append arrived: append ``i``,
covering audio ``[a0, a1)`` and received at ``t_i``, is placed on the wall axis over ``[s_i, t_i]`` with
``s_i = max(t_{i-1}', t_i - (a1 - a0))`` (``t_{i-1}'`` the previous append's end on the wall axis): its audio
*ends* at the moment the server had it, and it takes its real duration unless the previous append ends later.
A client streaming in real time therefore maps 1:1, and a burst of appends is compressed into the burst's instants
(then the page's audio-time axis is more readable). The mapping is sampled at the end of every 10 ms audio bucket
(``arrive``) and interpolated linearly in between; the page inverts it to place events on the audio axis (an event
at ``t`` sits at the input audio received by ``t``).

VAD replay
----------
The server's detector is chunk-invariant, so feeding it the same audio in any chunking gives the same frames,
scores and events. The replay follows what :class:`mockrt.core.turn_taking.TurnTaking` does, driven by the
journal: ``session.created`` / ``session.updated`` (input format and ``turn_detection``; a new detector when the
format changes or VAD is switched on, ``update_settings`` otherwise), accepted appends (fed), and the buffer
moves that reset the detector (a manual ``input_audio_buffer.committed``, ``cleared``, ``timeout_triggered``;
the commits that follow ``speech_stopped`` do not, as in the core). An append is *accepted* unless the entry
right after it is the ``error`` that rejected it. What cannot be replayed: ``semantic_vad`` completeness hints
set from tests or scenarios (:meth:`~mockrt.core.session.RealtimeSession.set_turn_complete_hint`).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mockrt.audio.detectors import DetectorUnavailable, make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SEMANTIC_MAX_WAIT_MS, SpeechStarted, SpeechStopped, TurnDetector, TurnSettings
from mockrt.inspector.buffers import BUCKET_MS, BUCKET_SAMPLES, RATE, Growable, envelope, upsample3

if TYPE_CHECKING:
    from mockrt.server.registry import JournalEntry

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


# -- timeline ------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One timeline row: an event, or a span of collapsed events (``n`` > 1 or still open)."""

    id: int  # seq of its first event (stable across updates)
    t: float
    t1: float
    dir: str
    type: str
    n: int = 1
    last: int = 0  # seq of its last event
    label: str = ""
    audio_ms: float | None = None
    text: str = ""
    bad: bool = False  # a rejected client event / an error
    undo: tuple[float, int, float] | None = None  # (t1, last, audio_ms) before the last event joined the span

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "t": round(self.t, 4), "dir": self.dir, "type": self.type,
                               "label": self.label}
        if self.n > 1 or self.t1 != self.t:
            out["t1"] = round(self.t1, 4)
            out["n"] = self.n
            out["last"] = self.last
        if self.audio_ms is not None:
            out["audio_ms"] = round(self.audio_ms, 1)
        if self.bad:
            out["bad"] = True
        return out


class Timeline:
    """Rows in journal order plus a change log so ``since=seq`` polls return only new or grown rows."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.by_id: dict[int, int] = {}
        self._row_of: dict[int, int] = {}  # every event's seq -> its row
        self._change_seq: list[int] = []
        self._change_row: list[int] = []
        self._open: dict[tuple[Any, ...], int] = {}  # span key -> row index
        self._append_span: int | None = None
        self.counts: dict[str, int] = {}

    def _changed(self, seq: int, index: int) -> None:
        if self._change_row and self._change_row[-1] == index:
            self._change_seq[-1] = seq
        else:
            self._change_seq.append(seq)
            self._change_row.append(index)

    def _new(self, row: Row) -> int:
        self.rows.append(row)
        index = len(self.rows) - 1
        self.by_id[row.id] = index
        self._row_of[row.id] = index
        self._changed(row.id, index)
        return index

    def _grow(self, index: int, entry: JournalEntry) -> Row:
        row = self.rows[index]
        row.n += 1
        row.t1 = entry.t
        row.last = entry.seq
        self._changed(entry.seq, index)
        self._row_of[entry.seq] = index
        return row

    def add(self, entry: JournalEntry, label: str, *, audio_ms: float | None = None) -> None:
        event = entry.event
        etype = str(event.get("type"))
        key = f"{entry.direction}:{etype}"
        self.counts[key] = self.counts.get(key, 0) + 1
        if entry.direction == "client" and etype in APPEND_TYPES:
            index = self._append_span
            if index is not None and entry.t - self.rows[index].t1 <= SPAN_GAP_S:
                row = self.rows[index]
                row.undo = (row.t1, row.last, row.audio_ms or 0.0)
                self._grow(index, entry)
                row.audio_ms = (row.audio_ms or 0.0) + (audio_ms or 0.0)
                row.label = _append_label(row)
                return
            row = Row(entry.seq, entry.t, entry.t, "client", etype, 1, entry.seq, audio_ms=audio_ms or 0.0)
            row.label = _append_label(row)
            self._append_span = self._new(row)
            return
        if entry.direction == "client" or etype in ("input_audio_buffer.committed", "input_audio_buffer.cleared"):
            self._append_span = None
        if entry.direction == "server" and etype.endswith(".delta"):
            skey = (etype, event.get("response_id"), event.get("item_id"), event.get("output_index"),
                    event.get("content_index"))
            delta = event.get("delta")
            index = self._open.get(skey)
            if index is None:
                row = Row(entry.seq, entry.t, entry.t, "server", etype, 1, entry.seq)
                self._open[skey] = self._new(row)
            else:
                row = self._grow(index, entry)
            if etype in AUDIO_DELTA_TYPES:
                row.audio_ms = (row.audio_ms or 0.0) + (audio_ms or 0.0)
                row.label = f"{row.audio_ms / 1000:.2f} s of audio in {row.n} deltas"
            elif isinstance(delta, str):
                if len(row.text) < 400:
                    row.text += delta
                row.label = f"{row.n} deltas: " + _clip(row.text, 160)
            return
        self._new(Row(entry.seq, entry.t, entry.t, entry.direction, etype, 1, entry.seq, label,
                      bad=etype == "error"))

    def mark_bad(self, seq: int, t: float) -> None:
        """A rejected append: it leaves its span (it was the span's last event) and gets a row of its own."""
        self._append_span = None
        index = self._row_of.get(seq)
        if index is None:
            return
        row = self.rows[index]
        if row.id == seq:
            row.bad = True
            self._changed(seq, index)
            return
        if row.last != seq or row.undo is None:
            return
        t1, last, ms = row.undo
        own = (row.audio_ms or 0.0) - ms
        row.t1, row.last, row.audio_ms, row.n, row.undo = t1, last, ms, row.n - 1, None
        row.label = _append_label(row)
        self._changed(seq, index)
        alone = Row(seq, t, t, row.dir, row.type, 1, seq, "", audio_ms=own, bad=True)
        alone.label = "rejected: " + _append_label(alone)
        self._new(alone)

    def since(self, seq: int) -> list[Row]:
        if seq < 0:
            return list(self.rows)
        start = bisect.bisect_right(self._change_seq, seq)
        indexes = sorted(set(self._change_row[start:]))
        return [self.rows[i] for i in indexes]

    def find(self, seq: int) -> Row | None:
        """The row holding the event ``seq`` (a span's first event or one inside it)."""
        index = self._row_of.get(seq)
        return None if index is None else self.rows[index]


def _append_label(row: Row) -> str:
    return f"{row.n} append{'s' if row.n != 1 else ''}, {(row.audio_ms or 0.0) / 1000:.2f} s of audio"


def label_for(entry: JournalEntry) -> str:
    """A short human summary of one event (the row's text)."""
    e = entry.event
    etype = str(e.get("type"))
    try:
        if etype in SESSION_TYPES or etype == "session.update":
            session = _obj(e.get("session"))
            fin, fout, td = session_audio(session)
            parts = []
            if fin is not None:
                parts.append(f"in {fin.value}")
            if fout is not None:
                parts.append(f"out {fout.value}")
            if isinstance(td, dict):
                parts.append(str(td.get("type")) + (f" thr {td['threshold']}" if "threshold" in td else "")
                             + (f" pad {td['prefix_padding_ms']}" if "prefix_padding_ms" in td else "")
                             + (f" sil {td['silence_duration_ms']}" if "silence_duration_ms" in td else ""))
            elif td is None:
                parts.append("turn_detection null")
            return ", ".join(parts)
        if etype == "input_audio_buffer.speech_started":
            return f"audio_start_ms={e.get('audio_start_ms')} {e.get('item_id', '')}"
        if etype == "input_audio_buffer.speech_stopped":
            return f"audio_end_ms={e.get('audio_end_ms')} {e.get('item_id', '')}"
        if etype == "input_audio_buffer.timeout_triggered":
            return f"{e.get('audio_start_ms')}–{e.get('audio_end_ms')} ms {e.get('item_id', '')}"
        if etype == "input_audio_buffer.committed":
            return str(e.get("item_id", ""))
        if etype == "error":
            err = _obj(e.get("error"))
            return _clip(f"{err.get('code') or err.get('type')}: {err.get('message')}", 200)
        if etype in ("response.created", "response.done"):
            r = _obj(e.get("response"))
            text = f"{r.get('id')} {r.get('status')}"
            details = r.get("status_details")
            if isinstance(details, dict) and details.get("reason"):
                text += f" ({details.get('reason')})"
            usage = r.get("usage")
            if isinstance(usage, dict) and "total_tokens" in usage:
                text += f", {usage['total_tokens']} tokens"
            return text
        if etype in ("response.cancel", "response.create"):
            return str(e.get("response_id") or "") or _clip(str(e.get("response") or ""), 100)
        if etype.startswith("conversation.item") or etype.startswith("response.output_item"):
            item = e.get("item")
            if isinstance(item, dict):
                return _clip(f"{item.get('id')} {item.get('type')} {item.get('role') or item.get('name') or ''} "
                             + _item_text(item), 160)
            if "audio_end_ms" in e:
                return f"{e.get('item_id')} audio_end_ms={e.get('audio_end_ms')}"
            if "transcript" in e:
                return _clip(f"{e.get('item_id')}: {e.get('transcript')}", 160)
            return str(e.get("item_id") or "")
        if etype.endswith(".done") and isinstance(e.get("transcript"), str):
            return _clip(str(e["transcript"]), 160)
        if etype.endswith(".done") and isinstance(e.get("text"), str):
            return _clip(str(e["text"]), 160)
        if etype == "rate_limits.updated":
            limits = e.get("rate_limits") or []
            return ", ".join(f"{x.get('name')} {x.get('remaining')}/{x.get('limit')}" for x in limits
                             if isinstance(x, dict))
        if etype == "<invalid json>":
            return _clip(str(e.get("raw", "")), 120)
        if etype == "<binary frame>":
            return f"{e.get('bytes')} bytes"
    except (TypeError, ValueError, AttributeError, KeyError):
        return ""
    return ""


def _item_text(item: dict[str, Any]) -> str:
    if item.get("type") == "function_call":
        return f"{item.get('name')}({item.get('arguments') or ''})"
    if item.get("type") == "function_call_output":
        return str(item.get("output") or "")
    texts = []
    for part in item.get("content") or []:
        if isinstance(part, dict):
            value = part.get("text") or part.get("transcript")
            if value:
                texts.append(str(value))
    return " ".join(texts)


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

    def __init__(self, params: VadParams) -> None:
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


# -- the conversation ----------------------------------------------------------------------------------------------


def _norm_item(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.get("id"), "type": item.get("type"), "status": item.get("status")}
    if item.get("type") == "message":
        out["role"] = item.get("role")
        content = []
        for part in item.get("content") or []:
            if isinstance(part, dict):
                content.append({k: part[k] for k in ("type", "text", "transcript") if k in part})
        out["content"] = content
    else:
        for key in ("name", "call_id", "arguments", "output"):
            if key in item:
                out[key] = item[key]
    return out


class ConversationBuilder:
    """The default conversation rebuilt from item and response events (``previous_item_id`` order)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.version = 0

    def _find(self, item_id: Any) -> dict[str, Any] | None:
        for item in reversed(self.items):
            if item["id"] == item_id:
                found: dict[str, Any] = item
                return found
        return None

    def _part(self, item: dict[str, Any], index: Any, ptype: str) -> dict[str, Any] | None:
        if item.get("type") != "message" or not isinstance(index, int) or index < 0:
            return None
        content = item.setdefault("content", [])
        while len(content) <= index:
            content.append({"type": ptype})
        part: dict[str, Any] = content[index]
        return part

    def apply(self, entry: JournalEntry, audio_range: tuple[float, float] | None) -> bool:
        """Apply one server event; returns whether the conversation changed."""
        e = entry.event
        etype = e.get("type")
        item: dict[str, Any] | None
        if etype in ITEM_ADDED_TYPES and isinstance(e.get("item"), dict):
            item = _norm_item(e["item"])
            if self._find(item["id"]) is not None:
                return False
            prev = e.get("previous_item_id")
            index = 0
            if prev:
                for i in range(len(self.items) - 1, -1, -1):
                    if self.items[i]["id"] == prev:
                        index = i + 1
                        break
                else:
                    index = len(self.items)
            if audio_range is not None and item.get("role") == "user":
                item["audio_range_ms"] = [round(audio_range[0], 1), round(audio_range[1], 1)]
            item["t"] = round(entry.t, 4)
            self.items.insert(index, item)
        elif etype in ("conversation.item.done", "response.output_item.done") and isinstance(e.get("item"), dict):
            existing = self._find(e["item"].get("id"))
            if existing is None:
                return False
            fresh = _norm_item(e["item"])
            for key, value in fresh.items():
                if key == "content":
                    old = existing.get("content") or []
                    for i, part in enumerate(value):
                        if i < len(old):
                            old[i].update({k: v for k, v in part.items() if v is not None or k not in old[i]})
                        else:
                            old.append(part)
                    existing["content"] = old
                else:
                    existing[key] = value
        elif etype == "conversation.item.deleted":
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            self.items.remove(item)
        elif etype == "conversation.item.truncated":
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            item["truncated_ms"] = e.get("audio_end_ms")
        elif etype == "conversation.item.input_audio_transcription.completed":
            item = self._find(e.get("item_id"))
            part = self._part(item, e.get("content_index", 0), "input_audio") if item else None
            if part is None:
                return False
            part["transcript"] = e.get("transcript")
        elif etype == "conversation.item.input_audio_transcription.failed":
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            item["transcription_error"] = e.get("error")
        elif etype in TEXT_DELTA_TYPES or etype in TRANSCRIPT_DELTA_TYPES:
            item = self._find(e.get("item_id"))
            key = "text" if etype in TEXT_DELTA_TYPES else "transcript"
            part = self._part(item, e.get("content_index"), "text" if key == "text" else "audio") if item else None
            if part is None or not isinstance(e.get("delta"), str):
                return False
            part[key] = (part.get(key) or "") + e["delta"]
        elif etype == "response.content_part.added":
            item = self._find(e.get("item_id"))
            raw = _obj(e.get("part"))
            part = self._part(item, e.get("content_index"), str(raw.get("type"))) if item else None
            if part is None:
                return False
            part["type"] = raw.get("type", part.get("type"))
        elif etype in ("response.function_call_arguments.delta", "response.function_call_arguments.done"):
            item = self._find(e.get("item_id"))
            if item is None:
                return False
            if etype.endswith("done"):
                item["arguments"] = e.get("arguments")
            elif isinstance(e.get("delta"), str):
                item["arguments"] = (item.get("arguments") or "") + e["delta"]
        else:
            return False
        self.version = entry.seq
        return True


def conversation_from_items(items: Iterable[Any]) -> list[dict[str, Any]]:
    """The conversation from a live session's :class:`~mockrt.core.model.Item` list (same shape as the rebuild)."""
    out: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {"id": item.id, "type": item.type, "status": item.status}
        if item.type == "message":
            entry["role"] = item.role
            parts = []
            for p in item.content:
                part: dict[str, Any] = {"type": p.type}
                if p.text is not None:
                    part["text"] = p.text
                if p.transcript is not None or p.type in ("audio", "input_audio"):
                    part["transcript"] = p.transcript
                if p.audio_ms:
                    part["audio_ms"] = round(float(p.audio_ms), 1)
                parts.append(part)
            entry["content"] = parts
        else:
            for key in ("name", "call_id", "arguments", "output"):
                value = getattr(item, key)
                if value is not None:
                    entry[key] = value
        out.append(entry)
    return out


# -- the whole session ---------------------------------------------------------------------------------------------


class SessionAnalysis:
    """Everything the page shows about one session; :meth:`update` consumes new journal entries."""

    def __init__(self, session_id: str, vad: VadParams) -> None:
        self.session_id = session_id
        self.vad_params = vad
        self.lock = threading.Lock()
        self.n = 0
        self.first_seq: int | None = None
        self.last_seq = -1
        self.timeline = Timeline()
        self.input = InputTrack()
        self.vad = VadReplay(vad)
        self.conversation = ConversationBuilder()
        self.responses: dict[str, ResponseInfo] = {}
        self.response_version = 0
        self.in_fmt = AudioFormat.PCM16
        self.out_fmt = AudioFormat.PCM16
        self._formats: list[tuple[int, AudioFormat, AudioFormat]] = []
        self.server_vad: list[dict[str, Any]] = []  # speech_started / stopped / timeout_triggered as sent
        self.markers: list[dict[str, Any]] = []  # commits, clears, with their audio position
        self.rejected = 0
        self._vad_items: dict[str, tuple[float, float]] = {}  # item ids the VAD / idle timeout committed
        self._buf_start = 0.0  # where the uncommitted buffer starts (server view)
        self._pending: JournalEntry | None = None  # an append whose fate the next entry decides
        self._parts: dict[tuple[Any, ...], OutputPart] = {}
        self._active_response: str | None = None
        self._commit_ranges: dict[str, tuple[float, float]] = {}
        self.cache: dict[str, tuple[int, Any]] = {}

    # -- feeding -------------------------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def update(self, entries: Sequence[JournalEntry], *, final: bool = False) -> None:
        for entry in entries:
            self._entry(entry)
        if final and self._pending is not None:
            self._accept(self._pending)
            self._pending = None
        self.vad.flush()

    def _entry(self, entry: JournalEntry) -> None:
        if self.first_seq is None:
            self.first_seq = entry.seq
        self.n += 1
        self.last_seq = entry.seq
        event = entry.event
        etype = str(event.get("type"))
        pending = self._pending
        if pending is not None:
            self._pending = None
            err = _obj(event.get("error"))
            if entry.direction == "server" and etype == "error" and err.get("code") not in NOT_A_REJECTION:
                self.rejected += 1
                self.timeline.mark_bad(pending.seq, pending.t)
            else:
                self._accept(pending)
        audio_ms = None
        if entry.direction == "client" and etype in APPEND_TYPES:
            audio = event.get("audio")
            audio_ms = b64_len(audio) / self.in_fmt.bytes_per_ms if isinstance(audio, str) else 0.0
            self._pending = entry
        elif entry.direction == "server" and etype in AUDIO_DELTA_TYPES:
            delta = event.get("delta")
            fmt = self._response_fmt(event.get("response_id"))
            audio_ms = b64_len(delta) / fmt.bytes_per_ms if isinstance(delta, str) else 0.0
        self.timeline.add(entry, "" if etype in APPEND_TYPES or etype.endswith(".delta") else label_for(entry),
                          audio_ms=audio_ms)
        if entry.direction == "server":
            self._server(entry, etype)
        elif etype == "response.cancel":
            rid = event.get("response_id") or self._active_response
            info = self.responses.get(str(rid)) if rid else None
            if info is not None and info.cancel_t is None:
                info.cancel_t = entry.t
                self._touch(info, entry.seq)

    def _accept(self, entry: JournalEntry) -> None:
        data = _decode(entry.event.get("audio"), self.in_fmt)
        if data is None:
            return
        pcm = self.in_fmt.decode(data)
        self.input.add(pcm, self.in_fmt, entry.t)
        self.vad.feed(pcm)

    def _response_fmt(self, response_id: Any) -> AudioFormat:
        info = self.responses.get(str(response_id)) if response_id else None
        return info.fmt if info is not None else self.out_fmt

    def _touch(self, info: ResponseInfo, seq: int) -> None:
        info.version = seq
        self.response_version = seq

    def _server(self, entry: JournalEntry, etype: str) -> None:
        e = entry.event
        if etype in SESSION_TYPES and isinstance(e.get("session"), dict):
            fin, fout, td = session_audio(e["session"])
            self.in_fmt = fin or self.in_fmt
            self.out_fmt = fout or self.out_fmt
            self._formats.append((entry.seq, self.in_fmt, self.out_fmt))
            if td is not _MISSING:
                self.vad.configure(turn_settings(td, self.vad_params), self.in_fmt, entry.t)
            elif fin is not None:
                self.vad.configure(self.vad.settings, self.in_fmt, entry.t)
            return
        if etype in ("input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                     "input_audio_buffer.timeout_triggered"):
            item_id = str(e.get("item_id"))
            record = {"type": etype.rsplit(".", 1)[1], "item_id": e.get("item_id"), "t": round(entry.t, 4),
                      "seq": entry.seq}
            for key in ("audio_start_ms", "audio_end_ms"):
                if key in e:
                    record[key] = e[key]
            self.server_vad.append(record)
            if etype == "input_audio_buffer.timeout_triggered":
                end = _num(e.get("audio_end_ms"), self.vad.pos_ms)
                self.vad.buffer_moved(end)  # the core calls buffer_moved() after the timeout's commit
                self._vad_items[item_id] = (self._buf_start, end)
            elif etype == "input_audio_buffer.speech_stopped":
                self._vad_items[item_id] = (self._buf_start, _num(e.get("audio_end_ms"), self.vad.pos_ms))
            return
        if etype == "input_audio_buffer.committed":
            item_id = str(e.get("item_id"))
            vad_range = self._vad_items.get(item_id)
            if vad_range is not None:  # committed by the VAD (or an idle timeout): the detector moved itself
                start, end = vad_range
                kind = "vad_commit"
            else:  # input_audio_buffer.commit: the core resets the detector to the new buffer start
                start, end = self._buf_start, self.vad.pos_ms
                self.vad.buffer_moved(end)
                kind = "commit"
            self._buf_start = end
            self._commit_ranges[item_id] = (start, end)
            self.markers.append({"kind": kind, "ms": round(end, 1), "start_ms": round(start, 1),
                                 "t": round(entry.t, 4), "item_id": item_id, "seq": entry.seq})
            return
        if etype == "input_audio_buffer.cleared":
            self.markers.append({"kind": "clear", "ms": round(self.vad.pos_ms, 1),
                                 "start_ms": round(self._buf_start, 1), "t": round(entry.t, 4), "seq": entry.seq})
            self._buf_start = self.vad.pos_ms
            self.vad.buffer_moved(self.vad.pos_ms)
            return
        item = e.get("item") if isinstance(e.get("item"), dict) else None
        audio_range = self._commit_ranges.get(str(item.get("id"))) if item else None
        self.conversation.apply(entry, audio_range)
        self._responses(entry, etype)

    def _responses(self, entry: JournalEntry, etype: str) -> None:
        e = entry.event
        if etype in ("response.created", "response.done") and isinstance(e.get("response"), dict):
            r = e["response"]
            rid = str(r.get("id"))
            info = self.responses.get(rid)
            if info is None:
                fmt = self.out_fmt
                audio = r.get("audio")
                if isinstance(audio, dict) and isinstance(audio.get("output"), dict):
                    fmt = _format(audio["output"].get("format")) or fmt
                elif "output_audio_format" in r:
                    fmt = _format(r.get("output_audio_format")) or fmt
                info = ResponseInfo(rid, entry.t, entry.seq, fmt, conversation_id=r.get("conversation_id"))
                self.responses[rid] = info
            info.status = str(r.get("status"))
            details = r.get("status_details")
            if isinstance(details, dict):
                info.reason = details.get("reason") or details.get("type")
                info.error = details.get("error")
            if etype == "response.done":
                info.t_done = entry.t
                info.usage = r.get("usage") if isinstance(r.get("usage"), dict) else None
                if self._active_response == rid:
                    self._active_response = None
            elif info.conversation_id is not None or "conversation_id" not in r:
                self._active_response = rid
            self._touch(info, entry.seq)
            return
        owner_id = e.get("response_id")
        info = self.responses.get(str(owner_id)) if owner_id else None
        if etype == "conversation.item.truncated":
            for part in self._parts.values():
                if part.item_id == e.get("item_id") and part.content_index == e.get("content_index", 0):
                    part.truncated_ms = e.get("audio_end_ms")
                    part.truncated_t = entry.t
                    owner = self.responses.get(part.response_id)
                    if owner is not None:
                        self._touch(owner, entry.seq)
            return
        if info is None:
            return
        if etype in AUDIO_DELTA_TYPES:
            part = self._part_for(info, entry)
            data = _decode(e.get("delta"), part.fmt)
            if data:
                pcm = part.fmt.decode(data)
                part.pcm.extend(_to24k(pcm, part.fmt, part.prev))
                part.prev = int(pcm[-1])
            part.deltas += 1
            part.t_last = entry.t
        elif etype in TRANSCRIPT_DELTA_TYPES or etype in TEXT_DELTA_TYPES:
            delta = e.get("delta")
            if not isinstance(delta, str):
                return
            if etype in TEXT_DELTA_TYPES:
                info.text += delta
            else:  # the transcript delta can precede the first audio delta: it opens the part too
                self._part_for(info, entry).transcript += delta
        elif etype in ("response.output_audio.done", "response.audio.done"):
            existing = self._parts.get((info.id, e.get("item_id"), e.get("content_index", 0)))
            if existing is not None:
                existing.done = True
        elif etype == "response.output_item.added" and isinstance(e.get("item"), dict):
            item = e["item"]
            info.items.append({"id": item.get("id"), "type": item.get("type"), "role": item.get("role"),
                               "name": item.get("name")})
        elif etype == "response.function_call_arguments.done":
            for item in info.items:
                if item["id"] == e.get("item_id"):
                    item["arguments"] = e.get("arguments")
        else:
            return
        self._touch(info, entry.seq)

    def _part_for(self, info: ResponseInfo, entry: JournalEntry) -> OutputPart:
        e = entry.event
        key = (info.id, e.get("item_id"), e.get("content_index", 0))
        part = self._parts.get(key)
        if part is None:
            part = OutputPart(info.id, str(e.get("item_id")), int(e.get("content_index") or 0), info.fmt, entry.t,
                              first_seq=entry.seq)
            self._parts[key] = part
            info.parts.append(part)
        return part

    # -- reading ---------------------------------------------------------------------------------------------

    def formats_at(self, seq: int) -> tuple[AudioFormat, AudioFormat]:
        pos = bisect.bisect_right([s for s, _, _ in self._formats], seq) - 1
        if pos < 0:
            return AudioFormat.PCM16, AudioFormat.PCM16
        _, fin, fout = self._formats[pos]
        return fin, fout

    def speech_segments(self) -> list[dict[str, Any]]:
        """Turns as the server announced them, with the replay's onset and last voiced frame when they agree."""
        segments: list[dict[str, Any]] = []
        open_seg: dict[str, Any] | None = None
        started = [r for r in self.vad.recomputed if r["type"] == "speech_started"]
        stopped = [r for r in self.vad.recomputed if r["type"] == "speech_stopped"]
        for record in self.server_vad:
            if record["type"] == "speech_started":
                open_seg = {"item_id": record["item_id"], "audio_start_ms": record.get("audio_start_ms"),
                            "audio_end_ms": None, "t_start": record["t"], "t_stop": None, "end": "open"}
                match = _nearest(started, "audio_start_ms", record.get("audio_start_ms"))
                if match is not None:
                    open_seg["onset_ms"] = match["onset_ms"]
                segments.append(open_seg)
            elif record["type"] == "speech_stopped":
                seg = open_seg if open_seg is not None and open_seg["item_id"] == record["item_id"] else None
                if seg is None:
                    seg = {"item_id": record["item_id"], "audio_start_ms": None, "t_start": None}
                    segments.append(seg)
                seg.update({"audio_end_ms": record.get("audio_end_ms"), "t_stop": record["t"], "end": "vad"})
                match = _nearest(stopped, "audio_end_ms", record.get("audio_end_ms"))
                if match is not None:
                    seg["last_voiced_ms"] = match["last_voiced_ms"]
                open_seg = None
        # A turn ended by a manual commit or clear instead of speech_stopped.
        for seg in segments:
            if seg["end"] != "open":
                continue
            for marker in self.markers:
                if marker["t"] >= seg["t_start"] and marker["kind"] in ("commit", "clear"):
                    seg["audio_end_ms"], seg["t_stop"], seg["end"] = marker["ms"], marker["t"], marker["kind"]
                    break
        return segments


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def _nearest(records: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, int | float) or not records:
        return None
    best = min(records, key=lambda r: abs(float(r[key]) - float(value)))
    return best if abs(float(best[key]) - float(value)) <= 64 else None


def vad_summary(a: SessionAnalysis) -> dict[str, Any]:
    """Server VAD events beside the replay's, paired, with their differences in ms."""
    pairs = []
    for record in a.server_vad:
        if record["type"] == "timeout_triggered":
            continue
        key = "audio_start_ms" if record["type"] == "speech_started" else "audio_end_ms"
        candidates = [r for r in a.vad.recomputed if r["type"] == record["type"]]
        match = _nearest(candidates, key, record.get(key))
        pairs.append({"type": record["type"], "item_id": record["item_id"], "server_ms": record.get(key),
                      "replay_ms": None if match is None else match[key],
                      "diff_ms": None if match is None else float(match[key]) - float(record.get(key) or 0)})
    frame = next((h["frame_ms"] for h in reversed(a.vad.config_history) if h.get("vad")), None)
    worst = max((abs(p["diff_ms"]) for p in pairs if p["diff_ms"] is not None), default=0.0)
    return {"pairs": pairs, "frame_ms": frame, "max_diff_ms": worst,
            "unmatched": sum(1 for p in pairs if p["replay_ms"] is None),
            "agree": all(p["diff_ms"] is not None and abs(p["diff_ms"]) <= (frame or 10) for p in pairs)}


def elide_audio(event: dict[str, Any], in_fmt: AudioFormat, out_fmt: AudioFormat) -> dict[str, Any]:
    """A copy of an event with every base64 audio payload replaced by its duration: ``audio`` anywhere (input
    format, or the output format inside an assistant item) and the ``delta`` of audio delta events."""
    etype = event.get("type")

    def desc(text: str, fmt: AudioFormat) -> str:
        n = b64_len(text)
        return f"<{n / fmt.bytes_per_ms:.1f} ms of {fmt.value} audio, {n} bytes, base64 not shown>"

    def walk(value: Any, fmt: AudioFormat) -> Any:
        if isinstance(value, dict):
            if value.get("role") == "assistant":
                fmt = out_fmt
            return {k: desc(v, fmt) if k == "audio" and isinstance(v, str) and v else walk(v, fmt)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, fmt) for v in value]
        return value

    out: dict[str, Any] = walk(event, in_fmt)
    if etype in AUDIO_DELTA_TYPES and isinstance(event.get("delta"), str):
        out["delta"] = desc(event["delta"], out_fmt)
    return out
