"""One translation session as a sans-I/O state machine (docs/protocol.md §10).

A translation session has no conversation and no responses: it consumes the input audio in 200 ms engine
frames and streams the translation back. :class:`TranslationSession` offers the same transport interface as
:class:`~mockrt.core.session.RealtimeSession` (:class:`~mockrt.core.sans_io.SansIOSession`), so the one transport
loop (``server/connection.py``) drives both.

How the mock interprets (the service's behaviour is documented only from the outside, §10):

* Appended audio (24 kHz pcm16, whole samples) is cut into 200 ms frames; a shorter chunk waits for the rest of
  its frame, a longer one is split into frames back to back (§10 [D]). Each frame advances the input timeline by
  200 ms; ``elapsed_ms`` of every output event is the input timeline at the end of the frame that released it.
* The real VAD (:mod:`mockrt.audio.turns`, server_vad defaults) segments the input into turns. At the end of a
  turn the :class:`Interpreter` gives the turn's translation (a scenario, or a placeholder that says it is one);
  with ``audio.input.transcription`` configured the source transcript follows as deltas first.
* The translation is synthesised (:mod:`mockrt.core.synth`) and released on the *input* timeline: each input
  frame from the end of the turn on releases the next 200 ms of translated audio, preceded by the transcript
  deltas of the words that start in it. A client that stops appending stops the output (§10: keep appending
  silence); ``session.close`` flushes the pending input and the whole backlog, then ``session.closed``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mockrt.audio import b64
from mockrt.audio.detectors import make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SpeechStarted, SpeechStopped, TurnDetector
from mockrt.core import errors
from mockrt.core.dialects.common import decode_audio
from mockrt.core.dialects.translation import Translation
from mockrt.core.events import ClientEvent, ServerEvent, check_envelope, client_event_id
from mockrt.core.ids import IdGenerator
from mockrt.core.model import TranslationConfig, TurnDetection
from mockrt.core.outputs import Close, JournalHook, Output, Send, text_size
from mockrt.core.schema import AnyValue, Obj, Str
from mockrt.core.synth import RATE, synthesize
from mockrt.core.turn_taking import VadOptions, turn_settings

FRAME_MS = 200
"""The translation engine's frame (§10 [D])."""
FRAME_BYTES = FRAME_MS * AudioFormat.PCM16.bytes_per_ms
FRAME_SAMPLES = FRAME_MS * RATE // 1000
MAX_APPEND_CHARS = 15 * 1024 * 1024
"""Like ``input_audio_buffer.append`` (§2.2): at most 15 MiB of base64 per event [I]."""
VOICE = "marin"
"""The synthetic interpreter's voice (translation sessions have no voice setting)."""


@dataclass(frozen=True)
class TranslatedTurn:
    """What the interpreter says for one input turn: the translation, and the source transcript if known."""

    text: str
    source: str | None = None


class Interpreter(Protocol):
    """The seam for what is "translated" (a scenario's ``translations``, or the placeholder)."""

    def translate(self, turn: int, language: str) -> TranslatedTurn:
        """The translation of input turn ``turn`` (1-based) into ``language``."""
        ...


class PlaceholderInterpreter:
    """No scenario: a placeholder that says it is one, so nobody mistakes it for a translation."""

    def translate(self, turn: int, language: str) -> TranslatedTurn:
        return TranslatedTurn(f"[mockrt placeholder translation of turn {turn} into {language}]",
                              f"[mockrt placeholder source transcript of turn {turn}]")


@dataclass
class TranslationOptions:
    """Per-session settings of a translation session."""

    dialect: Translation
    model: str = "gpt-realtime-translate"
    seed: int | str | None = None
    interpreter: Interpreter = field(default_factory=PlaceholderInterpreter)
    vad: VadOptions = field(default_factory=VadOptions)
    initial_config: TranslationConfig | None = None
    max_duration_s: float | None = None  # None: the dialect's maximum (§1.5)
    created_at: int = 0  # unix seconds, for ``expires_at``
    on_event: JournalHook | None = None
    """The journal hook, as :class:`~mockrt.core.session.SessionOptions`'."""


@dataclass
class _Chunk:
    """200 ms of translated output: the transcript deltas of the words starting in it, then its audio."""

    words: list[str]
    pcm: bytes


