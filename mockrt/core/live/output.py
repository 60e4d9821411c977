"""The continuous output stream of a Live session (docs/protocol.md §13.4): fixed chunks of audio on the output
timeline, silence between utterances, each utterance's words announced as transcript deltas when their audio
goes out, and the cut when the caller barges in.

Sans-I/O: the session says how far the output timeline may advance; this module says what goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mockrt.audio.formats import AudioFormat
from mockrt.core.synth import RATE, Speech

CHUNK_MS = 100
"""Output audio goes out in 100 ms chunks (the guide's streams carry small continuous frames; §13.4)."""


@dataclass
class Utterance:
    """One stretch of model speech (or a fixture) placed on the output timeline."""

    speech: Speech
    words: list[str]
    start_ms: float
    kind: str = "reply"  # | "fixture"
    client_event_id: str | None = None
    next_word: int = 0
    cut_ms: float | None = None  # barge-in: audio after this point is never sent

    @property
    def end_ms(self) -> float:
        full = self.start_ms + self.speech.duration_ms
        return full if self.cut_ms is None else min(full, self.cut_ms)


@dataclass
class Chunk:
    """What one step of the stream sends: audio (wire bytes), the words whose audio started in it, and the
    utterances that finished."""

    start_ms: int
    end_ms: int
    audio: bytes
    words: list[tuple[str, int, int]] = field(default_factory=list)  # (text, start_ms, end_ms)
    finished: list[Utterance] = field(default_factory=list)


class OutputStream:
    """The output timeline: position ``position_ms`` (audio already sent) and the queued utterances."""

    def __init__(self, fmt: AudioFormat) -> None:
        self.format = fmt
        self.position_ms = 0
        self.queue: list[Utterance] = []

    @property
    def speaking(self) -> Utterance | None:
        return next((u for u in self.queue if u.start_ms < self.position_ms < u.end_ms or
                     (u.start_ms <= self.position_ms and u.end_ms > self.position_ms)), None)

    @property
    def busy_until_ms(self) -> float:
        return max([self.position_ms, *(u.end_ms for u in self.queue)])

    def add(self, speech: Speech, words: list[str], start_ms: float, kind: str = "reply",
            client_event_id: str | None = None) -> Utterance:
        utterance = Utterance(speech, words, max(start_ms, self.busy_until_ms), kind, client_event_id)
        self.queue.append(utterance)
        return utterance

    def cut(self, at_ms: float, kinds: tuple[str, ...] = ("reply",)) -> list[Utterance]:
        """Stop every queued utterance of ``kinds`` at ``at_ms`` (never before what was already sent)."""
        at = max(at_ms, self.position_ms)
        cut: list[Utterance] = []
        for u in self.queue:
            if u.kind in kinds and u.end_ms > at:
                u.cut_ms = max(at, u.start_ms)
                cut.append(u)
        return cut

    def step(self) -> Chunk:
        """Send the next chunk of the timeline."""
        a, b = self.position_ms, self.position_ms + CHUNK_MS
        n = CHUNK_MS * RATE // 1000
        pcm = np.zeros(n, dtype=np.int16)
        words: list[tuple[str, int, int]] = []
        for u in self.queue:
            lo, hi = max(a, u.start_ms), min(b, u.end_ms)
            if hi > lo:
                s0 = round((lo - u.start_ms) * RATE / 1000)
                s1 = round((hi - u.start_ms) * RATE / 1000)
                d0 = round((lo - a) * RATE / 1000)
                piece = u.speech.pcm[s0:s1][: max(0, n - d0)]
                pcm[d0:d0 + len(piece)] = piece
            starts = u.speech.word_starts
            while u.next_word < len(starts):
                w_ms = u.start_ms + starts[u.next_word] * 1000.0 / u.speech.rate
                if w_ms >= b or w_ms >= u.end_ms:
                    break
                nxt = (u.start_ms + starts[u.next_word + 1] * 1000.0 / u.speech.rate
                       if u.next_word + 1 < len(starts) else u.start_ms + u.speech.duration_ms)
                words.append((u.words[u.next_word], round(w_ms), round(min(nxt, u.end_ms))))
                u.next_word += 1
        finished = [u for u in self.queue if u.end_ms <= b]
        self.queue = [u for u in self.queue if u.end_ms > b]
        self.position_ms = b
        return Chunk(a, b, self.format.encode(_resample(pcm, self.format.rate)), words, finished)


def _resample(pcm: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return pcm
    return pcm[:: RATE // rate]
