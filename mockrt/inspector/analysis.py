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
journal: ``session.created`` / ``session.updated`` (input format and ``turn_detection``, read through the
session's dialect; a new detector when the
format changes or VAD is switched on, ``update_settings`` otherwise), accepted appends (fed), and the buffer
moves that reset the detector (a manual ``input_audio_buffer.committed``, ``cleared``, ``timeout_triggered``;
the commits that follow ``speech_stopped`` do not, as in the core). An append is *accepted* unless the entry
right after it is the ``error`` that rejected it. What cannot be replayed: ``semantic_vad`` completeness hints
set from tests or scenarios (:meth:`~mockrt.core.session.RealtimeSession.set_turn_complete_hint`).
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mockrt.audio.formats import AudioFormat
from mockrt.core.dialects import GA, Dialect
from mockrt.core.events import ClientEvent, ServerEvent
from mockrt.core.turn_taking import VadOptions, turn_settings

if TYPE_CHECKING:
    from mockrt.server.registry import JournalEntry
from mockrt.inspector.conversation import (
    ConversationBuilder,
    conversation_from_items,
)
from mockrt.inspector.journal import (
    NOT_A_REJECTION,
    Internal,
    _decode,
    _nearest,
    _num,
    _obj,
    _to24k,
    b64,
    b64_len,
    internal_event,
    is_delta,
)
from mockrt.inspector.timeline import (
    Timeline,
    label_for,
)
from mockrt.inspector.tracks import (
    InputTrack,
    OutputPart,
    ResponseInfo,
    VadReplay,
)

VadParams = VadOptions
"""Deprecated name of :class:`~mockrt.core.turn_taking.VadOptions` (the analysis used to keep a copy of it),
kept while ``bench/inspector_load.py`` imports it."""

__all__ = ["SessionAnalysis", "VadParams", "b64", "conversation_from_items", "elide_audio", "vad_summary"]

_SESSION_OBJECTS = frozenset({ServerEvent.SESSION_CREATED, ServerEvent.SESSION_UPDATED,
                              ServerEvent.TRANSCRIPTION_SESSION_CREATED, ServerEvent.TRANSCRIPTION_SESSION_UPDATED})
LIVE_OUTPUT = "output"
"""The one "response" of a GPT-Live session: its continuous output stream (docs/protocol.md §13.4)."""
_SERVER_VAD = {ServerEvent.SPEECH_STARTED: "speech_started", ServerEvent.SPEECH_STOPPED: "speech_stopped",
               ServerEvent.TIMEOUT_TRIGGERED: "timeout_triggered"}

# -- the whole session ---------------------------------------------------------------------------------------------


