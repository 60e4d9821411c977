"""Turn detection on audio time: ``server_vad`` and ``semantic_vad`` as a sans-I/O state machine.

Design: docs/vad.md §5.1-§5.4; event semantics: docs/protocol.md §5.5 (and §5.10: idle timeouts are *not* handled
here, the session core arms them). :class:`TurnDetector` is fed the audio of every ``input_audio_buffer.append``
(its wire bytes, or int16 samples at the session's input rate) and returns
:class:`SpeechStarted` / :class:`SpeechStopped` in input-audio order. It never looks at a clock: a client
that streams faster than real time gets its events faster than real time, and no events happen without
audio (docs/vad.md §1.6).

Time base and chunk invariance (docs/vad.md §5.1 steps 1-3):

* Times are integer milliseconds on the *session-wide* input timeline (all audio fed since the detector
  was created; :meth:`TurnDetector.reset` does not rewind it).
* The input is resampled to the detector rate by a zero-delay, chunk-invariant
  :class:`~mockrt.audio.resample.StreamResampler`; detector frames are cut on a grid anchored at sample 0
  and partial frames are carried across :meth:`TurnDetector.feed` calls. Frame ``k`` covers
  ``[k*F*1000 // R, (k+1)*F*1000 // R)`` ms for frame length ``F`` at detector rate ``R`` (10 ms for
  webrtc/energy, 32 ms for Silero). Events and reported times are therefore identical however the
  client chunks its appends; only the *moment* an event is returned depends on when the audio that
  decides it arrives (plus the resampler's ~1-2 ms and the detector's ``latency_frames`` look-ahead).

State machine (docs/vad.md §5.2; on/off thresholds from ``Detector.on_off(threshold)``, §5.3):

* Idle: a run of consecutive frames with score ``>= on`` lasting ``min_speech_ms`` (rounded up to whole
  frames) starts a turn: :class:`SpeechStarted` with ``onset_ms`` = start of the run's first frame and
  ``audio_start_ms = max(buffer_start_ms, onset_ms - prefix_padding_ms)``.
* In speech: a frame with score ``>= on`` is voiced and cancels a pending silence; a frame between
  ``off`` and ``on`` is voiced only if no silence is pending (Silero-style hysteresis); a frame below
  ``off`` starts the silence. When the silence has lasted the end-of-turn wait (``silence_duration_ms``
  for ``server_vad``; the eagerness wait for ``semantic_vad``, rounded up to whole frames), the turn ends:
  :class:`SpeechStopped` with ``last_voiced_ms`` = end of the last voiced frame and ``audio_end_ms`` = the
  decision point (end of the frame completing the wait; the documented behaviour, docs/vad.md §1.4) when
  ``end_includes_silence`` else ``last_voiced_ms``. The turn's audio is then committed by the core, so
  the uncommitted buffer (and the prefix clamp of the next turn) starts at ``audio_end_ms``: the detector
  moves :attr:`TurnDetector.buffer_start_ms` there itself, no :meth:`~TurnDetector.reset` is needed.
* ``semantic_vad`` (docs/vad.md §5.4): the same acoustic front end; the wait is ``max`` = 8000 / 4000 / 2000 ms
  for eagerness low / medium (= auto) / high when the turn "looks incomplete", else ``max / 4``. The only
  cue for "incomplete" is an explicit one, :meth:`TurnDetector.set_turn_complete_hint` ``(False)``; there
  is no language model. Speech resuming within the wait continues the same turn.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from mockrt.audio.detectors import Detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.resample import StreamResampler

__all__ = [
    "SEMANTIC_MAX_WAIT_MS",
    "SpeechStarted",
    "SpeechStopped",
    "TurnDetector",
    "TurnEvent",
    "TurnSettings",
    "semantic_wait_ms",
]

Int16Array = npt.NDArray[np.int16]

#: documented maximum end-of-turn wait per ``semantic_vad`` eagerness (docs/vad.md §1.1, §5.4)
SEMANTIC_MAX_WAIT_MS: dict[str, int] = {"low": 8000, "medium": 4000, "auto": 4000, "high": 2000}


def semantic_wait_ms(eagerness: str, complete: bool | None) -> int:
    """End-of-turn wait for ``semantic_vad``: the maximum if the turn looks incomplete (``complete is
    False``), a quarter of it otherwise (no cue counts as complete; docs/vad.md §5.4)."""
    top = SEMANTIC_MAX_WAIT_MS[eagerness]
    return top if complete is False else top // 4


@dataclass(frozen=True)
class SpeechStarted:
    """``input_audio_buffer.speech_started``: ``audio_start_ms`` includes the prefix padding (clamped at
    the start of the uncommitted buffer); ``onset_ms`` is where the detector found speech."""

    audio_start_ms: int
    onset_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    """``input_audio_buffer.speech_stopped``: ``audio_end_ms`` per ``end_includes_silence``;
    ``last_voiced_ms`` is the end of the last voiced frame."""

    audio_end_ms: int
    last_voiced_ms: int


TurnEvent = SpeechStarted | SpeechStopped


@dataclass(frozen=True)
class TurnSettings:
    """The turn-detection knobs the state machine uses (docs/protocol.md §4.8, docs/vad.md §1.1, §5.2).

    ``threshold``, ``prefix_padding_ms`` and ``silence_duration_ms`` are the ``server_vad`` fields;
    ``semantic_vad`` uses ``eagerness`` (``low``/``medium``/``high``/``auto``) for its wait and keeps the
    threshold/prefix values given here (the core passes the defaults: GA semantic_vad has no such fields).
    ``end_includes_silence`` selects ``audio_end_ms`` = decision point (documented, default) or end of the
    last voiced frame (what some real logs suggest, docs/vad.md §1.4). ``min_speech_ms`` is a mock knob (Azure
    calls it ``speech_duration_ms``): consecutive speech needed before ``speech_started``; 64 ms = two
    Silero frames, seven 10 ms frames for webrtc/energy.
    """

    type: Literal["server_vad", "semantic_vad"]
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    eagerness: str = "auto"
    end_includes_silence: bool = True
    min_speech_ms: int = 64

    def __post_init__(self) -> None:
        if self.type not in ("server_vad", "semantic_vad"):
            raise ValueError(f"unknown turn detection type {self.type!r}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be within 0..1")
        if min(self.prefix_padding_ms, self.silence_duration_ms, self.min_speech_ms) < 0:
            raise ValueError("durations must be >= 0")
        if self.eagerness not in SEMANTIC_MAX_WAIT_MS:
            raise ValueError(f"unknown eagerness {self.eagerness!r}")


class TurnDetector:
    """Per-session turn detection on the input timeline (module docstring).

    ``on_frame(ms, score)`` is called for every frame the state machine consumes (``ms`` = frame start);
    ``history`` > 0 keeps the last ``history`` such pairs in :attr:`scores` for an inspector.

    **Deferred work** (issue 14; ``defer``, unless ``on_frame`` or ``history`` asks for every frame at once). No
    event can come sooner than the state machine allows: idle, ``speech_started`` needs ``min_speech_ms`` of
    consecutive speech frames; in speech, ``speech_stopped`` needs the whole silence wait. So after each batch the
    detector computes the earliest frame that could decide anything and the input sample count at which that frame
    (with the detector's look-ahead) could have been resampled, and :meth:`feed_bytes` only holds the audio until
    then: the resampler, the detector and the state machine then run once over the held batch. Both are
    chunk-invariant and the held audio can decide nothing, so every event, its times and the call that returns it
    are exactly those of frame-by-frame processing (tests/test_audio_turns.py compares the two); a 20 ms append in
    speech or silence mostly costs a list append instead of a resampler and detector pass. A batch that cannot
    change the state beyond the run of speech frames or the last voiced frame (idle and every score below ``on``,
    or in speech and every score at or above it) is settled without visiting its frames one by one.
    :meth:`feed` (int16 samples) runs at once, after what is held. :meth:`reset`,
    :meth:`update_settings`, :meth:`set_turn_complete_hint` and :attr:`decided_ms` first run what is held (which
    cannot produce an event).

    **Wire audio** (``wire``, the input's :class:`~mockrt.audio.formats.AudioFormat`): :meth:`feed_bytes` takes the
    appended bytes as they came and holds them undecoded; a batch is decoded once, when it runs. PCM16 and G.711
    decode sample by sample, so the joined bytes decode to the samples the appends would have given one by one.
    """

    def __init__(
        self,
        detector: Detector,
        input_rate: int,
        settings: TurnSettings,
        *,
        on_frame: Callable[[int, float], None] | None = None,
        history: int = 0,
        defer: bool = True,
        wire: AudioFormat | None = None,
    ) -> None:
        if wire is not None and wire.rate != input_rate:
            raise ValueError(f"{wire.value} audio is at {wire.rate} Hz, not {input_rate}")
        self.detector = detector
        self.input_rate = input_rate
        self.on_frame = on_frame
        self.scores: deque[tuple[int, float]] = deque(maxlen=history)
        self._history = history > 0
        self._resampler = StreamResampler(input_rate, detector.rate)
        self._frame = detector.frame_samples
        self._rate = detector.rate
        self._frame_ms = self._frame * 1000 / self._rate
        self._latency = detector.latency_frames
        self._pending: Int16Array = np.zeros(0, dtype=np.int16)
        self._fed_frames = 0  # frames handed to the detector
        self._samples_in = 0
        self._buffer_start_ms = 0
        # state machine
        self._speaking = False
        self._run = 0  # consecutive >= on frames while idle
        self._run_start = 0
        self._last_voiced = -1
        self._silence_start = -1
        self._hint: bool | None = None
        # Deferred input (class docstring, "Deferred work"): appended samples not yet resampled nor scored.
        self._lazy = defer and on_frame is None and history == 0
        self._wire = wire
        self._width = 1 if wire is None else wire.sample_width
        self._held: list[bytes] = []  # wire bytes (feed_bytes)
        self._due = 0  # self._samples_in from which held input may decide something
        self.update_settings(settings)

    # ------------------------------------------------------------------ configuration / inspection

    def update_settings(self, settings: TurnSettings) -> None:
        """Apply new settings from the next frame on; timeline, frame grid and turn state are kept."""
        self._catch_up()
        self.settings = settings
        self._on, self._off = self.detector.on_off(settings.threshold)
        self._min_frames = max(1, math.ceil(settings.min_speech_ms / self._frame_ms - 1e-9))
        self._server_wait = self._frames_for(settings.silence_duration_ms)
        self._semantic = settings.type == "semantic_vad"
        self._plan()

    def _frames_for(self, ms: int) -> int:
        return max(1, math.ceil(ms / self._frame_ms - 1e-9))

    def _wait_frames(self) -> int:
        if self._semantic:
            return self._frames_for(semantic_wait_ms(self.settings.eagerness, self._hint))
        return self._server_wait

    def set_turn_complete_hint(self, complete: bool | None) -> None:
        """``semantic_vad`` cue for the current (or next) turn: ``False`` = looks incomplete (wait the
        eagerness maximum), ``True``/``None`` = complete / no cue (a quarter of it). Cleared when the turn
        ends or on :meth:`reset`; ignored by ``server_vad``."""
        self._catch_up()
        self._hint = complete
        self._plan()

    @property
    def in_speech(self) -> bool:
        """True between ``speech_started`` and ``speech_stopped``."""
        return self._speaking

    @property
    def position_ms(self) -> float:
        """Session-wide input time fed so far, in ms."""
        return self._samples_in * 1000 / self.input_rate

    @property
    def buffer_start_ms(self) -> int:
        """Start of the current uncommitted buffer (the prefix-padding clamp)."""
        return self._buffer_start_ms

    @property
    def frame_ms(self) -> float:
        """Detector frame length in ms (the grid of reported times)."""
        return self._frame_ms

    @property
    def decided_ms(self) -> int:
        """Input time up to which frames have been through the state machine (the decision horizon)."""
        self._catch_up()
        return self._frame_start_ms(max(0, self._fed_frames - self._latency))

    def _frame_start_ms(self, k: int) -> int:
        return k * self._frame * 1000 // self._rate

    # ------------------------------------------------------------------------------------ control

    def reset(self, buffer_start_ms: int) -> None:
        """The uncommitted buffer now starts at ``buffer_start_ms`` (commit or clear): back to idle, a turn
        in progress is dropped without an event, the semantic hint is cleared. Frames that end at or
        before ``buffer_start_ms`` can no longer start a turn. The timeline and detector state go on."""
        self._catch_up()
        self._buffer_start_ms = int(buffer_start_ms)
        self._speaking = False
        self._run = 0
        self._silence_start = -1
        self._hint = None
        self._plan()

    def feed(self, pcm: Int16Array) -> list[TurnEvent]:
        """Append int16 samples at ``input_rate`` to the timeline; return the events they decided (not deferred)."""
        if pcm.ndim != 1:
            pcm = pcm.reshape(-1)
        self._catch_up()  # what feed_bytes holds comes first
        self._samples_in += pcm.shape[0]
        events = self._process(pcm)
        self._plan()
        return events

    def feed_bytes(self, data: bytes) -> list[TurnEvent]:
        """:meth:`feed` for whole samples in the ``wire`` format, held undecoded until they can decide something
        (class docstring, "Deferred work" and "Wire audio")."""
        wire = self._wire
        if wire is None:
            raise TypeError("feed_bytes needs the detector's wire format")
        self._samples_in += len(data) // self._width
        if not self._lazy:
            return self._process(wire.decode(data))
        self._held.append(data if type(data) is bytes else bytes(data))  # never a buffer its owner may change
        if self._samples_in < self._due:
            return []  # nothing can be decided yet (class docstring)
        events = self._process(self._take_held())
        self._plan()
        return events

    def _take_held(self) -> Int16Array:
        held, self._held = self._held, []
        assert self._wire is not None  # only feed_bytes holds
        return self._wire.decode(held[0] if len(held) == 1 else b"".join(held))

    def _catch_up(self) -> None:
        """Run what :meth:`feed_bytes` holds; by construction it decides nothing (class docstring)."""
        if self._held:
            events = self._process(self._take_held())
            assert not events, "held input decided an event"  # pragma: no cover - the deferral's invariant

    def _plan(self) -> None:
        """Hold input up to the earliest sample count at which a frame that could decide an event is complete:
        the resampler can never have produced more than ``samples_in * rate / input_rate`` samples."""
        if not self._lazy:
            return
        k = max(0, self._fed_frames - self._latency)  # the next frame through the state machine
        if not self._speaking:
            first = k + self._min_frames - self._run - 1
        elif self._silence_start >= 0:
            first = self._silence_start + self._wait_frames() - 1
        else:
            first = k + self._wait_frames() - 1
        need = (max(first, k) + self._latency + 1) * self._frame  # detector-rate samples up to that frame's look-ahead
        self._due = -(-need * self.input_rate // self._rate)

    def _process(self, pcm: Int16Array) -> list[TurnEvent]:
        y = self._resampler.process(pcm)
        own = not self._resampler.identity  # a new array, or (identity) the caller's own
        if self._pending.shape[0]:
            y = np.concatenate((self._pending, y))
            own = True
        f = self._frame
        n = y.shape[0] // f
        cut = n * f
        rest = y[cut:]
        self._pending = rest if own or not rest.shape[0] else rest.copy()  # never a view of the caller's array
        if n == 0:
            return []
        scores = self.detector.score_frames(y[:cut].reshape(n, f))
        k0 = self._fed_frames - self._latency
        self._fed_frames += n
        if k0 < 0:
            scores = scores[-k0:]
            k0 = 0
        return self._run_frames(k0, scores)

    # ------------------------------------------------------------------------------ state machine

    def _run_frames(self, k: int, scores: list[float]) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        on, off = self._on, self._off
        f, rate = self._frame, self._rate
        hook = self.on_frame
        keep = self.scores.append if self._history else None
        if hook is None and keep is None and scores:
            # Most batches change nothing but the run or the last voiced frame: settle those without the loop.
            if not self._speaking and max(scores) < on:
                self._run = 0  # every frame below ``on`` breaks the run
                return events
            if self._speaking and min(scores) >= on:
                self._silence_start = -1  # every frame voiced: no silence pending
                self._last_voiced = k + len(scores) - 1
                return events
        for p in scores:
            if hook is not None or keep is not None:
                ms = k * f * 1000 // rate
                if hook is not None:
                    hook(ms, p)
                if keep is not None:
                    keep((ms, p))
            if not self._speaking:
                if p >= on and (k + 1) * f * 1000 // rate > self._buffer_start_ms:
                    if self._run == 0:
                        self._run_start = k
                    self._run += 1
                    if self._run >= self._min_frames:
                        self._speaking = True
                        self._last_voiced = k
                        self._silence_start = -1
                        onset_ms = self._run_start * f * 1000 // rate
                        start = max(self._buffer_start_ms, onset_ms - self.settings.prefix_padding_ms)
                        events.append(SpeechStarted(audio_start_ms=start, onset_ms=onset_ms))
                else:
                    self._run = 0
            else:
                if p >= on:
                    self._silence_start = -1
                    self._last_voiced = k
                elif p >= off:
                    if self._silence_start < 0:
                        self._last_voiced = k
                elif self._silence_start < 0:
                    self._silence_start = k
                if self._silence_start >= 0 and k - self._silence_start + 1 >= self._wait_frames():
                    last_ms = (self._last_voiced + 1) * f * 1000 // rate
                    end = (k + 1) * f * 1000 // rate if self.settings.end_includes_silence else last_ms
                    events.append(SpeechStopped(audio_end_ms=end, last_voiced_ms=last_ms))
                    # The turn's audio is committed up to ``end``; the next buffer starts there, so a turn that
                    # starts later in the same feed is clamped correctly (the session does not reset us).
                    self._buffer_start_ms = end
                    self._speaking = False
                    self._run = 0
                    self._silence_start = -1
                    self._hint = None
            k += 1
        return events

