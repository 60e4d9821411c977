"""Loading and mixing helpers for the audio fixtures in ``fixtures/audio`` (see its README.md).

Used by the ``tests/test_audio_*.py`` modules, by ``bench/vad_accuracy.py`` / ``bench/ingest.py`` and by
``fixtures/audio/make_fixtures.py`` (which writes the committed files with the same noise generators).
Nothing here needs espeak-ng or sox: committed files are read with the ``wave`` module / numpy, and the
speech-in-noise conditions (docs/vad.md §3: white and pink noise at 20 / 10 / 5 dB SNR relative to the active
speech level) are mixed at load time from seeded generators, so they are not committed.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
RATE = 24000
G711_RATE = 8000
SPEECH_CLIPS = ("weather", "table", "lights", "two_utterances")
NOISE_KINDS = ("white", "pink", "hum")
NOISE_LEVELS_DBFS = (-40, -30)
SNR_CONDITIONS = ("clean", "white_20db", "white_10db", "white_5db", "pink_20db", "pink_10db", "pink_5db")

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------------------------- files


def read_wav(path: Path) -> tuple[int, Int16Array]:
    """Read a mono 16-bit PCM WAV file: ``(rate, samples)``."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit PCM")
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    return rate, np.frombuffer(data, dtype="<i2").astype(np.int16)


