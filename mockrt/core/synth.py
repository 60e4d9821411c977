"""Deterministic speech-like audio for the default assistant (docs/protocol.md §7 "Mock recommendation").

Not a TTS: each word becomes a voiced burst (a harmonic series on a voice-dependent pitch with a smooth
envelope) followed by a short gap, at about 150 words per minute, scaled by ``speed``. The result is real,
non-silent pcm16 at 24 kHz that a VAD hears as speech-like, with word onsets known so transcript deltas
can be interleaved with audio deltas and truncation can cut the transcript at a word boundary.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import numpy as np

RATE = 24_000
"""Default rate; ``synthesize`` renders at any rate (8 kHz for G.711 output)."""
_PITCH = {"alloy": 170.0, "ash": 115.0, "ballad": 125.0, "coral": 210.0, "echo": 120.0, "sage": 190.0,
          "shimmer": 220.0, "verse": 135.0, "marin": 200.0, "cedar": 110.0}


@dataclass(frozen=True)
class Speech:
    """Synthesised audio plus the sample offset where each word starts."""

    pcm: np.ndarray  # int16 at ``rate``
    word_starts: tuple[int, ...]
    rate: int = RATE

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) * 1000.0 / self.rate


def _word_samples(word: str, speed: float, rate: int) -> int:
    ms = max(160.0, 55.0 * len(word.strip(".,!?;:")))
    return int(ms / speed * rate / 1000)


@functools.lru_cache(maxsize=4096)
def _word(word: str, f0: float, speed: float, rate: int) -> np.ndarray:
    """One word's voiced burst as int16 samples (cached: replies repeat words, and synthesis is on every audio
    response; a reply is then one concatenation of cached int16 arrays, bench/README.md sixth pass)."""
    n = _word_samples(word, speed, rate)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    seed = zlib.crc32(word.encode("utf-8"))
    t = np.arange(n, dtype=np.float64) / rate
    # Pitch contour: a gentle per-word glide so consecutive words differ.
    glide = 1.0 + 0.08 * ((seed % 7) - 3) / 3.0 * t / max(t[-1], 1e-9)
    phase = 2 * np.pi * f0 * np.cumsum(glide) / rate
    wave = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase) + 0.12 * np.sin(4 * phase)
    env = np.sin(np.pi * np.linspace(0.0, 1.0, n)) ** 0.6
    out = (wave * env * 0.3 * 32767).astype(np.int16)
    out.setflags(write=False)
    return out


def synthesize(words: list[str], voice: str, speed: float = 1.0, rate: int = RATE) -> Speech:
    """Audio for ``words`` (each already carrying its spacing); deterministic for the same inputs."""
    f0 = _PITCH.get(voice, 160.0)
    gap = np.zeros(int(0.07 / speed * rate), dtype=np.int16)
    pieces: list[np.ndarray] = []
    starts: list[int] = []
    pos = 0
    for word in words:
        burst = _word(word, f0, speed, rate)
        starts.append(pos)
        pieces += (burst, gap)
        pos += len(burst) + len(gap)
    if not pieces:
        return Speech(np.zeros(0, dtype=np.int16), (), rate)
    return Speech(np.concatenate(pieces), tuple(starts), rate)


def scripted_speech(pcm24k: np.ndarray, words: list[str], rate: int) -> Speech:
    """Given audio (24 kHz int16, e.g. a fixture clip) at ``rate``, with word onsets spread evenly over it so the
    transcript can be interleaved and cut like synthesised speech."""
    pcm = np.asarray(pcm24k, dtype=np.int16)
    if rate == RATE // 3:
        # Output G.711 is 8 kHz: average each group of three samples (a short anti-alias filter).
        n = len(pcm) // 3 * 3
        pcm = pcm[:n].astype(np.int32).reshape(-1, 3).mean(axis=1).astype(np.int16)
    elif rate != RATE:  # Voice Live's 16 kHz output: linear interpolation
        n = len(pcm) * rate // RATE
        pcm = np.interp(np.arange(n) * (RATE / rate), np.arange(len(pcm)), pcm).astype(np.int16)
    step = len(pcm) / max(1, len(words))
    return Speech(pcm, tuple(int(i * step) for i in range(len(words))), rate)


def word_timing_ms(word: str, speed: float = 1.0, rate: int = RATE) -> tuple[float, float]:
    """``(voiced_ms, step_ms)`` of one word in :func:`synthesize`'s audio: its voiced burst, and the distance to
    the next word's start (burst plus gap). The time axis of word timestamps and visemes (docs/protocol.md §12)."""
    n = _word_samples(word, speed, rate)
    gap = int(0.07 / speed * rate)
    return n * 1000.0 / rate, (n + gap) * 1000.0 / rate
