"""The recording of a stored Live session (docs/protocol.md §13.6): what ``GET /v1/live/sessions/{id}/content``
serves once the session has closed.

Two channels on the session's timelines, both from ``session.started``: the caller's input as appended (before
muting: what the caller said) on the input timeline, and the model's continuous output stream on the output
timeline. Both are contiguous from 0 ms (every append extends the input timeline, every output chunk the output
timeline), so each channel is a plain byte stream of PCM16 at 24 kHz; G.711 sessions are widened like the
sideband's reflected audio. Bounded: each channel keeps its first ``max_bytes // 2`` bytes, the rest is counted
and dropped. Sans-I/O: the WAV file is built in memory.
"""

from __future__ import annotations

import struct

import numpy as np

from mockrt.audio.formats import AudioFormat

RATE = 24_000
"""The recording's sample rate (PCM16 mono per channel), the sideband's reflected format (§13.7)."""


def to_pcm24k(data: bytes, fmt: AudioFormat) -> bytes:
    """Wire audio as PCM16 at 24 kHz, the sideband's reflected format (G.711 is 8 kHz: sample-and-hold ×3)."""
    if fmt is AudioFormat.PCM16:
        return data
    return np.repeat(fmt.decode(data), 3).astype("<i2").tobytes()


class LiveRecording:
    """The input and output channels of one Live session, each capped at ``max_bytes // 2`` bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_channel_bytes = max(0, max_bytes // 2) // 2 * 2
        self.input = bytearray()
        self.output = bytearray()
        self.dropped_bytes = 0

    @property
    def size(self) -> int:
        return len(self.input) + len(self.output)

    def add_input(self, data: bytes, fmt: AudioFormat) -> None:
        """Audio the caller appended (whole samples of ``fmt``), at the end of the input timeline."""
        self._extend(self.input, to_pcm24k(data, fmt))

    def add_output(self, data: bytes, fmt: AudioFormat) -> None:
        """One chunk of the output stream, at the end of the output timeline."""
        self._extend(self.output, to_pcm24k(data, fmt))

    def _extend(self, channel: bytearray, pcm: bytes) -> None:
        room = max(0, self.max_channel_bytes - len(channel))
        channel += pcm[:room]
        self.dropped_bytes += max(0, len(pcm) - room)

    def wav(self) -> bytes:
        """A stereo 16-bit WAV at 24 kHz: the caller on the left channel, the model on the right, both from
        ``session.started`` (the shorter channel padded with silence)."""
        left = np.frombuffer(self.input, dtype="<i2")
        right = np.frombuffer(self.output, dtype="<i2")
        frames = np.zeros((max(len(left), len(right)), 2), dtype="<i2")
        frames[: len(left), 0] = left
        frames[: len(right), 1] = right
        data = frames.tobytes()
        header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 2, RATE,
                             RATE * 4, 4, 16, b"data", len(data))
        return header + data