class TranslationSession:
    """The protocol state of one translation WebSocket session (§10)."""

    kind = "translation"

    def __init__(self, options: TranslationOptions, now: float) -> None:
        self.options = options
        self.dialect = options.dialect
        self.ids = IdGenerator(options.seed)
        self.session_id = self.ids.session()
        self.config = options.initial_config or TranslationConfig(model=options.model)
        self.config.model = options.model or self.config.model
        self.started = now
        self.now = now
        max_s = options.max_duration_s
        self.max_duration_s = max_s if max_s is not None else self.dialect.max_session_minutes * 60.0
        self.expires_at = options.created_at + int(self.dialect.max_session_minutes * 60)
        self.closed = False
        self.frames = 0  # 200 ms frames consumed: the input timeline is frames * 200 ms
        self.turns = 0
        self._pending = bytearray()  # input shorter than a frame, waiting for the rest
        self._backlog: deque[_Chunk] = deque()
        self._out: list[Output] = []
        self._turn_open = False
        self.detector = TurnDetector(make_detector(options.vad.detector, RATE), RATE,
                                     turn_settings(TurnDetection(create_response=False), options.vad),
                                     wire=AudioFormat.PCM16)

    # -- the transport interface (mockrt.core.sans_io.SansIOSession) -------------------------------------

    def start(self) -> list[Output]:
        """``session.created`` with the default (or the client secret's) configuration."""
        self._emit({"type": ServerEvent.SESSION_CREATED, "session": self._session_obj()})
        return self._flush()

    def receive_text(self, text: str, now: float) -> list[Output]:
        try:
            event = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.now = now
            self._journal("client", {"type": "<invalid json>", "raw": text[:1000]})
            self._error(errors.invalid_json(str(exc)[:200]), None)
            return self._flush()
        return self.receive(event, now, text_size(text))

    def receive_bytes(self, data: bytes, now: float) -> list[Output]:
        self.now = now
        self._journal("client", {"type": "<binary frame>", "bytes": len(data)})
        self._error(errors.binary_frame(), None)
        return self._flush()

    def receive(self, event: Any, now: float, size: int | None = None) -> list[Output]:
        """One parsed client event (``size``: its frame's, for the journal); a rejected one has no effect and answers
        with one ``error`` (§3.2)."""
        if self.closed:
            return []
        self.now = now
        self._journal("client", event if isinstance(event, dict) else {"type": "<not an object>"}, size)
        event_id = client_event_id(event)
        try:
            internal, raw = check_envelope(event, self.dialect.client_events)
            spec, handler = self.CLIENT_EVENTS[internal]
            handler(self, spec.check(raw, ""))
        except errors.ProtocolError as err:
            self._error(err, event_id)
        return self._flush()

    def poll(self, now: float) -> list[Output]:
        """Only session expiry is on wall time: the output is paced on the input timeline."""
        if self.closed:
            return []
        self.now = now
        if now - self.started >= self.max_duration_s:
            err = errors.session_expired(self.dialect.max_session_minutes)
            self._error(err, None)
            self._out.append(Close(1001, err.message))
            self.closed = True
        return self._flush()

    def next_deadline(self) -> float | None:
        return None if self.closed else self.started + self.max_duration_s

    @property
    def elapsed_ms(self) -> int:
        """The input timeline at the end of the last consumed frame."""
        return self.frames * FRAME_MS

    # -- client events ------------------------------------------------------------------------------------

    def _session_update(self, fields: dict[str, Any]) -> None:
        self.config = self.dialect.parse_translation_update(fields["session"], self.config)
        self._emit({"type": ServerEvent.SESSION_UPDATED, "session": self._session_obj()})

    def _append(self, fields: dict[str, Any]) -> None:
        audio = fields["audio"]
        if len(audio) > MAX_APPEND_CHARS:
            raise errors.append_too_large(len(audio), MAX_APPEND_CHARS)
        data = decode_audio(audio, AudioFormat.PCM16)
        self._pending += data
        whole = len(self._pending) // FRAME_BYTES * FRAME_BYTES
        if whole:
            frames = bytes(self._pending[:whole])
            del self._pending[:whole]
            for start in range(0, whole, FRAME_BYTES):
                self._frame(frames[start:start + FRAME_BYTES])

    def _close(self, fields: dict[str, Any]) -> None:
        """Flush: the pending partial frame (padded with silence), the turn in progress, the whole backlog."""
        if self._pending:
            self._frame(bytes(self._pending) + bytes(FRAME_BYTES - len(self._pending)))
            self._pending.clear()
        if self._turn_open:
            self._turn_ended()
        while self._backlog:
            self.frames += 1
            self._release_chunk()
        self._emit({"type": ServerEvent.SESSION_CLOSED})
        self._out.append(Close(1000, "session closed by client"))
        self.closed = True

    # -- the engine -----------------------------------------------------------------------------------------

    def _frame(self, frame: bytes) -> None:
        """One 200 ms engine frame: VAD decisions inside it, then the next 200 ms of output."""
        events = self.detector.feed_bytes(frame)
        self.frames += 1
        for event in events:
            if isinstance(event, SpeechStarted):
                self._turn_open = True
            elif isinstance(event, SpeechStopped) and self._turn_open:
                self._turn_ended()
        self._release_chunk()

    def _turn_ended(self) -> None:
        self._turn_open = False
        self.turns += 1
        turn = self.options.interpreter.translate(self.turns, self.config.language)
        if self.config.transcription is not None:
            source = turn.source or f"[mockrt placeholder source transcript of turn {self.turns}]"
            for delta in _deltas(source, self.turns > 1):
                self._emit({"type": ServerEvent.TRANSLATION_INPUT_TRANSCRIPT_DELTA, "delta": delta,
                            "elapsed_ms": self.elapsed_ms})
        words = _deltas(turn.text, self.turns > 1)
        speech = synthesize(words, VOICE)
        pcm = speech.pcm.astype("<i2").tobytes()
        for start in range(0, len(speech.pcm), FRAME_SAMPLES):
            end = start + FRAME_SAMPLES
            said = [w for w, at in zip(words, speech.word_starts, strict=True) if start <= at < end]
            self._backlog.append(_Chunk(said, pcm[start * 2:end * 2]))

    def _release_chunk(self) -> None:
        if not self._backlog:
            return
        chunk = self._backlog.popleft()
        for word in chunk.words:
            self._emit({"type": ServerEvent.TRANSLATION_OUTPUT_TRANSCRIPT_DELTA, "delta": word,
                        "elapsed_ms": self.elapsed_ms})
        self._emit({"type": ServerEvent.TRANSLATION_OUTPUT_AUDIO_DELTA,
                    "delta": b64.encode(chunk.pcm), "elapsed_ms": self.elapsed_ms,
                    "format": "pcm16", "sample_rate": RATE, "channels": 1})

    # -- output ------------------------------------------------------------------------------------------------

    def _emit(self, event: dict[str, Any]) -> None:
        wire = self.dialect.encode(event, self.ids.event())
        if wire is not None:
            send = Send(wire)
            self._journal("server", wire, len(send.frame))
            self._out.append(send)

    def _error(self, err: errors.ProtocolError, event_id: str | None) -> None:
        self._emit({"type": ServerEvent.ERROR, "error": err.to_error_object(event_id)})

    def _journal(self, direction: Literal["client", "server"], event: dict[str, Any], size: int | None = None) -> None:
        if self.options.on_event is not None:
            self.options.on_event(direction, event, self.now, size)

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _session_obj(self) -> dict[str, Any]:
        return self.dialect.render_translation_session(self.config, self.session_id, self.expires_at)

    CLIENT_EVENTS: dict[ClientEvent, tuple[Obj, Callable[[TranslationSession, dict[str, Any]], None]]]
    """One row per translation client event: its fields (validated before any effect) and its handler."""


def _deltas(text: str, continuing: bool) -> list[str]:
    """Append-only deltas, one per word, the space carried by the word that follows it, also across turns
    (``continuing``: text was sent before): clients concatenate without adding spaces (§10)."""
    words = text.split()
    return [w if i == 0 and not continuing else f" {w}" for i, w in enumerate(words)]


_T = TranslationSession
TranslationSession.CLIENT_EVENTS = {
    ClientEvent.SESSION_UPDATE: (Obj({"session": AnyValue()}, required=("session",)), _T._session_update),
    ClientEvent.INPUT_AUDIO_APPEND: (Obj({"audio": Str()}, required=("audio",)), _T._append),
    ClientEvent.SESSION_CLOSE: (Obj({}), _T._close),
}
