"""Replay: a recorded transcript becomes a :class:`~mockrt.scenarios.Scenario` the mock plays back.

Each server ``response.done`` of the recording becomes one queued :class:`~mockrt.scenarios.Reply` (in the order
the responses were *created*, which is the order the mock asks its scenario for them):

- message items keep their text; audio messages keep their transcript and, rebuilt from the recorded audio
  deltas, their samples (``Output.audio``, int16 at 24 kHz: pcm16 as is, G.711 decoded and repeated 3× so the
  mock's 3:1 decimation gives back the recorded 8 kHz samples);
- function calls keep ``name``, ``arguments`` and ``call_id``;
- the final status with its reason (``incomplete``) or error (``failed``), and the usage as overrides;
  a ``cancelled`` response replays as ``completed`` with what had been produced before the cancel (the replaying
  client cancels again, or not);
- transcripts of the user's audio turns (``conversation.item.input_audio_transcription.completed``) become
  ``Scenario.transcripts`` in the order the audio items appeared;
- a handshake the upstream refused becomes a ``refuse`` fault with that HTTP status.

Once the recorded replies are used up the mock falls back to its default assistant.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mockrt.audio.formats import AudioFormat
from mockrt.audio.g711 import alaw_decode, ulaw_decode
from mockrt.core.dialects import Dialect, dialect_named
from mockrt.core.events import ServerEvent
from mockrt.core.faults import Faults
from mockrt.recording import transcript as tr
from mockrt.scenarios.model import FunctionCall, Output, PacingSpec, Reply, Scenario

_FIRST_OUTPUT = frozenset({ServerEvent.OUTPUT_AUDIO_DELTA, ServerEvent.OUTPUT_TEXT_DELTA,
                           ServerEvent.OUTPUT_AUDIO_TRANSCRIPT_DELTA, ServerEvent.FUNCTION_CALL_ARGUMENTS_DELTA})
"""The deltas whose first one ends a response's time to first output (``timing``)."""


def audio_samples(data: bytes, fmt: AudioFormat | None) -> np.ndarray | None:
    """Recorded output audio as 24 kHz int16 samples (``None`` for no audio)."""
    if not data:
        return None
    if fmt is AudioFormat.G711_ULAW:
        return np.repeat(ulaw_decode(data), 3).astype(np.int16)
    if fmt is AudioFormat.G711_ALAW:
        return np.repeat(alaw_decode(data), 3).astype(np.int16)
    usable = len(data) // 2 * 2
    pcm = np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)
    if fmt is not None and fmt.sample_width == 2 and fmt.rate != AudioFormat.PCM16.rate:
        # Voice Live's pcm16 at 16 / 8 kHz (docs/protocol.md §12): linear interpolation to 24 kHz
        n = len(pcm) * AudioFormat.PCM16.rate // fmt.rate
        at = np.arange(n) * (fmt.rate / AudioFormat.PCM16.rate)
        resampled: np.ndarray = np.rint(np.interp(at, np.arange(len(pcm)), pcm)).astype(np.int16)
        return resampled
    return pcm


class _Recorded:
    """What the recording says about one response."""

    def __init__(self, response_id: str, created_t: float, fmt: AudioFormat | None) -> None:
        self.id = response_id
        self.created_t = created_t
        self.format = fmt
        self.first_delta_t: float | None = None
        self.done: dict[str, Any] | None = None


def _item_ids(event: Mapping[str, Any]) -> list[str]:
    ids = [event.get("item_id")]
    item = event.get("item")
    if isinstance(item, dict):
        ids.append(item.get("id"))
    return [i for i in ids if isinstance(i, str)]


