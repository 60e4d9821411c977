"""The input audio buffer and the session-wide input timeline (docs/protocol.md §2.2–§2.4, §5.5, §7).

Offsets (``audio_start_ms`` and friends) are milliseconds on the session-wide input timeline: all audio
appended since the session started, never reset by commits or clears (§5.5). The 100 ms commit rule is
measured on the audio appended since the previous commit or clear (§2.3).
"""

from __future__ import annotations

from mockrt.audio.formats import AudioFormat
from mockrt.core import errors

MIN_COMMIT_MS = 100.0

_BYTES_PER_MS = {fmt: fmt.bytes_per_ms for fmt in AudioFormat}
_WIDTH = {fmt: fmt.sample_width for fmt in AudioFormat}


class InputAudioBuffer:
    """Uncommitted input audio plus the running timeline position (in samples of the input format)."""

    def __init__(self, fmt: AudioFormat, max_ms: int) -> None:
        self.format = fmt
        self.max_ms = max_ms
        self._chunks: list[bytes] = []
        self._size = 0
        self.total_samples = 0
        """Samples appended since the session started (the input timeline)."""
        self.start_samples = 0
        """Timeline position where the uncommitted buffer begins."""

    @property
    def buffered_ms(self) -> float:
        return self.format.bytes_to_ms(self._size)

    @property
    def position_ms(self) -> float:
        return self.total_samples * 1000.0 / self.format.rate

    @property
    def start_ms(self) -> float:
        return self.start_samples * 1000.0 / self.format.rate

    def set_format(self, fmt: AudioFormat) -> None:
        """A new input format applies to audio appended from now on; the timeline keeps its ms position."""
        if fmt is self.format:
            return
        pos_ms, start_ms = self.position_ms, self.start_ms
        self.format = fmt
        self.total_samples = round(pos_ms * fmt.rate / 1000.0)
        self.start_samples = round(start_ms * fmt.rate / 1000.0)

    def append(self, data: bytes) -> None:
        n = len(data)
        fmt = self.format
        # Integer form of ``bytes_to_ms(size + n) > max_ms`` (exact: bytes_per_ms is an integer).
        if (self._size + n) > self.max_ms * _BYTES_PER_MS[fmt]:
            raise errors.input_buffer_full(self.max_ms)
        self._chunks.append(data)
        self._size += n
        self.total_samples += n // _WIDTH[fmt]

    def take(self, *, min_ms: float = MIN_COMMIT_MS, upto_samples: int | None = None) -> bytes:
        """Commit: return the buffered bytes (optionally only up to a timeline position) and reset.

        Raises ``input_audio_buffer_commit_empty`` when less than ``min_ms`` is buffered (§2.3).
        """
        if self.buffered_ms < min_ms:
            raise errors.commit_empty(self.buffered_ms)
        data = b"".join(self._chunks)
        end = self.total_samples
        if upto_samples is not None and self.start_samples <= upto_samples < self.total_samples:
            keep = (upto_samples - self.start_samples) * self.format.sample_width
            data, rest = data[:keep], data[keep:]
            self._chunks, self._size = [rest], len(rest)
            end = upto_samples
        else:
            self._chunks, self._size = [], 0
        self.start_samples = end
        return data

    def clear(self) -> None:
        self._chunks, self._size = [], 0
        self.start_samples = self.total_samples
