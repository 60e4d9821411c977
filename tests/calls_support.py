"""Helpers for the call tests: an aiortc caller that speaks a fixture clip and records what it hears."""

from __future__ import annotations

import asyncio
import fractions
import json
from typing import Any

import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from mockrt.audio.resample import StreamResampler
from tests.audio_fixtures import RATE, load_speech

RTP_RATE = 48_000
PTIME = 0.02


def speech_48k(name: str = "weather", tail_ms: int = 1500) -> np.ndarray[Any, np.dtype[np.int16]]:
    """A speech fixture at 48 kHz followed by silence long enough for server VAD to end the turn."""
    clip = load_speech(name)
    pcm = StreamResampler(RATE, RTP_RATE).process(clip.pcm)
    return np.concatenate([np.zeros(RTP_RATE // 5, np.int16), pcm, np.zeros(RTP_RATE * tail_ms // 1000, np.int16)])


class ClipTrack(MediaStreamTrack):
    """A microphone that says ``samples`` once, in real time, then stays silent."""

    kind = "audio"

    def __init__(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> None:
        super().__init__()
        self.samples = samples
        self.pos = 0
        self.start: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        n = int(RTP_RATE * PTIME)
        if self.start is None:
            self.start = loop.time()
        else:
            wait = self.start + self.pos / RTP_RATE - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk = self.samples[self.pos:self.pos + n]
        if len(chunk) < n:
            chunk = np.concatenate([chunk, np.zeros(n - len(chunk), np.int16)])
        frame = AudioFrame(format="s16", layout="mono", samples=n)
        frame.planes[0].update(chunk.astype("<i2").tobytes())
        frame.pts, frame.sample_rate, frame.time_base = self.pos, RTP_RATE, fractions.Fraction(1, RTP_RATE)
        self.pos += n
        return frame


class Caller:
    """A WebRTC peer like a browser app: one mic track, the ``oai-events`` data channel, the remote track recorded
    with the loop time of each frame."""

    def __init__(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> None:
        self.pc = RTCPeerConnection()
        self.pc.addTrack(ClipTrack(samples))
        self.channel = self.pc.createDataChannel("oai-events")
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.log: list[dict[str, Any]] = []
        self.heard: list[tuple[float, np.ndarray[Any, np.dtype[np.int16]]]] = []
        self.opened = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

        @self.channel.on("open")
        def on_open() -> None:
            self.opened.set()

        @self.channel.on("message")
        def on_message(message: str) -> None:
            event = json.loads(message)
            event["_t"] = asyncio.get_running_loop().time()
            self.log.append(event)
            self.events.put_nowait(event)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.get_running_loop().create_task(self._record(track)))

    async def _record(self, track: MediaStreamTrack) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            pcm = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0].astype(np.int16)  # type: ignore[union-attr]
            self.heard.append((loop.time(), pcm))

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    def send(self, event: dict[str, Any]) -> None:
        self.channel.send(json.dumps(event))

    async def until(self, etype: str, timeout: float = 20.0) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while True:
                event = await self.events.get()
                if event["type"] == etype:
                    return event
        return await asyncio.wait_for(wait(), timeout)

    def heard_between(self, t0: float, t1: float) -> np.ndarray[Any, np.dtype[np.int16]]:
        parts = [pcm for t, pcm in self.heard if t0 <= t <= t1]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
