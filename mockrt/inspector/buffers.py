"""Growable numpy arrays and small audio helpers for the inspector (no views into resizable buffers)."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
import numpy.typing as npt

RATE = 24000
"""Every stored track is 24 kHz int16 mono (G.711 input is decoded and upsampled)."""
BUCKET_MS = 10
"""Resolution of the waveform envelopes and of the wall-clock mapping."""
BUCKET_SAMPLES = RATE * BUCKET_MS // 1000


class Growable:
    """An append-only 1-D numpy array with amortised O(1) appends; :meth:`view` is a copy-free slice that stays
    valid (growing allocates a new array instead of resizing the old one)."""

    def __init__(self, dtype: Any, capacity: int = 4096) -> None:
        self._data: npt.NDArray[Any] = np.zeros(capacity, dtype=dtype)
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def extend(self, values: npt.ArrayLike) -> None:
        arr = np.asarray(values, dtype=self._data.dtype).reshape(-1)
        end = self.n + arr.shape[0]
        if end > self._data.shape[0]:
            bigger = np.zeros(max(end, 2 * self._data.shape[0]), dtype=self._data.dtype)
            bigger[: self.n] = self._data[: self.n]
            self._data = bigger
        self._data[self.n : end] = arr
        self.n = end

    def append(self, value: float) -> None:
        if self.n == self._data.shape[0]:
            self.extend([value])
        else:
            self._data[self.n] = value
            self.n += 1

    def view(self, start: int = 0, stop: int | None = None) -> npt.NDArray[Any]:
        stop = self.n if stop is None else min(stop, self.n)
        return self._data[max(0, start) : stop]

    def clear(self) -> None:
        self.n = 0


def upsample3(x: npt.NDArray[np.int16], prev: int) -> npt.NDArray[np.int16]:
    """8 kHz -> 24 kHz by linear interpolation between consecutive samples (``prev`` = the sample before
    ``x``): streaming, chunk-invariant, exactly three output samples per input sample."""
    if x.shape[0] == 0:
        return np.zeros(0, dtype=np.int16)
    xf = x.astype(np.float64)
    p = np.empty_like(xf)
    p[0] = prev
    p[1:] = xf[:-1]
    steps = np.array([1.0 / 3.0, 2.0 / 3.0, 1.0])
    y = p[:, None] + (xf - p)[:, None] * steps[None, :]
    out: npt.NDArray[np.int16] = np.rint(y).reshape(-1).clip(-32768, 32767).astype(np.int16)
    return out


def envelope(pcm: npt.NDArray[np.int16]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Per-bucket (10 ms at 24 kHz) min and max, scaled to int8, of the complete buckets of ``pcm``."""
    n = pcm.shape[0] // BUCKET_SAMPLES
    if n == 0:
        empty = np.zeros(0, dtype=np.int8)
        return empty, empty
    frames = pcm[: n * BUCKET_SAMPLES].reshape(n, BUCKET_SAMPLES)
    lo = (frames.min(axis=1).astype(np.int32) >> 8).astype(np.int8)
    hi = (frames.max(axis=1).astype(np.int32) >> 8).astype(np.int8)
    return lo, hi


def wav_bytes(pcm: npt.NDArray[np.int16], rate: int = RATE) -> bytes:
    """A mono 16-bit PCM WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())
    return out.getvalue()
