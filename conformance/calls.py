"""Calls from outside (docs/protocol.md §11): REST requests with the standard library and a WebRTC caller on aiortc
(its own event loop on a thread, so cases stay synchronous like the WebSocket :class:`~conformance.client.Session`).

A :class:`WebRTCCall` quacks like a ``Session`` where the run's bookkeeping needs it (``history``, ``sent_types``,
``usage_tokens``, ``close``), so the events it saw count as observed (coverage).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import queue
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from conformance.checks import CaseFailure
from conformance.validate import validate_server_event

Json = dict[str, Any]
T = TypeVar("T")

VIDEO_ONLY_OFFER = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n")


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_base(ws_url: str) -> str:
    """``wss://host/v1/realtime?…`` → ``https://host`` (the REST base of the same service)."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0, *,
         tls: ssl.SSLContext | None = None) -> HttpAnswer:
    """POST (``https://`` with ``tls``, the target's CA, when given); an HTTP error status is an answer too."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=tls) as response:
            return HttpAnswer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def get(url: str, headers: dict[str, str], timeout: float = 10.0, *,
        tls: ssl.SSLContext | None = None) -> HttpAnswer:
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=tls) as response:
            return HttpAnswer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def multipart(sdp: str, session: Json | None) -> tuple[bytes, str]:
    """The SDK's form: an ``sdp`` part (application/sdp) and a ``session`` part (application/json)."""
    boundary = uuid.uuid4().hex
    parts = [("sdp", "application/sdp", sdp.encode())]
    if session is not None:
        parts.append(("session", "application/json", json.dumps(session).encode()))
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: {ctype}\r\n"
                    f"\r\n".encode() + data + b"\r\n" for name, ctype, data in parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class WebRTCCall:
    """A WebRTC caller: a microphone (silent, or saying ``mic``: pcm16 at 24 kHz, once, in real time, then
    silence), the ``oai-events`` data channel, the remote track counted."""

    def __init__(self, base: str, headers: dict[str, str], dialect: str = "ga", mic: bytes = b"", *,
                 tls: ssl.SSLContext | None = None) -> None:
        self.base, self.headers, self.dialect, self.mic, self.tls = base, headers, dialect, mic, tls
        self.history: list[Json] = []
        self.sent_types: list[str] = []
        self.events: queue.Queue[Json] = queue.Queue()
        self.audio_frames = 0
        self.location: str | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="conformance-webrtc")
        self._thread.start()
        self._pc: Any = None
        self._channel: Any = None
        self._opened = threading.Event()

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def open(self, session: Json | None) -> HttpAnswer:
        """Offer, POST it (multipart), apply the answer; the HTTP answer as received."""
        offer = self._run(self._offer())
        body, ctype = multipart(offer, session)
        answer = post(self.base + "/v1/realtime/calls", body, {**self.headers, "Content-Type": ctype}, tls=self.tls)
        if answer.status == 201:
            self.location = answer.headers.get("location")
            self._run(self._answer(answer.text))
        return answer

    def open_live(self, path: str, body: Json) -> HttpAnswer:
        """GPT-Live's form (§13.8): offer, POST ``{"transport": {"type": "webrtc", "sdp"}, **body}`` as JSON to
        ``path`` (creation or a fork), apply ``transport.sdp`` of a 2xx answer."""
        offer = self._run(self._offer())
        payload = json.dumps({**body, "transport": {"type": "webrtc", "sdp": offer}}).encode()
        answer = post(self.base + path, payload, {**self.headers, "Content-Type": "application/json"})
        if answer.status < 300:
            self._run(self._answer(answer.json()["transport"]["sdp"]))
        return answer

    async def _offer(self) -> str:
        from aiortc import RTCPeerConnection
        from aiortc.mediastreams import AudioStreamTrack

        mic = self.mic

        class Silence(AudioStreamTrack):
            """aiortc's paced silent track as 24 kHz frames of 20 ms, saying ``mic`` first."""

            async def recv(self) -> Any:
                from av import AudioFrame

                paced = await super().recv()  # 8 kHz silence, paced in real time: its pts counts 20 ms frames
                if not mic:
                    return paced
                index, n = int(paced.pts or 0) // 160, 480
                chunk = mic[index * n * 2:(index + 1) * n * 2]
                frame = AudioFrame(format="s16", layout="mono", samples=n)
                frame.planes[0].update(chunk + bytes(n * 2 - len(chunk)))
                frame.pts, frame.sample_rate, frame.time_base = index * n, 24000, fractions.Fraction(1, 24000)
                return frame

        self._pc = pc = RTCPeerConnection()
        pc.addTrack(Silence())
        self._channel = channel = pc.createDataChannel("oai-events")

        @channel.on("open")
        def on_open() -> None:
            self._opened.set()

        @channel.on("message")
        def on_message(message: str) -> None:
            event = json.loads(message)
            self.history.append(event)
            self.events.put(event)

        @pc.on("track")
        def on_track(track: Any) -> None:
            asyncio.get_running_loop().create_task(self._count(track))

        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def _count(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.audio_frames += 1

    async def _answer(self, sdp: str) -> None:
        from aiortc import RTCSessionDescription

        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    def send(self, event: Json) -> None:
        if not self._opened.wait(10):
            raise CaseFailure("the oai-events data channel did not open within 10 s")
        self.sent_types.append(event["type"])
        self._loop.call_soon_threadsafe(self._channel.send, json.dumps(event))

    def next(self, timeout: float = 10.0) -> Json:
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            raise CaseFailure(f"no event on the data channel within {timeout} s") from None
        validate_server_event(event, self.dialect)
        return event

    def until(self, etype: str, timeout: float = 15.0) -> Json:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CaseFailure(f"no {etype} on the data channel within {timeout} s; saw "
                                  f"{[e.get('type') for e in self.history][-12:]}")
            event = self.next(left)
            if event.get("type") == etype:
                return event

    def usage_tokens(self) -> tuple[int, int, int, int]:
        return 0, 0, 0, 0

    def close(self) -> None:
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):  # best effort, as Session.close
            self._run(self._shutdown(), 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    async def _shutdown(self) -> None:
        if self._pc is not None:
            await self._pc.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

