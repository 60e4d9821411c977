"""The output audio buffer of a call: what the assistant said, played out in real time (docs/protocol.md §11).

Over a WebSocket the client receives ``response.output_audio.delta`` events and plays them itself. In a call
(WebRTC or SIP) the service plays the audio: the deltas go into this buffer, the transport pulls fixed-size
frames from it at the pace of the media clock, and the buffer tells the session what was *actually* played:

- ``started`` when the first sample of a response leaves the buffer;
- ``stopped`` when a response's audio is complete (its ``output_audio.done`` went in) and every sample of it
  has left the buffer;
- ``clear()`` drops what was not played yet (client ``output_audio_buffer.clear`` or barge-in) and says how far
  the playing item got, so the session can truncate it at the point the caller actually heard.

Sans-I/O: no clock; the transport decides when to pull.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class Segment:
    """Audio of one content part of one response, in the session's output format."""

    response_id: str
    item_id: str
    content_index: int
    data: bytearray
    offset: int = 0  # bytes of ``data`` already played
    played_before: int = 0  # bytes of this part played in earlier segments
    complete: bool = False  # the part's output_audio.done went in


@dataclass(frozen=True)
class Played:
    """Where playback of an interrupted part stopped."""

    response_id: str
    item_id: str
    content_index: int
    played_bytes: int


class Playout:
    """A FIFO of response audio that is pulled in frames (see the module docstring)."""

    def __init__(self) -> None:
        self._queue: deque[Segment] = deque()
        self.playing: str | None = None  # the response whose audio is being played, from started to stopped
        self.last_response: str | None = None  # the last response that started playing
        self._played: dict[tuple[str, int], int] = {}  # (item_id, content_index) -> bytes played so far

    @property
    def queued_bytes(self) -> int:
        return sum(len(s.data) - s.offset for s in self._queue)

    def push(self, response_id: str, item_id: str, content_index: int, data: bytes) -> None:
        """Audio generated for a part (one ``output_audio.delta``)."""
        last = self._queue[-1] if self._queue else None
        if last is not None and (last.item_id, last.content_index) == (item_id, content_index) and not last.complete:
            last.data += data
            return
        self._queue.append(Segment(response_id, item_id, content_index, bytearray(data),
                                   played_before=self._played.get((item_id, content_index), 0)))

    def finish(self, response_id: str, item_id: str, content_index: int) -> None:
        """The part's audio is complete (``output_audio.done``); an empty part still marks the response."""
        for seg in reversed(self._queue):
            if (seg.item_id, seg.content_index) == (item_id, content_index):
                seg.complete = True
                return
        self._queue.append(Segment(response_id, item_id, content_index, bytearray(), complete=True))

    def pull(self, n_bytes: int) -> tuple[bytes, list[tuple[str, str]]]:
        """Up to ``n_bytes`` of audio to play now, and the transitions it caused, in order:
        ``("started", response_id)`` / ``("stopped", response_id)``. Short (or empty) when the buffer runs dry."""
        out = bytearray()
        events: list[tuple[str, str]] = []
        while self._queue and len(out) < n_bytes:
            seg = self._queue[0]
            take = min(n_bytes - len(out), len(seg.data) - seg.offset)
            if take > 0:
                if self.playing != seg.response_id:
                    if self.playing is not None:
                        events.append(("stopped", self.playing))
                    self.playing = self.last_response = seg.response_id
                    events.append(("started", seg.response_id))
                out += seg.data[seg.offset:seg.offset + take]
                seg.offset += take
                key = (seg.item_id, seg.content_index)
                self._played[key] = self._played.get(key, 0) + take
            if seg.offset < len(seg.data):
                break
            if not seg.complete:
                break  # played everything generated so far; more is coming
            self._queue.popleft()
            if self.playing == seg.response_id and not any(s.response_id == seg.response_id for s in self._queue):
                events.append(("stopped", seg.response_id))
                self.playing = None
        return bytes(out), events

    def clear(self) -> Played | None:
        """Drop all unplayed audio; where the part being played stopped (``None`` if nothing was playing)."""
        played: Played | None = None
        if self.playing is not None:
            for seg in self._queue:
                if seg.response_id == self.playing:
                    played = Played(seg.response_id, seg.item_id, seg.content_index,
                                    self._played.get((seg.item_id, seg.content_index), 0))
                    break
        self._queue.clear()
        self.playing = None
        return played
