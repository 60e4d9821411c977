"""Server-side turn detection glued to the session: VAD on the appended audio, automatic commits and
responses, barge-in, idle timeouts (protocol.md §4.8, §5.5, §5.7, §5.10; vad.md §5).

The acoustic work is :class:`mockrt.audio.turns.TurnDetector` (audio time, chunk-invariant). This module maps
its events onto the protocol: ``speech_started`` (with the item id the user item will get), barge-in,
``speech_stopped``, the commit of exactly the turn's audio, and the automatic response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mockrt.audio.detectors import make_detector
from mockrt.audio.formats import AudioFormat
from mockrt.audio.turns import SpeechStarted, SpeechStopped, TurnDetector, TurnSettings
from mockrt.core.model import TurnDetection

if TYPE_CHECKING:
    from mockrt.core.session import RealtimeSession


@dataclass(frozen=True)
class VadOptions:
    """Server-side VAD knobs (§8.2 uncertainties become settings).

    Attributes:
        detector: ``webrtc`` (default), ``energy`` (deterministic tones/silence) or ``silero`` (extra).
        end_includes_silence: ``audio_end_ms`` = decision point (documented) or the last voiced ms (vad.md §1.4).
        min_speech_ms: consecutive speech before ``speech_started``.
    """

    detector: str = "webrtc"
    end_includes_silence: bool = True
    min_speech_ms: int = 64


class TurnTaking:
    """Owns the session's turn detector and idle timer; calls back into the session for protocol effects."""

    def __init__(self, session: RealtimeSession, options: VadOptions) -> None:
        self.session = session
        self.options = options
        self.detector: TurnDetector | None = None
        self._settings: TurnDetection | None = None
        self._format: AudioFormat | None = None
        self._offset_ms = 0.0  # session timeline position where the detector's timeline starts
        self.pending_item_id: str | None = None
        self._idle_at: float | None = None  # wall deadline
        self._idle_audio_ms: float | None = None  # input-timeline deadline
        self._idle_start_ms = 0.0

    # -- configuration -----------------------------------------------------------------------------------

    def configure(self, td: TurnDetection | None, fmt: AudioFormat) -> None:
        """Follow ``turn_detection`` and the input format; the VAD state survives unrelated updates (§2.1)."""
        if td is None:
            self.detector, self._settings, self.pending_item_id = None, None, None
            self.disarm_idle()
            return
        settings = TurnSettings(
            type=td.type,
            threshold=td.threshold if td.type == "server_vad" else 0.5,
            prefix_padding_ms=td.prefix_padding_ms if td.type == "server_vad" else 300,
            silence_duration_ms=td.silence_duration_ms,
            eagerness=td.eagerness,
            end_includes_silence=self.options.end_includes_silence,
            min_speech_ms=self.options.min_speech_ms,
        )
        if self.detector is None or fmt is not self._format:
            buffer = self.session.buffer
            self._offset_ms = buffer.position_ms
            self.detector = TurnDetector(make_detector(self.options.detector, fmt.rate), fmt.rate, settings)
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

    def on_audio(self, data: bytes, now: float) -> None:
        """Feed appended audio; emit what it decides, in input-audio order (§5.5)."""
        if self.detector is None or self._format is None:
            return
        pcm = self._format.decode(data)
        for event in self.detector.feed(pcm):
            if isinstance(event, SpeechStarted):
                self._speech_started(event, now)
            elif isinstance(event, SpeechStopped):
                self._speech_stopped(event, now)
        if self._idle_audio_ms is not None and self.session.buffer.position_ms >= self._idle_audio_ms:
            self._idle_timeout(now, at_ms=self._idle_audio_ms)

    def _speech_started(self, event: SpeechStarted, now: float) -> None:
        self.disarm_idle()
        self.pending_item_id = self.session.ids.item()
        self.session.emit({"type": "input_audio_buffer.speech_started",
                           "audio_start_ms": round(event.audio_start_ms + self._offset_ms),
                           "item_id": self.pending_item_id})
        td = self._settings
        if td is not None and td.interrupt_response:
            self.session.interrupt(now)

    def _speech_stopped(self, event: SpeechStopped, now: float) -> None:
        item_id = self.pending_item_id or self.session.ids.item()
        self.pending_item_id = None
        end_ms = event.audio_end_ms + self._offset_ms
        self.session.emit({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": round(end_ms),
                           "item_id": item_id})
        fmt = self.session.buffer.format
        # The detector already moved its buffer start to ``audio_end_ms``: a turn that starts later in the
        # same append must survive, so no reset here.
        self.session.commit_audio(item_id, now, min_ms=0.0, upto_samples=round(end_ms * fmt.rate / 1000.0))
        # The response starts in the next call: speech_stopped and the commit reach the wire first instead of
        # waiting for the response's first output to be computed.
        self.session.schedule(now, self._auto_response, defer=True)

    def _auto_response(self, now: float) -> None:
        td = self._settings
        if td is not None and td.create_response and self.session.config.kind == "realtime":
            self.session.auto_response(now)

    # -- manual buffer operations --------------------------------------------------------------------------

    def take_item_id(self) -> str | None:
        """A manual commit during speech uses the announced item id and ends the speech cycle (§2.3)."""
        item_id, self.pending_item_id = self.pending_item_id, None
        return item_id

    def buffer_moved(self) -> None:
        """After a manual commit or a clear: the uncommitted buffer starts anew (vad.md §5.2)."""
        if self.detector is not None:
            self.detector.reset(round(self.session.buffer.start_ms - self._offset_ms))
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
        self._idle_at = now + wait_ms / 1000.0
        position = self.session.buffer.position_ms
        self._idle_audio_ms = position + wait_ms
        self._idle_start_ms = position + playback_ms

    def disarm_idle(self) -> None:
        self._idle_at, self._idle_audio_ms = None, None

    @property
    def idle_deadline(self) -> float | None:
        return self._idle_at

    def poll(self, now: float) -> None:
        if self._idle_at is not None and now >= self._idle_at:
            self._idle_timeout(now)

    def _idle_timeout(self, now: float, at_ms: float | None = None) -> None:
        """Fire: on audio time the segment ends exactly at the deadline (chunking-independent), on wall time
        it ends where the input timeline is now."""
        self.disarm_idle()
        buffer = self.session.buffer
        end_ms = buffer.position_ms if at_ms is None else at_ms
        item_id = self.session.ids.item()
        self.session.emit({"type": "input_audio_buffer.timeout_triggered",
                           "audio_start_ms": round(min(self._idle_start_ms, end_ms)),
                           "audio_end_ms": round(end_ms), "item_id": item_id})
        self.session.commit_audio(item_id, now, min_ms=0.0,
                                  upto_samples=round(end_ms * buffer.format.rate / 1000.0))
        self.buffer_moved()
        self._auto_response(now)
