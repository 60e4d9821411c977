"""Audio for cases: short synthetic signals and the labelled speech fixtures in ``fixtures/audio``.

Fixtures are found relative to the repository (``<repo>/fixtures/audio``) or under ``CONFORMANCE_FIXTURES``;
when they are absent (e.g. an installed wheel), :func:`speech` raises :class:`~conformance.context.CaseSkipped`
with a message saying where it looked. Everything is read with the stdlib (``wave``) and numpy.
"""

from __future__ import annotations

import json
import math
import os
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from conformance.wire import BYTES_PER_MS

CLIPS = ("weather", "table", "lights", "two_utterances")
SILENCE_BYTE = {"g711_ulaw": 0xFF, "g711_alaw": 0xD5}
"""The G.711 code of a zero sample (µ-law 0xFF, A-law 0xD5)."""


class FixturesMissing(Exception):
    """The speech fixtures are not where the package looks for them."""


def fixtures_dir() -> Path:
    """``CONFORMANCE_FIXTURES`` if set, else ``fixtures/audio`` of the repository this package sits in."""
    override = os.environ.get("CONFORMANCE_FIXTURES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "fixtures" / "audio"


@dataclass(frozen=True)
class Clip:
    """One speech fixture: raw bytes in each input format plus its labels (fixtures/audio/README.md)."""

    name: str
    pcm16: bytes  # 24 kHz little-endian
    g711_ulaw: bytes
    g711_alaw: bytes
    labels: dict[str, Any]

    def data(self, fmt: str) -> bytes:
        return {"pcm16": self.pcm16, "g711_ulaw": self.g711_ulaw, "g711_alaw": self.g711_alaw}[fmt]

    @property
    def duration_ms(self) -> int:
        return int(self.labels["duration_ms"])

    @property
    def utterances(self) -> list[tuple[int, int]]:
        return [(int(u["start_ms"]), int(u["end_ms"])) for u in self.labels["utterances"]]

    @property
    def text(self) -> str:
        return str(self.labels["text"])


@cache
def speech(name: str) -> Clip:
    """Load a speech clip; raises :class:`FixturesMissing` if the fixtures are not there."""
    folder = fixtures_dir()
    wav = folder / f"speech_{name}.wav"
    if not wav.exists():
        raise FixturesMissing(f"speech fixture {wav} not found: run from a checkout of the repository (fixtures/audio) "
                              "or set CONFORMANCE_FIXTURES to a copy of it")
    with wave.open(str(wav), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 24000):
            raise ValueError(f"{wav}: expected mono 16-bit 24 kHz")
        pcm = w.readframes(w.getnframes())
    labels = json.loads((folder / f"speech_{name}.json").read_text())
    return Clip(name, pcm, (folder / f"speech_{name}.ulaw").read_bytes(),
                (folder / f"speech_{name}.alaw").read_bytes(), labels)


def silence(ms: int, fmt: str = "pcm16") -> bytes:
    """``ms`` of digital silence in ``fmt``."""
    n = ms * BYTES_PER_MS[fmt]
    return bytes(n) if fmt == "pcm16" else bytes([SILENCE_BYTE[fmt]]) * n


def tone(ms: int, freq: float = 440.0, level: float = 0.1, fmt: str = "pcm16") -> bytes:
    """A sine tone: pcm16 at 24 kHz, or G.711 at 8 kHz (encoded here, G.711 segment law)."""
    rate = 24000 if fmt == "pcm16" else 8000
    n = ms * rate // 1000
    samples = np.round(np.sin(2 * math.pi * freq * np.arange(n) / rate) * level * 32767).astype("<i2")
    if fmt == "pcm16":
        return samples.tobytes()
    return _g711_encode(samples.astype(np.int32), fmt)


def _g711_encode(x: np.ndarray[Any, Any], fmt: str) -> bytes:
    """Encode int16 samples with the ITU-T G.711 segment laws (µ-law with bias 132, A-law)."""
    sign = x < 0
    mag = np.minimum(np.abs(x), 32635)
    if fmt == "g711_ulaw":
        biased = mag + 132
        exponent = np.floor(np.log2(np.maximum(biased, 1))).astype(np.int32) - 7
        exponent = np.clip(exponent, 0, 7)
        mantissa = (biased >> (exponent + 3)) & 0x0F
        code = ~(np.where(sign, 0x80, 0) | (exponent << 4) | mantissa) & 0xFF
        return bytes(code.astype(np.uint8).tobytes())
    exponent = np.where(mag >= 256, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 7, 0)
    exponent = np.clip(exponent, 0, 7)
    mantissa = np.where(exponent == 0, mag >> 4, mag >> (exponent + 3)) & 0x0F
    code = (np.where(sign, 0, 0x80) | (exponent << 4) | mantissa) ^ 0x55
    return bytes(code.astype(np.uint8).tobytes())


def duration_ms(data: bytes, fmt: str) -> float:
    return len(data) / BYTES_PER_MS[fmt]


def rms(pcm16: bytes) -> float:
    """RMS (int16 units) of little-endian pcm16 bytes."""
    if len(pcm16) < 2:
        return 0.0
    x = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))
