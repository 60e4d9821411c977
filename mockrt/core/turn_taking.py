"""Server-side turn detection: VAD on the appended audio, automatic commits and responses, barge-in, idle
timeouts (docs/protocol.md §4.8, §5.5, §5.7, §5.10; docs/vad.md §5).

The acoustic work is :class:`mockrt.audio.turns.TurnDetector` (audio time, chunk-invariant). This module maps
its events onto protocol decisions and *returns* them, in input-audio order, for the session to carry out
(:class:`TurnStarted`: ``speech_started`` with the item id the user item will get, and barge-in;
:class:`TurnEnded`: ``speech_stopped`` or ``timeout_triggered``, the commit of exactly the turn's audio, and
the automatic response). It never calls back into the session: it reads the input buffer and mints item ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from mockrt.audio.detectors import make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SpeechStarted, SpeechStopped, TurnDetector, TurnEvent, TurnSettings
from mockrt.core.audio_buffer import InputAudioBuffer
from mockrt.core.model import TurnDetection


@dataclass(frozen=True)
class VadOptions:
    """Server-side VAD knobs (§8.2 uncertainties become settings).

    Attributes:
        detector: ``webrtc`` (default), ``energy`` (deterministic tones/silence) or ``silero`` (extra).
        end_includes_silence: ``audio_end_ms`` = decision point (documented) or the last voiced ms (docs/vad.md §1.4).
        min_speech_ms: consecutive speech before ``speech_started``.
    """

    detector: str = "webrtc"
    end_includes_silence: bool = True
    min_speech_ms: int = 64


def turn_settings(td: TurnDetection, options: VadOptions) -> TurnSettings:
    """The acoustic detector's settings for a session's ``turn_detection`` (``semantic_vad`` has a fixed
    threshold and padding, docs/vad.md §5.4). The inspector's VAD replay builds its detector the same way."""
    semantic = td.type == "semantic_vad"
    return TurnSettings(
        type=td.type,
        threshold=0.5 if semantic else td.threshold,
        prefix_padding_ms=300 if semantic else td.prefix_padding_ms,
        silence_duration_ms=td.silence_duration_ms,
        eagerness=td.eagerness,
        end_includes_silence=options.end_includes_silence,
        min_speech_ms=options.min_speech_ms,
    )


@dataclass(frozen=True)
class TurnStarted:
    """Speech started (§5.5): announce it with the item id the turn's user item will get; barge in on an
    in-progress response when ``interrupt`` (§5.7)."""

    audio_start_ms: int
    item_id: str
    interrupt: bool


@dataclass(frozen=True)
class TurnEnded:
    """A turn ended, by the VAD (``speech_stopped``, §5.5) or the idle timeout (``timeout_triggered``, §5.10):
    announce it, commit the buffer up to ``commit_upto_samples`` as ``item_id``, then (``respond_now``) create
    the automatic response at once, or (``respond_later``) on the next call, so the commit reaches the wire first.
    ``audio_start_ms`` is only set for a timeout."""

    cause: Literal["speech_stopped", "timeout"]
    item_id: str
    audio_end_ms: int
    commit_upto_samples: int
    audio_start_ms: int | None = None

    @property
    def respond_later(self) -> bool:
        return self.cause == "speech_stopped"


TurnDecision = TurnStarted | TurnEnded