class SessionAnalysis:
    """Everything the page shows about one session; :meth:`update` consumes new journal entries."""

    def __init__(self, session_id: str, vad: VadOptions, dialect: Dialect | None = None) -> None:
        self.session_id = session_id
        self.vad_params = vad
        self.dialect = dialect or GA()
        """Reads the journal's wire events (the session's dialect)."""
        self.lock = threading.Lock()
        self.n = 0
        self.first_seq: int | None = None
        self.last_seq = -1
        self.timeline = Timeline()
        self.input = InputTrack()
        self.vad = VadReplay(vad)
        self.conversation = ConversationBuilder(self.dialect)
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
        ev = internal_event(self.dialect, entry.direction, event.get("type"))
        pending = self._pending
        if pending is not None:
            self._pending = None
            err = _obj(event.get("error"))
            if ev is ServerEvent.ERROR and err.get("code") not in NOT_A_REJECTION:
                self.rejected += 1
                self.timeline.mark_bad(pending.seq, pending.t)
            else:
                self._accept(pending)
        audio_ms = None
        if ev is ClientEvent.INPUT_AUDIO_APPEND:
            audio = event.get("audio")
            audio_ms = b64_len(audio) / self.in_fmt.bytes_per_ms if isinstance(audio, str) else 0.0
            self._pending = entry
        elif ev is ServerEvent.OUTPUT_AUDIO_DELTA:
            delta = event.get("delta")
            fmt = self._response_fmt(event.get("response_id"))
            audio_ms = b64_len(delta) / fmt.bytes_per_ms if isinstance(delta, str) else 0.0
        label = "" if ev is ClientEvent.INPUT_AUDIO_APPEND or is_delta(ev) else label_for(entry, ev,
                                                                                              self.dialect)
        self.timeline.add(entry, ev, label, audio_ms=audio_ms)
        if entry.direction == "server":
            self._server(entry, ev)
        elif ev is ClientEvent.RESPONSE_CANCEL:
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

    def _server(self, entry: JournalEntry, ev: Internal) -> None:
        e = entry.event
        if ev in _SESSION_OBJECTS and isinstance(e.get("session"), dict):
            audio = self.dialect.session_audio(e["session"])
            self.in_fmt = audio.input_format or self.in_fmt
            self.out_fmt = audio.output_format or self.out_fmt
            self._formats.append((entry.seq, self.in_fmt, self.out_fmt))
            if audio.has_turn_detection:
                td = audio.turn_detection
                self.vad.configure(None if td is None else turn_settings(td, self.vad_params), self.in_fmt,
                                   entry.t)
            elif audio.input_format is not None:
                self.vad.configure(self.vad.settings, self.in_fmt, entry.t)
            return
        if isinstance(ev, ServerEvent) and ev in _SERVER_VAD:
            item_id = str(e.get("item_id"))
            record = {"type": _SERVER_VAD[ev], "item_id": e.get("item_id"), "t": round(entry.t, 4),
                      "seq": entry.seq}
            for key in ("audio_start_ms", "audio_end_ms"):
                if key in e:
                    record[key] = e[key]
            self.server_vad.append(record)
            if ev is ServerEvent.TIMEOUT_TRIGGERED:
                end = _num(e.get("audio_end_ms"), self.vad.pos_ms)
                self.vad.buffer_moved(end)  # the core calls buffer_moved() after the timeout's commit
                self._vad_items[item_id] = (self._buf_start, end)
            elif ev is ServerEvent.SPEECH_STOPPED:
                self._vad_items[item_id] = (self._buf_start, _num(e.get("audio_end_ms"), self.vad.pos_ms))
            return
        if ev is ServerEvent.INPUT_AUDIO_COMMITTED:
            item_id = str(e.get("item_id"))
            vad_range = self._vad_items.get(item_id)
            if vad_range is not None:  # committed by the VAD (or an idle timeout): the detector moved itself
                start, end = vad_range
                marker_kind = "vad_commit"
            else:  # input_audio_buffer.commit: the core resets the detector to the new buffer start
                start, end = self._buf_start, self.vad.pos_ms
                self.vad.buffer_moved(end)
                marker_kind = "commit"
            self._buf_start = end
            self._commit_ranges[item_id] = (start, end)
            self.markers.append({"kind": marker_kind, "ms": round(end, 1), "start_ms": round(start, 1),
                                 "t": round(entry.t, 4), "item_id": item_id, "seq": entry.seq})
            return
        if ev is ServerEvent.INPUT_AUDIO_CLEARED:
            self.markers.append({"kind": "clear", "ms": round(self.vad.pos_ms, 1),
                                 "start_ms": round(self._buf_start, 1), "t": round(entry.t, 4), "seq": entry.seq})
            self._buf_start = self.vad.pos_ms
            self.vad.buffer_moved(self.vad.pos_ms)
            return
        if self.dialect.continuous_output:
            self._live(entry, ev)
            return
        item = e.get("item") if isinstance(e.get("item"), dict) else None
        audio_range = self._commit_ranges.get(str(item.get("id"))) if item else None
        self.conversation.apply(entry, ev, audio_range)
        self._responses(entry, ev)

    def _live(self, entry: JournalEntry, ev: Internal) -> None:
        """A GPT-Live session's server event (docs/protocol.md §13): its one continuous output stream is shown as
        a single "response" (``output``, its audio and output transcript), transcripts become the conversation's
        messages with their spans on the two timelines, delegations join it."""
        e = entry.event
        info = self.responses.get(LIVE_OUTPUT)
        if info is None and ev in (ServerEvent.OUTPUT_AUDIO_DELTA, ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA):
            info = self.responses[LIVE_OUTPUT] = ResponseInfo(LIVE_OUTPUT, entry.t, entry.seq, self.out_fmt,
                                                              status="streaming")
        if ev is ServerEvent.SESSION_CLOSED and info is not None:
            info.status, info.t_done = "ended", entry.t
            info.reason = str(e.get("reason")) if e.get("reason") is not None else None
            self._touch(info, entry.seq)
        elif ev in (ServerEvent.TRANSCRIPTION_DELTA, ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA):
            delta, a, b = e.get("delta"), e.get("start_ms"), e.get("end_ms")
            if isinstance(delta, str) and isinstance(a, int | float) and isinstance(b, int | float):
                role = "user" if ev is ServerEvent.TRANSCRIPTION_DELTA else "assistant"
                self.conversation.transcript(entry, role, delta, float(a), float(b))
        elif isinstance(e.get("delegation"), dict):
            d = e["delegation"]
            self.conversation.note(entry, {"id": d.get("id"), "type": "delegation", "target": d.get("target"),
                                           "response_id": d.get("response_id"), "offset_ms": e.get("offset_ms")})
        if info is not None and ev in (ServerEvent.OUTPUT_AUDIO_DELTA, ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA):
            self._responses(entry, ev, info)

    def _responses(self, entry: JournalEntry, ev: Internal, stream: ResponseInfo | None = None) -> None:
        e = entry.event
        if ev in (ServerEvent.RESPONSE_CREATED, ServerEvent.RESPONSE_DONE) and isinstance(e.get("response"), dict):
            r = e["response"]
            rid = str(r.get("id"))
            info = self.responses.get(rid)
            if info is None:
                fmt = self.dialect.response_format(r) or self.out_fmt
                info = ResponseInfo(rid, entry.t, entry.seq, fmt, conversation_id=r.get("conversation_id"))
                self.responses[rid] = info
            info.status = str(r.get("status"))
            details = r.get("status_details")
            if isinstance(details, dict):
                info.reason = details.get("reason") or details.get("type")
                info.error = details.get("error")
            if ev is ServerEvent.RESPONSE_DONE:
                info.t_done = entry.t
                info.usage = r.get("usage") if isinstance(r.get("usage"), dict) else None
                if self._active_response == rid:
                    self._active_response = None
            elif info.conversation_id is not None or "conversation_id" not in r:
                self._active_response = rid
            self._touch(info, entry.seq)
            return
        owner_id = e.get("response_id")
        info = stream or (self.responses.get(str(owner_id)) if owner_id else None)
        if ev is ServerEvent.ITEM_TRUNCATED:
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
        if ev is ServerEvent.OUTPUT_AUDIO_DELTA:
            part = self._part_for(info, entry)
            data = _decode(e.get("delta"), part.fmt)
            if data:
                pcm = part.fmt.decode(data)
                part.pcm.extend(_to24k(pcm, part.fmt, part.prev))
                part.prev = int(pcm[-1])
            part.deltas += 1
            part.t_last = entry.t
        elif ev in (ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA, ServerEvent.OUTPUT_TEXT_DELTA):
            delta = e.get("delta")
            if not isinstance(delta, str):
                return
            if ev is ServerEvent.OUTPUT_TEXT_DELTA:
                info.text += delta
            else:  # the transcript delta can precede the first audio delta: it opens the part too
                self._part_for(info, entry).transcript += delta
        elif ev is ServerEvent.OUTPUT_AUDIO_DONE:
            existing = self._parts.get((info.id, e.get("item_id"), e.get("content_index", 0)))
            if existing is not None:
                existing.done = True
        elif ev is ServerEvent.OUTPUT_ITEM_ADDED and isinstance(e.get("item"), dict):
            item = e["item"]
            info.items.append({"id": item.get("id"), "type": item.get("type"), "role": item.get("role"),
                               "name": item.get("name"), "server_label": item.get("server_label")})
        elif ev in (ServerEvent.FUNCTION_CALL_ARGUMENTS_DONE, ServerEvent.MCP_CALL_ARGUMENTS_DONE):
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


def elide_audio(event: dict[str, Any], in_fmt: AudioFormat, out_fmt: AudioFormat,
                dialect: Dialect | None = None) -> dict[str, Any]:
    """A copy of an event with every base64 audio payload replaced by its duration: ``audio`` anywhere (input
    format, or the output format inside an assistant item) and the ``delta`` of audio delta events (as
    ``dialect`` names them; GA by default)."""
    ev = (dialect or GA()).server_event(event.get("type"))

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
    if ev is ServerEvent.OUTPUT_AUDIO_DELTA and isinstance(event.get("delta"), str):
        out["delta"] = desc(event["delta"], out_fmt)
    return out