def scenario_from_transcript(lines: Sequence[Mapping[str, Any]], *, name: str | None = None,
                             timing: bool = False) -> Scenario:
    """Build the replay scenario from transcript lines (header first). With ``timing`` each reply keeps the
    recorded time to its first delta (``pacing.first_delta_ms``)."""
    if not lines or "mockrt_recording" not in lines[0]:
        raise tr.TranscriptError("a transcript starts with its header line")
    head = lines[0]
    dialect = dialect_named(head.get("dialect"))
    session_format: AudioFormat | None = None
    responses: dict[str, _Recorded] = {}
    audio: dict[tuple[str, int], bytearray] = {}
    item_order: dict[str, int] = {}
    transcripts: dict[str, str] = {}
    refused: dict[str, Any] | None = None

    for line in lines[1:]:
        if "rejected" in line:
            refused = {"status": int(line["rejected"]["status"])}
            continue
        if line.get("dir") != "server" or "event" not in line:
            continue
        event: dict[str, Any] = line["event"]
        kind = dialect.server_event(event.get("type"))
        t = float(line.get("t", 0.0))
        for item_id in _item_ids(event):
            item_order.setdefault(item_id, len(item_order))
        if kind in (ServerEvent.SESSION_CREATED, ServerEvent.SESSION_UPDATED) and isinstance(event.get("session"),
                                                                                              dict):
            session_format = dialect.session_audio(event["session"]).output_format or session_format
        elif kind is ServerEvent.RESPONSE_CREATED:
            response = event.get("response") or {}
            rid = str(response.get("id"))
            responses.setdefault(rid, _Recorded(rid, t, dialect.response_format(response) or session_format))
        elif kind in _FIRST_OUTPUT:
            rec = responses.get(str(event.get("response_id")))
            if rec is not None and rec.first_delta_t is None:
                rec.first_delta_t = t
            if kind is ServerEvent.OUTPUT_AUDIO_DELTA:
                key = (str(event.get("item_id")), int(event.get("content_index", 0)))
                # A redacted or damaged delta is skipped (without audio the reply falls back to synthesised speech).
                with contextlib.suppress(binascii.Error, ValueError):
                    audio.setdefault(key, bytearray()).extend(base64.b64decode(event.get("delta", ""), validate=True))
        elif kind is ServerEvent.RESPONSE_DONE:
            response = event.get("response") or {}
            rid = str(response.get("id"))
            rec = responses.setdefault(rid, _Recorded(rid, t, dialect.response_format(response) or session_format))
            rec.done = response
        elif kind is ServerEvent.TRANSCRIPTION_COMPLETED:
            item_id = str(event.get("item_id"))
            if isinstance(event.get("transcript"), str):
                transcripts[item_id] = event["transcript"]

    replies = [_reply(rec, audio, timing, dialect) for rec in responses.values() if rec.done is not None]
    ordered = sorted(transcripts, key=lambda i: item_order.get(i, len(item_order)))
    started = head.get("started_at")
    when = (datetime.datetime.fromtimestamp(float(started), datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            if isinstance(started, int | float) else "at an unknown time")
    return Scenario(
        name=name or str(head.get("name") or "recording"),
        description=f"Replay of {head.get('target', '?')} ({head.get('dialect', '?')}), recorded {when}",
        replies=replies,
        transcripts=[transcripts[i] for i in ordered],
        faults=Faults(refuse=refused) if refused else None,
    )


def _reply(rec: _Recorded, audio: Mapping[tuple[str, int], bytearray], timing: bool, dialect: Dialect) -> Reply:
    done = rec.done or {}
    outputs: list[Output] = []
    for item in done.get("output") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            outputs.append(Output(function_call=FunctionCall(str(item.get("name", "")), str(item.get("arguments", "")),
                                                             item.get("call_id"))))
        elif item.get("type") == "message":
            outputs.append(_message(item, rec.format, audio, dialect))
    status_raw = done.get("status", "completed")
    details = done.get("status_details") or {}
    status: Literal["completed", "incomplete", "failed"] = (
        status_raw if status_raw in ("incomplete", "failed") else "completed")
    pacing = None
    if timing and rec.first_delta_t is not None:
        pacing = PacingSpec(first_delta_ms=round(max(0.0, rec.first_delta_t - rec.created_t) * 1000.0, 3))
    return Reply(
        outputs=outputs,
        status=status,
        reason=details.get("reason") if status == "incomplete" else None,
        error=details.get("error") if status == "failed" else None,
        usage=dialect.read_usage(done.get("usage")),
        pacing=pacing,
    )


def _message(item: Mapping[str, Any], fmt: AudioFormat | None, audio: Mapping[tuple[str, int], bytearray],
             dialect: Dialect) -> Output:
    texts: list[str] = []
    transcripts: list[str] = []
    pcm: list[np.ndarray] = []
    has_audio = False
    for index, part in enumerate(item.get("content") or []):
        kind = dialect.part_type(part)
        if kind == "text":
            texts.append(str(part.get("text") or ""))
        elif kind == "audio":
            has_audio = True
            transcripts.append(str(part.get("transcript") or ""))
            samples = audio_samples(bytes(audio.get((str(item.get("id")), index), b"")), fmt)
            if samples is not None:
                pcm.append(samples)
    if not has_audio:
        return Output(text="".join(texts))
    transcript = "".join(transcripts)
    return Output(text=transcript or "".join(texts), transcript=transcript,
                  audio=np.concatenate(pcm) if pcm else None)


def load_recording(path: str | Path, *, timing: bool = False) -> Scenario:
    """A recording file (``.jsonl``, see :mod:`mockrt.recording.transcript`) as a replay scenario."""
    p = Path(path)
    return scenario_from_transcript(tr.read_transcript(p), name=p.stem, timing=timing)


def is_replayable(path: str | Path) -> bool:
    """Whether :func:`~mockrt.scenarios.loader.load_scenario` treats ``path`` as a recording (it loads scenario
    files and recordings alike)."""
    p = Path(path)
    return p.suffix.lower() == ".jsonl" or tr.is_recording(p)
