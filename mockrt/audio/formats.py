"""Input audio formats of the Realtime API and their time base (docs/protocol.md §4.1, §7; docs/vad.md §5.1 step 1).

The session's *declared* format fixes both the decoder and the clock: ``pcm16`` / GA ``audio/pcm`` is
signed 16-bit little-endian mono at 24 kHz (48 bytes per ms); ``g711_ulaw`` / ``audio/pcmu`` and
``g711_alaw`` / ``audio/pcma`` are one byte per sample at 8 kHz (8 bytes per ms). Timestamps such as
``audio_start_ms`` are derived from the number of *samples* received in the declared format, so a client
that declares ``pcm16`` but streams µ-law gets timestamps scaled the way the real service's are (docs/vad.md §1.5
[I5]).

Mapping wire names (``"pcm16"``, ``{"type": "audio/pcmu"}`` …) to :class:`AudioFormat` is the protocol
core's job; the member *values* here are internal identifiers only.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from mockrt.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

__all__ = ["AudioFormat"]

_PCM16_LE = np.dtype("<i2")


class AudioFormat(enum.Enum):
    """One of the three input/output encodings; see the module docstring for the time base."""

    PCM16 = "pcm16"
    G711_ULAW = "g711_ulaw"
    G711_ALAW = "g711_alaw"
    PCM16_16K = "pcm16_16k"  # Azure Voice Live only: ``pcm16_16000hz`` / ``input_audio_sampling_rate`` 16000
    PCM16_8K = "pcm16_8k"  # Azure Voice Live only: ``pcm16_8000hz`` / ``input_audio_sampling_rate`` 8000

    # Members are singletons compared by identity: hash them by identity too, in C, instead of ``Enum.__hash__``
    # (a Python call hashing the name) - formats key the tables looked up several times per append (issue 14).
    __hash__ = object.__hash__

    @property
    def rate(self) -> int:
        """Sample rate in Hz (24000 for PCM16, 8000 for G.711; Voice Live's PCM16 at 16 or 8 kHz)."""
        return _RATES[self]

    @property
    def sample_width(self) -> int:
        """Bytes per (mono) sample on the wire: 2 for PCM16 (any rate), 1 for G.711."""
        return 2 if self in _PCM else 1

    @property
    def bytes_per_ms(self) -> int:
        """Wire bytes per millisecond of audio (docs/protocol.md §7: 48 for PCM16, 8 for G.711)."""
        return self.rate * self.sample_width // 1000

    def decode(self, data: bytes | bytearray | memoryview) -> npt.NDArray[np.int16]:
        """Decode wire bytes to native-endian int16 samples at :attr:`rate`.

        PCM16 is little-endian; an odd byte count cannot be split into samples and raises ``ValueError``
        (carrying a dangling byte across appends is the caller's decision, not the codec's).
        """
        if self in _PCM:
            if len(data) % 2:
                raise ValueError(f"pcm16 audio must have an even number of bytes, got {len(data)}")
            return np.frombuffer(data, dtype=_PCM16_LE).astype(np.int16, copy=False)
        if self is AudioFormat.G711_ULAW:
            return ulaw_decode(data)
        return alaw_decode(data)

    def encode(self, pcm: npt.NDArray[np.integer]) -> bytes:
        """Encode int16 samples at :attr:`rate` to wire bytes (no resampling is done here)."""
        arr = np.asarray(pcm)
        if arr.dtype != np.int16:
            raise TypeError(f"expected int16 samples, got {arr.dtype}")
        if self in _PCM:
            return arr.astype(_PCM16_LE, copy=False).tobytes()
        if self is AudioFormat.G711_ULAW:
            return ulaw_encode(arr)
        return alaw_encode(arr)

    def samples_to_ms(self, n: int) -> float:
        """Duration of ``n`` samples in milliseconds."""
        return n * 1000 / self.rate

    def bytes_to_ms(self, n: int) -> float:
        """Duration of ``n`` wire bytes in milliseconds (a trailing partial sample counts pro rata)."""
        return n / self.bytes_per_ms


_RATES = {AudioFormat.PCM16: 24000, AudioFormat.G711_ULAW: 8000, AudioFormat.G711_ALAW: 8000,
          AudioFormat.PCM16_16K: 16000, AudioFormat.PCM16_8K: 8000}
_PCM = frozenset({AudioFormat.PCM16, AudioFormat.PCM16_16K, AudioFormat.PCM16_8K})