class TurnTaking:
    """Owns the session's turn detector and idle timer; returns its decisions (:data:`TurnDecision`)."""

    def __init__(self, buffer: InputAudioBuffer, new_item_id: Callable[[], str], options: VadOptions) -> None:
        self.buffer = buffer
        self.new_item_id = new_item_id
        self.options = options
        self.detector: TurnDetector | None = None
        self._settings: TurnDetection | None = None
        self._format: AudioFormat | None = None
        self._offset_ms = 0.0  # session timeline position where the detector's timeline starts
        self.pending_item_id: str | None = None
        self.idle_deadline: float | None = None
        """The idle timeout's wall-clock deadline (read it; :meth:`arm_idle` and :meth:`disarm_idle` set it)."""
        self._idle_audio_ms: float | None = None  # input-timeline deadline
        self._idle_start_ms = 0.0

    # -- configuration -----------------------------------------------------------------------------------

    def configure(self, td: TurnDetection | None, fmt: AudioFormat) -> None:
        """Follow ``turn_detection`` and the input format; the VAD state survives unrelated updates (§2.1)."""
        if td is None:
            self.detector, self._settings, self.pending_item_id = None, None, None
            self.disarm_idle()
            return
        settings = turn_settings(td, self.options)
        if self.detector is None or fmt is not self._format:
            buffer = self.buffer
            self._offset_ms = buffer.position_ms
            self.detector = TurnDetector(make_detector(self.options.detector, fmt.rate), fmt.rate, settings, wire=fmt)
            self.detector.reset(round(buffer.start_ms - self._offset_ms))
            self.pending_item_id = None
        elif td != self._settings:
            self.detector.update_settings(settings)
        self._settings, self._format = td, fmt
        if td.type != "server_vad" or td.idle_timeout_ms is None:
            self.disarm_idle()

    @property
    def active(self) -> bool:
        return self.detector is not None

    def set_turn_complete_hint(self, complete: bool | None) -> None:
        if self.detector is not None:
            self.detector.set_turn_complete_hint(complete)

    # -- audio ---------------------------------------------------------------------------------------------

    def on_audio(self, data: bytes, now: float) -> Iterable[TurnDecision]:
        """Feed appended audio; what it decides, in input-audio order (§5.5), made lazily: each decision is
        carried out before the next is made (item ids are minted in protocol order), so iterate to the end."""
        if self.detector is None or self._format is None:
            return ()
        events = self.detector.feed_bytes(data)
        if not events and (self._idle_audio_ms is None or self.buffer.position_ms < self._idle_audio_ms):
            return ()  # the common case: no generator per append
        return self._decide(events)

    def _decide(self, events: list[TurnEvent]) -> Iterator[TurnDecision]:
        for event in events:
            if isinstance(event, SpeechStarted):
                yield self._speech_started(event)
            elif isinstance(event, SpeechStopped):
                yield self._speech_stopped(event)
        if self._idle_audio_ms is not None and self.buffer.position_ms >= self._idle_audio_ms:
            yield self._idle_timeout(at_ms=self._idle_audio_ms)

    def _speech_started(self, event: SpeechStarted) -> TurnStarted:
        self.disarm_idle()
        self.pending_item_id = self.new_item_id()
        td = self._settings
        return TurnStarted(round(event.audio_start_ms + self._offset_ms), self.pending_item_id,
                           td is not None and td.interrupt_response)

    def _speech_stopped(self, event: SpeechStopped) -> TurnEnded:
        item_id = self.pending_item_id or self.new_item_id()
        self.pending_item_id = None
        end_ms = event.audio_end_ms + self._offset_ms
        # The detector already moved its buffer start to ``audio_end_ms``: a turn that starts later in the
        # same append must survive, so no reset here.
        return TurnEnded("speech_stopped", item_id, round(end_ms), round(end_ms * self.buffer.format.rate / 1000.0))

    def creates_response(self, session_kind: str) -> bool:
        """Whether the end of a turn creates a response now (``create_response``, realtime sessions only)."""
        td = self._settings
        return td is not None and td.create_response and session_kind == "realtime"

    # -- manual buffer operations --------------------------------------------------------------------------

    def take_item_id(self) -> str | None:
        """A manual commit during speech uses the announced item id and ends the speech cycle (§2.3)."""
        item_id, self.pending_item_id = self.pending_item_id, None
        return item_id

    def buffer_moved(self) -> None:
        """After a manual commit or a clear: the uncommitted buffer starts anew (docs/vad.md §5.2)."""
        if self.detector is not None:
            self.detector.reset(round(self.buffer.start_ms - self._offset_ms))
        self.pending_item_id = None

    # -- idle timeout (§5.10) --------------------------------------------------------------------------------

    def arm_idle(self, now: float, playback_ms: float) -> None:
        """After a response: fire if no speech starts within ``idle_timeout_ms`` after playback would end."""
        td = self._settings
        if td is None or td.type != "server_vad" or td.idle_timeout_ms is None or self.detector is None:
            return
        if self.detector.in_speech:
            return
        wait_ms = playback_ms + td.idle_timeout_ms
        self.idle_deadline = now + wait_ms / 1000.0
        position = self.buffer.position_ms
        self._idle_audio_ms = position + wait_ms
        self._idle_start_ms = position + playback_ms

    def disarm_idle(self) -> None:
        self.idle_deadline, self._idle_audio_ms = None, None

    def poll(self, now: float) -> tuple[TurnDecision, ...]:
        """The idle timeout on wall time, when it is due (no generator; the session calls it while
        :attr:`idle_deadline` is set)."""
        if self.idle_deadline is not None and now >= self.idle_deadline:
            return (self._idle_timeout(),)
        return ()

    def _idle_timeout(self, at_ms: float | None = None) -> TurnEnded:
        """Fire: on audio time the segment ends exactly at the deadline (chunking-independent), on wall time
        it ends where the input timeline is now. The session calls :meth:`buffer_moved` after the commit."""
        self.disarm_idle()
        end_ms = self.buffer.position_ms if at_ms is None else at_ms
        return TurnEnded("timeout", self.new_item_id(), round(end_ms),
                         round(end_ms * self.buffer.format.rate / 1000.0),
                         audio_start_ms=round(min(self._idle_start_ms, end_ms)))
