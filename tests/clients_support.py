"""Shared helpers for the third-party client tests (``tests/test_clients_*.py``).

Nothing here imports a client library, so the core suite can import it without the ``clients`` extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from tests.audio_fixtures import RATE, load_speech

T = TypeVar("T")

#: Enough for every client test; a healthy run finishes each wait in well under a second.
WAIT_S = 8.0

#: What the turn detector of the mock needs after the last word: ``semantic_vad`` with ``eagerness: auto``
#: waits 1000 ms (docs/vad.md §5.4), ``server_vad`` 200-500 ms; 1.5 s leaves margin for both.
TRAILING_SILENCE_MS = 1500


def speech_turn(name: str = "weather", trailing_silence_ms: int = TRAILING_SILENCE_MS) -> bytes:
    """A speech fixture (24 kHz mono pcm16 with ~0.6 s of leading silence) followed by enough silence for
    server-side turn detection to end the turn."""
    pcm = load_speech(name).pcm
    silence = np.zeros(RATE * trailing_silence_ms // 1000, dtype=np.int16)
    return np.concatenate([pcm, silence]).astype("<i2").tobytes()


def chunks(data: bytes, ms: int = 100, rate: int = RATE) -> list[bytes]:
    """Split pcm16 audio into ``ms``-long chunks, the way a microphone would deliver it."""
    size = rate * 2 * ms // 1000
    return [data[i : i + size] for i in range(0, len(data), size)]


class Recorder(Generic[T]):
    """Collects what a client library hands the application and lets a test wait for a condition on it.

    ``add`` is called from the client's callbacks (on the test's event loop); ``wait_for`` blocks until a
    predicate over everything recorded so far holds, with a timeout instead of sleeps.
    """

    def __init__(self) -> None:
        self.items: list[T] = []
        self._changed = asyncio.Condition()

    async def add(self, item: T) -> None:
        async with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[T]], bool], timeout: float = WAIT_S) -> list[T]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.items)), timeout)
            return list(self.items)