def write_wav(path: Path, rate: int, samples: Int16Array) -> None:
    """Write a mono 16-bit PCM WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


@dataclass(frozen=True)
class SpeechClip:
    """One speech fixture: 24 kHz PCM, its 8 kHz G.711 versions and its labels (README.md)."""

    name: str
    pcm: Int16Array
    ulaw: bytes
    alaw: bytes
    labels: dict[str, Any]

    @property
    def utterances(self) -> list[tuple[int, int]]:
        """``(start_ms, end_ms)`` of each placed utterance (exact, by construction)."""
        return [(int(u["start_ms"]), int(u["end_ms"])) for u in self.labels["utterances"]]

    @property
    def segments(self) -> list[tuple[int, int]]:
        """``(start_ms, end_ms)`` of the energy-derived voiced segments (pauses inside utterances)."""
        return [(int(s["start_ms"]), int(s["end_ms"])) for s in self.labels["segments"]]

    def expected_turns(self, silence_ms: int) -> list[tuple[int, int]]:
        """Voiced segments merged across gaps shorter than ``silence_ms``: the turns an ideal VAD finds."""
        return merge_segments(self.segments, silence_ms)


def merge_segments(segments: list[tuple[int, int]], silence_ms: int) -> list[tuple[int, int]]:
    """Merge ``(start, end)`` segments whose gap is shorter than ``silence_ms``."""
    turns: list[tuple[int, int]] = []
    for start, end in segments:
        if turns and start - turns[-1][1] < silence_ms:
            turns[-1] = (turns[-1][0], end)
        else:
            turns.append((start, end))
    return turns


@cache
def load_speech(name: str) -> SpeechClip:
    """Load one committed speech clip by name (see :data:`SPEECH_CLIPS`)."""
    rate, pcm = read_wav(FIXTURE_DIR / f"speech_{name}.wav")
    if rate != RATE:
        raise ValueError(f"speech_{name}.wav: expected {RATE} Hz, got {rate}")
    labels = json.loads((FIXTURE_DIR / f"speech_{name}.json").read_text())
    ulaw = (FIXTURE_DIR / f"speech_{name}.ulaw").read_bytes()
    alaw = (FIXTURE_DIR / f"speech_{name}.alaw").read_bytes()
    return SpeechClip(name, pcm, ulaw, alaw, labels)


@cache
def load_noise(kind: str, level_dbfs: int) -> Int16Array:
    """Load one committed 24 kHz noise clip (``kind`` in :data:`NOISE_KINDS`)."""
    rate, pcm = read_wav(FIXTURE_DIR / f"noise_{kind}_{-level_dbfs}dbfs.wav")
    if rate != RATE:
        raise ValueError("noise clips are 24 kHz")
    return pcm


# ------------------------------------------------------------------------------------------ synthesis


def dbfs_to_rms(level_dbfs: float) -> float:
    """RMS (in int16 units) of a signal at ``level_dbfs`` (0 dBFS = RMS of a full-scale square wave)."""
    return 32768.0 * 10 ** (level_dbfs / 20)


def rms_dbfs(x: npt.NDArray[Any]) -> float:
    """RMS level of ``x`` in dBFS (``-inf`` for digital silence)."""
    ms = float(np.mean(np.square(np.asarray(x, dtype=np.float64))))
    return -np.inf if ms == 0 else 10 * np.log10(ms) - 20 * np.log10(32768.0)


def white_noise(n: int, level_dbfs: float, seed: int) -> FloatArray:
    """Gaussian white noise, ``n`` samples at exactly ``level_dbfs`` RMS (float, int16 scale)."""
    x = np.random.default_rng(seed).standard_normal(n)
    out: FloatArray = x * (dbfs_to_rms(level_dbfs) / float(np.sqrt(np.mean(x * x))))
    return out


def pink_noise(n: int, level_dbfs: float, seed: int) -> FloatArray:
    """Gaussian 1/f noise shaped in the FFT domain (docs/vad.md §3), at exactly ``level_dbfs`` RMS."""
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.arange(spec.shape[0], dtype=np.float64)
    f[0] = 1.0
    spec = spec / np.sqrt(f)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    out: FloatArray = x * (dbfs_to_rms(level_dbfs) / float(np.sqrt(np.mean(x * x))))
    return out


def hum(n: int, level_dbfs: float, rate: int = RATE, fundamental: float = 50.0) -> FloatArray:
    """Mains hum: 50 Hz plus 5 harmonics with decaying amplitudes, at exactly ``level_dbfs`` RMS."""
    t = np.arange(n) / rate
    amps = (1.0, 0.5, 0.35, 0.25, 0.15, 0.1)
    x = sum(a * np.sin(2 * np.pi * fundamental * (k + 1) * t + 0.7 * k) for k, a in enumerate(amps))
    x = np.asarray(x, dtype=np.float64)
    out: FloatArray = x * (dbfs_to_rms(level_dbfs) / float(np.sqrt(np.mean(x * x))))
    return out


def make_noise(kind: str, n: int, level_dbfs: float, seed: int, rate: int = RATE) -> FloatArray:
    """Dispatch on ``kind`` (``white`` / ``pink`` / ``hum``)."""
    if kind == "white":
        return white_noise(n, level_dbfs, seed)
    if kind == "pink":
        return pink_noise(n, level_dbfs, seed)
    if kind == "hum":
        return hum(n, level_dbfs, rate)
    raise ValueError(f"unknown noise kind {kind!r}")


def to_int16(x: npt.NDArray[Any]) -> Int16Array:
    """Round and saturate a float signal (int16 scale) to int16."""
    out: Int16Array = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    return out


def active_rms(clip: SpeechClip) -> float:
    """RMS of the clip inside its labelled voiced segments (the 'active speech level', int16 units)."""
    parts = [clip.pcm[s * RATE // 1000 : e * RATE // 1000] for s, e in clip.segments]
    x = np.concatenate(parts).astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


def speech_in_noise(clip: SpeechClip, condition: str, seed: int = 1234) -> Int16Array:
    """The clip under ``condition`` (``clean`` or ``<white|pink>_<snr>db``), mixed at 24 kHz.

    The noise level is set so that active speech RMS / noise RMS equals the SNR (docs/vad.md §3); the noise
    covers the whole clip including the leading and trailing silence.
    """
    if condition == "clean":
        return clip.pcm
    kind, snr = condition.split("_")
    snr_db = float(snr.removesuffix("db"))
    level = 20 * np.log10(active_rms(clip) / 32768.0) - snr_db
    noise = make_noise(kind, clip.pcm.shape[0], level, seed)
    return to_int16(clip.pcm.astype(np.float64) + noise)
